// Store-and-forward spool: a bounded, append-only on-disk queue of encoded Kafka records, used while
// the broker is unreachable and drained in order when it returns. Format (docs/gateway.md):
//
//   <dir>/<20-digit id>.seg   segment: 8-byte header 'SSPL' + u32 version, then records
//                             [u32 payload length][u32 crc32(payload)][payload]
//                             payload = [u16 key length][key utf8][f64 timestamp][value bytes]
//   <dir>/position.json       {segment, offset, index}: the first record not yet acknowledged
//
// Appends go to the last segment (rolled at `segmentBytes`); `read` hands out records from the
// committed position, `commit` moves it forward after the broker acknowledged them and deletes
// segments that are fully consumed. On open, every segment is scanned: a torn or corrupt record
// (a crash mid-write) and everything after it in that segment is truncated, logged, and counted.
// fsync: 'interval' (default) syncs the active segment every `fsyncIntervalMs` and on roll/close;
// 'always' after every append and position write; 'never' leaves it to the OS.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { HEADER_BYTES, RECORD_HEADER_BYTES, decodeRecords, encodeRecord, scanSegment, segmentHeader, type SpoolRecord } from './spool-format.ts';

export type { SpoolRecord };
export { encodeRecord };

export interface Position {
  segment: number;
  offset: number;
  /** Index of the record within its segment. */
  index: number;
}

export type FullPolicy = 'block' | 'drop-oldest';
export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface SpoolOptions {
  dir: string;
  maxBytes?: number;
  segmentBytes?: number;
  policy?: FullPolicy;
  fsync?: FsyncPolicy;
  fsyncIntervalMs?: number;
  log?: SpoolLog;
}

export interface SpoolLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

interface Segment {
  id: number;
  path: string;
  bytes: number;
  count: number;
}

const READ_CHUNK_BYTES = 4 * 1024 * 1024;
const POSITION_FILE = 'position.json';

export const SPOOL_DEFAULTS = { maxBytes: 1024 ** 3, segmentBytes: 16 * 1024 ** 2, policy: 'block', fsync: 'interval', fsyncIntervalMs: 1000 } as const;

const silent: SpoolLog = { info() {}, warn() {}, error() {} };

