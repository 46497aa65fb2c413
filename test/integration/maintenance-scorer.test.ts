// FactoryGuard end to end on the real stack: raw readings -> sensor-validation -> maintenance-scorer
// -> predictions and alerts; a reading later than the allowed lateness is dead-lettered; and after
// Redis loses the scorer's state, a restart rebuilds it from Kafka retention exactly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS, dlqTopic, loadSchema } from '../../schemas/topics.ts';
import type { MaintenanceAlert, MaintenancePrediction, SensorReading } from '../../schemas/generated/types.ts';
import { startProcessor, type RunningProcessor } from '../../streams/runtime/kafka-runner.ts';
import { RedisState } from '../../streams/runtime/state/redis-state.ts';
import { sensorValidation } from '../../streams/sensor-validation/topology.ts';
import { loadFailureModel, type FailureModel } from '../../streams/maintenance/model.ts';
import { maintenanceScorer } from '../../streams/maintenance/topology.ts';
import { features } from '../../streams/maintenance/features.ts';
import { rollingWindows } from '../../streams/maintenance/rolling-windows.ts';
import { stateMarkerKey } from '../../streams/runtime/state-guard.ts';
import { waitUntil } from '../../infra/stack/process.ts';
import { collect, endpoints, readingMessage, readingSerde, runId, runtimeOptions, testKafka } from './helpers.ts';

let model: FailureModel;
let validation: RunningProcessor;
let scorer: RunningProcessor;
let redis: RedisState;
before(async () => {
  model = await loadFailureModel();
  validation = await startProcessor(sensorValidation, runtimeOptions());
  scorer = await startProcessor(maintenanceScorer(model), runtimeOptions());
  redis = new RedisState(endpoints().redisUrl);
  await redis.connect();
});
after(async () => {
  await scorer?.stop();
  await validation?.stop();
  await redis?.close();
});

const MIN = 60_000;

/** Two hours of one-per-minute readings for `arms`, the last `hot` arms running hot and shaking hard. */
function history(id: string, arms: string[], hot: string[], start: number): SensorReading[] {
  const out: SensorReading[] = [];
  const seq = new Map<string, number>();
  for (let m = 0; m < 120; m++) {
    for (const arm of arms) {
      const wear = hot.includes(arm) ? m / 120 : 0;
      const wobble = Math.sin(m * 1.7 + arm.length) * (0.2 + 4 * wear);
      for (const [sensor, unit, value] of [['VIBRATION', 'mm/s', 2.5 + 6 * wear + wobble], ['TEMPERATURE', 'degC', 55 + 25 * wear + wobble], ['PRESSURE', 'bar', 6.2 - 0.8 * wear]] as const) {
        const n = seq.get(arm) ?? 0;
        seq.set(arm, n + 1);
        out.push({ arm_id: arm, sensor, value, unit, event_time: start + m * MIN, gateway_id: id, plant_id: 'plant-it', sequence: n, quality: 'GOOD', channel: null, settings: null });
      }
    }
  }
  return out;
}

