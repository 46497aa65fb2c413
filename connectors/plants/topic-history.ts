// A plant's history as it was sent, read back from Kafka for training: its readings (by default
// from the validated topic) and its failure events, from the beginning up to the end offsets at the
// start of the read, one plant's only. A throwaway consumer group, read-committed: what the trainer
// sees is what the scorer saw. History older than a topic's retention is gone (7 days of readings
// by default): a longer history comes from the plant's files.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { FailureEvent, SensorReading } from '../../schemas/generated/types.ts';
import { createKafka } from '../../streams/runtime/kafka-client.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import type { SourceItem } from '../gateway/sources.ts';

export interface TopicHistoryOptions {
  brokers: string[];
  registryUrl: string;
  plantId: string;
  topic?: string;
  log: Logger;
  /** Gives up when no record arrives for this long while offsets are still missing (a broker that went away). */
  idleTimeoutMs?: number;
}

/** Every reading of the plant on the topic, as gateway source items (undecodable records become rejects). */
export async function topicReadings(o: TopicHistoryOptions): Promise<SourceItem[]> {
  const topic = o.topic ?? TOPICS.sensorReadingsValidated.name;
  const records = await readToEnd<SensorReading>(o, topic, TOPICS.sensorReadings.schema);
  return records.flatMap((r): SourceItem[] => ('error' in r ? [{ kind: 'reject', reason: r.error, raw: '', line: r.offset }] : r.value.plant_id === o.plantId ? [{ kind: 'reading', reading: r.value, line: r.offset }] : []));
}

/** The plant's failure events (factory.failure-events.v1 unless `topic`); an undecodable record is an error naming it. */
export async function topicFailureEvents(o: TopicHistoryOptions): Promise<FailureEvent[]> {
  const records = await readToEnd<FailureEvent>(o, o.topic ?? TOPICS.failureEvents.name, TOPICS.failureEvents.schema);
  const bad = records.find((r) => 'error' in r);
  if (bad && 'error' in bad) throw new Error(`${o.topic ?? TOPICS.failureEvents.name}: ${bad.error}`);
  return records.flatMap((r) => ('value' in r && r.value.plant_id === o.plantId ? [{ ...r.value }] : []));
}

type TopicRecord<T> = { value: T; offset: number } | { error: string; offset: number };

/** Every record of `topic` up to its end offsets at the start, decoded with `schema` as the reader. */
async function readToEnd<T>(o: TopicHistoryOptions, topic: string, schema: string): Promise<TopicRecord<T>[]> {
  const kafka = createKafka('streamscore-plant-history', o.brokers, o.log);
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  const ends = new Map(offsets.map((p) => [p.partition, BigInt(p.high)]));
  const pending = new Set(offsets.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => p.partition));
  const items: TopicRecord<T>[] = [];
  if (pending.size === 0) {
    await admin.disconnect();
    return items;
  }

  const serde = new AvroSerde(new ConfluentSchemaStore(o.registryUrl));
  serde.useReader(topic, loadSchema(schema));
  const groupId = `plant-history-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let lastRecord = Date.now();
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch, resolveOffset }) => {
        for (const m of batch.messages) {
          lastRecord = Date.now();
          const offset = BigInt(m.offset);
          const end = ends.get(batch.partition) ?? 0n;
          if (offset < end && m.value) {
            try {
              items.push({ value: (await serde.decode(topic, m.value)) as T, offset: Number(offset) });
            } catch (err) {
              items.push({ error: `partition ${batch.partition} offset ${offset}: ${(err as Error).message}`, offset: Number(offset) });
            }
          }
          resolveOffset(m.offset);
          if (offset + 1n >= end) pending.delete(batch.partition);
        }
        // Transaction markers end a partition without a record at end - 1.
        if (BigInt(batch.highWatermark) >= (ends.get(batch.partition) ?? 0n) && BigInt(batch.lastOffset()) + 1n >= (ends.get(batch.partition) ?? 0n)) pending.delete(batch.partition);
        if (pending.size === 0) resolve();
      },
    });
  });
  const idle = o.idleTimeoutMs ?? 60_000;
  const watchdog = new Promise<never>((_, reject) => {
    const t = setInterval(() => {
      if (pending.size === 0) clearInterval(t);
      else if (Date.now() - lastRecord > idle) {
        clearInterval(t);
        reject(new Error(`${topic}: no record for ${idle / 1000} s with partitions ${[...pending].join(', ')} not read to their end`));
      }
    }, 1_000);
  });
  try {
    await Promise.race([done, watchdog]);
  } finally {
    await consumer.disconnect();
    // The group was for this read only (as the state rebuild's is): leave no group behind.
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return items;
}
