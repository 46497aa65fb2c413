import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datePartition, lakeFileName, listPartitionFiles, parseLakeFileName, recoverPartition, writeFileAtomically } from './lake-files.ts';

const TOPIC = 'telecom.billing-events.v1';

test('file names carry topic, partition and offset range, and sort in offset order', () => {
  const a = lakeFileName({ topic: TOPIC, partition: 3, firstOffset: 0n, lastOffset: 999n });
  const b = lakeFileName({ topic: TOPIC, partition: 3, firstOffset: 1000n, lastOffset: 12_345_678_901n });
  assert.equal(a, 'telecom.billing-events.v1+3+0000000000000000000+0000000000000000999.zstd.parquet');
  assert.ok(a < b);
  assert.deepEqual(parseLakeFileName(b), { topic: TOPIC, partition: 3, firstOffset: 1000n, lastOffset: 12_345_678_901n });
  assert.equal(parseLakeFileName('part-00000.snappy.parquet'), null);
  assert.equal(datePartition(Date.UTC(2026, 5, 30, 23, 59, 59, 999)), 'event_date=2026-06-30');
  assert.equal(datePartition(Date.UTC(2026, 6, 1)), 'event_date=2026-07-01');
});

function lakeWith(files: { date: string; partition: number; first: bigint; last: bigint; temp?: boolean }[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'lake-'));
  for (const f of files) {
    const d = join(dir, `event_date=${f.date}`);
    mkdirSync(d, { recursive: true });
    const name = lakeFileName({ topic: TOPIC, partition: f.partition, firstOffset: f.first, lastOffset: f.last });
    writeFileSync(join(d, f.temp ? `.${name}.tmp` : name), 'x');
  }
  return dir;
}

test('recovery removes the files of an uncommitted flush and temp files, and keeps committed ones and other partitions', () => {
  const dir = lakeWith([
    { date: '2026-06-01', partition: 0, first: 0n, last: 99n },
    { date: '2026-06-02', partition: 0, first: 0n, last: 99n },
    { date: '2026-06-02', partition: 0, first: 100n, last: 149n }, // written, renamed, never committed
    { date: '2026-06-03', partition: 0, first: 100n, last: 149n },
    { date: '2026-06-03', partition: 0, first: 150n, last: 170n, temp: true }, // killed before the rename
    { date: '2026-06-03', partition: 1, first: 100n, last: 149n }, // another partition: not ours to touch
  ]);
  const report = recoverPartition(dir, TOPIC, 0, 100n);
  assert.equal(report.removedTemps, 1);
  assert.deepEqual(report.removedUncommitted.map((f) => f.firstOffset), [100n, 100n]);
  assert.equal(report.committedFiles, 2);
  const left = listPartitionFiles(dir, TOPIC, 0);
  assert.deepEqual(left.files.map((f) => `${f.dir.slice(dir.length + 1)}/${f.firstOffset}`).sort(), ['event_date=2026-06-01/0', 'event_date=2026-06-02/0']);
  assert.equal(left.temps.length, 0);
  assert.equal(listPartitionFiles(dir, TOPIC, 1).files.length, 1);
});

test('recovery resumes at the earliest offset when nothing was committed, and refuses a resume point inside a file', () => {
  const dir = lakeWith([
    { date: '2026-06-01', partition: 2, first: 0n, last: 99n },
    { date: '2026-06-01', partition: 2, first: 100n, last: 199n },
  ]);
  assert.throws(() => recoverPartition(dir, TOPIC, 2, 50n), /resumes at offset 50, inside .*\+0000000000000000000\+0000000000000000099/);
  // Killed after renaming its first flush, before committing: the group has no offset, reading restarts at 0.
  assert.equal(recoverPartition(dir, TOPIC, 2, 0n).removedUncommitted.length, 2);
  assert.equal(listPartitionFiles(dir, TOPIC, 2).files.length, 0);
  assert.deepEqual(recoverPartition(join(dir, 'missing'), TOPIC, 2, 0n), { removedTemps: 0, removedUncommitted: [], committedFiles: 0 });
});

test('an atomic write leaves only the final file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lake-'));
  await writeFileAtomically(join(dir, 'event_date=2026-06-01'), 'f.parquet', new Uint8Array([1, 2, 3]));
  assert.deepEqual(readdirSync(join(dir, 'event_date=2026-06-01')), ['f.parquet']);
  assert.ok(existsSync(join(dir, 'event_date=2026-06-01', 'f.parquet')));
});
