// Acceptance: a processor killed with SIGKILL mid-stream and restarted loses no input record.
// sensor-validation runs exactly-once, so this also checks that nothing is duplicated: the killed
// instance's open transaction is aborted when the restarted one (same transactional id) fences it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { TOPICS } from '../../schemas/topics.ts';
import { assertEachReadingOnce, collect, reading, readingMessage, readingSerde, runId, testKafka } from './helpers.ts';

const CLI = new URL('../../bin/streamscore.mjs', import.meta.url).pathname;

interface Child {
  proc: ChildProcess;
  joined: Promise<void>;
  exited: Promise<number | null>;
}

function startChild(): Child {
  const proc = spawn(process.execPath, [CLI, 'run', 'sensor-validation'], {
    env: { ...process.env, METRICS_PORT: '0', STREAMSCORE_SESSION_TIMEOUT_MS: '10000', STREAMSCORE_MAX_BATCH_RECORDS: '200', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let markJoined!: () => void;
  const joined = new Promise<void>((r) => (markJoined = r));
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    if (line.includes('joined consumer group')) markJoined();
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, joined, exited };
}

test('SIGKILL mid-stream, restart: every input record comes out exactly once', { timeout: 240_000 }, async () => {
  const id = runId();
  const kafka = testKafka();
  const serde = await readingSerde();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const arms = 20;
  const perArm = 400;
  const all = Array.from({ length: arms * perArm }, (_, i) => reading(id, i % arms, Math.floor(i / arms)));
  const chunks = 40;
  const size = all.length / chunks;

  let child = startChild();
  await child.joined;
  for (let c = 0; c < chunks; c++) {
    await producer.send({ topic: TOPICS.sensorReadings.name, messages: all.slice(c * size, (c + 1) * size).map((r) => readingMessage(serde, r)) });
    if (c === Math.floor(chunks / 3)) {
      await new Promise((r) => setTimeout(r, 150)); // let it be mid-batch
      child.proc.kill('SIGKILL');
      assert.equal(await child.exited, null, 'killed by signal');
      child = startChild();
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  await producer.disconnect();
  await child.joined;

  // Keeps reading 3 s after the count is reached, so a duplicate would be counted too.
  const out = await collect(kafka, [TOPICS.sensorReadingsValidated.name], (m) => m.value.includes(Buffer.from(id)), (seen) => seen.length >= all.length, 150_000, 3_000);
  await assertEachReadingOnce(serde, out, all);

  child.proc.kill('SIGTERM');
  assert.equal(await child.exited, 0, 'SIGTERM is a graceful shutdown (exit 0)');
});
