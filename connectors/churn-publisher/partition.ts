// One day of churn predictions in the lake: `<lake>/telecom/churn_predictions/score_date=D/`, as the
// Spark batch job writes it (part-*.parquet, _SUCCESS, .crc side files). Reads its part files with
// parquet-wasm (Parquet -> Arrow IPC) and apache-arrow, and maps each row to a ChurnPrediction.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataType } from 'apache-arrow';
import type { Table, Vector } from 'apache-arrow';
import { readParquetFile } from '../parquet-sink/lake-reader.ts';
import type { ChurnPrediction } from '../../schemas/generated/types.ts';
import { PublishError } from './errors.ts';

export const PREDICTIONS_TABLE = join('telecom', 'churn_predictions');
/** Written by Spark's committer after the last file of a successful job. */
export const SUCCESS_MARKER = '_SUCCESS';

const DAY_MS = 86_400_000;

export function partitionDir(lakeDir: string, date: string): string {
  return join(lakeDir, PREDICTIONS_TABLE, `score_date=${date}`);
}

/** 'YYYY-MM-DD' (a real calendar day) -> days since 1970-01-01, Avro's `date`. */
export function scoreDateDays(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date) {
    throw new PublishError(`score date ${JSON.stringify(date)} is not a YYYY-MM-DD calendar day`);
  }
  return ms / DAY_MS;
}

/** The partition's Parquet part files, sorted; refuses a partition the batch job has not finished. */
export function listPartFiles(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new PublishError(`no predictions partition at ${dir}`, { hint: 'score that day first: `streamscore churn score --date YYYY-MM-DD`' });
  }
  const names = readdirSync(dir);
  if (!names.includes(SUCCESS_MARKER)) {
    throw new PublishError(`${dir} has no ${SUCCESS_MARKER}: the scoring job did not finish writing it (it failed, or is still running)`, {
      hint: 're-run the scoring for that day; a partition is published only once Spark has committed it',
    });
  }
  // Spark's side files (.part-*.crc, ._SUCCESS.crc) and our _PUBLISHED.json start with '.' or '_'.
  return names.filter((n) => n.startsWith('part-') && n.endsWith('.parquet')).sort().map((n) => join(dir, n));
}

type Kind = 'string' | 'double' | 'timestamp' | 'boolean' | 'string-list';

interface ColumnSpec {
  name: keyof ChurnPrediction;
  kind: Kind;
  /** Value when the files lack the column: the Avro default; undefined = the column is required. */
  absent?: null | boolean;
}

/** Lake columns (docs/sparkscale.md); score_date is the directory, not a column. */
const COLUMNS: readonly ColumnSpec[] = [
  { name: 'user_id', kind: 'string' },
  { name: 'churn_probability', kind: 'double' },
  { name: 'model_name', kind: 'string' },
  { name: 'model_version', kind: 'string' },
  { name: 'scored_at', kind: 'timestamp' },
  { name: 'segment', kind: 'string', absent: null },
  { name: 'high_value', kind: 'boolean', absent: false },
  { name: 'top_reasons', kind: 'string-list', absent: null },
];

function kindMatches(type: DataType, kind: Kind): boolean {
  const isString = (t: DataType) => DataType.isUtf8(t) || DataType.isLargeUtf8(t);
  switch (kind) {
    case 'string': return isString(type);
    case 'double': return DataType.isFloat(type);
    case 'timestamp': return DataType.isTimestamp(type);
    case 'boolean': return DataType.isBool(type);
    case 'string-list': return DataType.isList(type) && isString(type.children[0].type);
  }
}

/** Arrow value -> the Avro value of the column (nulls stay null: validation reports them). */
function toAvro(kind: Kind, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    // Micro/nanosecond timestamps come back as fractional milliseconds.
    case 'timestamp': return Math.floor(value as number);
    case 'string-list': return [...(value as Vector).toArray()];
    default: return value;
  }
}

export interface PartFile {
  file: string;
  rows: ChurnPrediction[];
  /** Columns the file lacks and that took their Avro default. */
  defaulted: string[];
}

/** Reads one part file; throws PublishError naming the file for a missing or mistyped column. */
export function readPartFile(file: string, scoreDate: number): PartFile {
  let table: Table;
  try {
    table = readParquetFile(file);
  } catch (err) {
    throw new PublishError(`${file} is not readable Parquet: ${(err as Error).message ?? err}`, { cause: err });
  }
  const defaulted: string[] = [];
  const columns = COLUMNS.map((spec) => {
    const field = table.schema.fields.find((f) => f.name === spec.name);
    if (field === undefined) {
      if (spec.absent === undefined) throw new PublishError(`${file} has no column ${spec.name}`);
      defaulted.push(spec.name);
      return { spec, vector: null };
    }
    if (!kindMatches(field.type, spec.kind)) throw new PublishError(`${file}: column ${spec.name} is ${field.type}, expected ${spec.kind}`);
    return { spec, vector: table.getChild(spec.name) as Vector };
  });
  const rows: ChurnPrediction[] = new Array(table.numRows);
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, unknown> = { score_date: scoreDate };
    for (const { spec, vector } of columns) row[spec.name] = vector === null ? spec.absent : toAvro(spec.kind, vector.get(i));
    rows[i] = row as unknown as ChurnPrediction;
  }
  return { file, rows, defaulted };
}
