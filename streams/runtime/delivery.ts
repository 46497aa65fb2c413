// Writes a batch's outputs and dead letters, then commits the input offsets, in the order the
// processor's semantics require. This is the only place offsets are committed:
//   at-least-once: produce (acks=all, idempotent) -> wait for every ack -> commit offsets.
//   exactly-once:  begin txn -> produce -> sendOffsets -> commit txn (all or nothing).
// If the broker refuses a message for good (too large, invalid), the unit is split by source record
// and retried; the record whose output is refused becomes a PRODUCE dead letter instead, so one bad
// record can never block its partition.
import type { Consumer, Message, Producer, TopicMessages } from 'kafkajs';
import type { TopicSpec } from '../../schemas/topics.ts';
import { ProduceError } from './errors.ts';
import type { EncodedMessage, Failure, RawRecord } from './batch.ts';
import type { DeliverySemantics } from './processor.ts';

/** Bytes a record adds beyond key, value and headers in a v2 record batch (conservative). */
const RECORD_OVERHEAD_BYTES = 128;

export interface DeliveryTarget {
  semantics: DeliverySemantics;
  groupId: string;
  producer: Producer;
  consumer: Consumer;
  /** max.message.bytes per output topic name, from the topic declarations. */
  maxBytes: Map<string, number>;
  /** Builds the dead letter for a record whose output the broker refused (minimal: without the original bytes). */
  deadLetter: (failure: Failure, options?: { minimal?: boolean }) => EncodedMessage;
}

export interface DeliverySource {
  topic: string;
  partition: number;
  /**
   * Stored with the committed offset. The runner puts the newest record timestamp of the batch
   * there, so a state rebuild knows how far back in time to replay (state-rebuild.ts).
   */
  commitMetadata?: string;
}

export interface DeliveryReport {
  delivered: EncodedMessage[];
  /** Records that became PRODUCE dead letters during delivery. */
  produceFailures: Failure[];
}

export function maxBytesByTopic(specs: TopicSpec[]): Map<string, number> {
  return new Map(specs.map((s) => [s.name, s.maxMessageBytes]));
}

export function messageSize(m: EncodedMessage): number {
  let size = m.value.length + (m.key ? Buffer.byteLength(m.key) : 0) + RECORD_OVERHEAD_BYTES;
  for (const [k, v] of Object.entries(m.headers)) size += Buffer.byteLength(k) + Buffer.byteLength(v);
  return size;
}

export async function deliver(
  target: DeliveryTarget,
  source: DeliverySource,
  records: RawRecord[],
  messages: EncodedMessage[],
): Promise<DeliveryReport> {
  const report: DeliveryReport = { delivered: [], produceFailures: [] };
  const byOffset = new Map(records.map((r) => [r.offset, r]));
  // Refuse what the topic would refuse before sending, so a transaction is not poisoned by it.
  const oversized = new Map<string, EncodedMessage>();
  for (const m of messages) {
    const limit = target.maxBytes.get(m.topic);
    if (limit !== undefined && !m.topic.endsWith('.dlq') && messageSize(m) > limit && !oversized.has(m.sourceOffset)) oversized.set(m.sourceOffset, m);
  }
  const accepted: EncodedMessage[] = [];
  for (const [offset, m] of oversized) {
    const error = new ProduceError(`output to ${m.topic} is ${messageSize(m)} bytes, over the topic's max.message.bytes ${target.maxBytes.get(m.topic)}`);
    const failure = { record: byOffset.get(offset)!, error };
    report.produceFailures.push(failure);
    accepted.push(target.deadLetter(failure));
  }
  accepted.push(...messages.filter((m) => !oversized.has(m.sourceOffset)));
  const last = records[records.length - 1].offset;
  await deliverUnit(target, source, accepted, nextOffset(last), byOffset, report);
  return report;
}

