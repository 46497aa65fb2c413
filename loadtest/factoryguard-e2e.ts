// End-to-end FactoryGuard benchmark on the embedded stack (docs/benchmarks.md):
//   generator -> factory.sensor-readings.v1 -> sensor-validation -> ...-validated.v1 -> maintenance-scorer -> predictions
// at fixed offered rates, measuring delivered readings/s and produce -> prediction latency (p50/p99),
// against a raw consume -> produce passthrough measured first in the same run.
//   node loadtest/factoryguard-e2e.ts [--rates 1000,5000,10000,15000] [--seconds 20] [--arms 500] [--out loadtest/results/x.json]
import { resolve as resolvePath } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { TOPICS, loadSchema } from '../schemas/topics.ts';
import { applyTopics } from '../cli/topics.ts';
import { serviceEnv } from '../cli/env.ts';
import { up } from '../infra/stack/stack.ts';
import { brokerList, createKafka } from '../streams/runtime/kafka-client.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { ConfluentSchemaStore } from '../streams/runtime/schema-store.ts';
import { AvroSerde } from '../streams/runtime/serde.ts';
import { RedisState } from '../streams/runtime/state/redis-state.ts';
import { markStateReady } from '../streams/runtime/state-guard.ts';
import { LatencyRecorder, produceAtRate } from './lib.ts';
import { PASSTHROUGH_TOPIC } from './passthrough.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const rates = arg('rates', '1000,5000,10000,15000').split(',').map(Number);
const seconds = Number(arg('seconds', '20'));
const arms = Number(arg('arms', '500'));
const out = arg('out', `loadtest/results/factoryguard-e2e-${new Date().toISOString().slice(0, 10)}.json`);
const root = new URL('..', import.meta.url).pathname;

await up();
const env = serviceEnv();
await applyTopics(env);
const log = createLogger({ bench: 'factoryguard' }).child({}, { level: 'warn' });
const kafka = createKafka('bench', brokerList(env.KAFKA_BROKERS!), log);
const admin = kafka.admin();
await admin.connect();
if (!(await admin.listTopics()).includes(PASSTHROUGH_TOPIC)) await admin.createTopics({ waitForLeaders: true, topics: [{ topic: PASSTHROUGH_TOPIC, numPartitions: 6 }] });
const serde = new AvroSerde(new ConfluentSchemaStore(env.SCHEMA_REGISTRY_URL!));
await serde.useTopic(TOPICS.sensorReadings.name, loadSchema(TOPICS.sensorReadings.schema));
serde.useReader(TOPICS.maintenancePredictions.name, loadSchema(TOPICS.maintenancePredictions.schema));
const producer = kafka.producer({ allowAutoTopicCreation: false });
const redis = new RedisState(env.REDIS_URL!);
await redis.connect();
await producer.connect();

function start(args: string[], extraEnv: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env, LOG_LEVEL: 'info', ...extraEnv }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => l.includes('joined consumer group') && resolve(child));
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Group offsets to the end, so a phase does not start with the previous phase's backlog. */
async function skipBacklog(groupId: string, topic: string): Promise<void> {
  // Explicit offsets: kafkajs' resetOffsets(latest) commits -1, which a consumer subscribed
  // fromBeginning reads as "earliest".
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.setOffsets({ groupId, topic, partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })) });
}

async function measure(topic: string, latencyOf: (m: { value: Buffer | null; headers?: Record<string, unknown>; timestamp: string }) => Promise<number>, run: () => Promise<number>) {
  const recorder = new LatencyRecorder();
  const consumer = kafka.consumer({ groupId: `bench-${randomUUID()}`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  let joined!: () => void;
  const ready = new Promise<void>((r) => (joined = r));
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.run({ eachBatch: async ({ batch }) => { for (const m of batch.messages) recorder.add(await latencyOf(m)); } });
  await ready;
  const t0 = Date.now();
  const offered = await run();
  const elapsed = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 3_000)); // drain
  await consumer.disconnect();
  return { offered, offeredPerSecond: Math.round(offered / elapsed), ...recorder.summary() };
}

