// BillingEvents straight into the lake's billing-events dataset, without Kafka: for a table turned
// into events in one go (`streamscore churn train --table`). Rows pass the same lake rules as the
// Parquet sink's (time range, finite numbers, ids, currency) and are written with its file writer
// (writeFlush: atomic files in event_date=... partitions, the columns of the Avro schema), so Spark
// reads them exactly like the sink's. Provenance is synthetic but unique: the file names carry the
// topic `table.<source>` (the sink's recovery, which filters by its own topic, never touches them),
// kafka_partition is a bucket hashed from the source name outside the topic's partition range, and
// kafka_offset counts the rows. Writing the same source again first removes its earlier files, so
// a re-run replaces the table instead of adding it twice.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BillingEvent } from '../../schemas/generated/types.ts';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import { lakeColumns, type LakeColumn, type LakeRow } from '../parquet-sink/arrow-columns.ts';
import { LAKE_DATASETS } from '../parquet-sink/datasets.ts';
import { datePartition, lakeFileName, listPartitionFiles, writeFlush } from '../parquet-sink/lake-files.ts';
import { billingEventRules, checkRecord, finiteNumbersRule, floatingFields, timeRangeRule, type LakeRule } from '../parquet-sink/lake-rules.ts';

/** Rows held before a file per date is written: ~1 KB each in memory (record-decoder.ts). */
const ROWS_PER_FLUSH = 200_000;
/** Synthetic partitions start here, far above any partition count the billing topic has. */
const SYNTHETIC_PARTITION_BASE = 100_000;

/** The lake's rules for a billing event, as the Parquet sink applies them (now = the writing time). */
export function billingLakeRules(): LakeRule[] {
  const schema = loadSchema(TOPICS.billingEvents.schema);
  return [timeRangeRule(LAKE_DATASETS['billing-events'].timeField), finiteNumbersRule(floatingFields(schema)), ...billingEventRules];
}

/** What is wrong with an event for the lake, or null. */
export function lakeProblem(rules: LakeRule[], e: BillingEvent, now = Date.now()): string | null {
  return checkRecord(rules, e as unknown as Record<string, unknown>, { recordTimestamp: now, now });
}

/** The synthetic partition of a source: FNV-1a of its name in a bucket of 2^20 above the base. */
export function syntheticPartition(source: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < source.length; i++) h = Math.imul(h ^ source.charCodeAt(i), 0x01000193);
  return SYNTHETIC_PARTITION_BASE + ((h >>> 0) % 2 ** 20);
}

export class LakeBillingSink {
  readonly datasetDir: string;
  readonly topic: string;
  readonly partition: number;
  private readonly columns: LakeColumn[] = lakeColumns(loadSchema(TOPICS.billingEvents.schema));
  private readonly rules = billingLakeRules();
  private pending = new Map<string, LakeRow[]>();
  private pendingRows = 0;
  private firstPending = 0n;
  private next = 0n;
  rows = 0;
  files = 0;

  private constructor(lakeDir: string, source: string) {
    this.datasetDir = join(lakeDir, LAKE_DATASETS['billing-events'].dataset);
    this.topic = `table.${source}`;
    this.partition = syntheticPartition(source);
  }

  /** Opens the sink for `source` (a name like the mapping's), removing what an earlier run of it wrote. */
  static async open(lakeDir: string, source: string): Promise<LakeBillingSink> {
    const sink = new LakeBillingSink(lakeDir, source);
    const { files, temps } = listPartitionFiles(sink.datasetDir, sink.topic, sink.partition);
    for (const f of [...files.map((x) => join(x.dir, x.name)), ...temps]) rmSync(f, { force: true });
    return sink;
  }

  async write(batch: BillingEvent[]): Promise<void> {
    const now = Date.now();
    for (const e of batch) {
      const problem = lakeProblem(this.rules, e, now);
      // Callers check their events first (the table command rejects the row): here it is a bug.
      if (problem) throw new Error(`billing event ${e.event_id} breaks a lake rule: ${problem}`);
      const date = datePartition(e.event_time)!;
      const rows = this.pending.get(date) ?? this.pending.set(date, []).get(date)!;
      rows.push({ value: e as unknown as Record<string, unknown>, partition: this.partition, offset: this.next++ });
      if (++this.pendingRows >= ROWS_PER_FLUSH) await this.flush();
    }
  }

  private async flush(): Promise<void> {
    if (this.pendingRows === 0) return;
    const name = lakeFileName({ topic: this.topic, partition: this.partition, firstOffset: this.firstPending, lastOffset: this.next - 1n });
    const written = await writeFlush(this.datasetDir, name, this.columns, this.pending);
    this.rows += written.rows;
    this.files += written.files;
    this.pending = new Map();
    this.pendingRows = 0;
    this.firstPending = this.next;
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
