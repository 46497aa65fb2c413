// The Parquet sink against the real broker and registry: every good record lands once in the
// right date partition, poison records go to the DLQ with the reason, files rotate by size, and a
// new optional field registered mid-stream (BillingEvent v1 -> v2) becomes a new column.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS, dlqTopic, loadSchema } from '../../schemas/topics.ts';
import { startParquetSink, type RunningSink } from '../../connectors/parquet-sink/sink.ts';
import { readParquetFile } from '../../connectors/parquet-sink/lake-reader.ts';
import { collect, endpoints, quietLog, runId, testKafka } from './helpers.ts';
import { billingEvent, billingSchemaV1, billingSerde, groupCaughtUp, produceEvents, readLake, throwawayBillingTopic, waitFor } from './lake-helpers.ts';

const lakeDir = mkdtempSync(join(tmpdir(), 'lake-it-'));
let sink: RunningSink | undefined;
after(async () => {
  await sink?.stop();
  rmSync(lakeDir, { recursive: true, force: true });
});

async function counter(s: RunningSink, name: 'records' | 'files'): Promise<number> {
  return (await s.metrics[name].get()).values.reduce((n, v) => n + v.value, 0);
}

test('billing events land once per record in date partitions; poison goes to the DLQ; v2 adds a column', { timeout: 180_000 }, async () => {
  const id = runId();
  const spec = throwawayBillingTopic(id);
  const kafka = testKafka();
  const v1 = billingSerde(spec.name, billingSchemaV1());
  const v1Events = Array.from({ length: 1_500 }, (_, i) => billingEvent(id, i));
  const garbage = [
    { key: `${id}-garbage`, value: Buffer.from(`not avro ${id}`) },
    { key: `${id}-unknown-schema`, value: Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0x01]), Buffer.from(id)]) },
  ];
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: spec.name, numPartitions: spec.partitions }] });
  await admin.disconnect();
  await produceEvents(kafka, spec.name, await v1, v1Events, garbage);

  sink = await startParquetSink({
    brokers: endpoints().kafkaBrokers, registryUrl: endpoints().schemaRegistryUrl, lakeDir, topic: spec, dataset: 'telecom/billing_events', timeField: 'event_time',
    maxFileRecords: 200, rotateMs: 1_000, metricsPort: 0, sessionTimeoutMs: 10_000, log: quietLog,
  });
  await waitFor('1,500 v1 records in the lake', async () => (await counter(sink!, 'records')) === 1_500);

  // A producer moves to v2 (payment_method, CANCELLATION): the registry accepts it as BACKWARD compatible.
  const v2 = await billingSerde(spec.name, loadSchema(TOPICS.billingEvents.schema));
  const v2Events = Array.from({ length: 500 }, (_, i) => billingEvent(id, 1_500 + i, { v2: true }));
  await produceEvents(kafka, spec.name, v2, v2Events);
  await waitFor('2,000 records in the lake', async () => (await counter(sink!, 'records')) === 2_000);
  await waitFor('offsets committed to the end', () => groupCaughtUp(kafka, sink!.groupId, spec.name));
  const metricsText = await (await fetch(`http://127.0.0.1:${sink.httpPort}/metrics`)).text();
  await sink.stop();

  const rows = readLake(sink.datasetDir);
  assert.equal(rows.length, 2_000, 'every good record exactly once');
  assert.equal(new Set(rows.map((r) => `${r.row.kafka_partition}/${r.row.kafka_offset}`)).size, 2_000);
  assert.deepEqual(rows.map((r) => r.row.event_id).sort(), [...v1Events, ...v2Events].map((e) => e.event_id).sort());
  // Column types come from the registered schema with its logical types (Spark reads a TimestampType).
  const [file] = new Set(rows.map((r) => r.file));
  assert.equal(String(readParquetFile(file).schema.fields.find((f) => f.name === 'event_time')!.type), 'Timestamp<MILLISECOND, UTC>');
  for (const r of rows) assert.equal(r.partitionDir, `event_date=${new Date(Number(r.row.event_time)).toISOString().slice(0, 10)}`);
  assert.deepEqual([...new Set(rows.map((r) => r.partitionDir))].sort(), ['event_date=2026-06-01', 'event_date=2026-06-02', 'event_date=2026-06-03']);
  // Size rotation: no file holds more than one flush of 200 records.
  const perFile = new Map<string, number>();
  for (const r of rows) perFile.set(r.file, (perFile.get(r.file) ?? 0) + 1);
  assert.ok(Math.max(...perFile.values()) <= 200, `largest file has ${Math.max(...perFile.values())} rows`);
  assert.ok(perFile.size >= 10);

  // Schema evolution: files written before v2 lack the column; v2 rows carry their values.
  const byId = new Map(rows.map((r) => [r.row.event_id, r]));
  assert.ok(!byId.get(`${id}-0`)!.columns.includes('payment_method'));
  for (const e of v2Events) {
    const r = byId.get(e.event_id as string)!;
    assert.ok(r.columns.includes('payment_method'), `${e.event_id} was written with the v2 columns`);
    assert.equal(r.row.payment_method, e.payment_method);
    assert.equal(r.row.event_type, e.event_type);
  }
  assert.ok(v2Events.some((e) => e.event_type === 'CANCELLATION'));

  const dead = await collect(kafka, [dlqTopic(spec.name)], (m) => (m.key ?? '').startsWith(id), (all) => all.length >= 2);
  const reasons = Object.fromEntries(dead.map((m) => [m.key, m.headers['streamscore.error.class']]));
  assert.deepEqual(reasons, { [`${id}-garbage`]: 'WireFormatError', [`${id}-unknown-schema`]: 'UnknownSchemaError' });
  assert.match(metricsText, /streamscore_lake_files_total\{topic="it\.billing-events\.[^"]+"\} \d+/);
  assert.match(metricsText, /streamscore_lake_dead_lettered_total\{topic="[^"]+",stage="decode"\} 2/);
});
