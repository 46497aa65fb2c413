// Replays a processor's input from Kafka retention into its state stores, for the partitions whose
// state Redis lost (state-guard.ts decides which and when). State lives in Redis, the truth lives in
// the input topic: per partition, the input is replayed from `lookbackMs` before the newest
// committed record's timestamp (kept in the commit metadata by the runner) up to the committed
// offset, through the processor's state-only `rebuild.apply`. Records at or after the committed
// offset are then consumed normally and never applied twice (the stores are idempotent per offset).
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { HandlerContext, InputRecord, ProcessorDefinition } from './processor.ts';
import type { AvroSerde } from './serde.ts';
import type { Logger } from './logger.ts';
import { decodeInput, toRawRecord } from './batch.ts';
import { withRetry } from './retry.ts';
import { withFence, type StateFence } from './state/redis-state.ts';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface ReplayRange extends TopicPartition {
  start: number;
  end: number;
}

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
 * Replays `ranges` through `def.rebuild.apply` with a throwaway consumer group; returns the records
 * applied. State writes of the replay are fenced by `fence` (the partition's rebuilding marker).
 */
export async function replayIntoState(def: ProcessorDefinition, kafka: Kafka, admin: Admin, ranges: ReplayRange[], serde: AvroSerde, ctx: HandlerContext<unknown>, log: Logger, fence: StateFence): Promise<number> {
  if (ranges.length === 0 || !def.rebuild) return 0;
  const total = ranges.reduce((n, r) => n + r.end - r.start, 0);
  log.warn({ ranges, total }, 'rebuilding state from Kafka retention');
  const groupId = `${def.name}-rebuild-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, sessionTimeout: 30_000 });
  let replayed = 0;
  let lastProgress = Date.now();
  const pending = new Map(ranges.map((r) => [`${r.topic}/${r.partition}`, r]));
  await consumer.connect();
  try {
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
      void consumer
        .subscribe({ topics: [...new Set(ranges.map((r) => r.topic))], fromBeginning: true })
        .then(() =>
          consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch, heartbeat }) => {
              const range = pending.get(`${batch.topic}/${batch.partition}`);
              if (!range) return;
              // (a failed apply clears `pending`, so nothing more is applied after it)
              const records: InputRecord[] = [];
              try {
                for (const m of batch.messages) {
                  if (Number(m.offset) < range.start || Number(m.offset) >= range.end) continue;
                  // A record that failed when first consumed went to the dead-letter topic then: skip it.
                  const outcome = await decodeInput(def, serde, toRawRecord(batch.topic, batch.partition, m));
                  if ('input' in outcome) records.push(outcome.input);
                }
                if (records.length) await withFence(fence, () => def.rebuild!.apply(records, ctx as HandlerContext<any>));
              } catch (err) {
                // Straight to the caller (the registry unreachable, Redis lost the state again
                // mid-rebuild): kafkajs' own retries of this handler would only fail the same way.
                pending.clear();
                reject(err);
                return;
              }
              replayed += records.length;
              if (Date.now() - lastProgress > 2_000) {
                lastProgress = Date.now();
                log.info({ replayed, total }, 'rebuilding state');
              }
              const last = batch.messages[batch.messages.length - 1];
              if (last && Number(last.offset) >= range.end - 1) {
                pending.delete(`${batch.topic}/${batch.partition}`);
                consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
                if (pending.size === 0) resolve();
              }
              await heartbeat();
            },
          }),
        )
        .then(async () => {
          for (const r of ranges) consumer.seek({ topic: r.topic, partition: r.partition, offset: String(r.start) });
          // Partitions with nothing to replay are not read at all.
          for (const topic of new Set(ranges.map((r) => r.topic))) {
            const offsets = await admin.fetchTopicOffsets(topic);
            const idle = offsets.map((o) => o.partition).filter((p) => !pending.has(`${topic}/${p}`));
            if (idle.length) consumer.pause([{ topic, partitions: idle }]);
          }
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  log.warn({ replayed }, 'state rebuilt from Kafka');
  return replayed;
}
