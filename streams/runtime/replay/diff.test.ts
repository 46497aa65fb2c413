import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffOutputs, formatDiff, type ComparedOutput } from './diff.ts';

const P = 'factory.maintenance-predictions.v1';
const A = 'factory.maintenance-alerts.v1';
const prediction = (arm: string, offset: number, p: number, scoredAt = 1): ComparedOutput => ({ topic: P, key: arm, source: `in/0/${offset}`, value: { arm_id: arm, failure_probability: p, scored_at: scoredAt, model_version: 'v1' } });
const alert = (arm: string, offset: number, state: string, p = 0.9): ComparedOutput => ({ topic: A, key: arm, source: `in/0/${offset}`, value: { arm_id: arm, state, event_time: Date.UTC(2026, 0, 1, 3, offset), failure_probability: p } });

test('identical outputs (scored_at aside) are the same, whatever their order', () => {
  const live = [prediction('a', 1, 0.25, 100), prediction('b', 2, 0.5, 100)];
  const replayed = [prediction('b', 2, 0.5, 999), prediction('a', 1, 0.25, 999)];
  const d = diffOutputs(live, replayed, [P, A]);
  assert.deepEqual(d.topics.map((t) => [t.topic, t.same, t.changed, t.onlyLive, t.onlyReplay]), [[P, 2, 0, 0, 0], [A, 0, 0, 0, 0]]);
  assert.equal(d.identical, true);
  assert.deepEqual(d.topics[0].numeric, []);
  assert.match(formatDiff(d), /reproduces the live outputs exactly/);
});

test('changed scores: max and mean |Δ| per numeric field and the count over 1e-6; sides matched on (topic, key, source)', () => {
  const live = [prediction('a', 1, 0.2), prediction('b', 2, 0.5), prediction('c', 3, 0.7), prediction('d', 4, 0.1)];
  const replayed = [prediction('a', 1, 0.3), prediction('b', 2, 0.5 + 1e-9), prediction('c', 3, 0.7), prediction('e', 5, 0.1)];
  const [p] = diffOutputs(live, replayed, [P]).topics;
  assert.deepEqual([p.same, p.changed, p.onlyLive, p.onlyReplay], [1, 2, 1, 1]);
  assert.equal(p.numeric.length, 1);
  const [n] = p.numeric;
  assert.equal(n.field, 'failure_probability');
  assert.ok(Math.abs(n.max - 0.1) < 1e-12);
  assert.ok(Math.abs(n.mean - (0.1 + 1e-9) / 3) < 1e-12);
  assert.deepEqual([n.over, n.compared], [1, 3]);
});

test('alerts raised or cleared differently are listed, by event time, with the side that raised them', () => {
  const live = [alert('a', 5, 'RAISED'), alert('b', 3, 'CLEARED', 0.1), alert('c', 7, 'RAISED')];
  const replayed = [alert('a', 5, 'RAISED'), alert('b', 3, 'RAISED'), alert('d', 1, 'RAISED', 0.95)];
  const d = diffOutputs(live, replayed, [A]);
  assert.deepEqual(d.alerts.map((x) => [x.key, x.side]), [['d', 'replay only'], ['b', 'both'], ['c', 'live only']]);
  assert.match(d.alerts[0].replay!, /^RAISED at 2026-01-01T03:01:00.000Z \(failure_probability 0.950\)$/);
  const text = formatDiff(d, 2);
  assert.match(text, /alerts raised or cleared differently: 3 \(first 2\)/);
  assert.match(text, /b: live CLEARED .* replay RAISED/);
  assert.doesNotMatch(text, /c: live RAISED/);
});

test('several outputs of one input on one topic match in order', () => {
  const live = [prediction('a', 1, 0.1), prediction('a', 1, 0.2)];
  const d = diffOutputs(live, [prediction('a', 1, 0.1)], [P]);
  assert.deepEqual([d.topics[0].same, d.topics[0].onlyLive], [1, 1]);
});
