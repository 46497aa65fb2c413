// The worker pool on real threads: results, rejections, deadlines (a busy loop is cut off and its
// worker replaced), the in-flight bound, models loaded per worker; and offload through the test driver.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS } from '../../schemas/topics.ts';
import type { SensorReading } from '../../schemas/generated/types.ts';
import { ProcessorTestDriver } from './test-driver.ts';
import { WorkerPool, type WorkerPoolOptions } from './worker-pool.ts';
import { MODEL_HEADER } from './models.ts';
import { TEST_TASK_MODULE, fixtureModel, offloadProcessor } from './fixtures/offload-processor.ts';
import type { TestTaskInput } from './fixtures/test-task.ts';

const pools: WorkerPool[] = [];
after(() => Promise.all(pools.map((p) => p.close())));

async function pool(overrides: Partial<WorkerPoolOptions> = {}): Promise<WorkerPool> {
  const p = await WorkerPool.start({ taskModule: TEST_TASK_MODULE, models: [], threads: 1, ortThreads: 1, maxInflight: 2, maxInflightBytes: 1 << 20, recordDeadlineMs: 1_000, ...overrides });
  pools.push(p);
  return p;
}

const job = (input: TestTaskInput, bytes = 10) => ({ input, bytes });

test('a job returns its value, a RecordRejectedError its reason, any other error rejects', async () => {
  const p = await pool();
  assert.deepEqual(await p.run(job({ op: 'echo', value: 'a', bytes: new Uint8Array(5) })), { kind: 'done', value: { value: 'a', bytes: 5 } });
  assert.deepEqual(await p.run(job({ op: 'reject', reason: 'not a JPEG' })), { kind: 'rejected', reason: 'not a JPEG' });
  await assert.rejects(p.run(job({ op: 'throw', message: 'task bug' })), /task bug/);
});

test('a job in a busy loop times out at its deadline; its worker is replaced and the next job runs', async () => {
  const p = await pool({ recordDeadlineMs: 300 });
  const started = Date.now();
  const [stuck, next] = await Promise.all([p.run(job({ op: 'busy-forever' })), p.run(job({ op: 'echo', value: 'after' }))]);
  assert.equal(stuck.kind, 'timeout');
  assert.match((stuck as { reason: string }).reason, /record deadline of 300 ms/);
  assert.deepEqual(next, { kind: 'done', value: { value: 'after', bytes: 0 } });
  assert.ok(Date.now() - started < 5_000);
});

test('the deadline counts running time, not time queued behind other jobs', async () => {
  // One worker, three 250 ms jobs admitted at once: the third waits ~500 ms but runs 250 ms < 400 ms.
  const p = await pool({ recordDeadlineMs: 400, maxInflight: 3 });
  const outcomes = await Promise.all([1, 2, 3].map((i) => p.run(job({ op: 'busy-ms', ms: 250, value: `j${i}` }))));
  assert.deepEqual(outcomes.map((o) => o.kind), ['done', 'done', 'done']);
});

test('never more than maxInflight jobs or maxInflightBytes bytes are in the pool', async () => {
  const p = await pool({ threads: 1, maxInflight: 3, maxInflightBytes: 250 });
  let maxCount = 0;
  let maxBytes = 0;
  const sample = setInterval(() => {
    maxCount = Math.max(maxCount, p.limiter.count);
    maxBytes = Math.max(maxBytes, p.limiter.bytes);
  }, 2);
  const sizes = [100, 100, 100, 40, 40, 40, 40, 200, 10, 10];
  const outcomes = await Promise.all(sizes.map((bytes, i) => p.run({ input: { op: 'busy-ms', ms: 20, value: `j${i}` }, bytes })));
  clearInterval(sample);
  assert.equal(outcomes.filter((o) => o.kind === 'done').length, sizes.length);
  assert.ok(maxCount <= 3 && maxCount >= 2, `jobs in flight peaked at ${maxCount}`);
  assert.ok(maxBytes <= 250, `bytes in flight peaked at ${maxBytes}`);
});

test('each worker loads the declared models; a signature mismatch stops the pool at start with a clear reason', async () => {
  const p = await pool({ models: [fixtureModel()], recordDeadlineMs: 500 });
  assert.deepEqual(await p.run(job({ op: 'models' })), { kind: 'done', value: ['fixture-failure-model@test.1'] });
  assert.deepEqual(await p.run(job({ op: 'infer', rows: 3 })), { kind: 'done', value: { runs: 1, dims: [3, 2] } });
  // A deadline that strikes during native inference (terminating the worker then would abort the process): the task is cancelled after the run.
  const cut = await p.run(job({ op: 'infer', rows: 20_000, forMs: 60_000 }));
  assert.deepEqual(cut, { kind: 'timeout', reason: 'task ran longer than the record deadline of 500 ms; it was cancelled when its inference run returned' });
  assert.deepEqual(await p.run(job({ op: 'infer', rows: 1 })), { kind: 'done', value: { runs: 1, dims: [1, 2] } });
  const wrong = fixtureModel({ signature: { inputs: { image: { type: 'float32', shape: ['N', 1, 320, 320] } }, outputs: { probabilities: { type: 'float32', shape: ['N', 3] } } } });
  await assert.rejects(pool({ models: [wrong] }), (err: Error) => {
    assert.match(err.message, /fixture-failure-model@test\.1 .* does not match the signature/);
    assert.match(err.message, /input "image" is not in the graph \(its inputs: features\)/);
    assert.match(err.message, /output "probabilities" has shape \[N, 2\], the processor expects \[N, 3\]/);
    assert.match(err.message, /the graph has input "features", which the processor does not feed/);
    return true;
  });
});

test('the test driver runs offloaded jobs: outputs carry the model header, rejections and timeouts are dead-lettered', { timeout: 30_000 }, async () => {
  const def = offloadProcessor({ name: 'offload-driver-test', input: TOPICS.sensorReadings, output: TOPICS.sensorReadingsValidated, recordDeadlineMs: 500, models: [fixtureModel()] });
  const d = new ProcessorTestDriver(def);
  try {
    const reading = (arm: string, gateway: string, sequence: number): SensorReading => ({ arm_id: arm, sensor: 'VIBRATION', value: 2, unit: 'mm/s', event_time: d.clock, gateway_id: gateway, plant_id: 'p', sequence, quality: 'GOOD', channel: null, settings: null });
    await d.pipe(TOPICS.sensorReadings, 'a1', reading('a1', 'gw', 0));
    await d.pipe(TOPICS.sensorReadings, 'a2', reading('a2', 'reject', 1));
    await d.pipe(TOPICS.sensorReadings, 'a3', reading('a3', 'forever', 2));
    await d.pipe(TOPICS.sensorReadings, 'a4', reading('a4', 'gw', 3));
    await d.run();
    const outputs = await d.outputs<SensorReading>(TOPICS.sensorReadingsValidated);
    assert.deepEqual(outputs.map((o) => o.key), ['a1', 'a4']);
    for (const o of outputs) assert.equal(o.headers[MODEL_HEADER], 'fixture-failure-model@test.1');
    const dead = await d.deadLetters(TOPICS.sensorReadings);
    assert.deepEqual(dead.map((x) => [x.sourceOffset, x.stage, x.errorClass]), [['1', 'processing', 'RecordRejectedError'], ['2', 'processing', 'RecordTimeoutError']]);
    assert.match(dead[0].errorMessage, /reading a2 rejected by the task/);
    assert.match(dead[1].errorMessage, /record deadline of 500 ms/);
  } finally {
    await d.close();
  }
});
