// Offloaded work on the real stack (issue #9): a processor whose jobs take 5 s each, with a 6 s
// session timeout (Kafka's minimum), keeps its group membership and writes each output once; a job
// in a busy loop is dead-lettered with a timeout reason and the next record of its partition still
// goes through; a RecordRejectedError from a task dead-letters its record with that reason; every
// output names the model of the processor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { dlqTopic, loadSchema, type TopicSpec } from '../../schemas/topics.ts';
import type { SensorReading } from '../../schemas/generated/types.ts';
import { startProcessor } from '../../streams/runtime/kafka-runner.ts';
import { DLQ_HEADERS } from '../../streams/runtime/batch.ts';
import { MODEL_HEADER } from '../../streams/runtime/models.ts';
import { fixtureModel, offloadProcessor } from '../../streams/runtime/fixtures/offload-processor.ts';
import { collect, endpoints, runId, runtimeOptions, testKafka } from './helpers.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';

/** Runtime-test topics: one partition, so "the next record in the same partition" is every later record. */
function testTopic(name: string): TopicSpec {
  return { name, schema: 'factory/sensor-reading.avsc', key: 'arm_id', partitions: 1, retentionMs: 24 * 3_600_000, cleanupPolicy: 'delete', maxMessageBytes: 1_048_588, doc: 'runtime worker-pool integration test' };
}

/** A logger whose lines the test can read (the runner logs every consumer-group join). */
function capturingLogger(): { logger: pino.Logger; lines: () => { msg: string; memberId?: string }[] } {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(...chunk.toString().split('\n').filter(Boolean)), cb()) });
  return { logger: pino({ level: 'info' }, sink), lines: () => lines.map((l) => JSON.parse(l)) };
}

async function produce(topic: TopicSpec, readings: SensorReading[]): Promise<void> {
  const serde = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
  await serde.useTopic(topic.name, loadSchema(topic.schema));
  const producer = testKafka().producer();
  await producer.connect();
  // One send: the records arrive in one fetch, so they are one batch of one handler call.
  await producer.send({ topic: topic.name, messages: readings.map((r) => ({ key: r.arm_id, value: serde.encode(topic.name, r) })) });
  await producer.disconnect();
}

const reading = (arm: string, gateway: string, sequence: number): SensorReading => ({ arm_id: arm, sensor: 'VIBRATION', value: 2, unit: 'mm/s', event_time: Date.now(), gateway_id: gateway, plant_id: 'plant-it', sequence, quality: 'GOOD', channel: null, settings: null });

test('5 s offloaded jobs with a 6 s session timeout: no rebalance, every output exactly once', { timeout: 90_000 }, async () => {
  const input = testTopic('runtime-test.slow-jobs.v1');
  const output = testTopic('runtime-test.slow-jobs-out.v1');
  const def = offloadProcessor({ name: 'runtime-test-slow-jobs', input, output, recordDeadlineMs: 30_000 });
  const { logger, lines } = capturingLogger();
  // One worker: the two 5 s jobs run one after the other, so the handler awaits ~10 s, past the session timeout.
  const processor = await startProcessor(def, runtimeOptions({ logger, sessionTimeoutMs: 6_000, workers: { threads: 1, ortThreads: 1, maxInflight: 2, maxInflightBytes: 1 << 20 } }));
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const members = async () => (await admin.describeGroups([def.name])).groups[0].members.map((m) => m.memberId);
    const id = runId();
    const joined = lines().filter((l) => l.msg === 'joined consumer group');
    assert.equal(joined.length, 1, 'joined once at start');
    const before = await members();
    assert.equal(before.length, 1);
    const started = Date.now();
    await produce(input, [reading(`${id}-a`, 'busy-5000', 0), reading(`${id}-b`, 'busy-5000', 1)]);
    const out = await collect(testKafka(), [output.name], (m) => (m.key ?? '').startsWith(id), (all) => all.length >= 2, 60_000, 3_000);
    const took = Date.now() - started;
    assert.deepEqual(out.map((m) => m.key).sort(), [`${id}-a`, `${id}-b`], 'each record once, no duplicate from a re-delivered batch');
    assert.ok(took >= 10_000, `the two jobs ran back to back (${took} ms), so the batch outlived the 6 s session timeout`);
    assert.deepEqual(await members(), before, 'the same member holds the group');
    assert.equal(lines().filter((l) => l.msg === 'joined consumer group').length, 1, 'no rejoin: the group never rebalanced');
  } finally {
    await admin.disconnect();
    await processor.stop();
  }
});

test('a job in a busy loop is dead-lettered with a timeout; a rejected job with its reason; later records still flow, with the model header', { timeout: 90_000 }, async () => {
  const input = testTopic('runtime-test.stuck-jobs.v1');
  const output = testTopic('runtime-test.stuck-jobs-out.v1');
  const def = offloadProcessor({ name: 'runtime-test-stuck-jobs', input, output, recordDeadlineMs: 1_500, models: [fixtureModel()] });
  const processor = await startProcessor(def, runtimeOptions({ workers: { threads: 1, ortThreads: 1, maxInflight: 2, maxInflightBytes: 1 << 20 } }));
  try {
    const id = runId();
    await produce(input, [reading(`${id}-stuck`, 'forever', 0), reading(`${id}-bad`, 'reject', 1), reading(`${id}-ok`, 'gw', 2)]);
    const out = await collect(testKafka(), [output.name, dlqTopic(input.name)], (m) => (m.key ?? '').startsWith(id), (all) => all.length >= 3, 60_000, 2_000);
    const dead = out.filter((m) => m.topic === dlqTopic(input.name));
    const byKey = new Map(dead.map((m) => [m.key, m.headers]));
    assert.equal(dead.length, 2);
    assert.equal(byKey.get(`${id}-stuck`)?.[DLQ_HEADERS.errorClass], 'RecordTimeoutError');
    assert.equal(byKey.get(`${id}-stuck`)?.[DLQ_HEADERS.stage], 'PROCESSING');
    assert.match(byKey.get(`${id}-stuck`)?.[DLQ_HEADERS.errorMessage] ?? '', /record deadline of 1500 ms; its worker was terminated and replaced/);
    assert.equal(byKey.get(`${id}-bad`)?.[DLQ_HEADERS.errorClass], 'RecordRejectedError');
    assert.equal(byKey.get(`${id}-bad`)?.[DLQ_HEADERS.errorMessage], `reading ${id}-bad rejected by the task`);
    const outputs = out.filter((m) => m.topic === output.name);
    assert.deepEqual(outputs.map((m) => m.key), [`${id}-ok`], 'the record after the stuck one in the same partition is processed once');
    assert.equal(outputs[0].headers[MODEL_HEADER], 'fixture-failure-model@test.1');
    // The pool's metrics are on the processor's own /metrics (worker-pool-metrics.ts).
    const metrics = await (await fetch(`http://127.0.0.1:${processor.httpPort}/metrics`)).text();
    const series = (name: string, labels: string) => Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    for (const outcome of ['ok', 'rejected', 'timeout']) assert.equal(series('streamscore_worker_jobs_finished_total', `processor="${def.name}",outcome="${outcome}"`), 1, `${outcome} jobs`);
    assert.equal(series('streamscore_worker_restarts_total', `processor="${def.name}"`), 1, 'the stuck worker was replaced');
    assert.ok(series('streamscore_model_load_seconds_count', `processor="${def.name}",model="fixture-failure-model",version="test.1"`) >= 1, 'model loads timed');
  } finally {
    await processor.stop();
  }
});
