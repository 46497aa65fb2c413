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

/** Decoded records buffered ahead of the export at most (the reader waits when it is this far ahead). */
const READ_AHEAD = 20_000;

/**
 * Every reading of the plant on the topic, as gateway source items (undecodable records become
 * rejects), streamed: the reader stays at most READ_AHEAD records ahead of whoever iterates. A
 * 60-arm, 20-day history is 5.2 M readings; read into one array with every plant's records, it
 * took `plant train --from-topic` out of Node's 4 GB heap. Leaving the loop early stops the read.
 */
export async function* topicReadings(o: TopicHistoryOptions): AsyncGenerator<SourceItem> {
  const topic = o.topic ?? TOPICS.sensorReadingsValidated.name;
  let queue: SourceItem[] = [];
  let head = 0;
  let done = false;
  let failure: unknown = null;
  let stopped = false;
  const reader = waiter();
  const iterator = waiter();
  const reading = readEach<SensorReading>(o, topic, TOPICS.sensorReadings.schema, async (r) => {
    if (stopped) throw new Error('plant history: the reader was stopped');
    if ('error' in r) queue.push({ kind: 'reject', reason: r.error, raw: '', line: r.offset });
    else if (r.value.plant_id === o.plantId) queue.push({ kind: 'reading', reading: r.value, line: r.offset });
    else return;
    iterator.wake();
    if (queue.length - head >= READ_AHEAD) await reader.wait();
  }).then(() => { done = true; }, (err: unknown) => { failure = err; done = true; }).finally(() => iterator.wake());
  try {
    for (;;) {
      if (head < queue.length) {
        const item = queue[head++];
        if (head >= READ_AHEAD) { queue = queue.slice(head); head = 0; }
        if (queue.length - head < READ_AHEAD / 2) reader.wake();
        yield item;
      } else if (done) {
        if (failure) throw failure;
        return;
      } else {
        await iterator.wait();
      }
    }
  } finally {
    stopped = true;
    reader.wake();
    await reading;
  }
}

/** One side waiting for the other: wait() resolves at the next wake(); a wake with nobody waiting is dropped. */
function waiter(): { wait(): Promise<void>; wake(): void } {
  let resolve: (() => void) | null = null;
  return {
    wait: () => new Promise<void>((r) => { resolve = r; }),
    wake: () => {
      const r = resolve;
      resolve = null;
      r?.();
    },
  };
}

/** The plant's failure events (factory.failure-events.v1 unless `topic`); an undecodable record is an error naming it. */
export async function topicFailureEvents(o: TopicHistoryOptions): Promise<FailureEvent[]> {
  const topic = o.topic ?? TOPICS.failureEvents.name;
  const events: FailureEvent[] = [];
  await readEach<FailureEvent>(o, topic, TOPICS.failureEvents.schema, async (r) => {
    if ('error' in r) throw new Error(`${topic}: ${r.error}`);
    if (r.value.plant_id === o.plantId) events.push({ ...r.value });
  });
  return events;
}

type TopicRecord<T> = { value: T; offset: number } | { error: string; offset: number };

/** Hands every record of `topic` up to its end offsets at the start, decoded with `schema` as the reader, to `onRecord`, in offset order per partition. */
async function readEach<T>(o: TopicHistoryOptions, topic: string, schema: string, onRecord: (r: TopicRecord<T>) => Promise<void>): Promise<void> {
  const kafka = createKafka('streamscore-plant-history', o.brokers, o.log);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const ranges = offsets.map((p) => ({ topic, partition: p.partition, start: Number(p.low), end: Number(p.high) }));
    if (!ranges.some((r) => r.start < r.end)) return;
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
          let decoded: TopicRecord<T>;
          try {
            decoded = { value: (await serde.decode(topic, r.value)) as T, offset: Number(r.offset) };
          } catch (err) {
            decoded = { error: `partition ${partition} offset ${r.offset}: ${(err as Error).message}`, offset: Number(r.offset) };
          }
          await onRecord(decoded);
        }
      },
    });
  } finally {
    await admin.disconnect();
  }
}