/** The runtime's own counters: records consumed, lag left, batch duration p99 (from histogram buckets). */
async function scrape(port: number): Promise<{ recordsIn: number; lag: number; batchP99Ms: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const sum = (re: RegExp) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
  const buckets = [...text.matchAll(/streamscore_batch_duration_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)/g)].map((m) => [m[1] === "+Inf" ? Number.POSITIVE_INFINITY : Number(m[1]), Number(m[2])] as const);
  const total = buckets.find(([le]) => le === Number.POSITIVE_INFINITY)?.[1] ?? 0;
  const p99 = buckets.find(([, c]) => c >= 0.99 * total)?.[0] ?? Number.NaN;
  return { recordsIn: sum(/^streamscore_records_in_total\{[^}]*\} (\S+)/gm), lag: sum(/^streamscore_consumer_lag\{[^}]*\} (\S+)/gm), batchP99Ms: p99 * 1000 };
}

const results: Record<string, unknown>[] = [];
for (const rate of rates) {
  await skipBacklog('loadtest-passthrough', TOPICS.sensorReadings.name);
  const passthrough = await start(['loadtest/passthrough.ts']);
  const base = await measure(PASSTHROUGH_TOPIC, async (m) => Date.now() - Number(String(m.headers?.['source-ts'])), () => produceAtRate(producer, serde, { rate, seconds, arms, gatewayId: 'bench-base' }));
  await stop(passthrough);

  await skipBacklog('sensor-validation', TOPICS.sensorReadings.name);
  await skipBacklog('maintenance-scorer', TOPICS.sensorReadingsValidated.name);
  // The phase starts from empty state on purpose (the backlog was skipped): mark it present, or the
  // scorer would first rebuild it by replaying the whole validated topic (state-guard.ts).
  const validated = TOPICS.sensorReadingsValidated;
  await markStateReady(redis, 'maintenance-scorer', Array.from({ length: validated.partitions }, (_, partition) => ({ topic: validated.name, partition })), 'benchmark: fresh state');
  const validation = await start(['bin/streamscore.mjs', 'run', 'sensor-validation'], { METRICS_PORT: '9471' });
  const scorer = await start(['bin/streamscore.mjs', 'run', 'maintenance-scorer'], { METRICS_PORT: '9472' });
  let readingsScored = 0;
  const pipeline = await measure(TOPICS.maintenancePredictions.name, async (m) => {
    const p = (await serde.decode(TOPICS.maintenancePredictions.name, m.value)) as { event_time: number };
    readingsScored++;
    return Date.now() - p.event_time;
  }, () => produceAtRate(producer, serde, { rate, seconds, arms, gatewayId: 'bench' }));
  const scorerMetrics = await scrape(9472);
  const validationMetrics = await scrape(9471);
  await stop(scorer);
  await stop(validation);
  const row = {
    rate,
    seconds,
    arms,
    passthrough: base,
    pipeline,
    predictions: readingsScored,
    readingsValidated: validationMetrics.recordsIn,
    readingsScored: scorerMetrics.recordsIn,
    scorerLagAtEnd: scorerMetrics.lag,
    validationLagAtEnd: validationMetrics.lag,
    scorerBatchP99Ms: scorerMetrics.batchP99Ms,
    p99Ratio: pipeline.p99 / base.p99,
  };
  results.push(row);
  process.stderr.write(`${JSON.stringify(row)}\n`);
}
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(resolvePath(new URL('..', import.meta.url).pathname, out), JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30) }, date: new Date().toISOString(), command: process.argv.slice(1).join(' '), results }, null, 2));
await producer.disconnect();
await admin.disconnect();
await redis.close();
process.stderr.write(`wrote ${out}\n`);
