// Kafka plumbing of the fault cases: produce records and remember where each one landed (partition,
// offset), wait until a consumer group has committed past given offsets, and read topics to their
// current end (no "enough records" guess, no settle time: a missing or a duplicated record shows).
import { randomUUID } from 'node:crypto';
import { CompressionTypes, Partitioners, type Kafka, type PartitionMetadata } from 'kafkajs';
import { waitUntil } from '../../infra/stack/process.ts';

export interface ProducedRecord {
  key: Buffer | string | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string>;
  /** Sent in a gzip batch: how a record far over max.message.bytes gets past the broker's (compressed) size check. */
  gzip?: boolean;
  /** Kafka timestamp (ms); default: the producer's clock. */
  timestamp?: number;
}

export interface Coordinates {
  topic: string;
  partition: number;
  offset: number;
}

export const coordinateKey = (c: Coordinates) => `${c.topic}/${c.partition}/${c.offset}`;

const partitioner = Partitioners.DefaultPartitioner();

/** The partition the default (Java-compatible murmur2) partitioner picks; keyless records go round-robin by index. */
export function partitionFor(topic: string, partitions: number, key: Buffer | string | null, index: number): number {
  if (key === null) return index % partitions;
  const partitionMetadata = Array.from({ length: partitions }, (_, i): PartitionMetadata => ({ partitionErrorCode: 0, partitionId: i, leader: 0, replicas: [0], isr: [0] }));
  return partitioner({ topic, partitionMetadata, message: { key, value: null } });
}

/**
 * Sends `records` in order (consecutive records that share `gzip` go in one request of at most
 * `chunk` records and ~600 KB) and returns each one's coordinates, from the base offset the broker acknowledged
 * for its partition's batch. Idempotent producer, acks=all: a retried request is not duplicated.
 */
export async function produceTracked(kafka: Kafka, topic: string, partitions: number, records: ProducedRecord[], chunk = 250): Promise<Coordinates[]> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const out: Coordinates[] = new Array(records.length);
  try {
    let i = 0;
    while (i < records.length) {
      const gzip = records[i].gzip === true;
      let end = i;
      let bytes = 0;
      // A request's batch per partition must stay under max.message.bytes (1 MiB): stop at ~600 KB.
      while (end < records.length && end - i < chunk && (records[end].gzip === true) === gzip && (end === i || bytes + approxSize(records[end]) < 600_000)) bytes += approxSize(records[end++]);
      const slice = records.slice(i, end).map((r, j) => ({ ...r, partition: partitionFor(topic, partitions, r.key, i + j) }));
      const acks = await producer.send({
        topic,
        acks: -1,
        compression: gzip ? CompressionTypes.GZIP : CompressionTypes.None,
        messages: slice.map((r) => ({ key: r.key, value: r.value, headers: r.headers, partition: r.partition, timestamp: r.timestamp === undefined ? undefined : String(r.timestamp) })),
      });
      const next = new Map(acks.map((a) => [a.partition, Number(a.baseOffset)]));
      slice.forEach((r, j) => {
        const offset = next.get(r.partition);
        if (offset === undefined) throw new Error(`no acknowledgement for partition ${r.partition} of ${topic}`);
        next.set(r.partition, offset + 1);
        out[i + j] = { topic, partition: r.partition, offset };
      });
      i = end;
    }
  } finally {
    await producer.disconnect();
  }
  return out;
}

function approxSize(r: ProducedRecord): number {
  const headers = Object.entries(r.headers ?? {}).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v), 0);
  return (r.gzip ? 4_096 : (r.value?.length ?? 0)) + (r.key ? Buffer.byteLength(r.key) : 0) + headers + 64;
}

/** Per partition, the offset after the last of `coords` on `topic`: what a group must commit to have handled them all. */
export function endOffsets(coords: Coordinates[], topic: string): Map<number, number> {
  const ends = new Map<number, number>();
  for (const c of coords) if (c.topic === topic) ends.set(c.partition, Math.max(ends.get(c.partition) ?? 0, c.offset + 1));
  return ends;
}

