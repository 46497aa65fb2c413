// Reads fixed offset ranges of topic partitions once, in offset order per partition, with a
// throwaway consumer group (read_committed) that is deleted afterwards. One reader serves the state
// rebuild (state-rebuild.ts), replay (replay/) and `plant export --from-topic`
// (connectors/plants/topic-history.ts), so "where to stop" is decided in one place: a partition is
// done when a record at or past `end - 1` arrives, or when the fetch position passes it (the last
// offsets of a transactional topic are commit markers, which reach no eachBatch; kafkajs reports
// them only through START_BATCH_PROCESS).
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { toRawRecord, type RawRecord } from './batch.ts';
import type { Logger } from './logger.ts';
import { withRetry } from './retry.ts';

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** Offsets [start, end) of one partition. */
export interface OffsetRange extends TopicPartition {
  start: number;
  end: number;
}

export interface ReadRangesOptions {
  kafka: Kafka;
  admin: Admin;
  ranges: OffsetRange[];
  /** Prefix of the throwaway group id (a uuid follows), so `kafka-consumer-groups --list` says who read. */
  groupPrefix: string;
  /**
   * The records of one partition within its range, in offset order (aborted transactions and commit
   * markers already left out). A throw stops the whole read, and readRanges rejects with it.
   */
  onRecords: (tp: TopicPartition, records: RawRecord[]) => Promise<void>;
  /** Fails the read when no record or marker arrives for this long while a partition is unfinished (a broker gone). */
  idleTimeoutMs?: number;
  log?: Logger;
}

const key = (tp: TopicPartition) => `${tp.topic}/${tp.partition}`;
/** How often a partition's position is put back after it jumped, before a gap is taken as real (a compacted log). */
const MAX_RESEEKS = 5;

/** Returns how many records were handed to onRecords. */
export async function readRanges(o: ReadRangesOptions): Promise<number> {
  const ranges = o.ranges.filter((r) => r.start < r.end);
  if (ranges.length === 0) return 0;
  const pending = new Map(ranges.map((r) => [key(r), r]));
  // The next offset due per partition: a batch fetched before the seek took effect (the group starts
  // from the beginning) may overlap what the seek fetches again, and nothing is handed over twice.
  const due = new Map(ranges.map((r) => [key(r), r.start]));
  const groupId = `${o.groupPrefix}-${randomUUID()}`;
  const consumer = o.kafka.consumer({ groupId, readUncommitted: false, sessionTimeout: 30_000 });
  let read = 0;
  let lastActivity = Date.now();
  let watchdog: NodeJS.Timeout | undefined;
  await consumer.connect();
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (err: unknown) => {
        pending.clear();
        reject(err);
      };
      const finish = (tp: TopicPartition) => {
        if (!pending.delete(key(tp))) return;
        consumer.pause([{ topic: tp.topic, partitions: [tp.partition] }]);
        if (pending.size === 0) resolve();
      };
      consumer.on(consumer.events.CRASH, (e) => fail(e.payload.error));
      // kafkajs can answer a fetch with "Offset out of range, resetting to default offset" and move
      // the position elsewhere (a CI run read [3, 28) from 17, and [0, 4) as nothing: a batch of
      // commit markers at 27 looked like the end). Every batch begins at or before the next offset
      // due (Kafka returns whole record batches, markers and aborted records included), so one that
      // begins after it was fetched from a position that jumped: the position is put back.
      const reseeks = new Map<string, number>();
      const jumped = (tp: TopicPartition, first: string | null): boolean => {
        const at = due.get(key(tp))!;
        if (first === null || Number(first) <= at) return false;
        const n = reseeks.get(key(tp)) ?? 0;
        if (n >= MAX_RESEEKS) return false;
        reseeks.set(key(tp), n + 1);
        o.log?.warn({ topic: tp.topic, partition: tp.partition, due: at, batchStart: Number(first) }, 'range read: the fetch position jumped past the next offset due; seeking back');
        consumer.seek({ topic: tp.topic, partition: tp.partition, offset: String(at) });
        return true;
      };
      // A fetch of nothing but commit markers (or aborted records) never reaches eachBatch.
      consumer.on(consumer.events.START_BATCH_PROCESS, (e) => {
        lastActivity = Date.now();
        const range = pending.get(key(e.payload));
        if (!range || e.payload.batchSize !== 0 || jumped(e.payload, e.payload.firstOffset)) return;
        due.set(key(range), Math.max(due.get(key(range))!, Number(e.payload.lastOffset) + 1));
        if (Number(e.payload.lastOffset) >= range.end - 1) finish(range);
      });
      if (o.idleTimeoutMs) {
        const idle = o.idleTimeoutMs;
        watchdog = setInterval(() => {
          if (pending.size && Date.now() - lastActivity > idle) fail(new Error(`no record for ${idle / 1000} s while reading ${[...pending.keys()].join(', ')}: is the broker reachable?`));
        }, 1_000);
      }
      void consumer
        .subscribe({ topics: [...new Set(ranges.map((r) => r.topic))], fromBeginning: true })
        .then(() =>
          consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch, heartbeat }) => {
              lastActivity = Date.now();
              const range = pending.get(key(batch));
              if (!range || jumped(batch, batch.firstOffset())) return;
              const from = due.get(key(batch))!;
              const records = batch.messages.filter((m) => Number(m.offset) >= from && Number(m.offset) < range.end).map((m) => toRawRecord(batch.topic, batch.partition, m));
              try {
                if (records.length) await o.onRecords({ topic: batch.topic, partition: batch.partition }, records);
              } catch (err) {
                // Straight to the caller: kafkajs' own retries of this handler would only fail the same way.
                fail(err);
                return;
              }
              read += records.length;
              due.set(key(batch), Math.max(from, Number(batch.lastOffset()) + 1));
              if (Number(batch.lastOffset()) >= range.end - 1) finish(range);
              await heartbeat();
            },
          }),
        )
        .then(async () => {
          for (const r of ranges) consumer.seek({ topic: r.topic, partition: r.partition, offset: String(r.start) });
          // Partitions with nothing to read are not fetched at all.
          for (const topic of new Set(ranges.map((r) => r.topic))) {
            const offsets = await withRetry(() => o.admin.fetchTopicOffsets(topic), { what: `listing the partitions of ${topic}`, log: o.log });
            const idle = offsets.map((p) => p.partition).filter((p) => !pending.has(key({ topic, partition: p })));
            if (idle.length) consumer.pause([{ topic, partitions: idle }]);
          }
        })
        .catch(fail);
    });
  } finally {
    clearInterval(watchdog);
    await consumer.disconnect();
    await o.admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return read;
}

/**
 * Per partition of `topic`, the first offset whose record timestamp is at or after `timestamp`
 * (the partition's end when none is): Kafka's ListOffsets by time. Commit markers count as well,
 * with the wall-clock time they were written: on a topic whose records carry older timestamps than
 * their transactions' markers (backdated CreateTime), a marker can be the offset found.
 */
export async function offsetsAtTime(admin: Admin, topic: string, timestamp: number, log?: Logger): Promise<Map<number, number>> {
  const found = await withRetry(() => admin.fetchTopicOffsetsByTimestamp(topic, Math.max(0, timestamp)), { what: `finding offsets by time on ${topic}`, log });
  return new Map(found.map((p) => [p.partition, Number(p.offset)]));
}
