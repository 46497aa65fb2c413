// Writes synthetic billing events (connectors/billing) straight into a lake directory in the sink's
// exact file format (same columns, ZSTD Parquet, names by partition and offset range), without Kafka:
// the input of the Spark scaling benchmark, where the sink's own speed is measured separately.
// Partition = a stable hash of the user (as Kafka's keyed partitioning would keep a user on one),
// offsets count per partition.
//   node loadtest/synthetic-lake.ts --out DIR [--users 1000] [--days 120] [--seed 11]
import { join } from 'node:path';
import { TOPICS, loadSchema } from '../schemas/topics.ts';
import { subscriberEvents } from '../connectors/billing/subscriber-simulator.ts';
import { lakeColumns, type LakeRow } from '../connectors/parquet-sink/arrow-columns.ts';
import { LAKE_DATASETS } from '../connectors/parquet-sink/datasets.ts';
import { datePartition, lakeFileName, writeFlush } from '../connectors/parquet-sink/lake-files.ts';

const FLUSH_ROWS = 200_000;

function partitionOf(userId: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < userId.length; i++) h = (Math.imul(h, 31) + userId.charCodeAt(i)) >>> 0;
  return h % partitions;
}

export async function writeSyntheticLake(lakeDir: string, o: { users: number; days: number; seed: number }): Promise<{ events: number; files: number; bytes: number }> {
  const { dataset, topic } = LAKE_DATASETS['billing-events'];
  const datasetDir = join(lakeDir, dataset);
  const columns = lakeColumns(loadSchema(TOPICS.billingEvents.schema));
  const partitions = topic.partitions;
  const buffers = Array.from({ length: partitions }, () => ({ rowsByDate: new Map<string, LakeRow[]>(), rows: 0, first: 0n, next: 0n }));
  const totals = { events: 0, files: 0, bytes: 0 };
  const flush = async (p: number) => {
    const b = buffers[p];
    if (!b.rows) return;
    const written = await writeFlush(datasetDir, lakeFileName({ topic: topic.name, partition: p, firstOffset: b.first, lastOffset: b.next - 1n }), columns, b.rowsByDate);
    totals.files += written.files;
    totals.bytes += written.bytes;
    b.rowsByDate = new Map();
    b.rows = 0;
    b.first = b.next;
  };
  for (const event of subscriberEvents({ users: o.users, days: o.days, seed: o.seed })) {
    const p = partitionOf(event.user_id, partitions);
    const b = buffers[p];
    const date = datePartition(event.event_time);
    if (date === null) throw new Error(`event_time ${event.event_time} has no event_date partition`);
    const row: LakeRow = { value: event as unknown as Record<string, unknown>, partition: p, offset: b.next++ };
    const list = b.rowsByDate.get(date);
    if (list) list.push(row);
    else b.rowsByDate.set(date, [row]);
    b.rows += 1;
    totals.events += 1;
    if (b.rows >= FLUSH_ROWS) await flush(p);
  }
  for (let p = 0; p < partitions; p++) await flush(p);
  return totals;
}

if (import.meta.main) {
  const arg = (name: string, fallback?: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : fallback;
  };
  const out = arg('out');
  if (!out) {
    process.stderr.write('usage: node loadtest/synthetic-lake.ts --out DIR [--users 1000] [--days 120] [--seed 11]\n');
    process.exit(2);
  }
  const started = performance.now();
  const totals = await writeSyntheticLake(out, { users: Number(arg('users', '1000')), days: Number(arg('days', '120')), seed: Number(arg('seed', '11')) });
  process.stdout.write(`${JSON.stringify({ ...totals, seconds: Number(((performance.now() - started) / 1000).toFixed(1)), lake: out })}\n`);
}