/** The group's committed offsets of `topic` (partition -> next offset; -1 when none). */
export async function committedOffsets(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until `groupId` has committed at least `ends` on `topic`; fails with how far each partition
 * got after `timeoutMs`, or at once when `giveUp` names a reason (e.g. the processor has stopped).
 */
export async function waitForCommits(kafka: Kafka, groupId: string, topic: string, ends: Map<number, number>, timeoutMs: number, giveUp: () => string | null = () => null): Promise<void> {
  let last = new Map<number, number>();
  let reason: string | null = null;
  const done = await waitUntil(async () => {
    last = await committedOffsets(kafka, groupId, topic).catch(() => last);
    if ([...ends].every(([p, end]) => (last.get(p) ?? -1) >= end)) return true;
    reason = giveUp();
    return reason !== null;
  }, timeoutMs, 500);
  if (!done || reason) {
    const behind = [...ends].filter(([p, end]) => (last.get(p) ?? -1) < end).map(([p, end]) => `partition ${p}: committed ${last.get(p) ?? 'nothing'}, needs ${end}`);
    throw new Error(`group ${groupId} did not commit past the test's records on ${topic} ${reason ? `(gave up: ${reason})` : `within ${timeoutMs / 1000} s`} (${behind.join('; ')})`);
  }
}

export interface ReadRecord extends Coordinates {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * Reads `topics` read_committed, from `from` (topic -> partition -> offset; else the beginning), until
 * every partition reaches the end it had when the call began (control records count, via kafkajs'
 * END_BATCH_PROCESS event), keeping what `keep` accepts. Times out with what it saw and where it was.
 */
export async function readToEnd(kafka: Kafka, topics: string[], keep: (r: ReadRecord) => boolean, options: { from?: Map<string, Map<number, number>>; timeoutMs?: number } = {}): Promise<ReadRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const targets = new Map<string, number>();
  try {
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) {
        const start = options.from?.get(topic)?.get(p.partition) ?? Number(p.low);
        if (Number(p.high) > start) targets.set(`${topic}/${p.partition}`, Number(p.high) - 1);
      }
    }
  } finally {
    await admin.disconnect();
  }
  const seen: ReadRecord[] = [];
  if (targets.size === 0) return seen;
  const reached = new Map<string, number>();
  const consumer = kafka.consumer({ groupId: `faults-reader-${randomUUID()}`, readUncommitted: false, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxBytesPerPartition: 4 * 1024 * 1024 });
  const progress = (topic: string, partition: number, lastOffset: string) => {
    const k = `${topic}/${partition}`;
    reached.set(k, Math.max(reached.get(k) ?? -1, Number(lastOffset)));
  };
  const finished = () => [...targets].every(([k, end]) => (reached.get(k) ?? -1) >= end);
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => progress(e.payload.topic, e.payload.partition, e.payload.lastOffset));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = String(Array.isArray(v) ? v[v.length - 1] : v);
          const r = { topic: batch.topic, partition: batch.partition, offset: Number(m.offset), key: m.key, value: m.value, headers };
          if (keep(r)) seen.push(r);
        }
      },
    });
    for (const [topic, partitions] of options.from ?? []) {
      if (topics.includes(topic)) for (const [partition, offset] of partitions) consumer.seek({ topic, partition, offset: String(offset) });
    }
    const timeoutMs = options.timeoutMs ?? 60_000;
    if (!(await waitUntil(finished, timeoutMs, 200))) {
      const behind = [...targets].filter(([k, end]) => (reached.get(k) ?? -1) < end).map(([k, end]) => `${k} at ${reached.get(k) ?? 'nothing'} of ${end}`);
      throw new Error(`reading ${topics.join(', ')} to the end timed out after ${timeoutMs / 1000} s with ${seen.length} records kept (behind: ${behind.slice(0, 6).join('; ')})`);
    }
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

/** Current end offsets (partition -> high watermark) of `topics`: a reader's `from` that skips history. */
export async function currentEnds(kafka: Kafka, topics: string[]): Promise<Map<string, Map<number, number>>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const out = new Map<string, Map<number, number>>();
    for (const topic of topics) out.set(topic, new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)])));
    return out;
  } finally {
    await admin.disconnect();
  }
}
