import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Bool, Field, Float64, List, Table as ArrowTable, TimestampMicrosecond, TimestampMillisecond, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import type { DataType, Vector } from 'apache-arrow';
import { Table as WasmTable, writeParquet } from 'parquet-wasm';
import { PublishError } from './errors.ts';
import { defaultLakeDir } from '../parquet-sink/datasets.ts';
import { listPartFiles, partitionDir, readPartFile, scoreDateDays } from './partition.ts';

const scratch = mkdtempSync(join(tmpdir(), 'streamscore-partition-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A Parquet file from columns, through the same Arrow IPC path the reader uses (parquet-wasm). */
function parquetFile(name: string, columns: Record<string, Vector>): string {
  const ipc = tableToIPC(new ArrowTable(columns), 'stream');
  const path = join(scratch, name);
  writeFileSync(path, writeParquet(WasmTable.fromIPCStream(ipc)));
  return path;
}

const vec = <T extends DataType>(type: T, values: unknown[]) => vectorFromArray(values, type) as Vector;
const reasons = (values: (string[] | null)[]) => vec(new List(new Field('element', new Utf8(), true)), values);

const SCORED_AT = Date.UTC(2025, 2, 2, 1, 15, 30, 123);

describe('score dates and paths', () => {
  it('turns a calendar day into days since the epoch', () => {
    assert.equal(scoreDateDays('1970-01-01'), 0);
    assert.equal(scoreDateDays('2025-03-01'), 20148);
    assert.equal(scoreDateDays('2024-02-29'), 19782);
  });

  it('refuses anything that is not a real YYYY-MM-DD day', () => {
    for (const bad of ['2025-02-29', '2025-13-01', '2025-3-1', '20250301', '2025-03-01T00:00:00Z', '']) {
      assert.throws(() => scoreDateDays(bad), PublishError, bad);
    }
  });

  it('finds the partition under the lake root (STREAMSCORE_LAKE_DIR, default <repo>/.data/lake)', () => {
    assert.equal(defaultLakeDir({}, '/repo'), '/repo/.data/lake');
    assert.equal(defaultLakeDir({ STREAMSCORE_LAKE_DIR: '/mnt/lake' }, '/repo'), '/mnt/lake');
    assert.equal(partitionDir('/mnt/lake', '2025-03-01'), '/mnt/lake/telecom/churn_predictions/score_date=2025-03-01');
  });
});

describe('partition files', () => {
  it('lists only part files, sorted, once Spark wrote _SUCCESS', () => {
    const dir = join(scratch, 'done');
    mkdirSync(dir);
    for (const n of ['part-00001-x.snappy.parquet', 'part-00000-x.snappy.parquet', '.part-00000-x.snappy.parquet.crc', '_SUCCESS', '._SUCCESS.crc', '_PUBLISHED.json']) writeFileSync(join(dir, n), '');
    assert.deepEqual(listPartFiles(dir), [join(dir, 'part-00000-x.snappy.parquet'), join(dir, 'part-00001-x.snappy.parquet')]);
  });

  it('refuses a missing partition and one without _SUCCESS', () => {
    assert.throws(() => listPartFiles(join(scratch, 'nope')), /no predictions partition at/);
    const dir = join(scratch, 'unfinished');
    mkdirSync(dir);
    writeFileSync(join(dir, 'part-00000-x.snappy.parquet'), '');
    assert.throws(() => listPartFiles(dir), (err: unknown) => err instanceof PublishError && /has no _SUCCESS/.test(err.message) && /re-run the scoring/.test(err.hint ?? ''));
  });
});

describe('reading a part file', () => {
  it('maps rows to ChurnPrediction, nulls kept, timestamps as epoch ms', () => {
    const file = parquetFile('full.parquet', {
      user_id: vec(new Utf8(), ['u-1', 'u-2']),
      churn_probability: vec(new Float64(), [0.25, 0.5]),
      model_name: vec(new Utf8(), ['gbt', 'gbt']),
      model_version: vec(new Utf8(), ['1', '1']),
      scored_at: vec(new TimestampMillisecond('UTC'), [SCORED_AT, SCORED_AT + 1]),
      segment: vec(new Utf8(), ['consumer', null]),
      high_value: vec(new Bool(), [true, false]),
      top_reasons: reasons([['a', 'b'], null]),
      extra_feature: vec(new Float64(), [1, 2]),
    });
    const part = readPartFile(file, 20148);
    assert.deepEqual(part.defaulted, []);
    assert.deepEqual(part.rows, [
      { user_id: 'u-1', score_date: 20148, churn_probability: 0.25, model_name: 'gbt', model_version: '1', scored_at: SCORED_AT, segment: 'consumer', high_value: true, top_reasons: ['a', 'b'] },
      { user_id: 'u-2', score_date: 20148, churn_probability: 0.5, model_name: 'gbt', model_version: '1', scored_at: SCORED_AT + 1, segment: null, high_value: false, top_reasons: null },
    ]);
  });

  it('gives absent optional columns their Avro defaults and truncates microsecond timestamps to ms', () => {
    const file = parquetFile('minimal.parquet', {
      user_id: vec(new Utf8(), ['u-1']),
      churn_probability: vec(new Float64(), [0.25]),
      model_name: vec(new Utf8(), ['gbt']),
      model_version: vec(new Utf8(), ['1']),
      scored_at: vec(new TimestampMicrosecond('UTC'), [SCORED_AT + 0.999]),
    });
    const part = readPartFile(file, 1);
    assert.deepEqual(part.defaulted, ['segment', 'high_value', 'top_reasons']);
    assert.deepEqual(part.rows[0], { user_id: 'u-1', score_date: 1, churn_probability: 0.25, model_name: 'gbt', model_version: '1', scored_at: SCORED_AT, segment: null, high_value: false, top_reasons: null });
  });

  it('names the file and column when a required column is missing or mistyped', () => {
    const missing = parquetFile('missing.parquet', { user_id: vec(new Utf8(), ['u-1']) });
    assert.throws(() => readPartFile(missing, 1), /missing\.parquet has no column churn_probability/);
    const mistyped = parquetFile('mistyped.parquet', {
      user_id: vec(new Utf8(), ['u-1']),
      churn_probability: vec(new Float64(), [0.25]),
      model_name: vec(new Utf8(), ['gbt']),
      model_version: vec(new Utf8(), ['1']),
      scored_at: vec(new Utf8(), ['2025-03-02T01:15:30Z']),
    });
    assert.throws(() => readPartFile(mistyped, 1), /mistyped\.parquet: column scored_at is Utf8, expected timestamp/);
    const garbage = join(scratch, 'garbage.parquet');
    writeFileSync(garbage, 'not parquet');
    assert.throws(() => readPartFile(garbage, 1), /garbage\.parquet is not readable Parquet/);
  });
});