async function deliverUnit(
  target: DeliveryTarget,
  source: DeliverySource,
  messages: EncodedMessage[],
  commitOffset: string,
  byOffset: Map<string, RawRecord>,
  report: DeliveryReport,
): Promise<void> {
  try {
    await sendAndCommit(target, source, messages, commitOffset);
    report.delivered.push(...messages);
  } catch (err) {
    if ((err as { retriable?: boolean }).retriable !== false) throw err;
    const groups = [...groupBySource(messages)].sort((a, b) => compareOffsets(a[0], b[0]));
    if (groups.length <= 1) {
      const offset = groups[0]?.[0];
      const record = offset ? byOffset.get(offset) : undefined;
      const isDeadLetter = messages.every((m) => m.topic === `${source.topic}.dlq`);
      if (isDeadLetter && messages.every((m) => m.deadLetterOf && !m.minimal)) {
        // The broker refuses even the (size-bounded) dead letter, e.g. a topic whose limit was set
        // lower by hand: send the minimal one (coordinates, reason, digest) so the partition moves on.
        await deliverUnit(target, source, messages.map((m) => target.deadLetter(m.deadLetterOf!, { minimal: true })), commitOffset, byOffset, report);
        return;
      }
      if (!record || isDeadLetter) throw err; // even a minimal dead letter is refused: stop rather than lose it
      const failure = { record, error: new ProduceError(`broker refused output: ${(err as Error).message}`, { cause: err }) };
      report.produceFailures.push(failure);
      await deliverUnit(target, source, [target.deadLetter(failure)], commitOffset, byOffset, report);
      return;
    }
    for (let i = 0; i < groups.length; i++) {
      const [offset, group] = groups[i];
      // The last group commits the whole batch's end offset (it may include records with no output).
      const commit = i === groups.length - 1 ? commitOffset : nextOffset(offset);
      await deliverUnit(target, source, group, commit, byOffset, report);
    }
  }
}

// A transactional producer has one transaction open at a time (kafkajs: "There is already an
// ongoing transaction"), but with STREAMSCORE_PARTITION_CONCURRENCY > 1 chunks of several partitions
// reach delivery together: their handling stays concurrent, their transactions take turns. Without
// this the second chunk failed, the session restarted and was fenced by its own transactional id.
const transactionQueues = new WeakMap<object, Promise<unknown>>();
export function oneTransactionAtATime<T>(producer: object, work: () => Promise<T>): Promise<T> {
  const turn = (transactionQueues.get(producer) ?? Promise.resolve()).then(work, work);
  transactionQueues.set(producer, turn.catch(() => undefined));
  return turn;
}

async function sendAndCommit(target: DeliveryTarget, source: DeliverySource, messages: EncodedMessage[], offset: string): Promise<void> {
  const topicMessages = toTopicMessages(messages);
  const metadata = source.commitMetadata ?? null;
  const offsets = [{ topic: source.topic, partitions: [{ partition: source.partition, offset, metadata }] }];
  if (target.semantics === 'exactly-once') {
    await oneTransactionAtATime(target.producer, async () => {
      const txn = await target.producer.transaction();
      try {
        if (topicMessages.length) await txn.sendBatch({ topicMessages, acks: -1 });
        await txn.sendOffsets({ consumerGroupId: target.groupId, topics: offsets });
        await txn.commit();
      } catch (err) {
        await txn.abort().catch(() => undefined);
        throw err;
      }
    });
    return;
  }
  if (topicMessages.length) await target.producer.sendBatch({ topicMessages, acks: -1 });
  await target.consumer.commitOffsets([{ topic: source.topic, partition: source.partition, offset, metadata }]);
}

function toTopicMessages(messages: EncodedMessage[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const m of messages) {
    const list = byTopic.get(m.topic) ?? [];
    list.push({ key: m.key, value: m.value, headers: m.headers });
    byTopic.set(m.topic, list);
  }
  return [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs }));
}

function groupBySource(messages: EncodedMessage[]): Map<string, EncodedMessage[]> {
  const m = new Map<string, EncodedMessage[]>();
  for (const msg of messages) m.set(msg.sourceOffset, [...(m.get(msg.sourceOffset) ?? []), msg]);
  return m;
}

export function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

function compareOffsets(a: string, b: string): number {
  const d = BigInt(a) - BigInt(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}
