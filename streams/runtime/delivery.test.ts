// Unit tests of the delivery/commit ordering and the split-on-refusal logic, with a recording fake
// of the few kafkajs producer/consumer calls delivery.ts makes (the real thing is covered by the
// integration tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Consumer, Producer } from 'kafkajs';
import { deliver, type DeliveryTarget } from './delivery.ts';
import type { EncodedMessage, RawRecord } from './batch.ts';
import { ProduceError } from './errors.ts';

function fakeKafka(refuse: (value: string) => boolean) {
  const calls: string[] = [];
  const send = async ({ topicMessages }: { topicMessages: { topic: string; messages: { value: Buffer }[] }[] }) => {
    const values = topicMessages.flatMap((t) => t.messages.map((m) => `${t.topic}:${m.value.toString()}`));
    if (values.some((v) => refuse(v))) {
      calls.push(`refused ${values.join(',')}`);
      throw Object.assign(new Error('INVALID_RECORD'), { retriable: false });
    }
    calls.push(`send ${values.join(',')}`);
  };
  const producer = {
    sendBatch: send,
    transaction: async () => ({
      sendBatch: async (a: Parameters<typeof send>[0]) => { calls.push('txn.begin'); await send(a); },
      sendOffsets: async ({ topics }: { topics: { partitions: { offset: string }[] }[] }) => { calls.push(`txn.offsets ${topics[0].partitions[0].offset}`); },
      commit: async () => { calls.push('txn.commit'); },
      abort: async () => { calls.push('txn.abort'); },
    }),
  } as unknown as Producer;
  const consumer = { commitOffsets: async (o: { offset: string }[]) => { calls.push(`commit ${o[0].offset}`); } } as unknown as Consumer;
  return { calls, producer, consumer };
}

const raw = (offset: number): RawRecord => ({ topic: 'in', partition: 0, offset: String(offset), key: null, value: Buffer.from(`r${offset}`), timestamp: 0, headers: {} });
const out = (offset: number, value = `o${offset}`, topic = 'out'): EncodedMessage => ({ topic, key: 'k', value: Buffer.from(value), headers: {}, sourceTimestamp: 0, sourceOffset: String(offset) });

function target(semantics: DeliveryTarget['semantics'], k: ReturnType<typeof fakeKafka>): DeliveryTarget {
  return {
    semantics,
    groupId: 'g',
    producer: k.producer,
    consumer: k.consumer,
    maxBytes: new Map([['out', 200]]),
    deadLetter: (f) => ({ topic: 'in.dlq', key: null, value: Buffer.from(`dead-${f.record.offset}-${f.error.stage}`), headers: {}, sourceTimestamp: 0, sourceOffset: f.record.offset }),
  };
}

test('at-least-once: outputs are acknowledged before the offset after the batch is committed', async () => {
  const k = fakeKafka(() => false);
  const report = await deliver(target('at-least-once', k), { topic: 'in', partition: 0 }, [raw(5), raw(6), raw(7)], [out(5), out(7)]);
  assert.deepEqual(k.calls, ['send out:o5,out:o7', 'commit 8']);
  assert.equal(report.delivered.length, 2);
});

test('exactly-once: outputs and offsets go in one transaction', async () => {
  const k = fakeKafka(() => false);
  await deliver(target('exactly-once', k), { topic: 'in', partition: 0 }, [raw(5), raw(6)], [out(5), out(6)]);
  assert.deepEqual(k.calls, ['txn.begin', 'send out:o5,out:o6', 'txn.offsets 7', 'txn.commit']);
});

test('a refused output is isolated: its record becomes a PRODUCE dead letter, the rest are delivered in order', async () => {
  const k = fakeKafka((v) => v === 'out:o6');
  const report = await deliver(target('at-least-once', k), { topic: 'in', partition: 0 }, [raw(5), raw(6), raw(7)], [out(5), out(6), out(7)]);
  assert.deepEqual(k.calls, ['refused out:o5,out:o6,out:o7', 'send out:o5', 'commit 6', 'refused out:o6', 'send in.dlq:dead-6-produce', 'commit 7', 'send out:o7', 'commit 8']);
  assert.deepEqual(report.produceFailures.map((f) => f.record.offset), ['6']);
  assert.ok(report.produceFailures[0].error instanceof ProduceError);
});

test('in exactly-once the refused transaction is aborted before splitting', async () => {
  const k = fakeKafka((v) => v === 'out:o6');
  await deliver(target('exactly-once', k), { topic: 'in', partition: 0 }, [raw(5), raw(6)], [out(5), out(6)]);
  assert.deepEqual(k.calls.slice(0, 3), ['txn.begin', 'refused out:o5,out:o6', 'txn.abort']);
  assert.deepEqual(k.calls.slice(-4), ['txn.begin', 'send in.dlq:dead-6-produce', 'txn.offsets 7', 'txn.commit']);
});

test('an output over the topic max.message.bytes is dead-lettered before sending', async () => {
  const k = fakeKafka(() => false);
  const report = await deliver(target('at-least-once', k), { topic: 'in', partition: 0 }, [raw(1), raw(2)], [out(1), out(2, 'x'.repeat(500))]);
  assert.deepEqual(k.calls, ['send in.dlq:dead-2-produce,out:o1', 'commit 3']);
  assert.match(report.produceFailures[0].error.message, /over the topic's max.message.bytes 200/);
});

test('retriable errors propagate so the batch is retried, never dead-lettered', async () => {
  const k = fakeKafka(() => false);
  const t = target('at-least-once', k);
  t.producer = { sendBatch: async () => { throw Object.assign(new Error('NOT_LEADER'), { retriable: true }); } } as unknown as Producer;
  await assert.rejects(deliver(t, { topic: 'in', partition: 0 }, [raw(1)], [out(1)]), /NOT_LEADER/);
});