export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  readonly policy: FullPolicy;
  readonly fsync: FsyncPolicy;
  /** Records appended, dropped (full, drop-oldest) and lost to corruption since open. */
  readonly stats = { appended: 0, dropped: 0, droppedSegments: 0, corrupt: 0, truncatedBytes: 0 };
  private readonly log: SpoolLog;
  private segments: Segment[] = [];
  /** Sums over `segments`, kept up to date so the hot path never loops over segments. */
  private totalBytes = 0;
  private totalCount = 0;
  private committed: Position;
  /** End of the records handed out by `read` and not yet committed (the drainer's batch in flight). */
  private readEnd: Position | null = null;
  private fd: number | null = null;
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private spaceWaiters: (() => void)[] = [];
  private closed = false;

  constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes ?? SPOOL_DEFAULTS.maxBytes;
    this.segmentBytes = options.segmentBytes ?? Math.min(SPOOL_DEFAULTS.segmentBytes, Math.floor(this.maxBytes / 4));
    this.policy = options.policy ?? SPOOL_DEFAULTS.policy;
    this.fsync = options.fsync ?? SPOOL_DEFAULTS.fsync;
    this.log = options.log ?? silent;
    if (this.segmentBytes < 1024 || this.maxBytes < 2 * this.segmentBytes) {
      throw new Error(`spool: segmentBytes (${this.segmentBytes}) must be >= 1 KiB and maxBytes (${this.maxBytes}) at least 2 segments`);
    }
    mkdirSync(this.dir, { recursive: true });
    this.committed = this.recover();
    if (this.fsync === 'interval') {
      this.timer = setInterval(() => this.sync(), options.fsyncIntervalMs ?? SPOOL_DEFAULTS.fsyncIntervalMs);
      this.timer.unref();
    }
  }

  /** Bytes the spool holds on disk. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Records appended and not yet acknowledged (committed). */
  get pending(): number {
    return this.totalCount - (this.segments.length ? this.committed.index : 0);
  }

  get isEmpty(): boolean {
    return this.pending === 0;
  }

  /**
   * Appends in order and returns the position after the last one (what `commit` takes once they are
   * acknowledged). Full: 'block' waits for `commit` to free space; 'drop-oldest' deletes the oldest segments.
   */
  async append(records: SpoolRecord[]): Promise<Position> {
    if (this.closed) throw new Error('spool is closed');
    // Encoded records are gathered and written with one write per segment touched.
    let chunks: Buffer[] = [];
    let chunkBytes = 0;
    const flush = () => {
      if (chunks.length === 0) return;
      const active = this.segments[this.segments.length - 1];
      writeSync(this.fd!, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, chunkBytes));
      active.bytes += chunkBytes;
      active.count += chunks.length;
      this.totalBytes += chunkBytes;
      this.totalCount += chunks.length;
      this.stats.appended += chunks.length;
      this.dirty = true;
      chunks = [];
      chunkBytes = 0;
    };
    for (const r of records) {
      const encoded = encodeRecord(r);
      if (encoded.length > this.segmentBytes - HEADER_BYTES) throw new Error(`spool: a record of ${encoded.length} bytes is larger than a segment`);
      if (this.totalBytes + chunkBytes + encoded.length > this.maxBytes) {
        flush();
        while (this.totalBytes + encoded.length > this.maxBytes) {
          if (this.policy === 'block') await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
          else this.dropOldest();
          if (this.closed) throw new Error('spool is closed');
        }
      }
      const active = this.segments[this.segments.length - 1];
      if (!active || active.bytes + chunkBytes + encoded.length > this.segmentBytes) {
        flush();
        this.roll();
      }
      chunks.push(encoded);
      chunkBytes += encoded.length;
    }
    flush();
    if (this.fsync === 'always') this.sync();
    const last = this.segments[this.segments.length - 1];
    return last ? { segment: last.id, offset: last.bytes, index: last.count } : { ...this.committed };
  }

  /** Records up to `end` are in a send in flight (kept in memory by the sender): not counted as dropped. */
  holding(end: Position): void {
    if (!this.readEnd || comparePositions(end, this.readEnd) > 0) this.readEnd = { ...end };
  }

  /** Up to `max` records from the committed position (within one segment), and where they end. */
  read(max: number): { records: SpoolRecord[]; end: Position } {
    for (;;) {
      const seg = this.segments.find((s) => s.id === this.committed.segment);
      if (!seg) return { records: [], end: this.committed };
      if (this.committed.offset >= seg.bytes) {
        if (seg === this.segments[this.segments.length - 1]) return { records: [], end: this.committed };
        this.advancePast(seg);
        continue;
      }
      const records: SpoolRecord[] = [];
      const pos = { ...this.committed };
      const fd = openSync(seg.path, 'r');
      try {
        const remaining = seg.bytes - pos.offset;
        let buf = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, remaining));
        let got = readSync(fd, buf, 0, buf.length, pos.offset);
        const first = got >= RECORD_HEADER_BYTES ? RECORD_HEADER_BYTES + buf.readUInt32BE(0) : 0;
        if (first > got && first <= remaining) {
          buf = Buffer.allocUnsafe(first); // one record larger than a read chunk
          got = readSync(fd, buf, 0, first, pos.offset);
        }
        const parsed = decodeRecords(buf, got, max);
        if (parsed.records.length === 0) throw new Error(`record at ${seg.path}:${pos.offset} claims ${buf.readUInt32BE(0)} bytes`);
        records.push(...parsed.records);
        pos.offset += parsed.bytes;
        pos.index += parsed.records.length;
      } catch (err) {
        // Bit rot inside a segment that passed the scan at open: skip the rest of it, loudly.
        const lost = seg.count - this.committed.index;
        this.stats.corrupt += lost;
        this.log.error({ segment: seg.path, lost, err: (err as Error).message }, 'spool segment unreadable; skipping the rest of it');
        this.totalCount -= seg.count - this.committed.index;
        this.totalBytes -= seg.bytes - this.committed.offset;
        seg.count = this.committed.index;
        seg.bytes = this.committed.offset;
        if (seg === this.segments[this.segments.length - 1]) this.roll();
        continue;
      } finally {
        closeSync(fd);
      }
      this.holding(pos);
      return { records, end: pos };
    }
  }

  /** Everything before `end` was acknowledged: move the committed position, free consumed segments. */
  commit(end: Position): void {
    if (comparePositions(end, this.committed) <= 0) return; // already passed (e.g. its segment was dropped)
    this.committed = { ...end };
    if (this.readEnd && comparePositions(this.readEnd, end) <= 0) this.readEnd = null;
    // A batch kept in memory across a segment roll ends in a later segment: the earlier ones are consumed.
    const consumed: Segment[] = [];
    while (this.segments.length > 1 && this.segments[0].id < end.segment) {
      const old = this.segments.shift()!;
      this.totalBytes -= old.bytes;
      this.totalCount -= old.count;
      consumed.push(old);
    }
    const seg = this.segments.find((s) => s.id === end.segment);
    if (seg && end.offset >= seg.bytes && seg !== this.segments[this.segments.length - 1]) this.advancePast(seg);
    else this.writePosition();
    // Files go after the position is written: a crash in between leaves files that open deletes.
    for (const old of consumed) rmSync(old.path, { force: true });
    if (consumed.length) for (const wake of this.spaceWaiters.splice(0)) wake();
  }

  /** Flushes the active segment to disk. */
  sync(): void {
    if (this.fd !== null && this.dirty) {
      fsyncSync(this.fd);
      this.dirty = false;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.fsync !== 'never') this.sync();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.writePosition();
    for (const wake of this.spaceWaiters.splice(0)) wake();
  }

  private segmentPath(id: number): string {
    return join(this.dir, `${String(id).padStart(20, '0')}.seg`);
  }

  private roll(): Segment {
    const last = this.segments[this.segments.length - 1];
    if (this.fd !== null) {
      if (this.fsync !== 'never') fsyncSync(this.fd);
      closeSync(this.fd);
      this.dirty = false;
    }
    const id = last ? last.id + 1 : this.committed?.segment ?? 1;
    const seg: Segment = { id, path: this.segmentPath(id), bytes: HEADER_BYTES, count: 0 };
    this.fd = openSync(seg.path, 'w');
    writeSync(this.fd, segmentHeader());
    this.segments.push(seg);
    this.totalBytes += HEADER_BYTES;
    if (this.segments.length === 1) this.committed = { segment: id, offset: HEADER_BYTES, index: 0 };
    return seg;
  }

  /** Drops the segment the committed position is in and moves to the next one. */
  private advancePast(seg: Segment): void {
    const i = this.segments.indexOf(seg);
    const next = this.segments[i + 1];
    this.committed = next ? { segment: next.id, offset: HEADER_BYTES, index: 0 } : { segment: seg.id + 1, offset: HEADER_BYTES, index: 0 };
    this.writePosition(); // position first: a crash between the two leaves a consumed file that open deletes
    if (i === this.segments.length - 1 && this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
    this.segments.splice(i, 1);
    this.totalBytes -= seg.bytes;
    this.totalCount -= seg.count;
    rmSync(seg.path, { force: true });
    for (const wake of this.spaceWaiters.splice(0)) wake();
  }

  private dropOldest(): void {
    const oldest = this.segments[0];
    if (!oldest || this.segments.length === 1) {
      if (oldest && oldest.count > 0) this.roll();
      else throw new Error('spool: nothing to drop but still full');
    }
    const seg = this.segments[0];
    const handedOut = !this.readEnd || this.readEnd.segment < seg.id ? 0 : this.readEnd.segment === seg.id ? this.readEnd.index : seg.count;
    const before = seg.id === this.committed.segment ? Math.max(this.committed.index, handedOut) : 0;
    const lost = seg.count - before;
    this.stats.dropped += lost;
    this.stats.droppedSegments++;
    this.log.warn({ segment: seg.path, records: lost, bytes: seg.bytes }, 'spool full (policy drop-oldest): dropped its oldest segment');
    if (this.committed.segment !== seg.id) this.committed = { segment: seg.id, offset: seg.bytes, index: seg.count };
    this.advancePast(seg);
  }

  private writePosition(): void {
    const path = join(this.dir, POSITION_FILE);
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w');
    writeSync(fd, `${JSON.stringify(this.committed)}\n`);
    if (this.fsync === 'always') fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  }

  /** Scans the segments on disk, truncates torn tails, deletes consumed segments; returns the committed position. */
  private recover(): Position {
    const ids = readdirSync(this.dir).filter((f) => /^\d{20}\.seg$/.test(f)).map((f) => Number(f.slice(0, 20))).sort((a, b) => a - b);
    let position: Position | null = null;
    try {
      const p = JSON.parse(readFileSync(join(this.dir, POSITION_FILE), 'utf8')) as Position;
      if ([p.segment, p.offset, p.index].every(Number.isInteger)) position = p;
    } catch {
      if (existsSync(join(this.dir, POSITION_FILE))) this.log.warn({ dir: this.dir }, 'spool position file unreadable; draining from the oldest segment (records may be sent twice)');
    }
    for (const id of ids) {
      const path = this.segmentPath(id);
      if (position && id < position.segment) {
        rmSync(path, { force: true }); // consumed before a crash, not yet deleted
        continue;
      }
      const scan = scanSegment(path);
      if (scan.problem) {
        this.stats.truncatedBytes += scan.truncatedBytes;
        this.log.warn({ segment: path, problem: scan.problem, keptRecords: scan.count, truncatedBytes: scan.truncatedBytes }, 'spool segment has a torn or corrupt tail (crash mid-write?); truncated it');
      }
      const seg: Segment = { id, path, bytes: scan.bytes, count: scan.count };
      this.segments.push(seg);
      this.totalBytes += seg.bytes;
      this.totalCount += seg.count;
    }
    let committed: Position;
    const first = this.segments[0];
    if (!first) committed = { segment: position?.segment ?? 1, offset: HEADER_BYTES, index: 0 };
    else if (!position || position.segment < first.id || position.segment > first.id) committed = { segment: first.id, offset: HEADER_BYTES, index: 0 };
    else if (position.offset > first.bytes || position.index > first.count) {
      this.log.warn({ position, segment: first.path }, 'spool position is past the end of its segment (lost on crash?); resuming at its end');
      committed = { segment: first.id, offset: first.bytes, index: first.count };
    } else committed = position;
    if (this.segments.length > 0) {
      const last = this.segments[this.segments.length - 1];
      this.fd = openSync(last.path, 'a');
      this.log.info({ dir: this.dir, segments: this.segments.length, bytes: this.bytes, pending: this.segments.reduce((n, s) => n + s.count, 0) - (committed.segment === first.id ? committed.index : 0) }, 'spool opened with records to drain');
    }
    this.committed = committed;
    return committed;
  }
}

export function comparePositions(a: Position, b: Position): number {
  return a.segment - b.segment || a.offset - b.offset;
}
