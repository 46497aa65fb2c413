// Fault suite: decompression bombs to every input topic. Each is ~3 KB in a gzip batch (under the
// broker's max.message.bytes, which it checks on the compressed batch) and ~3 MB once consumed:
// plain garbage, and well-formed Avro with a 3 MB string. Neither can be written anywhere whole, so
// each must leave its partition as a size-bounded dead letter keeping its coordinates, the reason,
// the value's size and SHA-256 (and a prefix), and the good records sent after it must all come out;
// no processor may exit or crash-loop. The same kinds are part of the full fuzz (fuzz.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeReport, runFuzz } from './fuzz-runner.ts';

test('decompression bombs to every input topic: a bounded dead letter each, the records after them processed, no processor down', { timeout: 240_000 }, async (t) => {
  const report = await runFuzz({ perTarget: 24, seed: 8_675_309, only: /^bomb-/, goodShare: 0.5 }, (line) => t.diagnostic(line));
  const { summary, failures } = describeReport(report, 4);
  for (const line of summary) t.diagnostic(line);
  const bombs = report.tallies.filter((k) => k.kind.startsWith('bomb-')).reduce((n, k) => n + k.records, 0);
  assert.ok(bombs >= 6, `only ${bombs} bombs were sent`);
  if (failures.length) assert.fail(`run ${report.run}: ${failures.length} groups of problems\n${failures.join('\n')}`);
});
