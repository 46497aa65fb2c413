// What the sink holds in memory per topic partition between flushes: rows grouped by their date
// partition, the offset range they cover (which names the flush's files) and the offset the flush
// commits, which also moves past transaction markers read after the last record.
import type { LakeRow } from './arrow-columns.ts';
import type { DatedRow } from './record-decoder.ts';

export interface PartitionBuffer {
  rowsByDate: Map<string, LakeRow[]>;
  records: number;
  bytes: number;
  firstOffset: bigint;
  lastOffset: bigint;
  /** What the flush commits: past the last record and any transaction markers read after it. */
  commitOffset: bigint;
  openedAt: number;
}

export class PartitionBuffers {
  private readonly buffers = new Map<number, PartitionBuffer>();

  get(partition: number): PartitionBuffer | undefined {
    return this.buffers.get(partition);
  }

  /** Appends a consumed record: its row, or null for a dead-lettered one (its offset still counts). */
  append(partition: number, offset: bigint, row: DatedRow | null, now: number): PartitionBuffer {
    let buffer = this.buffers.get(partition);
    if (!buffer) {
      buffer = { rowsByDate: new Map(), records: 0, bytes: 0, firstOffset: offset, lastOffset: offset, commitOffset: offset + 1n, openedAt: now };
      this.buffers.set(partition, buffer);
    }
    buffer.lastOffset = offset;
    buffer.commitOffset = offset + 1n;
    if (row) {
      const list = buffer.rowsByDate.get(row.date);
      if (list) list.push(row.row);
      else buffer.rowsByDate.set(row.date, [row.row]);
      buffer.records += 1;
      buffer.bytes += row.bytes;
    }
    return buffer;
  }

  /**
   * Transaction markers (or aborted records) were read up to `end`. True when a buffer takes the
   * offset into its commit; false when there is none and the caller commits `end` itself.
   */
  passMarkers(partition: number, end: bigint): boolean {
    const buffer = this.buffers.get(partition);
    if (!buffer) return false;
    if (end > buffer.commitOffset) buffer.commitOffset = end;
    return true;
  }

  delete(partition: number): void {
    this.buffers.delete(partition);
  }

  clear(): void {
    this.buffers.clear();
  }

  partitions(): number[] {
    return [...this.buffers.keys()];
  }

  records(): number {
    return [...this.buffers.values()].reduce((n, b) => n + b.records, 0);
  }

  bytes(): number {
    return [...this.buffers.values()].reduce((n, b) => n + b.bytes, 0);
  }

  largest(): number | undefined {
    return [...this.buffers].sort(([, a], [, b]) => b.bytes - a.bytes)[0]?.[0];
  }

  /** Partitions whose oldest buffered record is at least `rotateMs` old. */
  due(now: number, rotateMs: number): number[] {
    return [...this.buffers].filter(([, b]) => now - b.openedAt >= rotateMs).map(([p]) => p);
  }
}
