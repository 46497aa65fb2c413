import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RawRecord } from '../batch.ts';
import { ChunkPlan, PartitionChunker, parseCoordinates } from './chunk-plan.ts';

const T = 'factory.sensor-readings-validated.v1';
const records = (...offsets: number[]): RawRecord[] => offsets.map((o) => ({ topic: T, partition: 0, offset: String(o), key: null, value: null, timestamp: 1_000 + o, headers: {} }));
const offsetsOf = (chunks: { records: RawRecord[] }[]) => chunks.map((c) => c.records.map((r) => Number(r.offset)));

test('coordinates: chunk and source headers parse; malformed ones are null', () => {
  assert.deepEqual(parseCoordinates(`${T}/3/10-19`), { topic: T, partition: 3, first: 10, last: 19 });
  assert.deepEqual(parseCoordinates(`${T}/3/12`), { topic: T, partition: 3, first: 12, last: 12 });
  for (const bad of [undefined, '', `${T}/3`, `${T}/x/1-2`, `${T}/3/9-2`]) assert.equal(parseCoordinates(bad), null, String(bad));
});

test('plan: one chunk per header, sorted; the earliest stamp of a chunk wins; overlapping chunks are dropped and counted', () => {
  const plan = new ChunkPlan();
  plan.add(`${T}/0/20-29`, 50);
  plan.add(`${T}/0/0-9`, 30);
  plan.add(`${T}/0/0-9`, 20);
  plan.add(`${T}/0/5-12`, 40);
  plan.add(`${T}/1/0-4`);
  assert.deepEqual(plan.chunks(T, 0), [{ first: 0, last: 9, now: 20 }, { first: 20, last: 29, now: 50 }]);
  assert.equal(plan.conflicts, 1);
  assert.equal(plan.size, 4);
  assert.equal(plan.chunkEnd(T, 0, 25), 29);
  assert.equal(plan.chunkStart(T, 0, 25), 20);
  assert.equal(plan.chunkEnd(T, 0, 15), 15, 'an offset of no chunk is its own edge');
});

test('chunker: records are cut into the live chunks across arriving batches, gaps by the default size, never across a cut', () => {
  const live = [{ first: 2, last: 5 }, { first: 10, last: 11 }];
  const chunker = new PartitionChunker(live, 3, [16]);
  const cut = [
    ...chunker.push(records(0, 1, 2, 3)),
    ...chunker.push(records(5, 6, 7, 8, 9)), // offset 4 is a commit marker: the chunk still ends at 5
    ...chunker.push(records(10, 11, 12, 13, 14, 15, 16, 17)),
    ...chunker.flush(),
  ];
  assert.deepEqual(offsetsOf(cut), [[0, 1], [2, 3, 5], [6, 7, 8], [9], [10, 11], [12, 13, 14], [15], [16, 17]]);
  assert.deepEqual(cut.map((c) => c.live), [null, live[0], null, null, live[1], null, null, null]);
  assert.deepEqual(chunker.flush(), [], 'nothing left after a flush');
});

test('chunker: a live chunk whose last record never arrives (the range ends inside it) is flushed as it is', () => {
  const chunker = new PartitionChunker([{ first: 0, last: 9 }], 100);
  assert.deepEqual(chunker.push(records(0, 1, 2)), []);
  assert.deepEqual(offsetsOf(chunker.flush()), [[0, 1, 2]]);
});
