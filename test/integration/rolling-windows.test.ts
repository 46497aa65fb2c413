// The Lua rolling windows (incremental, in Redis) against the in-memory twin that recomputes every
// aggregate from its buckets: same acceptance of each reading, same features after every batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURE_NAMES, features } from '../../streams/maintenance/features.ts';
import { rollingWindows } from '../../streams/maintenance/rolling-windows.ts';
import { edgeCaseReadings } from '../../streams/maintenance/test-readings.ts';
import { runId, useRedis } from './helpers.ts';

const redis = useRedis();

export function assertFeaturesClose(actual: Float64Array, expected: Float64Array, context: string, tolerance = 1e-9): void {
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) || Number.isNaN(a)) {
      assert.ok(Number.isNaN(a) && Number.isNaN(e), `${context} ${FEATURE_NAMES[i]}: ${a} vs ${e}`);
      continue;
    }
    assert.ok(Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e)), `${context} ${FEATURE_NAMES[i]}: ${a} vs ${e}`);
  }
}

test('Lua incremental windows equal the from-scratch twin on out-of-order, gappy streams', { timeout: 120_000 }, async () => {
  const readings = edgeCaseReadings({ arms: 4, hours: 40, seed: 11 });
  const spec = rollingWindows();
  const viaRedis = spec.open({ kind: 'redis', redis: redis() }, `it:${runId()}`);
  const inMemory = spec.open({ kind: 'memory' }, 'memory');
  const counts = { accepted: 0, late: 0, duplicate: 0 };
  for (let i = 0; i < readings.length; i += 97) {
    const batch = readings.slice(i, i + 97);
    const r = await viaRedis.apply(batch);
    const m = await inMemory.apply(batch);
    assert.deepEqual(r.results, m.results, `batch at ${i}`);
    for (const x of r.results) counts[x]++;
    for (const [arm, agg] of m.arms) assertFeaturesClose(features(r.arms.get(arm)!), features(agg), `batch ${i} ${arm}`);
  }
  assert.ok(counts.late > 10, `the stream must exercise lateness (late: ${counts.late})`);
  assert.ok(counts.accepted > 5_000, `accepted ${counts.accepted}`);
  // A redelivered batch changes nothing.
  const replay = readings.slice(500, 600);
  const again = await viaRedis.apply(replay);
  assert.ok(again.results.every((x) => x === 'duplicate'));
});
