import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import { sampleBillingEvent } from '../../schemas/sample-records.ts';
import { lakeColumns } from './arrow-columns.ts';
import { encodeParquet } from './lake-files.ts';
import { readParquetFile } from './lake-reader.ts';

const BILLING = loadSchema(TOPICS.billingEvents.schema);

test('billing events map to the lake columns of docs/sparkscale.md', () => {
  const columns = lakeColumns(BILLING);
  assert.deepEqual(
    columns.map((c) => `${c.name}:${c.type}`),
    [
      'event_id:Utf8', 'user_id:Utf8', 'event_time:Timestamp<MILLISECOND, UTC>', 'event_type:Utf8', 'call_duration_s:Float64', 'data_mb:Float64',
      'amount:Float64', 'currency:Utf8', 'plan:Utf8', 'complaint_category:Utf8', 'late_payment:Bool', 'payment_method:Utf8', 'kafka_partition:Int32', 'kafka_offset:Int64',
    ],
  );
});

test('unsupported shapes fail at start-up with the field named', () => {
  assert.throws(() => lakeColumns({ type: 'record', name: 'R', fields: [{ name: 'm', type: { type: 'map', values: 'string' } }] }), /R\.m: Avro type "map"/);
  assert.throws(() => lakeColumns({ type: 'record', name: 'R', fields: [{ name: 'u', type: ['null', 'string', 'long'] }] }), /R\.u: unions/);
  assert.throws(() => lakeColumns({ type: 'record', name: 'R', fields: [{ name: 'kafka_offset', type: 'long' }] }), /reserved/);
});

test('rows survive a ZSTD Parquet round trip with types, nulls and provenance intact', () => {
  const columns = lakeColumns(BILLING);
  const rows = [
    { value: { ...sampleBillingEvent }, partition: 4, offset: 17n },
    { value: { ...sampleBillingEvent, event_id: 'evt-2', event_type: 'CALL', amount: null, currency: null, call_duration_s: 61.5, late_payment: false, payment_method: null }, partition: 4, offset: 9_007_199_254_740_993n },
  ];
  const bytes = encodeParquet(columns, rows);
  const file = join(mkdtempSync(join(tmpdir(), 'pq-')), 'x.parquet');
  writeFileSync(file, bytes);
  const table = readParquetFile(file);
  assert.equal(table.numRows, 2);
  const [a, b] = table.toArray().map((r) => r.toJSON());
  assert.equal(a.event_id, 'evt-88123');
  assert.equal(Number(a.event_time), sampleBillingEvent.event_time);
  assert.equal(a.amount, 39.99);
  assert.equal(a.late_payment, true);
  assert.equal(a.payment_method, 'electronic-check');
  assert.equal(b.event_type, 'CALL');
  assert.equal(b.amount, null);
  assert.equal(b.call_duration_s, 61.5);
  assert.equal(b.kafka_partition, 4);
  assert.equal(b.kafka_offset, 9_007_199_254_740_993n); // int64 beyond 2^53 stays exact
  assert.equal(String(table.schema.fields.find((f) => f.name === 'event_time')!.type), 'Timestamp<MILLISECOND, UTC>');
});
