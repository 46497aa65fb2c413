// Fault case of the Parquet sink (issue #8): absurd event times (years -1199 and 10000, 1969, ten
// years ahead, beyond the JS Date range), NaN-like numbers and other rule breakers in one stream with
// good records. Good records land in date-typed partitions, every bad one is a VALIDATION dead letter
// with its reason, every record is accounted for exactly once, partition directories all read
// event_date=YYYY-MM-DD (Spark types the column as a date), and the sink's log lines carry no
// customer id even when a rule's reason quotes one. And a failure that is not a record's own (a
// flush that cannot write) never becomes the dead letter of the record that happened to trigger it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import { DEAD_LETTER_SCHEMA, TOPICS, dlqTopic, loadSchema } from '../../schemas/topics.ts';
import { LAKE_DATASETS } from '../../connectors/parquet-sink/datasets.ts';
import { startParquetSink, type RunningSink } from '../../connectors/parquet-sink/sink.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { collect, endpoints, runId, testKafka } from './helpers.ts';
import { billingEvent, billingSchemaV1, billingSerde, groupCaughtUp, produceEvents, readLake, throwawayBillingTopic, waitFor } from './lake-helpers.ts';

const PYTHON = process.env.STREAMSCORE_PYTHON ?? join(REPO_ROOT, '.venv', 'bin', 'python');
const DAY = 86_400_000;
const lakeDir = mkdtempSync(join(tmpdir(), 'lake-absurd-'));
let sink: RunningSink | undefined;
let blockedSink: RunningSink | undefined;
after(async () => {
  await sink?.stop();
  await blockedSink?.stop();
  rmSync(lakeDir, { recursive: true, force: true });
});

/** A bad record: the patch applied to a good event and the reason the DLQ must give. */
interface BadCase {
  name: string;
  patch: (now: number) => Record<string, unknown>;
  reason: RegExp;
}

const OUT_OF_RANGE = /^event_time .* is outside the lake's accepted range \[2000-01-01T00:00:00\.000Z, /;
const BAD_CASES: BadCase[] = [
  { name: 'year--1199', patch: () => ({ event_time: Date.UTC(-1199, 1, 3) }), reason: OUT_OF_RANGE },
  { name: 'year-10000', patch: () => ({ event_time: Date.UTC(10000, 0, 1) }), reason: OUT_OF_RANGE },
  { name: 'year-1969', patch: () => ({ event_time: Date.UTC(1969, 11, 31, 23) }), reason: OUT_OF_RANGE },
  { name: 'now-plus-10y', patch: (now) => ({ event_time: now + 3653 * DAY }), reason: OUT_OF_RANGE },
  { name: 'beyond-js-date', patch: () => ({ event_time: 8.64e15 + 1 }), reason: /^event_time 8640000000000001 \(beyond the calendar\) is outside/ },
  { name: 'seconds-as-ms', patch: () => ({ event_time: Math.floor(Date.UTC(2026, 5, 2) / 1000) }), reason: /^event_time \d+ \(1970-01-21T.*\) is outside/ },
  { name: 'nan-amount', patch: () => ({ event_type: 'BILL', amount: Number.NaN, currency: 'EUR' }), reason: /^amount is NaN, not a finite number$/ },
  { name: 'infinite-duration', patch: () => ({ event_type: 'CALL', call_duration_s: Number.POSITIVE_INFINITY }), reason: /^call_duration_s is Infinity, not a finite number$/ },
  { name: 'minus-infinite-data', patch: () => ({ event_type: 'DATA_SESSION', data_mb: Number.NEGATIVE_INFINITY }), reason: /^data_mb is -Infinity, not a finite number; data_mb is -Infinity, below 0$/ },
  { name: 'currency-not-iso', patch: () => ({ event_type: 'BILL', amount: 10, currency: 'euro' }), reason: /^currency "euro" is not an ISO 4217 code/ },
  { name: 'empty-event-id', patch: () => ({ event_id: '' }), reason: /^event_id is empty$/ },
];

