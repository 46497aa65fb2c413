// A plant's history as it was sent, read back from Kafka for training: its readings (by default
// from the validated topic) and its failure events, from the beginning up to the end offsets at the
// start of the read, one plant's only. A throwaway consumer group, read-committed: what the trainer
// sees is what the scorer saw. History older than a topic's retention is gone (7 days of readings
// by default): a longer history comes from the plant's files.
import type { Logger } from 'pino';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { FailureEvent, SensorReading } from '../../schemas/generated/types.ts';
import { createKafka } from '../../streams/runtime/kafka-client.ts';
import { readRanges } from '../../streams/runtime/range-reader.ts';
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
  const items: TopicRecord<T>[] = [];
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const ranges = offsets.map((p) => ({ topic, partition: p.partition, start: Number(p.low), end: Number(p.high) }));
    if (!ranges.some((r) => r.start < r.end)) return items;
    const serde = new AvroSerde(new ConfluentSchemaStore(o.registryUrl));
    serde.useReader(topic, loadSchema(schema));
    // The same reader as the state rebuild and replay (throwaway group, deleted afterwards).
    await readRanges({
      kafka,
      admin,
      ranges,
      groupPrefix: 'plant-history',
      idleTimeoutMs: o.idleTimeoutMs ?? 60_000,
      onRecords: async ({ partition }, records) => {
        for (const r of records) {
          if (!r.value) continue;
          try {
            items.push({ value: (await serde.decode(topic, r.value)) as T, offset: Number(r.offset) });
          } catch (err) {
            items.push({ error: `partition ${partition} offset ${r.offset}: ${(err as Error).message}`, offset: Number(r.offset) });
          }
        }
      },
    });
  } finally {
    await admin.disconnect();
  }
  return items;
}
