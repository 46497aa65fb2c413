// The sink's consumer lag on a topic written by a transactional producer: every transaction ends
// with a commit marker that takes an offset but is never a record. Once everything is consumed the
// lag gauge reads 0 on every partition and the group has committed the high watermark (before, both
// stayed 1 behind: an alert on the lag never cleared), also when a marker is fetched alone.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import { LAKE_DATASETS } from '../../connectors/parquet-sink/datasets.ts';
import { startParquetSink, type RunningSink } from '../../connectors/parquet-sink/sink.ts';
import { endpoints, quietLog, runId, testKafka } from './helpers.ts';
import { billingEvent, billingSerde, groupCaughtUp, readLake, throwawayBillingTopic, waitFor } from './lake-helpers.ts';
import type { AvroSerde } from '../../streams/runtime/serde.ts';

const PARTITIONS = 3;
const lakeDir = mkdtempSync(join(tmpdir(), 'lake-lag-'));
const sinks: RunningSink[] = [];
after(async () => {
  for (const s of sinks) await s.stop();
  rmSync(lakeDir, { recursive: true, force: true });
});

/** Committed transactions of `perTransaction` events each, one aborted in the middle; returns the committed events. */
async function produceTransactions(kafka: Kafka, topic: string, serde: AvroSerde, id: string): Promise<Record<string, unknown>[]> {
  const producer = kafka.producer({ transactionalId: `${id}-tx`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const committed: Record<string, unknown>[] = [];
  try {
    for (let t = 0; t < 4; t++) {
      const events = Array.from({ length: 30 }, (_, i) => billingEvent(id, t * 30 + i, { v2: true }));
      const tx = await producer.transaction();
      await tx.send({ topic, acks: -1, messages: events.map((e) => ({ key: String(e.user_id), value: serde.encode(topic, e) })) });
      if (t === 2) {
        await tx.abort(); // read_committed never sees these; their abort markers take offsets too
        continue;
      }
      await tx.commit();
      committed.push(...events);
    }
  } finally {
    await producer.disconnect();
  }
  return committed;
}

async function lagByPartition(sink: RunningSink): Promise<Record<string, number>> {
  return Object.fromEntries((await sink.metrics.lag.get()).values.map((v) => [v.labels.partition, v.value]));
}

const allZero = Object.fromEntries(Array.from({ length: PARTITIONS }, (_, p) => [String(p), 0]));

test('lag reaches 0 and offsets reach the high watermark on a transactionally written topic, also for a marker fetched alone', { timeout: 180_000 }, async () => {
  const id = runId();
  const spec = throwawayBillingTopic(id, PARTITIONS);
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: spec.name, numPartitions: PARTITIONS }] });
  const serde = await billingSerde(spec.name, loadSchema(TOPICS.billingEvents.schema));
  const committed = await produceTransactions(kafka, spec.name, serde, id);
  const ends = await admin.fetchTopicOffsets(spec.name);
  const options = { ...LAKE_DATASETS['billing-events'], topic: spec, brokers: endpoints().kafkaBrokers, registryUrl: endpoints().schemaRegistryUrl, rotateMs: 1_000, lagRefreshMs: 1_000, metricsPort: 0, sessionTimeoutMs: 10_000, log: quietLog };

  // 1. Markers read in the same fetch as the data.
  const sink = await startParquetSink({ ...options, lakeDir: join(lakeDir, 'whole') });
  sinks.push(sink);
  await waitFor('the committed transactions in the lake', async () => (await sink.metrics.records.get()).values[0]?.value === committed.length);
  await waitFor('lag 0 on every partition', async () => JSON.stringify(await lagByPartition(sink)) === JSON.stringify(allZero), 30_000).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(await lagByPartition(sink))}`);
  });
  await waitFor('offsets committed to the high watermark', () => groupCaughtUp(kafka, sink.groupId, spec.name), 30_000);
  // Idle: the periodic refresh from the broker keeps it at 0 (a marker is not lag).
  await new Promise((r) => setTimeout(r, 2_500));
  assert.deepEqual(await lagByPartition(sink), allZero);
  const metricsText = await (await fetch(`http://127.0.0.1:${sink.httpPort}/metrics`)).text();
  for (let p = 0; p < PARTITIONS; p++) assert.match(metricsText, new RegExp(`streamscore_lake_consumer_lag\\{topic="${spec.name.replaceAll('.', '\\.')}",partition="${p}"\\} 0\\n`));
  await sink.stop();
  const rows = readLake(sink.datasetDir);
  assert.deepEqual(rows.map((r) => r.row.event_id).sort(), committed.map((e) => e.event_id).sort(), 'committed transactions once, the aborted one not at all');

  // 2. A group whose committed offset is the last commit marker (as an older sink left it): the
  //    fetch holds only that marker, which kafkajs never hands to eachBatch.
  const group = `parquet-sink.${id}.markers`;
  const nonEmpty = ends.filter((e) => e.high !== '0');
  await admin.setOffsets({ groupId: group, topic: spec.name, partitions: ends.map((e) => ({ partition: e.partition, offset: e.high === '0' ? '0' : String(BigInt(e.high) - 1n) })) });
  assert.equal(await groupCaughtUp(kafka, group, spec.name), nonEmpty.length === 0);
  const markersOnly = await startParquetSink({ ...options, lakeDir: join(lakeDir, 'markers'), groupId: group });
  sinks.push(markersOnly);
  await waitFor('the group committed past the lone markers', () => groupCaughtUp(kafka, group, spec.name), 30_000);
  await waitFor('lag 0 after the lone markers', async () => JSON.stringify(await lagByPartition(markersOnly)) === JSON.stringify(allZero), 30_000);
  await markersOnly.stop();
  assert.deepEqual(readLake(markersOnly.datasetDir), [], 'a marker is never a row');
  await admin.disconnect();
});
