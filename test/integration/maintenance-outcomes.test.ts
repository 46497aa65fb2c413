// maintenance-outcomes on the real Kafka, registry and Redis: hand-built alerts, predictions and
// failure reports give the expected tally on models.performance.v1, and the label state survives a
// processor restart (an alert still waiting in Redis when the processor stops is judged a true
// positive by a failure reported after the restart) and a loss of Redis (rebuilt from Kafka).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { FailureEvent, MaintenanceAlert, MaintenancePrediction, ModelPerformance } from '../../schemas/generated/types.ts';
import { startProcessor } from '../../streams/runtime/kafka-runner.ts';
import { ensureTopics } from '../../streams/runtime/topics-admin.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { maintenanceOutcomes } from '../../streams/maintenance-outcomes/topology.ts';
import { collect, endpoints, quietLog, runId, runtimeOptions, testKafka, useRedis } from './helpers.ts';

const H = 3_600_000;
const id = runId();
const MODEL = 'arm-failure-lgbm';
const T0 = Date.UTC(2026, 0, 5);
// A group and state namespace of its own, so earlier runs' records on the shared topics do not count.
const processor = { ...maintenanceOutcomes({ graceMs: 2 * H, horizons: new Map([[MODEL, 24 * H]]), defaultHorizonMs: 24 * H }), name: `outcomes-${id.toLowerCase().replace(/[^a-z0-9]+/g, '-')}` };
const redis = useRedis();

const arm = (n: string) => `${id}-${n}`;
const prediction = (a: string, t: number): MaintenancePrediction => ({ arm_id: a, event_time: t, scored_at: t, failure_probability: 0.1, model_name: MODEL, model_version: id, horizon_hours: 24 });
const raised = (a: string, t: number): MaintenanceAlert => ({ alert_id: `${a}-${t}`, arm_id: a, raised_at: t, cleared_at: null, event_time: t, failure_probability: 0.6, threshold: 0.2, model_name: MODEL, model_version: id, state: 'RAISED', explanation: [], summary: 'it' });
const failure = (a: string, t: number): FailureEvent => ({ arm_id: a, plant_id: 'plant-01', kind: 'FAILURE', failure_time: t, mode: 'seal-leak', repaired_at: null, source: 'integration-test' });

