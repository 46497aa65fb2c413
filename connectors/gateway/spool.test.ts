import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { Spool, encodeRecord, type SpoolLog, type SpoolOptions, type SpoolRecord } from './spool.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'spool-test-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function rec(i: number): SpoolRecord {
  return { key: `arm-${String(i % 7).padStart(3, '0')}`, value: Buffer.from(`reading-${i}-${'x'.repeat(i % 13)}`), timestamp: 1_700_000_000_000 + i };
}
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => rec(from + i));

/** Drains everything (commits as it goes) and returns the records' indices. */
function drain(spool: Spool, batch = 10): number[] {
  const out: number[] = [];
  for (;;) {
    const { records, end } = spool.read(batch);
    if (records.length === 0) return out;
    for (const r of records) out.push(r.timestamp - 1_700_000_000_000);
    spool.commit(end);
  }
}

function capture(): SpoolLog & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (_f, m) => lines.push(`info ${m}`), warn: (_f, m) => lines.push(`warn ${m}`), error: (_f, m) => lines.push(`error ${m}`) };
}

const small = (dir: string, extra: Partial<SpoolOptions> = {}): SpoolOptions => ({ dir, segmentBytes: 1024, maxBytes: 64 * 1024, fsync: 'never', ...extra });

describe('spool', () => {
  it('drains in append order across segments and deletes consumed segments', async () => {
    const spool = new Spool(small(tempDir()));
    await spool.append(range(0, 100));
    await spool.append(range(100, 250));
    assert.equal(spool.pending, 250);
    assert.ok(readdirSync(spool.dir).filter((f) => f.endsWith('.seg')).length > 5);
    const first = spool.read(7);
    assert.deepEqual(first.records, range(0, 7));
    assert.deepEqual(spool.read(7).records, range(0, 7), 'read without commit re-reads the same records');
    spool.commit(first.end);
    assert.deepEqual(drain(spool), Array.from({ length: 243 }, (_, i) => i + 7));
    assert.equal(spool.pending, 0);
    assert.ok(spool.isEmpty);
    assert.ok(readdirSync(spool.dir).filter((f) => f.endsWith('.seg')).length <= 1);
    await spool.append(range(250, 260));
    assert.deepEqual(drain(spool), Array.from({ length: 10 }, (_, i) => i + 250));
    spool.close();
  });

  it('survives a restart: unacknowledged records are drained after reopening, acknowledged ones are not', async () => {
    const dir = tempDir();
    const a = new Spool(small(dir));
    await a.append(range(0, 120));
    let consumed = 0;
    while (consumed < 50) {
      const { records, end } = a.read(50 - consumed); // a read stays within one segment
      consumed += records.length;
      a.commit(end);
    }
    a.close();
    const b = new Spool(small(dir));
    assert.equal(b.pending, 70);
    assert.deepEqual(drain(b), Array.from({ length: 70 }, (_, i) => i + 50));
    await b.append(range(120, 125));
    b.close();
    const c = new Spool(small(dir));
    assert.deepEqual(drain(c), [120, 121, 122, 123, 124]);
    c.close();
  });

  it("policy 'block': append waits while full and continues when a drain frees space", async () => {
    const spool = new Spool(small(tempDir(), { segmentBytes: 1024, maxBytes: 4096 }));
    let done = false;
    const appending = spool.append(range(0, 400)).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(done, false, 'append must block when the spool is full');
    assert.ok(spool.bytes <= 4096);
    const drained: number[] = [];
    while (!done || !spool.isEmpty) {
      drained.push(...drain(spool, 5));
      await new Promise((r) => setImmediate(r));
    }
    await appending;
    assert.deepEqual(drained, Array.from({ length: 400 }, (_, i) => i));
    assert.equal(spool.stats.dropped, 0);
    spool.close();
  });

  it("policy 'drop-oldest': keeps the newest records in order, counts and logs every dropped segment", async () => {
    const log = capture();
    const spool = new Spool(small(tempDir(), { segmentBytes: 1024, maxBytes: 4096, policy: 'drop-oldest', log }));
    await spool.append(range(0, 400));
    assert.ok(spool.bytes <= 4096);
    assert.ok(spool.stats.dropped > 0);
    assert.equal(spool.stats.dropped + spool.pending, 400);
    assert.equal(log.lines.filter((l) => l.startsWith('warn spool full (policy drop-oldest)')).length, spool.stats.droppedSegments);
    const left = drain(spool);
    assert.deepEqual(left, Array.from({ length: left.length }, (_, i) => 400 - left.length + i), 'the newest records, in order');
    spool.close();
  });

  it('drop-oldest while a batch is in flight: the batch may still be acknowledged, nothing is counted twice', async () => {
    const spool = new Spool(small(tempDir(), { segmentBytes: 1024, maxBytes: 4096, policy: 'drop-oldest' }));
    await spool.append(range(0, 20));
    const inFlight = spool.read(5);
    await spool.append(range(20, 400)); // drops the segment the batch came from
    spool.commit(inFlight.end); // late ack of an already-dropped segment: ignored
    const left = drain(spool);
    assert.equal(5 + spool.stats.dropped + left.length, 400);
    spool.close();
  });

  it('a torn final record (crash mid-write) is detected and truncated on open, and the spool keeps working', async () => {
    const dir = tempDir();
    const a = new Spool(small(dir, { segmentBytes: 64 * 1024, maxBytes: 1024 * 1024 }));
    await a.append(range(0, 30));
    a.close();
    const seg = join(dir, readdirSync(dir).find((f) => f.endsWith('.seg'))!);
    const good = statSync(seg).size;
    appendFileSync(seg, encodeRecord(rec(30)).subarray(0, 11)); // half a record
    const log = capture();
    const b = new Spool(small(dir, { segmentBytes: 64 * 1024, maxBytes: 1024 * 1024, log }));
    assert.equal(b.pending, 30);
    assert.equal(statSync(seg).size, good);
    assert.equal(b.stats.truncatedBytes, 11);
    assert.ok(log.lines.some((l) => /torn or corrupt tail/.test(l)));
    await b.append(range(31, 35));
    assert.deepEqual(drain(b), [...Array.from({ length: 30 }, (_, i) => i), 31, 32, 33, 34]);
    b.close();
  });

  it('a corrupt final record (bad crc) is truncated; an unreadable position file falls back to the oldest record', async () => {
    const dir = tempDir();
    const a = new Spool(small(dir, { segmentBytes: 64 * 1024, maxBytes: 1024 * 1024 }));
    await a.append(range(0, 10));
    a.close();
    const seg = join(dir, readdirSync(dir).find((f) => f.endsWith('.seg'))!);
    const bytes = readFileSync(seg);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(seg, bytes);
    writeFileSync(join(dir, 'position.json'), '{"segm');
    const b = new Spool(small(dir, { segmentBytes: 64 * 1024, maxBytes: 1024 * 1024 }));
    assert.deepEqual(drain(b), Array.from({ length: 9 }, (_, i) => i));
    b.close();
  });

  it('a segment without even a header is reset, not a crash loop', () => {
    const dir = tempDir();
    writeFileSync(join(dir, '00000000000000000001.seg'), Buffer.from('SS'));
    const spool = new Spool(small(dir));
    assert.equal(spool.pending, 0);
    spool.close();
    const again = new Spool(small(dir));
    assert.equal(again.pending, 0);
    again.close();
  });
});
