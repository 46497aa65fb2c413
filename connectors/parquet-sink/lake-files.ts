// The lake's file protocol, which is what makes the sink exactly-once:
//   1. a flush writes each file to `.<name>.tmp`, fsyncs it, renames it to its final name (atomic on
//      one filesystem) and fsyncs the directory, so a final name never holds a partial file;
//   2. the final name carries the topic partition and the offset range of the flush that wrote it;
//   3. only after every file of a flush is renamed does the sink commit `last offset + 1` to Kafka.
// On (re)assignment of a partition the sink deletes that partition's temp files and every final file
// whose range starts at or after the committed offset: they belong to a flush whose commit never
// happened, and consuming from the committed offset writes those records again. A file that starts
// below the committed offset was committed. So after a kill -9 at any point no record is lost (not
// committed -> consumed again) and none is duplicated (uncommitted files are removed first).
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tableToIPC } from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { rowsToTable, type LakeColumn, type LakeRow } from './arrow-columns.ts';

/** Offsets are zero-padded so that names sort in offset order. */
const OFFSET_DIGITS = 19;
const PARTITION_DIR_PREFIX = 'event_date=';

export interface LakeFileName {
  topic: string;
  partition: number;
  firstOffset: bigint;
  lastOffset: bigint;
}

export function lakeFileName(f: LakeFileName): string {
  const pad = (o: bigint) => o.toString().padStart(OFFSET_DIGITS, '0');
  return `${f.topic}+${f.partition}+${pad(f.firstOffset)}+${pad(f.lastOffset)}.zstd.parquet`;
}

const NAME = /^(.+)\+(\d+)\+(\d+)\+(\d+)\.zstd\.parquet$/;

export function parseLakeFileName(name: string): LakeFileName | null {
  const m = NAME.exec(name);
  if (!m) return null;
  return { topic: m[1], partition: Number(m[2]), firstOffset: BigInt(m[3]), lastOffset: BigInt(m[4]) };
}

function tempName(finalName: string): string {
  return `.${finalName}.tmp`;
}

/** The only shape a date partition directory may have: Spark reads `event_date` as a date only if every one has it. */
export const DATE_PARTITION_NAME = /^event_date=\d{4}-\d{2}-\d{2}$/;

const two = (n: number) => String(n).padStart(2, '0');

/**
 * `event_date=YYYY-MM-DD` of a UTC epoch-millis time, or null when the time has no such name: not a
 * finite number, beyond the Date range, or outside the years 0001-9999 that a 4-digit year (and
 * Spark's DateType) covers. Never throws, never returns another shape; which times the lake accepts
 * at all is the stricter rule in lake-rules.ts.
 */
export function datePartition(epochMs: number): string | null {
  if (!Number.isFinite(epochMs)) return null;
  const d = new Date(epochMs);
  const year = d.getUTCFullYear(); // NaN beyond the Date range (±8.64e15 ms)
  if (!(year >= 1 && year <= 9999)) return null;
  const name = `${PARTITION_DIR_PREFIX}${String(year).padStart(4, '0')}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
  return DATE_PARTITION_NAME.test(name) ? name : null;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `bytes` durably under `dir/name`: temp file, fsync, atomic rename, fsync of the directory. */
export async function writeFileAtomically(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, tempName(name));
  const fd = openSync(tmp, 'w');
  try {
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, name));
  fsyncDir(dir);
}

/** One ZSTD Parquet file of rows (parquet-rs in WebAssembly: v1 pages, TIMESTAMP(MILLIS, UTC) logical type). */
export function encodeParquet(columns: LakeColumn[], rows: LakeRow[]): Uint8Array {
  const props = new parquet.WriterPropertiesBuilder().setCompression(parquet.Compression.ZSTD).setCreatedBy('streamscore parquet-sink').build();
  return parquet.writeParquet(parquet.Table.fromIPCStream(tableToIPC(rowsToTable(columns, rows), 'stream')), props);
}

/** Writes one flush: a file named `name` in each date partition it has rows for, each atomically. */
export async function writeFlush(datasetDir: string, name: string, columns: LakeColumn[], rowsByDate: Map<string, LakeRow[]>): Promise<{ rows: number; bytes: number; files: number }> {
  let rows = 0;
  let bytes = 0;
  let files = 0;
  const malformed = [...rowsByDate.keys()].filter((d) => !DATE_PARTITION_NAME.test(d));
  // An invariant, not a record check: the sink only buffers rows whose datePartition() was not null.
  if (malformed.length) throw new Error(`refusing to write date partitions ${JSON.stringify(malformed)}: not event_date=YYYY-MM-DD`);
  for (const [date, dateRows] of [...rowsByDate].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const encoded = encodeParquet(columns, dateRows);
    await writeFileAtomically(join(datasetDir, date), name, encoded);
    rows += dateRows.length;
    bytes += encoded.length;
    files += 1;
  }
  return { rows, bytes, files };
}

export interface LakeFile extends LakeFileName {
  dir: string;
  name: string;
}

/** Every final and temp file of one topic partition under a dataset directory. */
export function listPartitionFiles(datasetDir: string, topic: string, partition: number): { files: LakeFile[]; temps: string[] } {
  const files: LakeFile[] = [];
  const temps: string[] = [];
  let dirs: string[];
  try {
    dirs = readdirSync(datasetDir).filter((d) => d.startsWith(PARTITION_DIR_PREFIX));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { files, temps };
    throw err;
  }
  for (const d of dirs) {
    const dir = join(datasetDir, d);
    for (const name of readdirSync(dir)) {
      const isTemp = name.startsWith('.') && name.endsWith('.tmp');
      const parsed = parseLakeFileName(isTemp ? name.slice(1, -'.tmp'.length) : name);
      if (!parsed || parsed.topic !== topic || parsed.partition !== partition) continue;
      if (isTemp) temps.push(join(dir, name));
      else files.push({ ...parsed, dir, name });
    }
  }
  return { files, temps };
}

export interface RecoveryReport {
  removedTemps: number;
  removedUncommitted: LakeFile[];
  committedFiles: number;
}

/**
 * Makes the lake agree with where consumption of one partition resumes: the group's committed offset,
 * or the partition's earliest offset when the group never committed (the sink reads from the
 * beginning). Files at or after that point are removed, because consuming writes them again.
 */
export function recoverPartition(datasetDir: string, topic: string, partition: number, resumeAt: bigint): RecoveryReport {
  const { files, temps } = listPartitionFiles(datasetDir, topic, partition);
  for (const t of temps) rmSync(t, { force: true });
  const straddling = files.find((f) => f.firstOffset < resumeAt && f.lastOffset >= resumeAt);
  if (straddling) {
    // Only an offset reset by hand (or retention deleting part of a file's range) lands inside a
    // committed flush; resuming there would duplicate part of the file.
    throw new Error(
      `consumption of ${topic} partition ${partition} resumes at offset ${resumeAt}, inside ${straddling.name}; ` +
        `reset the group to ${straddling.firstOffset} (rewrite the file) or ${straddling.lastOffset + 1n} (keep it)`,
    );
  }
  const uncommitted = files.filter((f) => f.firstOffset >= resumeAt);
  for (const f of uncommitted) rmSync(join(f.dir, f.name), { force: true });
  const dirs = new Set(uncommitted.map((f) => f.dir));
  for (const d of dirs) fsyncDir(d);
  return { removedTemps: temps.length, removedUncommitted: uncommitted, committedFiles: files.length - uncommitted.length };
}
