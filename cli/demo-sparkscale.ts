// The SparkScale part of `npm run demo`, small and end to end: the bundled IBM Telco sample (1,000
// customers) as billing events -> a Kafka topic -> the exactly-once Parquet sink -> a lake ->
// Spark standalone cluster: train (LR vs RF, tiny grid) -> PipelineModel -> daily batch scores ->
// telecom.churn-predictions.v1. Each run uses its own events topic and lake under .data/demo/, so a
// re-run never mixes with an earlier one or with the production lake.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { TOPICS, loadSchema, type TopicSpec } from '../schemas/topics.ts';
import type { ChurnPrediction } from '../schemas/generated/types.ts';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { sparkStatus, sparkUp } from '../infra/spark/cluster.ts';
import { waitUntil } from '../infra/stack/process.ts';
import { produceBillingEvents } from '../connectors/billing/producer.ts';
import { TELCO_SAMPLE_CSV, readTelcoCsv, telcoEvents } from '../connectors/billing/telco-events.ts';
import { LAKE_DATASETS } from '../connectors/parquet-sink/datasets.ts';
import { startParquetSink } from '../connectors/parquet-sink/sink.ts';
import { publishPredictions } from '../connectors/churn-publisher/publisher.ts';
import { createKafka } from '../streams/runtime/kafka-client.ts';
import type { RuntimeOptions } from '../streams/runtime/kafka-runner.ts';
import { ConfluentSchemaStore } from '../streams/runtime/schema-store.ts';
import { AvroSerde } from '../streams/runtime/serde.ts';
import { runSparkJob } from './churn.ts';

/** The Telco-derived events end on this cut-off; cancellations fall in the 30 days after it. */
const CUTOFF = '2026-06-30';
const DEMO_TOPIC_PREFIX = 'demo.telecom.billing-events.';

async function deleteEarlierDemoTopics(admin: Admin): Promise<void> {
  const old = (await admin.listTopics()).filter((t) => t.startsWith(DEMO_TOPIC_PREFIX));
  if (old.length) await admin.deleteTopics({ topics: old });
}

export async function demoSparkScale(options: RuntimeOptions, say: (line: string) => void): Promise<boolean> {
  const runId = Date.now().toString(36);
  const demoDir = join(REPO_ROOT, '.data', 'demo', 'sparkscale');
  rmSync(demoDir, { recursive: true, force: true });
  const lakeDir = join(demoDir, 'lake');
  const modelDir = join(demoDir, 'model');
  const log = options.logger!;
  const kafka = createKafka('streamscore-demo-sparkscale', options.kafkaBrokers, log);
  const admin = kafka.admin();
  await admin.connect();
  await deleteEarlierDemoTopics(admin);
  await admin.disconnect();

  const topic: TopicSpec = { ...TOPICS.billingEvents, name: `${DEMO_TOPIC_PREFIX}${runId}` };
  const customers = readTelcoCsv(TELCO_SAMPLE_CSV);
  const produced = await produceBillingEvents(telcoEvents(customers), {
    destination: { kind: 'kafka', brokers: options.kafkaBrokers, schemaRegistryUrl: options.schemaRegistryUrl, compression: 'none' },
    topic: topic.name,
    log,
  });
  say(`sparkscale: ${produced.produced.toLocaleString('en')} billing events of ${customers.length} Telco customers (${produced.cancellations} cancel after ${CUTOFF}) -> ${topic.name}`);

  const sink = await startParquetSink({ ...LAKE_DATASETS['billing-events'], topic, lakeDir, groupId: `parquet-sink.${topic.name}`, rotateMs: 2_000, metricsPort: null, log, brokers: options.kafkaBrokers, registryUrl: options.schemaRegistryUrl });
  const total = async () => (await sink.metrics.records.get()).values.reduce((n, v) => n + v.value, 0);
  await waitUntil(async () => (await total()) >= produced.produced, 120_000);
  const landed = await total();
  const files = (await sink.metrics.files.get()).values.reduce((n, v) => n + v.value, 0);
  await sink.stop();
  say(`sparkscale: parquet sink wrote ${landed.toLocaleString('en')} rows in ${files} files -> ${sink.datasetDir}`);
  if (landed !== produced.produced) {
    say(`sparkscale: the lake has ${landed} of ${produced.produced} events after 120 s; stopping here`);
    return false;
  }

  await sparkUp({ log: (line) => say(`  ${line}`) });
  const cluster = await sparkStatus();
  say(`sparkscale: Spark ${cluster.masterUrl} with ${cluster.aliveWorkers} workers (UI ${cluster.uiUrl ?? 'n/a'})`);
  const trained = await runSparkJob('train.py', ['--master', cluster.masterUrl, '--lake', lakeDir, '--cutoff', CUTOFF, '--grid', 'tiny', '--out', modelDir, '--card', join(modelDir, 'MODEL_CARD.md')], lakeDir);
  if (trained !== 0) {
    say(`sparkscale: train.py exited with ${trained}; its output is above`);
    return false;
  }
  const scored = await runSparkJob('score.py', ['--master', cluster.masterUrl, '--lake', lakeDir, '--date', CUTOFF, '--model-dir', modelDir], lakeDir);
  if (scored !== 0) {
    say(`sparkscale: score.py exited with ${scored}; its output is above`);
    return false;
  }
  const published = await publishPredictions({ lakeDir, date: CUTOFF, brokers: options.kafkaBrokers, registryUrl: options.schemaRegistryUrl, log: () => undefined });
  say(`sparkscale: ${published.rows} scores for ${CUTOFF} -> ${published.topic} (one transaction)`);

  // Read them back from the topic, as a downstream consumer would.
  const serde = new AvroSerde(new ConfluentSchemaStore(options.schemaRegistryUrl));
  serde.useReader(TOPICS.churnPredictions.name, loadSchema(TOPICS.churnPredictions.schema));
  const ids = new Set(customers.map((c) => c.customerId));
  const scores = await readPredictions(kafka, serde, ids, published.rows);
  const top = [...scores.values()].sort((a, b) => b.churn_probability - a.churn_probability).slice(0, 5);
  say(`sparkscale: highest churn risk of ${scores.size} scored customers (read back from ${TOPICS.churnPredictions.name}):`);
  for (const p of top) say(`  ${p.user_id}  ${(p.churn_probability * 100).toFixed(1)}%${p.high_value ? '  high-value' : ''}  ${(p.top_reasons ?? []).join('; ')}`);
  say(`  lake ${lakeDir}   model card ${join(modelDir, 'MODEL_CARD.md')}`);
  return scores.size === published.rows;
}

async function readPredictions(kafka: ReturnType<typeof createKafka>, serde: AvroSerde, ids: Set<string>, expected: number): Promise<Map<string, ChurnPrediction>> {
  const consumer = kafka.consumer({ groupId: `demo-churn-reader-${Date.now()}`, readUncommitted: false });
  const latest = new Map<string, ChurnPrediction>();
  await consumer.connect();
  await consumer.subscribe({ topic: TOPICS.churnPredictions.name, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const p = (await serde.decode(TOPICS.churnPredictions.name, message.value)) as ChurnPrediction;
      if (ids.has(p.user_id)) latest.set(p.user_id, p);
    },
  });
  await waitUntil(() => latest.size >= expected, 60_000);
  await consumer.disconnect();
  return latest;
}
