// End-to-end FactoryGuard benchmark on the embedded stack (docs/benchmarks.md):
//   generator -> factory.sensor-readings.v1 -> sensor-validation -> ...-validated.v1 -> maintenance-scorer -> predictions
// at fixed offered rates, measuring delivered readings/s and produce -> prediction latency (p50/p99),
// against a raw consume -> produce passthrough measured first in the same run.
//   node loadtest/factoryguard-e2e.ts [--rates 1000,5000,10000,15000] [--seconds 20] [--arms 500] [--out loadtest/results/x.json]
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
import { LatencyRecorder, joinedConsumer, produceAtRate, scrapeRuntimeMetrics, skipBacklog, startJoined, stopProcess, writeResults } from './lib.ts';
import { PASSTHROUGH_GROUP, PASSTHROUGH_TOPIC } from './passthrough.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const rates = arg('rates', '1000,5000,10000,15000').split(',').map(Number);
const seconds = Number(arg('seconds', '20'));
const arms = Number(arg('arms', '500'));
const out = arg('out', `loadtest/results/factoryguard-e2e-${new Date().toISOString().slice(0, 10)}.json`);

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

async function measure(topic: string, latencyOf: (m: { value: Buffer | null; headers?: Record<string, unknown>; timestamp: string }) => Promise<number>, run: () => Promise<number>) {
  const recorder = new LatencyRecorder();
  const consumer = await joinedConsumer(kafka, topic, async (m) => recorder.add(await latencyOf(m)));
  const t0 = Date.now();
  const offered = await run();
  const elapsed = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 3_000)); // drain
  await consumer.disconnect();
  return { offered, offeredPerSecond: Math.round(offered / elapsed), ...recorder.summary() };
}

const results: Record<string, unknown>[] = [];
for (const rate of rates) {
  await skipBacklog(admin, PASSTHROUGH_GROUP, TOPICS.sensorReadings.name);
  const passthrough = await startJoined(['loadtest/passthrough.ts'], env);
  const base = await measure(PASSTHROUGH_TOPIC, async (m) => Date.now() - Number(String(m.headers?.['source-ts'])), () => produceAtRate(producer, serde, { rate, seconds, arms, gatewayId: 'bench-base' }));
  await stopProcess(passthrough);

  await skipBacklog(admin, 'sensor-validation', TOPICS.sensorReadings.name);
  await skipBacklog(admin, 'maintenance-scorer', TOPICS.sensorReadingsValidated.name);
  // The phase starts from empty state on purpose (the backlog was skipped): mark it present, or the
  // scorer would first rebuild it by replaying the whole validated topic (state-guard.ts).
  const validated = TOPICS.sensorReadingsValidated;
  await markStateReady(redis, 'maintenance-scorer', Array.from({ length: validated.partitions }, (_, partition) => ({ topic: validated.name, partition })), 'benchmark: fresh state');
  const validation = await startJoined(['bin/streamscore.mjs', 'run', 'sensor-validation'], env, { METRICS_PORT: '9471' });
  const scorer = await startJoined(['bin/streamscore.mjs', 'run', 'maintenance-scorer'], env, { METRICS_PORT: '9472' });
  let readingsScored = 0;
  const pipeline = await measure(TOPICS.maintenancePredictions.name, async (m) => {
    const p = (await serde.decode(TOPICS.maintenancePredictions.name, m.value)) as { event_time: number };
    readingsScored++;
    return Date.now() - p.event_time;
  }, () => produceAtRate(producer, serde, { rate, seconds, arms, gatewayId: 'bench' }));
  const scorerMetrics = await scrapeRuntimeMetrics(9472);
  const validationMetrics = await scrapeRuntimeMetrics(9471);
  await stopProcess(scorer);
  await stopProcess(validation);
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
writeResults(out, { results });
await producer.disconnect();
await admin.disconnect();
await redis.close();
process.stderr.write(`wrote ${out}\n`);
