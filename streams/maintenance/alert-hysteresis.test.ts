import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryAlertHysteresis } from './alert-hysteresis.ts';
import { CASES, RULES, formatTransition, scoreFor } from './hysteresis-cases.ts';

for (const c of CASES) {
  test(`hysteresis (memory): ${c.name}`, async () => {
    const store = new MemoryAlertHysteresis();
    const got: string[] = [];
    for (const [i, step] of c.steps.entries()) got.push(formatTransition((await store.apply([scoreFor(step, i)], { ...RULES, ...c.rules }))[0]));
    assert.deepEqual(got, c.expected);
  });
}
