import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gauge, Registry } from 'prom-client';
import { ConsumerLag } from './consumer-lag.ts';

function lagGauge() {
  const registry = new Registry();
  const gauge = new Gauge({ name: 'lag', help: 'lag', labelNames: ['topic', 'partition'] as const, registers: [registry] });
  const read = async () => Object.fromEntries((await gauge.get()).values.map((v) => [v.labels.partition, v.value]));
  return { gauge, read };
}

test('a transaction marker after the last record counts as consumed: lag 0, not 1', async () => {
  const { gauge, read } = lagGauge();
  const lag = new ConsumerLag(gauge, 't');
  lag.assign([0, 1]);
  // 10 records at 0..9, commit marker at 10, high watermark 11; the fetch's lastOffset() is 10.
  lag.consumed(0, 11n, 11n);
  // Partition 1: records fetched up to 4, marker at 5 not fetched yet.
  lag.consumed(1, 5n, 6n);
  assert.deepEqual(await read(), { '0': 0, '1': 1 });
  // The marker fetched alone (kafkajs' END_BATCH_PROCESS with batchSize 0).
  lag.consumed(1, 6n, 6n);
  assert.deepEqual(await read(), { '0': 0, '1': 0 });
});

test('the broker refresh covers partitions not fetched yet and new data waiting; positions never go back', async () => {
  const { gauge, read } = lagGauge();
  const lag = new ConsumerLag(gauge, 't');
  lag.assign([0, 1, 2]);
  lag.consumed(0, 11n, 11n);
  lag.refresh(
    [{ partition: 0, high: '15', low: '0' }, { partition: 1, high: '8', low: '0' }, { partition: 2, high: '7', low: '3' }, { partition: 3, high: '99', low: '0' }],
    [{ partition: 0, offset: '5' }, { partition: 1, offset: '8' }, { partition: 2, offset: '-1' }],
  );
  // 0: position 11 (fetched) beats the older commit 5; 1: committed to the end; 2: never committed, starts at low 3; 3: not ours.
  assert.deepEqual(await read(), { '0': 4, '1': 0, '2': 4 });
  assert.deepEqual([...lag.current()], [[0, 4], [1, 0], [2, 4]]);
});

test('a rebalance drops the partitions this member no longer reads', async () => {
  const { gauge, read } = lagGauge();
  const lag = new ConsumerLag(gauge, 't');
  lag.assign([0, 1]);
  lag.consumed(0, 3n, 9n);
  lag.consumed(1, 3n, 9n);
  lag.assign([1]);
  assert.deepEqual(await read(), { '1': 6 });
  lag.consumed(0, 9n, 9n);
  assert.deepEqual(await read(), { '1': 6 }, 'a late report of a partition given away is ignored');
  assert.equal(lag.isAssigned(0), false);
});
