// The model-lifecycle part of `npm run demo` (issue #12): the three fixture versions walk through
// the real gates against the stack's MLflow, with the refusal and the promotion printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoPromotion } from '../../cli/demo-models.ts';

test('the demo promotes a first champion, refuses a worse challenger and accepts a better one', { timeout: 180_000 }, async (t) => {
  if (!process.env.MLFLOW_TRACKING_URI) return t.skip('MLFLOW_TRACKING_URI is not set (test/run.ts sets it)');
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  // The commands print to stdout as they do for an operator; keep their lines with the demo's own.
  process.stdout.write = ((chunk: string | Uint8Array) => (lines.push(...String(chunk).split('\n').filter(Boolean)), true)) as typeof process.stdout.write;
  try {
    await demoPromotion((line) => lines.push(line));
  } finally {
    process.stdout.write = write;
  }
  const text = lines.join('\n');
  assert.match(text, /-> version \d+ \(recorded as streamscore\.promotion\.\d+/, text);
  const refused = lines.findIndex((l) => l.startsWith('REFUSED'));
  assert.ok(refused > 0, text);
  assert.match(lines.slice(0, refused).reverse().find((l) => /FAIL/.test(l)) ?? '', /FAIL evaluation/, 'the worse version fails the evaluation gate');
  assert.match(lines.slice(refused).join('\n'), /@challenger -> version \d+/, 'the better version becomes challenger');
});
