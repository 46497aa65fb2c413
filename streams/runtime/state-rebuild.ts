// Replays a processor's input from Kafka retention into its state stores, for the partitions whose
// state Redis lost (state-guard.ts decides which and when). State lives in Redis, the truth lives in
// the input topic: per partition, the input is replayed from `lookbackMs` before the newest
// committed record's timestamp (kept in the commit metadata by the runner) up to the committed
// offset, through the processor's state-only `rebuild.apply`. Records at or after the committed
// offset are then consumed normally and never applied twice (the stores are idempotent per offset).
import type { Admin, Kafka } from 'kafkajs';
import type { HandlerContext, InputRecord, ProcessorDefinition } from './processor.ts';
import type { AvroSerde } from './serde.ts';
import type { Logger } from './logger.ts';
import { decodeInput } from './batch.ts';
import { readRanges, type OffsetRange, type TopicPartition } from './range-reader.ts';
import { withRetry } from './retry.ts';
import { withFence, type StateFence } from './state/redis-state.ts';

export type { TopicPartition } from './range-reader.ts';
export type ReplayRange = OffsetRange;

/** Where replay must start and end for each partition, from the group's committed offsets (retried while the coordinator loads). */
export async function replayRanges(def: ProcessorDefinition, admin: Admin, partitions: TopicPartition[], log: Logger): Promise<ReplayRange[]> {
  const ranges: ReplayRange[] = [];
  for (const topic of new Set(partitions.map((p) => p.topic))) {
    const wanted = new Set(partitions.filter((p) => p.topic === topic).map((p) => p.partition));
    const [committed] = await withRetry(() => admin.fetchOffsets({ groupId: def.name, topics: [topic] }), { what: `fetching committed offsets of ${def.name} on ${topic}`, log });
    for (const p of committed?.partitions ?? []) {
      if (!wanted.has(p.partition)) continue;
      const end = Number(p.offset);
      if (end <= 0) continue;
      const ts = p.metadata ? Number((JSON.parse(p.metadata) as { ts?: number }).ts) : Number.NaN;
      const from = Number.isFinite(ts) ? ts - (def.rebuild?.lookbackMs ?? 0) : 0;
      const byTime = await withRetry(() => admin.fetchTopicOffsetsByTimestamp(topic, from), { what: `finding offsets by time on ${topic}`, log });
      const found = byTime.find((o) => o.partition === p.partition);
      const start = found && Number(found.offset) >= 0 ? Number(found.offset) : end;
      if (start < end) ranges.push({ topic, partition: p.partition, start, end });
    }
  }
  return ranges;
}

/**
 * Replays `ranges` through `def.rebuild.apply` with a throwaway consumer group (range-reader.ts);
 * returns the records applied. State writes of the replay are fenced by `fence` (the partition's
 * rebuilding marker).
 */
export async function replayIntoState(def: ProcessorDefinition, kafka: Kafka, admin: Admin, ranges: ReplayRange[], serde: AvroSerde, ctx: HandlerContext<unknown>, log: Logger, fence: StateFence): Promise<number> {
  if (ranges.length === 0 || !def.rebuild) return 0;
  const total = ranges.reduce((n, r) => n + r.end - r.start, 0);
  log.warn({ ranges, total }, 'rebuilding state from Kafka retention');
  let replayed = 0;
  let lastProgress = Date.now();
  await readRanges({
    kafka,
    admin,
    ranges,
    groupPrefix: `${def.name}-rebuild`,
    log,
    onRecords: async (_tp, raws) => {
      const records: InputRecord[] = [];
      for (const raw of raws) {
        // A record that failed when first consumed went to the dead-letter topic then: skip it.
        // A retriable decode error (the registry unreachable) throws, and the rebuild with it.
        const outcome = await decodeInput(def, serde, raw);
        if ('input' in outcome) records.push(outcome.input);
      }
      if (records.length) await withFence(fence, () => def.rebuild!.apply(records, ctx as HandlerContext<any>));
      replayed += records.length;
      if (Date.now() - lastProgress > 2_000) {
        lastProgress = Date.now();
        log.info({ replayed, total }, 'rebuilding state');
      }
    },
  });
  log.warn({ replayed }, 'state rebuilt from Kafka');
  return replayed;
}
