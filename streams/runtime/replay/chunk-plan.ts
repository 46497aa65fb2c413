// The chunks the live processor cut, recovered from its outputs' `streamscore-chunk` headers
// (topic/partition/first-last), and a chunker that cuts replayed records the same way. A processor's
// outputs may depend on which records it saw together (FactoryGuard predicts once per arm per
// chunk, and its alert hysteresis counts those predictions), so replay can only reproduce the live
// outputs when it hands the handler the same chunks. Offsets of no live chunk (a chunk whose records
// all went to the dead-letter topic, or a range the live processor never produced into) are cut by
// the runner's default: at most `maxRecords` records.
import type { RawRecord } from '../batch.ts';

export interface LiveChunk {
  first: number;
  last: number;
  /** What `ctx.now()` returned when the live processor handled it (its outputs' stamp), when known. */
  now?: number;
}

export interface ParsedChunk {
  topic: string;
  partition: number;
  first: number;
  last: number;
}

const CHUNK_RE = /^(.+)\/(\d+)\/(\d+)-(\d+)$/;

/** `topic/partition/first-last` (also `topic/partition/offset` of the source header, as first = last); null if malformed. */
export function parseCoordinates(header: string | undefined): ParsedChunk | null {
  if (!header) return null;
  const m = CHUNK_RE.exec(header) ?? /^(.+)\/(\d+)\/(\d+)$/.exec(header);
  if (!m) return null;
  const first = Number(m[3]);
  const last = m[4] === undefined ? first : Number(m[4]);
  return last >= first ? { topic: m[1], partition: Number(m[2]), first, last } : null;
}

export const partitionKey = (topic: string, partition: number) => `${topic}/${partition}`;

/** The live chunks per input partition, sorted by offset; overlapping chunks (a redelivery cut differently) are counted and the later one dropped. */
export class ChunkPlan {
  private readonly byPartition = new Map<string, Map<string, LiveChunk>>();
  private readonly sorted = new Map<string, LiveChunk[]>();
  private readonly conflicting = new Map<string, number>();

  add(header: string | undefined, now?: number): void {
    const c = parseCoordinates(header);
    if (!c) return;
    const key = partitionKey(c.topic, c.partition);
    this.sorted.delete(key);
    const chunks = this.byPartition.get(key) ?? new Map<string, LiveChunk>();
    this.byPartition.set(key, chunks);
    const existing = chunks.get(`${c.first}-${c.last}`);
    if (existing) {
      if (now !== undefined && (existing.now === undefined || now < existing.now)) existing.now = now;
      return;
    }
    chunks.set(`${c.first}-${c.last}`, { first: c.first, last: c.last, now });
  }

  /** One partition's chunks, sorted and without overlaps. */
  chunks(topic: string, partition: number): LiveChunk[] {
    const key = partitionKey(topic, partition);
    const memo = this.sorted.get(key);
    if (memo) return memo;
    const all = [...(this.byPartition.get(key)?.values() ?? [])].sort((a, b) => a.first - b.first || a.last - b.last);
    const kept: LiveChunk[] = [];
    for (const c of all) if (!kept.length || c.first > kept[kept.length - 1].last) kept.push(c);
    this.sorted.set(key, kept);
    this.conflicting.set(key, all.length - kept.length);
    return kept;
  }

  /** Live chunks dropped because they overlap another (the partitions asked for so far). */
  get conflicts(): number {
    return [...this.conflicting.values()].reduce((n, c) => n + c, 0);
  }

  /** Live chunks known, over all partitions. */
  get size(): number {
    return [...this.byPartition.values()].reduce((n, m) => n + m.size, 0);
  }

  /** The first offset of the live chunk holding `offset`, or `offset` itself: a range must start on a chunk's start to cut it whole. */
  chunkStart(topic: string, partition: number, offset: number): number {
    return this.chunks(topic, partition).find((c) => c.first <= offset && offset <= c.last)?.first ?? offset;
  }

  /** The last offset of the live chunk holding `offset`, or `offset` itself: a range must end on a chunk's end to cut it whole. */
  chunkEnd(topic: string, partition: number, offset: number): number {
    return this.chunks(topic, partition).find((c) => c.first <= offset && offset <= c.last)?.last ?? offset;
  }
}

export interface CutChunk {
  records: RawRecord[];
  /** The live chunk it reproduces; null: cut by the default. */
  live: LiveChunk | null;
}

/** Cuts one partition's records, arriving in offset order, into the live chunks. */
export class PartitionChunker {
  private readonly chunks: LiveChunk[];
  private readonly maxRecords: number;
  /** Offsets a default chunk may not span (the start of the compared range). */
  private readonly cuts: number[];
  private next = 0;
  private buffer: RawRecord[] = [];
  private current: LiveChunk | null = null;

  constructor(chunks: LiveChunk[], maxRecords: number, cuts: number[] = []) {
    this.chunks = chunks;
    this.maxRecords = maxRecords;
    this.cuts = cuts;
  }

  push(records: RawRecord[]): CutChunk[] {
    const out: CutChunk[] = [];
    for (const r of records) {
      const offset = Number(r.offset);
      while (this.next < this.chunks.length && this.chunks[this.next].last < offset) this.next++;
      const c = this.chunks[this.next];
      const live = c && c.first <= offset ? c : null;
      if (this.buffer.length && (live !== this.current || (!live && this.defaultFull(offset)))) out.push(this.emit());
      this.current = live;
      this.buffer.push(r);
      if (live && offset === live.last) out.push(this.emit());
    }
    return out;
  }

  /** What is left at the end of the range. */
  flush(): CutChunk[] {
    return this.buffer.length ? [this.emit()] : [];
  }

  private defaultFull(offset: number): boolean {
    const first = Number(this.buffer[0].offset);
    return this.buffer.length >= this.maxRecords || this.cuts.some((cut) => first < cut && cut <= offset);
  }

  private emit(): CutChunk {
    const chunk = { records: this.buffer, live: this.current };
    this.buffer = [];
    this.current = null;
    return chunk;
  }
}
