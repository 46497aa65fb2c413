// Shared plumbing of the integration tests: they talk to the real Kafka, registry and Redis whose
// endpoints test/run.ts (or the user) puts in KAFKA_BROKERS / SCHEMA_REGISTRY_URL / REDIS_URL
// (and MLFLOW_TRACKING_URI).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before } from 'node:test';
import type { Kafka, Message } from 'kafkajs';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { SensorReading } from '../../schemas/generated/types.ts';
import { createKafka, brokerList } from '../../streams/runtime/kafka-client.ts';
import { createLogger } from '../../streams/runtime/logger.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import type { RuntimeOptions } from '../../streams/runtime/kafka-runner.ts';
import { RedisState } from '../../streams/runtime/state/redis-state.ts';

export function endpoints(): { kafkaBrokers: string[]; schemaRegistryUrl: string; redisUrl: string } {
  const { KAFKA_BROKERS, SCHEMA_REGISTRY_URL, REDIS_URL } = process.env;
  if (!KAFKA_BROKERS || !SCHEMA_REGISTRY_URL || !REDIS_URL) {
    throw new Error('integration tests need KAFKA_BROKERS, SCHEMA_REGISTRY_URL and REDIS_URL: run them through `npm test`');
  }
  return { kafkaBrokers: brokerList(KAFKA_BROKERS), schemaRegistryUrl: SCHEMA_REGISTRY_URL, redisUrl: REDIS_URL };
}

/** The MLflow tracking server test/run.ts starts with the stack (or the user's, when MLFLOW_TRACKING_URI is set). */
export function mlflowTrackingUri(): string {
  const uri = process.env.MLFLOW_TRACKING_URI;
  if (!uri) throw new Error('MLflow tests need MLFLOW_TRACKING_URI: run them through `npm test`');
  return uri;
}

export const quietLog = createLogger({ test: true }).child({}, { level: process.env.LOG_LEVEL ?? 'warn' });

export function runtimeOptions(overrides: Partial<RuntimeOptions> = {}): RuntimeOptions {
  return { ...endpoints(), metricsPort: 0, logger: quietLog, sessionTimeoutMs: 10_000, ...overrides };
}

export function testKafka(): Kafka {
  return createKafka(`it-${randomUUID().slice(0, 8)}`, endpoints().kafkaBrokers, quietLog);
}

export async function readingSerde(): Promise<AvroSerde> {
  const serde = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
  await serde.useTopic(TOPICS.sensorReadings.name, loadSchema(TOPICS.sensorReadings.schema));
  return serde;
}

/** A run id makes this test's records distinguishable from anything else on the shared topics. */
export function runId(): string {
  return `it-${Date.now().toString(36)}-${randomUUID().slice(0, 6)}`;
}

export function reading(gatewayId: string, arm: number, sequence: number, now = Date.now()): SensorReading {
  return { arm_id: `arm-${String(arm).padStart(3, '0')}`, sensor: 'VIBRATION', value: 2 + (sequence % 10) / 10, unit: 'mm/s', event_time: now, gateway_id: gatewayId, plant_id: 'plant-it', sequence, quality: 'GOOD', channel: null, settings: null };
}

export function readingMessage(serde: AvroSerde, r: SensorReading): Message {
  return { key: r.arm_id, value: serde.encode(TOPICS.sensorReadings.name, r) };
}

export interface Collected {
  topic: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

/**
 * Reads `topics` from the beginning (read_committed) with a fresh group until `done(collected)` says
 * so, or fails after `timeoutMs` with what it saw. `keep` filters this test's records.
 */
export async function collect(
  kafka: Kafka,
  topics: string[],
  keep: (m: Collected) => boolean,
  done: (all: Collected[]) => boolean,
  timeoutMs = 60_000,
  /** Keep reading this long after `done`, so records that should not exist (duplicates) are seen too. */
  settleMs = 0,
): Promise<Collected[]> {
  const consumer = kafka.consumer({ groupId: `it-reader-${randomUUID()}`, readUncommitted: false, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  const seen: Collected[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    let resolveDone!: () => void;
    const finished = new Promise<void>((r) => (resolveDone = r));
    // Also checked while no record arrives: `done` may be satisfied by an empty topic.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      const poll = setInterval(() => done(seen) && (clearInterval(poll), resolveDone()), 500);
      poll.unref();
      void finished.then(() => clearInterval(poll));
    });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = String(Array.isArray(v) ? v[v.length - 1] : v);
          const c = { topic: batch.topic, key: m.key?.toString() ?? null, value: m.value ?? Buffer.alloc(0), headers };
          if (keep(c)) seen.push(c);
        }
        if (done(seen)) resolveDone();
      },
    });
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
    if ((await Promise.race([finished, timeout])) === 'timeout') {
      throw new Error(`timed out after ${timeoutMs} ms with ${seen.length} matching records from ${topics.join(', ')}`);
    }
    if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
    return [...seen];
  } finally {
    await consumer.disconnect();
  }
}

/** A Redis connection for the tests of one file: opened before them, closed after. */
export function useRedis(): () => RedisState {
  let redis: RedisState | undefined;
  before(async () => {
    redis = new RedisState(endpoints().redisUrl);
    await redis.connect();
  });
  after(async () => {
    await redis?.close();
  });
  return () => {
    if (!redis) throw new Error('useRedis(): Redis is opened in a before() hook; use it inside a test');
    return redis;
  };
}

/** A TCP port free on 127.0.0.1 right now, for a throwaway service of a test. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * Every sent reading came out on the validated topic exactly once: none lost (listed by arm/sequence),
 * none duplicated (counted). `out` are the collected validated records of this run.
 */
export async function assertEachReadingOnce(serde: AvroSerde, out: Collected[], sent: SensorReading[]): Promise<void> {
  serde.useReader(TOPICS.sensorReadingsValidated.name, loadSchema(TOPICS.sensorReadingsValidated.schema));
  const keys = await Promise.all(out.map(async (m) => {
    const r = (await serde.decode(TOPICS.sensorReadingsValidated.name, m.value)) as { arm_id: string; sequence: number };
    return `${r.arm_id}/${r.sequence}`;
  }));
  const got = new Set(keys);
  const missing = sent.map((r) => `${r.arm_id}/${r.sequence}`).filter((k) => !got.has(k));
  assert.deepEqual(missing, [], `${missing.length} records lost`);
  assert.equal(keys.length, sent.length, `${keys.length - got.size} duplicates`);
}
