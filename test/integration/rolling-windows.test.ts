// The Lua rolling windows (incremental, in Redis) against the in-memory twin that recomputes every
// aggregate from its buckets: same acceptance of each reading, same features after every batch —
// for the simulator's spec and for another plant's (hourly cycles, five channels, three windows,
// two EMAs). And the deploy that made the script generic: state written before it is adopted,
// state built with another spec starts afresh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPlantProfile } from '../../schemas/factory/plant-profile.ts';
import { FEATURE_NAMES, SIMULATOR_SPEC, featureSpecOf, features, type FeatureSpec } from '../../streams/maintenance/features.ts';
import { rollingWindows, type RollingWindowsStore, type WindowReading } from '../../streams/maintenance/rolling-windows.ts';
import { PARITY_PLANT_FILE, edgeCaseReadings, parityPlantReadings } from '../../streams/maintenance/test-readings.ts';
import { runId, useRedis } from './helpers.ts';

const redis = useRedis();

export function assertFeaturesClose(actual: Float64Array, expected: Float64Array, context: string, tolerance = 1e-9, names: readonly string[] = FEATURE_NAMES): void {
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) || Number.isNaN(a)) {
      assert.ok(Number.isNaN(a) && Number.isNaN(e), `${context} ${names[i]}: ${a} vs ${e}`);
      continue;
    }
    assert.ok(Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e)), `${context} ${names[i]}: ${a} vs ${e}`);
  }
}

/** Feeds both stores batch by batch; every result and every touched arm's features must agree. */
async function assertStoresAgree(viaRedis: RollingWindowsStore, inMemory: RollingWindowsStore, readings: WindowReading[], batchSize: number) {
  const counts = { accepted: 0, late: 0, duplicate: 0 };
  for (let i = 0; i < readings.length; i += batchSize) {
    const batch = readings.slice(i, i + batchSize);
    const r = await viaRedis.apply(batch);
    const m = await inMemory.apply(batch);
    assert.deepEqual(r.results, m.results, `batch at ${i}`);
    assert.deepEqual(r.reset, [], `batch at ${i}`);
    for (const x of r.results) counts[x]++;
    assert.deepEqual([...r.arms.keys()].sort(), [...m.arms.keys()].sort(), `batch at ${i}`);
    for (const [arm, agg] of m.arms) assertFeaturesClose(features(r.arms.get(arm)!), features(agg), `batch ${i} ${arm}`, 1e-9, inMemory.spec.names);
  }
  return counts;
}

test('Lua incremental windows equal the from-scratch twin on out-of-order, gappy streams', { timeout: 120_000 }, async () => {
  const readings = edgeCaseReadings({ arms: 4, hours: 40, seed: 11 });
  const spec = rollingWindows();
  const viaRedis = spec.open({ kind: 'redis', redis: redis() }, `it:${runId()}`);
  const inMemory = spec.open({ kind: 'memory' }, 'memory');
  const counts = await assertStoresAgree(viaRedis, inMemory, readings, 97);
  assert.ok(counts.late > 10, `the stream must exercise lateness (late: ${counts.late})`);
  assert.ok(counts.accepted > 5_000, `accepted ${counts.accepted}`);
  // A redelivered batch changes nothing.
  const replay = readings.slice(500, 600);
  const again = await viaRedis.apply(replay);
  assert.ok(again.results.every((x) => x === 'duplicate'));
});

test('the same for another plant: hourly buckets, 5 channels (codes are not names), 3 windows, 2 EMAs', { timeout: 120_000 }, async () => {
  const spec = featureSpecOf(loadPlantProfile(PARITY_PLANT_FILE));
  const readings = parityPlantReadings({ arms: 4, hours: 30, seed: 23 });
  const store = rollingWindows({ spec });
  const namespace = `it:${runId()}`;
  const counts = await assertStoresAgree(store.open({ kind: 'redis', redis: redis() }, namespace), store.open({ kind: 'memory' }, 'memory'), readings, 61);
  assert.ok(counts.late > 10 && counts.accepted > 5_000, `lateness and volume (${JSON.stringify(counts)})`);
  // Hash fields are keyed by the channel codes, and the TTL follows the ring of 30 hourly buckets.
  const key = redis().key(namespace, 'arm-0');
  const fields = await redis().client.hkeys(key);
  assert.deepEqual([...new Set(fields.filter((f) => f.startsWith('r:')))].sort(), ['r:oil', 'r:p30', 'r:t', 'r:t50', 'r:v']);
  const ttl = await redis().client.pttl(key);
  assert.ok(ttl > 35 * 3_600_000 && ttl <= 36 * 3_600_000, `TTL ${ttl} ms`);
});

test('state written before the spec field is adopted; state built with another spec starts afresh and is reported', { timeout: 60_000 }, async () => {
  const readings = edgeCaseReadings({ arms: 2, hours: 14, seed: 3 });
  const half = readings.findIndex((r) => r.eventTime > readings[0].eventTime + 7 * 3_600_000);
  const namespace = `it:${runId()}`;
  const viaRedis = rollingWindows().open({ kind: 'redis', redis: redis() }, namespace);
  const inMemory = rollingWindows().open({ kind: 'memory' }, 'memory');
  await assertStoresAgree(viaRedis, inMemory, readings.slice(0, half), 50);
  // What the script before the header block left behind: the same fields, without `spec`.
  const keys = ['arm-0', 'arm-1'].map((a) => redis().key(namespace, a));
  for (const key of keys) assert.equal(await redis().client.hdel(key, 'spec'), 1);
  await assertStoresAgree(viaRedis, inMemory, readings.slice(half), 50);

  // The plant's profile changes its windows: the old sums mean nothing under the new spec.
  const changed: FeatureSpec = { ...SIMULATOR_SPEC, windows: [{ label: '2h', buckets: 120 }, ...SIMULATOR_SPEC.windows.slice(1)], names: SIMULATOR_SPEC.names.map((n) => n.replace('_1h', '_2h')) };
  const next = { arm: 'arm-0', sensor: 'VIBRATION' as const, value: 4.5, eventTime: readings[readings.length - 1].eventTime + 60_000, offset: 1_000_000 };
  const after = await rollingWindows({ spec: changed }).open({ kind: 'redis', redis: redis() }, namespace).apply([next]);
  assert.deepEqual(after.reset, ['arm-0']);
  const fresh = await rollingWindows({ spec: changed }).open({ kind: 'memory' }, 'fresh').apply([next]);
  assertFeaturesClose(features(after.arms.get('arm-0')!), features(fresh.arms.get('arm-0')!), 'after the reset', 1e-12, changed.names);
});

test('the script refuses a channel code outside its spec before it writes anything', { timeout: 30_000 }, async () => {
  const namespace = `it:${runId()}`;
  const store = rollingWindows().open({ kind: 'redis', redis: redis() }, namespace);
  await store.apply([{ arm: 'arm-0', sensor: 'VIBRATION', value: 3, eventTime: 0, offset: 0 }]);
  const key = redis().key(namespace, 'arm-0');
  const before = await redis().client.hgetall(key);
  // What a caller that bypassed the store's own check would send: a valid reading, then code `x`.
  const header = [60_000, 5, 3_600_000, 720, 3, 60, 360, 720, 3, 3_600_000, 21_600_000, 43_200_000, 3, 'v', 't', 'p'];
  await assert.rejects(redis().runScript('streamscoreRollingWindows', [key], [...header, 1, 'v', 4, 60_000, 1, 1, 'x', 5, 60_000, 2]), /channel code x is not in the spec/);
  assert.deepEqual(await redis().client.hgetall(key), before);
});