test('tallies on models.performance.v1, and label state that survives a restart and a loss of Redis', { timeout: 240_000 }, async () => {
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [...processor.inputs, ...processor.outputs], quietLog);
  await admin.disconnect();
  const serde = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
  for (const t of [TOPICS.maintenanceAlerts, TOPICS.maintenancePredictions, TOPICS.failureEvents]) await serde.useTopic(t.name, loadSchema(t.schema));
  const reader = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
  reader.useReader(TOPICS.modelPerformance.name, loadSchema(TOPICS.modelPerformance.schema));
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const send = (topic: { name: string }, key: string, value: unknown) => producer.send({ topic: topic.name, messages: [{ key, value: serde.encode(topic.name, value) }] });
  // x: an alert, its failure 5 h later (TP, caught). y: an alert, no failure, scored past
  // horizon + grace (FP). z: a failure with no alert (FN). w: an alert still waiting (pending).
  for (const a of ['x', 'y', 'z', 'w']) await send(TOPICS.maintenancePredictions, arm(a), prediction(arm(a), T0 + H));
  await send(TOPICS.maintenanceAlerts, arm('x'), raised(arm('x'), T0 + 2 * H));
  await send(TOPICS.maintenanceAlerts, arm('y'), raised(arm('y'), T0 + 3 * H));
  await send(TOPICS.maintenanceAlerts, arm('w'), raised(arm('w'), T0 + 4 * H));
  await send(TOPICS.failureEvents, arm('x'), failure(arm('x'), T0 + 7 * H));
  await send(TOPICS.failureEvents, arm('z'), failure(arm('z'), T0 + 8 * H));
  await send(TOPICS.maintenancePredictions, arm('y'), prediction(arm('y'), T0 + 30 * H));

  let latest: ModelPerformance | undefined;
  /** The latest tally of this run's version on day 1, as a consumer keeping the latest would hold it. */
  const decodeLatest = async (): Promise<ModelPerformance | undefined> => {
    const seen = await collect(kafka, [TOPICS.modelPerformance.name], (m) => m.key === MODEL && m.value.includes(Buffer.from(id)), (all) => all.length > 0, 60_000, 1_500);
    const values = await Promise.all(seen.map(async (m) => (await reader.decode(TOPICS.modelPerformance.name, m.value)) as ModelPerformance));
    return values.filter((v) => v.model_version === id && v.day === '2026-01-05').at(-1);
  };

  let running = await startProcessor(processor, runtimeOptions({ maxBatchRecords: 50 }));
  try {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      latest = await decodeLatest();
      // Done when three of the four arms are judged. Counting pending too stopped early: y's alert
      // is pending until its prediction past horizon + grace is read, which may come in a later
      // batch than the others (a CI run read tp 1, fn 1, pending 2).
      if (latest && latest.true_positives + latest.false_positives + latest.false_negatives >= 3) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    assert.ok(latest, 'a tally of this run was published');
    assert.deepEqual({ tp: latest.true_positives, fp: latest.false_positives, fn: latest.false_negatives, caught: latest.labels_caught, pending: latest.pending, precision: latest.precision, recall: latest.recall }, { tp: 1, fp: 1, fn: 1, caught: 1, pending: 1, precision: 0.5, recall: 0.5 });
  } finally {
    await running.stop();
  }

  // The waiting alert of w is in Redis while no processor runs.
  const stored = await redis().client.hget(redis().key(processor.name, `outcomes:arm:${arm('w')}`), 'state');
  assert.ok(stored && JSON.parse(stored).alerts.some((a: { outcome: string }) => a.outcome === 'pending'), `w's label state in Redis: ${stored}`);

  // After the restart, w's failure is reported (late): the alert read before the stop catches it.
  await send(TOPICS.failureEvents, arm('w'), failure(arm('w'), T0 + 20 * H));
  running = await startProcessor(processor, runtimeOptions({ maxBatchRecords: 50 }));
  try {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      latest = await decodeLatest();
      if (latest && latest.pending === 0) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    assert.deepEqual({ tp: latest!.true_positives, fp: latest!.false_positives, fn: latest!.false_negatives, caught: latest!.labels_caught, pending: latest!.pending, precision: latest!.precision, recall: latest!.recall }, { tp: 2, fp: 1, fn: 1, caught: 2, pending: 0, precision: 2 / 3, recall: 2 / 3 });
    const metrics = await (await fetch(`http://127.0.0.1:${running.httpPort}/metrics`)).text();
    assert.match(metrics, new RegExp(`streamscore_model_precision\\{processor="maintenance-outcomes",model="${MODEL}",version="${id}"\\} 0\\.666`));
    assert.match(metrics, new RegExp(`streamscore_model_recall\\{processor="maintenance-outcomes",model="${MODEL}",version="${id}"\\} 0\\.666`));
  } finally {
    await running.stop();
  }

  // Redis loses the processor's state (its keys and state markers deleted, as a FLUSHALL would):
  // the restart rebuilds the arms from Kafka, so y's alert, judged a false positive before, is there
  // to be caught by y's failure, reported 17 h late (past the 2 h grace).
  const keys: string[] = [];
  for (let cursor = '0'; ; ) {
    const [next, batch] = await redis().client.scan(cursor, 'MATCH', `ss:${processor.name}:*`, 'COUNT', 1000);
    keys.push(...batch);
    if ((cursor = next) === '0') break;
  }
  assert.ok(keys.length > 0, 'the processor kept state in Redis');
  await redis().client.del(...keys);
  running = await startProcessor(processor, runtimeOptions({ maxBatchRecords: 50 }));
  try {
    // Every input partition rebuilt (its marker ready) before the late report is sent. A marker
    // exists from the start of its rebuild ("rebuilding:<token>"), and the other partitions' batches
    // do not wait for it: counting markers let y's report through while the predictions partition
    // that charges z's failure was still replaying, and y's tally read fn 0 (a CI run).
    const partitions = processor.inputs.reduce((n, t) => n + t.partitions, 0);
    const ready = async () => {
      const markers = await redis().client.keys(`ss:${processor.name}:__state:*`);
      const values = markers.length ? await redis().client.mget(...markers) : [];
      return values.filter((v) => v?.startsWith('ready:')).length;
    };
    const rebuilt = Date.now() + 60_000;
    while ((await ready()) < partitions && Date.now() < rebuilt) await new Promise((r) => setTimeout(r, 500));
    assert.equal(await ready(), partitions, 'every input partition rebuilt');
    await send(TOPICS.failureEvents, arm('y'), failure(arm('y'), T0 + 20 * H));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      latest = await decodeLatest();
      if (latest && latest.false_positives === 0) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    assert.deepEqual({ tp: latest!.true_positives, fp: latest!.false_positives, fn: latest!.false_negatives, caught: latest!.labels_caught, pending: latest!.pending, precision: latest!.precision, recall: latest!.recall }, { tp: 3, fp: 0, fn: 1, caught: 3, pending: 0, precision: 1, recall: 3 / 4 });
  } finally {
    await running.stop();
    await producer.disconnect();
  }
});
