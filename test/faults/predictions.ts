// What the scorer should have said: readings for a few arms (strictly increasing event time per
// arm), and a check that every prediction equals what a scorer with the arm's COMPLETE history up to
// the prediction's event time says. The reference is the in-memory twin of the windows
// (MemoryRollingWindows, an independent implementation the Redis one is held to) + writeFeatures +
// the same model, as streams/maintenance/scoring-api.ts scores. A prediction computed from state
// that Redis lost, or from state a killed instance left ahead of its commit, differs.
import type { Kafka } from 'kafkajs';
import { TOPICS, loadSchema, type TopicSpec } from '../../schemas/topics.ts';
import type { MaintenancePrediction, SensorReading } from '../../schemas/generated/types.ts';
import { FEATURE_NAMES, writeFeatures, type ArmAggregates } from '../../streams/maintenance/features.ts';
import type { FailureModel } from '../../streams/maintenance/model.ts';
import { MemoryRollingWindows } from '../../streams/maintenance/rolling-windows.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { endpoints, runId, testKafka } from '../integration/helpers.ts';
import { currentEnds, readToEnd } from './kafka-io.ts';

const MIN = 60_000;

/**
 * `minutes` of readings (3 sensors a minute, 1 s apart) for `arms` arms named `<run>-a<i>`, in
 * time order across arms; every third arm wears out (rising vibration and heat), so scores vary.
 */
export function armReadings(run: string, arms: number, minutes: number, start: number): SensorReading[] {
  const out: SensorReading[] = [];
  for (let m = 0; m < minutes; m++) {
    for (let a = 0; a < arms; a++) {
      const wear = a % 3 === 2 ? m / minutes : 0;
      const wobble = Math.sin(m * 1.7 + a) * (0.2 + 4 * wear);
      const values = [['VIBRATION', 'mm/s', 2.5 + 6 * wear + wobble], ['TEMPERATURE', 'degC', 55 + 25 * wear + wobble], ['PRESSURE', 'bar', 6.2 - 0.8 * wear]] as const;
      values.forEach(([sensor, unit, value], s) => {
        out.push({ arm_id: `${run}-a${a}`, sensor, value, unit, event_time: start + m * MIN + s * 1_000 + a * 10, gateway_id: run, plant_id: 'plant-faults', sequence: m * 3 + s, quality: 'GOOD', channel: null, settings: null });
      });
    }
  }
  return out;
}

/** The run's predictions written since `from` (arm ids start with `<run>-`). */
export async function readPredictions(kafka: Kafka, serde: AvroSerde, run: string, from: Map<string, Map<number, number>>): Promise<MaintenancePrediction[]> {
  const topic = TOPICS.maintenancePredictions.name;
  serde.useReader(topic, loadSchema(TOPICS.maintenancePredictions.schema));
  const records = await readToEnd(kafka, [topic], (r) => r.key?.toString('utf8').startsWith(`${run}-`) ?? false, { from, timeoutMs: 90_000 });
  return Promise.all(records.map(async (r) => (await serde.decode(topic, r.value)) as MaintenancePrediction));
}

export interface PredictionCheck {
  checked: number;
  problems: string[];
}

/** Float32 model output, features from doubles summed in another order: equal to well within this. */
const TOLERANCE = 1e-5;

/**
 * Every prediction against the complete history; no two predictions for one (arm, event time);
 * each prediction's event time is one of the arm's readings; each arm's last reading is covered.
 */
export async function checkPredictions(model: FailureModel, readings: SensorReading[], predictions: MaintenancePrediction[]): Promise<PredictionCheck> {
  const problems: string[] = [];
  const byArm = new Map<string, SensorReading[]>();
  for (const r of readings) byArm.set(r.arm_id, [...(byArm.get(r.arm_id) ?? []), r]);
  const predicted = new Map<string, MaintenancePrediction[]>();
  for (const p of predictions) predicted.set(p.arm_id, [...(predicted.get(p.arm_id) ?? []), p]);

  const rows: { p: MaintenancePrediction; row: Float64Array }[] = [];
  for (const [arm, history] of byArm) {
    history.sort((a, b) => a.event_time - b.event_time);
    const mine = (predicted.get(arm) ?? []).sort((a, b) => a.event_time - b.event_time);
    const times = new Set(history.map((r) => r.event_time));
    const last = history[history.length - 1].event_time;
    if (!mine.some((p) => p.event_time === last)) problems.push(`${arm}: no prediction covers its last reading (${new Date(last).toISOString()}); latest prediction at ${mine.length ? new Date(mine[mine.length - 1].event_time).toISOString() : 'none'}`);
    const windows = new MemoryRollingWindows();
    let applied = 0;
    let aggregates: ArmAggregates | undefined;
    let previous: number | null = null;
    for (const p of mine) {
      if (p.event_time === previous) problems.push(`${arm}: two predictions for event time ${new Date(p.event_time).toISOString()} (a duplicate)`);
      previous = p.event_time;
      if (!times.has(p.event_time)) {
        problems.push(`${arm}: prediction at ${new Date(p.event_time).toISOString()}, which is no reading's event time`);
        continue;
      }
      const upTo = history.findLastIndex((r) => r.event_time <= p.event_time) + 1;
      if (upTo > applied) {
        const { arms } = await windows.apply(history.slice(applied, upTo).map((r, i) => ({ arm, sensor: r.sensor, value: r.value, eventTime: r.event_time, offset: applied + i })));
        aggregates = arms.get(arm);
        applied = upTo;
      }
      const row = new Float64Array(FEATURE_NAMES.length);
      writeFeatures(aggregates!, row);
      rows.push({ p, row });
    }
  }
  for (const arm of predicted.keys()) if (!byArm.has(arm)) problems.push(`${arm}: predictions for an arm that was sent no readings`);

  const x = new Float32Array(rows.length * FEATURE_NAMES.length);
  rows.forEach((r, i) => x.set(r.row, i * FEATURE_NAMES.length));
  const expected = await model.predict(x, rows.length);
  let wrong = 0;
  rows.forEach(({ p }, i) => {
    if (Math.abs(p.failure_probability - expected[i]) <= TOLERANCE) return;
    if (++wrong <= 10) problems.push(`${p.arm_id} at ${new Date(p.event_time).toISOString()}: predicted ${p.failure_probability.toFixed(6)}, the complete history gives ${expected[i].toFixed(6)}`);
  });
  if (wrong > 10) problems.push(`... and ${wrong - 10} more predictions that differ from the complete history`);
  return { checked: rows.length, problems };
}

/** A scorer case's start: a run id, a client, a serde for the scorer's input, the arms' readings, where the outputs end now. */
export async function scorerRun(arms: number, minutes: number): Promise<{ run: string; kafka: Kafka; topic: TopicSpec; serde: AvroSerde; readings: SensorReading[]; from: Map<string, Map<number, number>> }> {
  const run = runId();
  const kafka = testKafka();
  const topic = TOPICS.sensorReadingsValidated;
  const serde = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
  await serde.useTopic(topic.name, loadSchema(topic.schema));
  const readings = armReadings(run, arms, minutes, Date.now() - (minutes + 5) * 60_000);
  const from = await currentEnds(kafka, [TOPICS.maintenancePredictions.name, TOPICS.maintenanceAlerts.name]);
  return { run, kafka, topic, serde, readings, from };
}
