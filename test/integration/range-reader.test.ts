// The range reader shared by the state rebuild, replay and `plant export --from-topic`, against the
// real Kafka: a transactional topic (commit markers after each transaction, an aborted one in the
// middle) read over [start, end) hands over each committed record once, in order, ends at a marker
// as well as at a record, leaves an untouched partition unread, and deletes its group — also when
// the callback fails. offsetsAtTime finds the first offset at or after a record timestamp.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { offsetsAtTime, readRanges } from '../../streams/runtime/range-reader.ts';
import { quietLog, runId, testKafka } from './helpers.ts';
import { waitUntil } from '../../infra/stack/process.ts';

test('readRanges: committed records of [start, end) once and in order, through aborted records and commit markers; groups deleted', { timeout: 60_000 }, async () => {
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  const topic = `${runId()}.range-reader`;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, transactionalId: `${topic}-tx` });
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
    await producer.connect();
    // Partition 0: 10 committed, 5 aborted, 10 committed (record i: value v<i>, timestamp 1000 * (i + 1)); partition 1 stays empty.
    let n = 0;
    for (const [count, commit] of [[10, true], [5, false], [10, true]] as const) {
      const txn = await producer.transaction();
      await txn.send({ topic, messages: Array.from({ length: count }, () => {
        const i = n++;
        return { partition: 0, key: 'k', value: `v${i}`, timestamp: String(1_000 * (i + 1)) };
      }) });
      await (commit ? txn.commit() : txn.abort());
    }
    // The coordinator writes commit and abort markers after EndTxn has answered, and the admin's
    // offsets are read committed (the last stable offset), so the end can briefly sit before the last
    // transaction's marker: wait for it rather than race it.
    let end = -1;
    await waitUntil(async () => {
      const [p0] = (await admin.fetchTopicOffsets(topic)).filter((p) => p.partition === 0);
      end = Number(p0.high);
      return end >= 28;
    }, 15_000, 100);
    assert.equal(end, 28, '25 records and 3 markers');

    const read = async (ranges: { start: number; end: number }[]) => {
      const got: string[] = [];
      const count = await readRanges({ kafka, admin, log: quietLog, groupPrefix: `${topic}-reader`, ranges: ranges.map((r) => ({ topic, partition: 0, ...r })), onRecords: async (tp, records) => void got.push(...records.map((r) => `${tp.partition}:${r.offset}:${r.value}`)) });
      assert.equal(count, got.length);
      return got;
    };
    const committedFrom3 = [...[3, 4, 5, 6, 7, 8, 9].map((o) => `0:${o}:v${o}`), ...Array.from({ length: 10 }, (_, i) => `0:${17 + i}:v${15 + i}`)];
    assert.deepEqual(await read([{ start: 3, end }]), committedFrom3, 'to the end: the last offset is a commit marker');
    assert.deepEqual(await read([{ start: 0, end: 4 }]), ['0:0:v0', '0:1:v1', '0:2:v2', '0:3:v3'], 'an end inside the partition');
    assert.deepEqual(await read([{ start: 10, end: 16 }]), [], 'a range of aborted records and markers only ends too');
    assert.deepEqual(await read([{ start: 5, end: 5 }]), [], 'an empty range reads nothing');

    await assert.rejects(
      readRanges({ kafka, admin, groupPrefix: `${topic}-reader`, ranges: [{ topic, partition: 0, start: 0, end }], onRecords: async () => { throw new Error('the store is gone'); } }),
      /the store is gone/,
    );
    const { groups } = await admin.listGroups();
    assert.deepEqual(groups.filter((g) => g.groupId.startsWith(`${topic}-reader`)), [], 'every throwaway group is deleted');

    const byTime = await offsetsAtTime(admin, topic, 5_500);
    assert.equal(byTime.get(0), 5, 'the first record at or after 5.5 s (v5, at 6 s) is at offset 5');
    assert.equal(byTime.get(1), 0, 'an empty partition: its end');
    // (Commit markers carry the producer's wall clock, so "after everything" is after now here.)
    assert.equal((await offsetsAtTime(admin, topic, Date.now() + 3_600_000)).get(0), end, 'after the last record and marker: the end');
  } finally {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
});
