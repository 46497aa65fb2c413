import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InFlightGate } from './backpressure.ts';

test('pauses at the bound and resumes once the backlog halves', () => {
  const events: string[] = [];
  const gate = new InFlightGate(100, () => events.push('pause'), () => events.push('resume'));
  gate.acquire(60);
  assert.deepEqual(events, []);
  gate.acquire(40);
  assert.deepEqual(events, ['pause']);
  gate.acquire(10);
  gate.release(30);
  assert.equal(gate.isPaused, true, 'still above half');
  gate.release(30);
  assert.deepEqual(events, ['pause', 'resume']);
  assert.equal(gate.count, 50);
});
