// The worker pool's metrics on real threads: each outcome (ok, rejected, timeout, failed) is
// counted, a worker terminated at a deadline or crashed counts as a restart and loads its models
// again (timed), the in-flight gauges follow admissions and releases, and all of it is served on
// /metrics by the processor's health server.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { createRuntimeMetrics } from './metrics.ts';
import { startHealthServer } from './health-server.ts';
import { WorkerPool, type WorkerPoolOptions } from './worker-pool.ts';
import { TEST_TASK_MODULE, fixtureModel } from './fixtures/offload-processor.ts';
import type { TestTaskInput } from './fixtures/test-task.ts';

const PROCESSOR = 'pool-metrics-test';
const pools: WorkerPool[] = [];
after(() => Promise.all(pools.map((p) => p.close())));

async function meteredPool(overrides: Partial<WorkerPoolOptions> = {}) {
  const metrics = createRuntimeMetrics({ defaultMetrics: false });
  const pool = await WorkerPool.start({
    taskModule: TEST_TASK_MODULE, models: [], threads: 1, ortThreads: 1, maxInflight: 2, maxInflightBytes: 1 << 20, recordDeadlineMs: 1_000,
    metrics: metrics.workerPool.forProcessor(PROCESSOR),
    ...overrides,
  });
  pools.push(pool);
  return { pool, registry: metrics.registry };
}

/** The value of one series, by metric name (with _count/_sum/_bucket suffix for histograms) and labels; 0 when absent. */
async function sample(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const base = name.replace(/_(count|sum|bucket)$/, '');
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === base);
  assert.ok(metric, `${base} is registered`);
  const wanted = { processor: PROCESSOR, ...labels };
  const found = (metric.values as { metricName?: string; labels: Record<string, string | number>; value: number }[]).find(
    (v) => (v.metricName ?? base) === name && Object.entries(wanted).every(([k, x]) => String(v.labels[k]) === x),
  );
  return found?.value ?? 0;
}

/** Polls until `read` returns `want` (events from worker threads arrive asynchronously). */
async function eventually(read: () => Promise<number>, want: number, what: string): Promise<void> {
  const until = Date.now() + 5_000;
  let got = await read();
  while (got !== want && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
    got = await read();
  }
  assert.equal(got, want, what);
}

const job = (input: TestTaskInput, bytes = 10) => ({ input, bytes });

test('each outcome is counted, deadline and crash are worker restarts, and every (re)started worker reports its model loads', { timeout: 20_000 }, async () => {
  const { pool, registry } = await meteredPool({ models: [fixtureModel()], recordDeadlineMs: 300 });
  const loads = () => sample(registry, 'streamscore_model_load_seconds_count', { model: 'fixture-failure-model', version: 'test.1' });
  await eventually(loads, 1, 'the one worker loaded the model once at start');
  assert.equal(await sample(registry, 'streamscore_worker_restarts_total'), 0, 'starting the pool is no restart');

  assert.equal((await pool.run(job({ op: 'echo', value: 'a' }))).kind, 'done');
  assert.equal((await pool.run(job({ op: 'busy-ms', ms: 30, value: 'b' }))).kind, 'done');
  assert.equal((await pool.run(job({ op: 'reject', reason: 'not a JPEG' }))).kind, 'rejected');
  assert.equal((await pool.run(job({ op: 'busy-forever' }))).kind, 'timeout');
  await assert.rejects(pool.run(job({ op: 'throw', message: 'task bug' })), /task bug/);
  await assert.rejects(pool.run(job({ op: 'exit', code: 3 })), /exited with code: 3/);
  assert.equal((await pool.run(job({ op: 'echo', value: 'after' }))).kind, 'done', 'the replaced worker takes jobs');

  const finished = (outcome: string) => sample(registry, 'streamscore_worker_jobs_finished_total', { outcome });
  assert.deepEqual(
    { ok: await finished('ok'), rejected: await finished('rejected'), timeout: await finished('timeout'), failed: await finished('failed') },
    { ok: 3, rejected: 1, timeout: 1, failed: 2 },
  );
  assert.equal(await sample(registry, 'streamscore_worker_restarts_total'), 2, 'the timed-out worker and the crashed one were replaced');
  await eventually(loads, 3, 'each replacement loaded the model again');

  // Durations: every job that ran to a value, a rejection or its deadline is observed; failures when their start signal arrived.
  const observed = await sample(registry, 'streamscore_worker_job_duration_seconds_count');
  assert.ok(observed >= 5 && observed <= 7, `job durations observed: ${observed}`);
  const total = await sample(registry, 'streamscore_worker_job_duration_seconds_sum');
  assert.ok(total >= 0.3 + 0.03 && total < 3, `time in workers ${total} s includes the 300 ms deadline and the 30 ms job`);
  assert.ok((await sample(registry, 'streamscore_worker_job_duration_seconds_bucket', { le: '0.005' })) >= 1, 'an echo takes under 5 ms');
  assert.equal(await sample(registry, 'streamscore_worker_job_duration_seconds_bucket', { le: '0.25' }), observed - 1, 'only the timed-out job took longer than 250 ms');
});

