// The Lua alert state machine must behave exactly like the in-memory one on every scenario.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertHysteresis } from '../../streams/maintenance/alert-hysteresis.ts';
import { CASES, RULES, formatTransition, scoreFor } from '../../streams/maintenance/hysteresis-cases.ts';
import { runId, useRedis } from './helpers.ts';

const redis = useRedis();

for (const c of CASES) {
  test(`hysteresis (Redis Lua): ${c.name}`, async () => {
    const store = alertHysteresis().open({ kind: 'redis', redis: redis() }, `it:${runId()}`);
    const got: string[] = [];
    for (const [i, step] of c.steps.entries()) got.push(formatTransition((await store.apply([scoreFor(step, i)], { ...RULES, ...c.rules }))[0]));
    assert.deepEqual(got, c.expected);
  });
}