test('readings become predictions for every arm; a too-late reading is dead-lettered', { timeout: 180_000 }, async () => {
  const id = runId();
  const arms = [0, 1, 2, 3].map((i) => `${id}-a${i}`);
  const start = Date.now() - 121 * MIN;
  const readings = history(id, arms, [arms[3]], start);
  const late = { ...readings[readings.length - 1], arm_id: arms[0], event_time: start + 100 * MIN, sequence: 10_000 };
  const kafka = testKafka();
  const serde = await readingSerde();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: TOPICS.sensorReadings.name, messages: readings.map((r) => readingMessage(serde, r)) });
  await producer.send({ topic: TOPICS.sensorReadings.name, messages: [readingMessage(serde, late)] });
  await producer.disconnect();

  const reader = await readingSerde();
  reader.useReader(TOPICS.maintenancePredictions.name, loadSchema(TOPICS.maintenancePredictions.schema));
  reader.useReader(TOPICS.maintenanceAlerts.name, loadSchema(TOPICS.maintenanceAlerts.schema));
  const mine = (m: { key: string | null }) => (m.key ?? '').startsWith(id);
  const out = await collect(
    kafka,
    [TOPICS.maintenancePredictions.name, dlqTopic(TOPICS.sensorReadingsValidated.name)],
    mine,
    (all) => all.some((m) => m.topic.endsWith('.dlq')) && new Set(all.filter((m) => !m.topic.endsWith('.dlq')).map((m) => m.key)).size === arms.length,
    120_000,
    2_000,
  );
  const predictions = await Promise.all(out.filter((m) => m.topic === TOPICS.maintenancePredictions.name).map(async (m) => (await reader.decode(m.topic, m.value)) as MaintenancePrediction));
  assert.deepEqual(new Set(predictions.map((p) => p.arm_id)), new Set(arms));
  for (const p of predictions) {
    assert.ok(p.failure_probability >= 0 && p.failure_probability <= 1);
    assert.equal(p.model_name, model.name);
    assert.equal(p.model_version, model.version);
    assert.equal(p.horizon_hours, 24);
  }
  const dead = out.filter((m) => m.topic.endsWith('.dlq'));
  assert.equal(dead.length, 1);
  assert.equal(dead[0].headers['streamscore.error.class'], 'LateEventError');
  assert.match(dead[0].headers['streamscore.error.message'], /arrived more than 5 min after the arm's newest reading/);

  // Its input is written in transactions (sensor-validation): once everything is consumed the lag
  // gauge must read 0 on every partition, transaction markers included (it stayed at 1 before).
  const lagsOf = async () => [...(await (await fetch(`http://127.0.0.1:${scorer.httpPort}/metrics`)).text()).matchAll(/^streamscore_consumer_lag\{[^}]*\} (\d+)$/gm)].map((m) => Number(m[1]));
  assert.ok(await waitUntil(async () => { const lags = await lagsOf(); return lags.length > 0 && lags.every((l) => l === 0); }, 30_000), `consumer lag drains to 0 on every partition (now ${await lagsOf()})`);

  // Alerts, if the model raised any for these arms, carry a worded TreeSHAP explanation.
  const alerts = await collect(kafka, [TOPICS.maintenanceAlerts.name], mine, () => true, 20_000, 1_000);
  for (const m of alerts) {
    const a = (await reader.decode(m.topic, m.value)) as MaintenanceAlert;
    assert.ok(a.explanation.length > 0 && a.explanation.every((c) => c.description.length > 0));
    assert.match(a.summary, new RegExp(`^${a.arm_id}`));
  }

  // Redis loses the scorer's state: the restarted scorer rebuilds it from Kafka (each assigned
  // partition, on joining), to the same features.
  const windows = rollingWindows().open({ kind: 'redis', redis }, 'maintenance-scorer:windows');
  const probe = async () => (await windows.apply(arms.map((arm) => ({ arm, sensor: 'VIBRATION' as const, value: 0, eventTime: 0, offset: -1 })))).arms;
  const before = await probe();
  await scorer.stop();
  const keys = await redis.client.keys('ss:maintenance-scorer:*');
  await redis.client.del(...keys);
  assert.equal((await probe()).size, 0, 'the state is gone (a probe with offset -1 never writes)');
  scorer = await startProcessor(maintenanceScorer(model), runtimeOptions());
  const validated = TOPICS.sensorReadingsValidated;
  const markers = Array.from({ length: validated.partitions }, (_, partition) => stateMarkerKey(redis, 'maintenance-scorer', { topic: validated.name, partition }));
  const allReady = async () => (await redis.client.mget(...markers)).every((m) => m?.startsWith('ready:'));
  assert.ok(await waitUntil(allReady, 90_000), 'every partition of the scorer is rebuilt and marked ready');
  const rebuilt = await probe();
  for (const arm of arms) {
    const a = features(before.get(arm)!);
    const b = features(rebuilt.get(arm)!);
    for (let i = 0; i < a.length; i++) assert.ok((Number.isNaN(a[i]) && Number.isNaN(b[i])) || Math.abs(a[i] - b[i]) <= 1e-9 * Math.max(1, Math.abs(a[i])), `${arm} feature ${i}: ${a[i]} vs ${b[i]}`);
  }
});