test('in-flight gauges: jobs and bytes admitted, jobs waiting for room, back to 0 when done', { timeout: 20_000 }, async () => {
  const { pool, registry } = await meteredPool({ maxInflight: 3, maxInflightBytes: 1_000 });
  const gauges = async () => ({
    inFlight: await sample(registry, 'streamscore_worker_jobs_in_flight'),
    bytes: await sample(registry, 'streamscore_worker_bytes_in_flight'),
    waiting: await sample(registry, 'streamscore_worker_jobs_waiting'),
  });
  // Room for 3 jobs and 1000 bytes: two 300-byte jobs fit, the 500-byte one would pass 1000 and waits,
  // and the 10-byte one, which would fit, waits behind it (FIFO).
  const runs = [300, 300, 500, 10].map((bytes, i) => pool.run({ input: { op: 'busy-ms', ms: 150, value: `j${i}` }, bytes }));
  assert.deepEqual(await gauges(), { inFlight: 2, bytes: 600, waiting: 2 });
  const outcomes = await Promise.all(runs);
  assert.deepEqual(outcomes.map((o) => o.kind), ['done', 'done', 'done', 'done']);
  assert.deepEqual(await gauges(), { inFlight: 0, bytes: 0, waiting: 0 });
});

test("the pool's metrics are on the processor's /metrics", { timeout: 20_000 }, async () => {
  const { pool, registry } = await meteredPool({ recordDeadlineMs: 200 });
  await pool.run(job({ op: 'echo', value: 'a' }));
  await pool.run(job({ op: 'busy-forever' }));
  const server = await startHealthServer({ port: 0, registry, isReady: () => true, logger: pino({ level: 'silent' }), env: {} });
  try {
    const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    assert.match(text, /^streamscore_worker_jobs_finished_total\{processor="pool-metrics-test",outcome="ok"\} 1$/m);
    assert.match(text, /^streamscore_worker_jobs_finished_total\{processor="pool-metrics-test",outcome="timeout"\} 1$/m);
    assert.match(text, /^streamscore_worker_restarts_total\{processor="pool-metrics-test"\} 1$/m);
    assert.match(text, /^streamscore_worker_job_duration_seconds_count\{processor="pool-metrics-test"\} 2$/m);
    for (const gauge of ['jobs_in_flight', 'bytes_in_flight', 'jobs_waiting']) assert.match(text, new RegExp(`^streamscore_worker_${gauge}\\{processor="pool-metrics-test"\\} 0$`, 'm'));
    assert.match(text, /^# TYPE streamscore_model_load_seconds histogram$/m);
  } finally {
    await server.close();
  }
});
