// Shared by the rollout integration tests: a failure model registered twice in MLflow under a test's
// own name (champion and challenger: the same trees, other model_versions), readings for it on the
// validated topic, and the test's lifecycle events read back from models.lifecycle.v1.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { ModelLifecycleEvent, SensorReading } from '../../schemas/generated/types.ts';
import { MlflowClient } from '../../streams/runtime/model-registry/mlflow-client.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { DEFAULT_ARTIFACTS_DIR, failureModelDeclaration } from '../../streams/maintenance/model.ts';
import { writeModelVersion } from '../../streams/maintenance/test-model-version.ts';
import type { Kafka } from 'kafkajs';
import { collect, endpoints, mlflowTrackingUri } from './helpers.ts';
import { registerModelDir } from './registered-models.ts';

const MIN = 60_000;

export interface RegisteredPair {
  name: string;
  client: MlflowClient;
  tmp: string;
  champion: { version: string; modelVersion: string };
  challenger: { version: string; modelVersion: string };
}

/** v1 as champion and v2 (model_version + `challengerSuffix`) as challenger of `${id}-arm-failure-lgbm`. */
export async function registerPair(id: string, challengerSuffix: string): Promise<RegisteredPair> {
  const name = `${id}-arm-failure-lgbm`;
  const tmp = mkdtempSync(join(tmpdir(), 'rollout-it-'));
  const base = failureModelDeclaration().version;
  const [m1, m2] = [base, `${base}-${challengerSuffix}`];
  const files = writeModelVersion(DEFAULT_ARTIFACTS_DIR, join(tmp, 'v1'), m1, name);
  writeModelVersion(DEFAULT_ARTIFACTS_DIR, join(tmp, 'v2'), m2, name);
  const client = new MlflowClient({ trackingUri: mlflowTrackingUri(), attempts: 3 });
  const v1 = await registerModelDir(client, { name, dir: join(tmp, 'v1'), files, experiment: `${id}-rollout` });
  const v2 = await registerModelDir(client, { name, dir: join(tmp, 'v2'), files, experiment: `${id}-rollout` });
  await client.setAlias(name, 'champion', v1);
  await client.setAlias(name, 'challenger', v2);
  return { name, client, tmp, champion: { version: v1, modelVersion: m1 }, challenger: { version: v2, modelVersion: m2 } };
}

/** One reading per sensor per minute and arm (keys `${id}-a<n>`), in event-time order, ending now. */
export function armReadings(id: string, arms: number, minutes: number): SensorReading[] {
  const start = Date.now() - (minutes + 5) * MIN;
  const out: SensorReading[] = [];
  for (let m = 0; m < minutes; m++) {
    for (let a = 0; a < arms; a++) {
      const wobble = Math.sin(m * 0.7 + a);
      (['VIBRATION', 'TEMPERATURE', 'PRESSURE'] as const).forEach((sensor, s) => {
        const [value, unit] = sensor === 'VIBRATION' ? [2.5 + wobble, 'mm/s'] : sensor === 'TEMPERATURE' ? [55 + 3 * wobble, 'degC'] : [6.2 - 0.2 * wobble, 'bar'];
        out.push({ arm_id: `${id}-a${a}`, sensor, value, unit, event_time: start + m * MIN, gateway_id: id, plant_id: 'plant-it', sequence: m * 3 + s, quality: 'GOOD', channel: null, settings: null });
      });
    }
  }
  return out;
}

/** Sends readings to the validated topic, `perSend` at a time, `pauseMs` apart. */
export async function produceReadings(kafka: Kafka, readings: SensorReading[], perSend = 600, pauseMs = 50): Promise<void> {
  const topic = TOPICS.sensorReadingsValidated.name;
  const serde = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
  await serde.useTopic(topic, loadSchema(TOPICS.sensorReadingsValidated.schema));
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < readings.length; i += perSend) {
      await producer.send({ topic, messages: readings.slice(i, i + perSend).map((r) => ({ key: r.arm_id, value: serde.encode(topic, r) })) });
      if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
    }
  } finally {
    await producer.disconnect();
  }
}

/** Readings the maintenance scorer's group has committed on the validated topic since this call. */
export async function consumedSince(kafka: Kafka): Promise<() => Promise<number>> {
  const topic = TOPICS.sensorReadingsValidated.name;
  const admin = kafka.admin();
  await admin.connect();
  const start = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
  await admin.disconnect();
  return async () => {
    const a = kafka.admin();
    await a.connect();
    try {
      const [committed] = await a.fetchOffsets({ groupId: 'maintenance-scorer', topics: [topic] });
      return committed.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset) - (start.get(p.partition) ?? 0)), 0);
    } finally {
      await a.disconnect();
    }
  };
}

const lifecycleType = avro.Type.forSchema(loadSchema(TOPICS.modelLifecycle.schema) as avro.Schema);

/** The model's lifecycle events, once `done` says enough arrived. */
export async function lifecycleEvents(kafka: Kafka, name: string, done: (events: ModelLifecycleEvent[]) => boolean, timeoutMs = 30_000): Promise<ModelLifecycleEvent[]> {
  const decode = (value: Buffer) => lifecycleType.fromBuffer(value.subarray(5)) as ModelLifecycleEvent;
  const records = await collect(kafka, [TOPICS.modelLifecycle.name], (m) => m.key === name, (all) => done(all.map((m) => decode(m.value))), timeoutMs);
  return records.map((m) => decode(m.value));
}