/** Counts with Spark (local[1]): the lake's rows and the type Spark gives the partition column. */
function sparkView(datasetDir: string): { rows: number; eventDateType: string } {
  const script = `
import json, sys
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[1]").appName("lake-partition-type").config("spark.ui.enabled", "false")
         .config("spark.sql.session.timeZone", "UTC").config("spark.driver.host", "127.0.0.1").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
df = spark.read.option("mergeSchema", "true").parquet(sys.argv[1])
print("RESULT " + json.dumps({"rows": df.count(), "eventDateType": df.schema["event_date"].dataType.simpleString()}))
spark.stop()
`;
  const r = spawnSync(PYTHON, ['-c', script, datasetDir], { encoding: 'utf8', timeout: 180_000 });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`spark read failed (exit ${r.status}): ${(r.stderr ?? '').slice(-2_000)}`);
  return JSON.parse(line.slice('RESULT '.length));
}

test('absurd times and NaN-like values go to the DLQ at VALIDATION; good records land in date partitions; logs keep customer ids out', { timeout: 240_000 }, async () => {
  const id = runId();
  const spec = throwawayBillingTopic(id);
  const kafka = testKafka();
  const serde = await billingSerde(spec.name, loadSchema(TOPICS.billingEvents.schema));
  const now = Date.now();
  const good = Array.from({ length: 300 }, (_, i) => billingEvent(id, i, { days: 4, v2: true }));
  // The edges of the accepted range are good data too.
  good.push({ ...billingEvent(id, 300, { v2: true }), event_time: Date.UTC(2000, 0, 1) }, { ...billingEvent(id, 301, { v2: true }), event_time: now + 30 * DAY });
  const bad = BAD_CASES.map((c, i) => ({ key: `${id}-bad-${c.name}`, event: { ...billingEvent(id, 1_000 + i, { v2: true }), ...c.patch(now) } }));
  // Good and bad interleaved, so a bad record never sits alone in its batch.
  const messages = [...good.map((e) => ({ key: String(e.user_id), value: serde.encode(spec.name, e) }))];
  bad.forEach((b, i) => messages.splice(i * 25 + 3, 0, { key: b.key, value: serde.encode(spec.name, b.event) }));
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: spec.name, numPartitions: spec.partitions }] });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: spec.name, acks: -1, messages });

  const logLines: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) }));
  sink = await startParquetSink({
    ...LAKE_DATASETS['billing-events'], topic: spec, brokers: endpoints().kafkaBrokers, registryUrl: endpoints().schemaRegistryUrl, lakeDir,
    rotateMs: 1_000, metricsPort: null, sessionTimeoutMs: 10_000, log,
  });
  await waitFor('every record consumed and committed', () => groupCaughtUp(kafka, sink!.groupId, spec.name));

  // A record whose reason quotes its customer id, alone in its batch so the log line is about it.
  const customerId = `${id}-CUST-4711-SECRET`;
  const quoted = { key: `${id}-bad-quoted-customer`, event: { ...billingEvent(id, 2_000, { v2: true }), user_id: `${customerId}\u0007`, event_id: `telco-${customerId}-bill-1` } };
  await producer.send({ topic: spec.name, acks: -1, messages: [{ key: quoted.key, value: serde.encode(spec.name, quoted.event) }] });
  await producer.disconnect();
  await waitFor('the quoted-customer record committed', () => groupCaughtUp(kafka, sink!.groupId, spec.name));
  const deadLettered = (await sink.metrics.deadLettered.get()).values;
  await sink.stop();

  // Good records: all in the lake, once, each in its own date's partition.
  const rows = readLake(sink.datasetDir);
  assert.deepEqual(rows.map((r) => r.row.event_id).sort(), good.map((e) => e.event_id).sort());
  assert.equal(new Set(rows.map((r) => `${r.row.kafka_partition}/${r.row.kafka_offset}`)).size, rows.length);
  for (const r of rows) assert.equal(r.partitionDir, `event_date=${new Date(Number(r.row.event_time)).toISOString().slice(0, 10)}`);
  const dirs = readdirSync(sink.datasetDir);
  assert.ok(dirs.includes('event_date=2000-01-01'), `partitions: ${dirs.join(', ')}`);
  for (const d of dirs) assert.match(d, /^event_date=\d{4}-\d{2}-\d{2}$/);

  // Bad records: each exactly once in the DLQ, at VALIDATION, with its own reason.
  const all = [...bad, quoted];
  const dlqSerde = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
  dlqSerde.useReader(dlqTopic(spec.name), loadSchema(DEAD_LETTER_SCHEMA));
  const dead = await collect(kafka, [dlqTopic(spec.name)], () => true, (seen) => seen.length >= all.length, 60_000, 2_000);
  assert.deepEqual(dead.map((m) => m.key).sort(), all.map((b) => b.key).sort(), 'every bad record once, nothing else');
  for (const m of dead) {
    const letter = (await dlqSerde.decode(dlqTopic(spec.name), m.value)) as { stage: string; error_class: string; error_message: string };
    assert.equal(letter.stage, 'VALIDATION', m.key!);
    assert.equal(m.headers['streamscore.error.stage']?.toUpperCase(), 'VALIDATION');
    assert.equal(letter.error_class, 'ValidationError');
    const expected = BAD_CASES.find((c) => m.key === `${id}-bad-${c.name}`)?.reason ?? /^user_id ".*" has a control character$/;
    assert.match(letter.error_message, expected, m.key!);
  }
  assert.deepEqual(deadLettered.map((v) => [v.labels.stage, v.value]), [['validation', all.length]]);

  // Logs: the dead-letter line of the quoted record names the rule, never the customer.
  const logText = logLines.join('');
  assert.doesNotMatch(logText, /CUST-4711-SECRET/);
  assert.ok(logLines.some((l) => l.includes('records dead-lettered') && l.includes('user_id \\"[personal]\\" has a control character')), logText.slice(-2_000));

  // Spark reads the partition column as a date (one malformed directory would make it a string).
  assert.deepEqual(sparkView(sink.datasetDir), { rows: good.length, eventDateType: 'date' });
});

