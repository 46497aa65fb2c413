// The sink's consumer lag per assigned partition: the high watermark minus the sink's position (the
// next offset it reads). A transactional producer ends every transaction with a commit marker, a
// control record that takes an offset but never reaches eachBatch; lag counted from the last record
// handed to eachBatch therefore stays at 1 on an idle transactional topic and an alert on it never
// clears. Here the position moves past such records whenever kafkajs reads them: in the same fetch as
// data (batch.lastOffset() includes them) or alone (kafkajs then emits only END_BATCH_PROCESS, with
// batchSize 0). A periodic refresh from the broker (high watermarks, the group's committed offsets)
// keeps the gauge true while no batch arrives, e.g. before the first fetch or while new data waits.
import type { Gauge } from 'prom-client';

export interface PartitionEnds {
  partition: number;
  /** High watermark (next offset to be written). */
  high: string;
  /** Earliest offset still in the log: where a group that never committed starts. */
  low: string;
}

export class ConsumerLag {
  private readonly positions = new Map<number, bigint>();
  private readonly highWatermarks = new Map<number, bigint>();
  private assigned = new Set<number>();
  private readonly gauge: Gauge<'topic' | 'partition'>;
  private readonly topic: string;

  constructor(gauge: Gauge<'topic' | 'partition'>, topic: string) {
    this.gauge = gauge;
    this.topic = topic;
  }

  /** A new generation: these partitions resume from their committed offsets; others leave the gauge. */
  assign(partitions: number[]): void {
    for (const p of this.assigned) if (!partitions.includes(p)) this.gauge.remove({ topic: this.topic, partition: String(p) });
    this.assigned = new Set(partitions);
    this.positions.clear();
    this.highWatermarks.clear();
  }

  isAssigned(partition: number): boolean {
    return this.assigned.has(partition);
  }

  /** After a fetch of `partition` was handled: the next offset to read and the high watermark it reported. */
  consumed(partition: number, nextOffset: bigint, highWatermark: bigint): void {
    if (!this.assigned.has(partition)) return;
    this.positions.set(partition, max(this.positions.get(partition), nextOffset));
    this.highWatermarks.set(partition, max(this.highWatermarks.get(partition), highWatermark));
    this.publish(partition);
  }

  /** The broker's view: `committed` offsets of the group ('-1' when none) and each partition's ends. */
  refresh(ends: PartitionEnds[], committed: { partition: number; offset: string }[]): void {
    for (const e of ends) {
      if (!this.assigned.has(e.partition)) continue;
      const c = committed.find((x) => x.partition === e.partition)?.offset;
      // A partition not fetched yet in this generation is at its committed offset (or the log start).
      const resumesAt = c !== undefined && c !== '-1' ? BigInt(c) : BigInt(e.low);
      this.positions.set(e.partition, max(this.positions.get(e.partition), resumesAt));
      this.highWatermarks.set(e.partition, max(this.highWatermarks.get(e.partition), BigInt(e.high)));
      this.publish(e.partition);
    }
  }

  /** Lag per assigned partition as last published (tests, logs). */
  current(): Map<number, number> {
    const out = new Map<number, number>();
    for (const p of this.assigned) {
      const lag = this.lagOf(p);
      if (lag !== null) out.set(p, lag);
    }
    return out;
  }

  private lagOf(partition: number): number | null {
    const position = this.positions.get(partition);
    const high = this.highWatermarks.get(partition);
    if (position === undefined || high === undefined) return null;
    return Number(high > position ? high - position : 0n);
  }

  private publish(partition: number): void {
    const lag = this.lagOf(partition);
    if (lag !== null) this.gauge.set({ topic: this.topic, partition: String(partition) }, lag);
  }
}

function max(a: bigint | undefined, b: bigint): bigint {
  return a === undefined || b > a ? b : a;
}
