// Where replayed outputs go: a JSONL file (decoded values with their coordinates) or Kafka topics
// that are never a live one. `--out NAME.replay` writes each live output topic T to
// `NAME.T.replay`, with T's own schema registered under that topic's subject, so a consumer of T
// reads the replay the same way (one topic per schema: the registry keeps one schema lineage per
// subject). A name outside the `.replay` convention, or any topic of the catalogue
// (schemas/topics.ts), is refused before anything is read.
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Kafka, Producer } from 'kafkajs';
import { TOPICS, dlqTopic, loadSchema, type TopicSpec } from '../../../schemas/topics.ts';
import type { EncodedMessage } from '../batch.ts';
import type { AvroSerde } from '../serde.ts';

export type ReplayOut = { kind: 'file'; path: string } | { kind: 'topic'; name: string };

export interface ReplaySink {
  /** `value`: the decoded output (the file's content); `message`: the encoded one (the topic's). */
  write(message: EncodedMessage, value: unknown): Promise<void>;
  close(): Promise<void>;
  /** Where it went, for the report. */
  readonly targets: string[];
}

const TOPIC_NAME = /^[A-Za-z0-9._-]+$/;

/** `--out`: a topic when it ends in `.replay`, otherwise a file path; a live topic's name is refused (not taken for a file). */
export function parseReplayOut(out: string): ReplayOut {
  if (catalogueTopics().has(out)) throw new Error(`--out ${out} is a live topic: replay never writes live topics (name a file, or NAME.replay for replay topics)`);
  return out.endsWith('.replay') && TOPIC_NAME.test(out) && !out.includes('/') ? { kind: 'topic', name: out } : { kind: 'file', path: out };
}

/** Every topic the catalogue declares, with its dead-letter topic: never written by replay. */
export function catalogueTopics(): Set<string> {
  return new Set(Object.values(TOPICS).flatMap((t) => [t.name, dlqTopic(t.name)]));
}

/** The replay topic of each live output topic; throws when one would be a live topic. */
export function replayTopics(out: string, outputs: TopicSpec[], live: ReadonlySet<string> = catalogueTopics()): Map<string, string> {
  if (!out.endsWith('.replay') || !TOPIC_NAME.test(out)) throw new Error(`replay topic ${JSON.stringify(out)} must end in .replay and use only letters, digits, '.', '_' and '-'`);
  const stem = out.slice(0, -'.replay'.length);
  if (!stem) throw new Error('replay topic needs a name before .replay (e.g. incident-42.replay)');
  const names = new Map(outputs.map((t) => [t.name, `${stem}.${t.name}.replay`]));
  for (const name of names.values()) {
    if (live.has(name)) throw new Error(`replay topic ${name} is a live topic of the catalogue (schemas/topics.ts): replay never writes live topics`);
    if (name.length > 249) throw new Error(`replay topic ${name} is longer than Kafka's 249 characters`);
  }
  return names;
}

export async function openFileSink(path: string): Promise<ReplaySink> {
  const stream: WriteStream = createWriteStream(path, { flags: 'wx' });
  await Promise.race([once(stream, 'open'), once(stream, 'error').then(([err]) => Promise.reject(new Error(`cannot write ${path}: ${(err as Error).message}`)))]);
  return {
    targets: [path],
    async write(m, value) {
      const line = JSON.stringify({ topic: m.topic, key: m.key?.toString() ?? null, headers: m.headers, value }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
      if (!stream.write(`${line}\n`)) await once(stream, 'drain');
    },
    async close() {
      await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    },
  };
}

/** Creates the replay topics (the live topic's partition count, 7 days), registers their schemas, and produces to them. */
export async function openTopicSink(kafka: Kafka, serde: AvroSerde, out: string, outputs: TopicSpec[]): Promise<ReplaySink> {
  const names = replayTopics(out, outputs);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = outputs.filter((t) => !existing.has(names.get(t.name)!));
    if (missing.length) await admin.createTopics({ waitForLeaders: true, topics: missing.map((t) => ({ topic: names.get(t.name)!, numPartitions: t.partitions, configEntries: [{ name: 'retention.ms', value: String(7 * 24 * 3_600_000) }] })) });
  } finally {
    await admin.disconnect();
  }
  const ids = new Map<string, number>();
  for (const t of outputs) ids.set(t.name, await serde.useTopic(names.get(t.name)!, loadSchema(t.schema)));
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let pending: { topic: string; key: Buffer | string | null; value: Buffer; headers: Record<string, Buffer | string> }[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const byTopic = new Map<string, typeof batch>();
    for (const m of batch) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m]);
    await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, ms]) => ({ topic, messages: ms.map(({ key, value, headers }) => ({ key, value, headers })) })) });
  };
  return {
    targets: [...names.values()],
    async write(m) {
      // The same Avro body under the replay topic's schema id (the same schema, another subject).
      const value = Buffer.from(m.value);
      value.writeInt32BE(ids.get(m.topic)!, 1);
      pending.push({ topic: names.get(m.topic)!, key: m.key, value, headers: m.headers });
      if (pending.length >= 500) await flush();
    },
    async close() {
      try {
        await flush();
      } finally {
        await producer.disconnect();
      }
    },
  };
}
