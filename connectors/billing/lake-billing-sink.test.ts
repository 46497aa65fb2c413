import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { datasetFiles, readParquetFile } from '../parquet-sink/lake-reader.ts';
import { parseLakeFileName } from '../parquet-sink/lake-files.ts';
import { billingEvent } from './billing-events.ts';
import { LakeBillingSink, syntheticPartition } from './lake-billing-sink.ts';

const DAY_MS = 86_400_000;
const T0 = Date.UTC(2026, 5, 29, 10);

function events(n: number) {
  return Array.from({ length: n }, (_, i) => ({ ...billingEvent(`e-${i}`, `u-${i % 3}`, T0 + (i % 2) * DAY_MS, i % 2 ? 'CALL' : 'ACCOUNT_OPENED'), call_duration_s: i % 2 ? 60 : null }));
}

function readBack(lake: string) {
  const files = datasetFiles(join(lake, 'telecom', 'billing_events'));
  return files.flatMap((f) => readParquetFile(f.path).toArray().map((r) => ({ partition: f.partition, name: f.path, row: r.toJSON() as Record<string, unknown> })));
}

test('events land in date partitions with the sink columns and unique synthetic provenance; a re-run replaces them', async () => {
  const lake = mkdtempSync(join(tmpdir(), 'lake-sink-'));
  const sink = await LakeBillingSink.open(lake, 'bigml-orange');
  await sink.write(events(5));
  await sink.close();
  const rows = readBack(lake);
  assert.equal(rows.length, 5);
  assert.deepEqual([...new Set(rows.map((r) => r.partition))].sort(), ['event_date=2026-06-29', 'event_date=2026-06-30']);
  assert.ok(rows.every((r) => r.row.kafka_partition === syntheticPartition('bigml-orange') && r.row.kafka_partition >= 100_000));
  assert.deepEqual(rows.map((r) => Number(r.row.kafka_offset)).sort(), [0, 1, 2, 3, 4]);
  assert.ok(rows.every((r) => parseLakeFileName(r.name.split('/').at(-1)!)?.topic === 'table.bigml-orange'));
  const opened = rows.find((r) => r.row.event_id === 'e-0')!.row;
  assert.equal(opened.event_type, 'ACCOUNT_OPENED');
  assert.equal(opened.call_duration_s, null);

  const again = await LakeBillingSink.open(lake, 'bigml-orange');
  await again.write(events(3));
  await again.close();
  assert.equal(readBack(lake).length, 3, 'the earlier run of the same source was removed, not added to');
  const other = await LakeBillingSink.open(lake, 'ibm-telco');
  await other.write(events(2));
  await other.close();
  assert.equal(readBack(lake).length, 5, 'another source keeps its own files');
});

test('an event the lake refuses is an error, not a silent drop', async () => {
  const sink = await LakeBillingSink.open(mkdtempSync(join(tmpdir(), 'lake-sink-')), 't');
  await assert.rejects(sink.write([billingEvent('old', 'u', Date.UTC(1999, 0, 1), 'BILL')]), /billing event old breaks a lake rule: event_time .* outside the lake's accepted range/);
});
