// The canary hash against the fixture the Python twin is tested on (models/common/canary.py), the
// rollout tag's parsing, and the shadow topic guard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TOPICS } from '../../../schemas/topics.ts';
import { inCanary, parseRolloutTag, shadowSpec } from './rollout-state.ts';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/canary-keys.json', import.meta.url), 'utf8')) as { fraction: number; cases: [string, string, number, boolean][] };

test('every fixture key hashes into the canary exactly as the Python twin says (1,400 keys, two salts, non-ASCII)', () => {
  assert.ok(fixture.cases.length > 1000);
  for (const [salt, key, u32, in10] of fixture.cases) {
    assert.equal(createHash('sha256').update(`${salt}:${key}`).digest().readUInt32BE(0), u32, `${salt}:${key}`);
    assert.equal(inCanary(salt, key, fixture.fraction), in10, `${salt}:${key}`);
  }
  const arms = fixture.cases.filter(([salt, key]) => salt === '7' && /^arm-\d{3}$/.test(key));
  assert.equal(arms.length, 1000);
  assert.equal(arms.filter(([salt, key]) => inCanary(salt, key, 0.1)).length, arms.filter(([, , , in10]) => in10).length);
});

test('the rollout tag: shadow, canary with fraction and salt, none; anything else is refused by name', () => {
  assert.deepEqual(parseRolloutTag('{"stage":"shadow"}'), { stage: 'shadow' });
  assert.deepEqual(parseRolloutTag('{"stage":"canary","fraction":0.1,"salt":"3"}'), { stage: 'canary', fraction: 0.1, salt: '3' });
  assert.equal(parseRolloutTag('{"stage":"none"}'), null);
  assert.equal(parseRolloutTag(undefined), null);
  assert.throws(() => parseRolloutTag('{"stage":"canary","fraction":1.5,"salt":"3"}'), /fraction must be a number in \(0, 1\)/);
  assert.throws(() => parseRolloutTag('{"stage":"canary","fraction":0.1}'), /needs a salt/);
  assert.throws(() => parseRolloutTag('{"stage":"blue"}'), /stage must be/);
  assert.throws(() => parseRolloutTag('shadow'), /not JSON/);
});

test('shadow topics: <topic>.shadow with the same schema and key, 3-day retention; never a shadow of a shadow', () => {
  const s = shadowSpec(TOPICS.maintenancePredictions);
  assert.equal(s.name, 'factory.maintenance-predictions.v1.shadow');
  assert.equal(s.schema, TOPICS.maintenancePredictions.schema);
  assert.equal(s.key, TOPICS.maintenancePredictions.key);
  assert.equal(s.retentionMs, 3 * 24 * 3_600_000);
  assert.throws(() => shadowSpec(s), /refusing/);
});