test('a flush that fails when a new schema arrives fails the batch, not the record that brought the schema', { timeout: 180_000 }, async () => {
  const id = runId();
  const spec = throwawayBillingTopic(id, 1);
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: spec.name, numPartitions: 1 }] });
  const v1Events = Array.from({ length: 50 }, (_, i) => billingEvent(id, i, { days: 1 }));
  await produceEvents(kafka, spec.name, await billingSerde(spec.name, billingSchemaV1()), v1Events);
  const myLake = join(lakeDir, id);

  const logLines: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) }));
  blockedSink = await startParquetSink({
    ...LAKE_DATASETS['billing-events'], topic: spec, brokers: endpoints().kafkaBrokers, registryUrl: endpoints().schemaRegistryUrl, lakeDir: myLake,
    rotateMs: 600_000, metricsPort: null, sessionTimeoutMs: 10_000, log,
  });
  const buffered = async () => (await blockedSink!.metrics.buffered.get()).values[0]?.value ?? 0;
  await waitFor('the v1 records buffered', async () => (await buffered()) === 50);
  // A file where the flush must create the event_date=2026-06-01 directory: writing it fails.
  const blocker = join(blockedSink.datasetDir, 'event_date=2026-06-01');
  mkdirSync(blockedSink.datasetDir, { recursive: true });
  writeFileSync(blocker, 'not a directory');

  // v2 records: the first one makes the sink close its v1 files, which cannot be written.
  const v2Events = Array.from({ length: 10 }, (_, i) => billingEvent(id, 50 + i, { days: 1, v2: true }));
  await produceEvents(kafka, spec.name, await billingSerde(spec.name, loadSchema(TOPICS.billingEvents.schema)), v2Events);
  await waitFor('the failed schema-change flush in the log', () => logLines.some((l) => l.includes('ENOTDIR') || l.includes('EEXIST')), 60_000);
  const dlqEnds = async () => (await admin.fetchTopicOffsets(dlqTopic(spec.name))).map((p) => p.high);
  assert.deepEqual(await dlqEnds(), ['0'], 'no record was dead-lettered for the flush failure');

  rmSync(blocker);
  // The retried batch closes the v1 files and buffers the v2 records; stopping flushes those.
  await waitFor('v1 flushed, v2 buffered', async () => (await blockedSink!.metrics.records.get()).values[0]?.value === 50 && (await buffered()) === 10, 90_000).catch((err: Error) => {
    throw new Error(`${err.message}; sink log:\n${logLines.join('').slice(-4_000)}`);
  });
  await blockedSink.stop();
  assert.equal(await groupCaughtUp(kafka, blockedSink.groupId, spec.name), true);
  assert.deepEqual(readLake(blockedSink.datasetDir).map((r) => r.row.event_id).sort(), [...v1Events, ...v2Events].map((e) => e.event_id).sort());
  assert.deepEqual(await dlqEnds(), ['0']);
  await admin.disconnect();
});
