// The swap bookkeeping on its own: a set is closed only when it is no longer current and no chunk
// holds it (chunks of several partitions at once), exactly once; and a candidate whose topology
// differs in more than its model versions is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS } from '../../schemas/topics.ts';
import { createLogger } from './logger.ts';
import { defineProcessor, type ProcessorDefinition } from './processor.ts';
import { topologyChange } from './served-processor.ts';
import { ServingSets, type ServingSet } from './serving-set.ts';

const log = createLogger({ test: true }).child({}, { level: 'silent' });

function fakeSet(id: number, closed: number[]): ServingSet {
  return { id, def: {} as ProcessorDefinition, models: {}, pool: null, slots: [], close: async () => void closed.push(id) };
}

test('a swapped-out set closes once, after the last chunk that holds it is released', async () => {
  const closed: number[] = [];
  const sets = new ServingSets(fakeSet(1, closed), log);
  const a = sets.acquire();
  const b = sets.acquire();
  assert.equal(sets.swap(fakeSet(2, closed)).id, 1);
  const c = sets.acquire();
  assert.deepEqual([a.set.id, b.set.id, c.set.id], [1, 1, 2], 'chunks that started before the swap keep the old set; a new chunk gets the new one');
  a.release();
  a.release(); // a second release of the same lease counts once
  await Promise.resolve();
  assert.deepEqual(closed, [], 'still held by one chunk');
  b.release();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(closed, [1]);
  c.release();
  assert.deepEqual(closed, [1], 'the current set stays open with no chunk');
  sets.swap(fakeSet(3, closed)); // nothing holds 2: it closes at once
  await sets.close();
  assert.deepEqual(closed.sort(), [1, 2, 3]);
  await sets.close();
  assert.equal(closed.length, 3, 'closing twice closes nothing twice');
});

test('topologyChange allows other model versions and files, and names anything else that changed', () => {
  const base = (overrides: Partial<ProcessorDefinition> = {}, version = '1'): ProcessorDefinition => defineProcessor({
    name: 'swap-test',
    description: `scores with m ${version}`,
    inputs: [TOPICS.sensorReadingsValidated],
    outputs: [TOPICS.maintenancePredictions],
    semantics: 'exactly-once',
    semanticsReason: 'test',
    models: [{ name: 'm', version, file: `/models/${version}/model.onnx`, signature: { inputs: { x: { type: 'float32', shape: ['N', 3] } }, outputs: { y: { type: 'float32', shape: ['N', 2] } } } }],
    handle: async () => [],
    ...overrides,
  });
  assert.equal(topologyChange(base(), base({}, '2')), null);
  assert.match(topologyChange(base(), base({ outputs: [TOPICS.maintenancePredictions, TOPICS.maintenanceAlerts] }, '2')) ?? '', /change the processor's sinks/);
  const wider = base({ models: [{ ...base().models![0], version: '2', signature: { inputs: { x: { type: 'float32', shape: ['N', 4] } }, outputs: { y: { type: 'float32', shape: ['N', 2] } } } }] });
  assert.match(topologyChange(base(), wider) ?? '', /models/);
  assert.match(topologyChange(base(), base({ semantics: 'at-least-once', outputs: [] })) ?? '', /semantics/);
});
