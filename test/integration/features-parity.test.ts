// Acceptance: training/serving parity. The same readings go through the stream's features (the
// incremental Lua windows in the real Redis, and the in-memory twin) and through the training
// code's features (models/maintenance/features.py, run as a separate Python process); every one of
// the 42 features must agree to 1e-6 at every point the stream scored an arm. Case 2 does the same
// for another plant's spec with regime normalisation on (the stream normalises each reading before
// windowing, Python from the raw readings and the regimes file).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPlantProfile } from '../../schemas/factory/plant-profile.ts';
import { channelOf } from '../../schemas/factory/sensor-reading-rules.ts';
import { FEATURE_NAMES, featureSpecOf, features } from '../../streams/maintenance/features.ts';
import { normaliseReading, parseRegimes } from '../../streams/maintenance/regimes.ts';
import { rollingWindows, type RollingWindowsStore } from '../../streams/maintenance/rolling-windows.ts';
import { PARITY_PLANT_FILE, PARITY_REGIMES_FILE, edgeCaseReadings, parityPlantReadings } from '../../streams/maintenance/test-readings.ts';
import { runId, useRedis } from './helpers.ts';

const FEATURES_PY = new URL('../../models/maintenance/features.py', import.meta.url).pathname;
const PYTHON = process.env.STREAMSCORE_PYTHON ?? 'python3';

const redis = useRedis();
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'parity-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('stream features (Redis Lua and in-memory) equal the training features (Python) to 1e-6', { timeout: 180_000 }, async (t) => {
  const readings = edgeCaseReadings({ arms: 4, hours: 36, seed: 5 });
  const store = rollingWindows().open({ kind: 'redis', redis: redis() }, `it:${runId()}`);
  const twin = rollingWindows().open({ kind: 'memory' }, 'twin');
  const points: { arm_id: string; after: number }[] = [];
  const viaRedis: Float64Array[] = [];
  const viaMemory: Float64Array[] = [];
  let late = 0;
  for (let i = 0; i < readings.length; i += 17) {
    const batch = readings.slice(i, i + 17);
    const r = await store.apply(batch);
    const m = await twin.apply(batch);
    late += r.results.filter((x) => x === 'late').length;
    const lastIndex = i + batch.length - 1;
    for (const [arm, agg] of r.arms) {
      points.push({ arm_id: arm, after: lastIndex });
      viaRedis.push(features(agg));
      viaMemory.push(features(m.arms.get(arm)!));
    }
  }
  assert.ok(late > 0 && points.length > 300, `exercise lateness and many points (late ${late}, points ${points.length})`);
  writeFileSync(join(dir, 'readings.jsonl'), readings.map((r) => JSON.stringify({ arm_id: r.arm, sensor: r.sensor, value: r.value, event_time: r.eventTime })).join('\n'));
  writeFileSync(join(dir, 'points.json'), JSON.stringify(points));
  const py = spawnSync(PYTHON, [FEATURES_PY, '--readings', join(dir, 'readings.jsonl'), '--points', join(dir, 'points.json'), '--out', join(dir, 'out.json')], { encoding: 'utf8' });
  assert.equal(py.status, 0, `python features failed: ${py.stderr}`);
  const expected = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as { arm_id: string; features: Record<string, number | null> }[];
  assert.equal(expected.length, points.length);
  let worst = 0;
  expected.forEach((e, k) => {
    for (const [j, name] of FEATURE_NAMES.entries()) {
      const want = e.features[name];
      for (const [label, got] of [['redis', viaRedis[k][j]], ['memory', viaMemory[k][j]]] as const) {
        const where = `${label} point ${k} (${e.arm_id} after ${points[k].after}) ${name}`;
        if (want === null) {
          assert.ok(Number.isNaN(got), `${where}: ${got}, python NaN`);
          continue;
        }
        const err = Math.abs(got - want) / Math.max(1, Math.abs(want));
        worst = Math.max(worst, err);
        assert.ok(err <= 1e-6, `${where}: ${got} vs python ${want}`);
      }
    }
  });
  t.diagnostic(`worst relative error ${worst.toExponential(2)} over ${points.length} points x 42 features`);
});

test('case 2: another plant (hourly, 5 channels incl. new names, 3 windows, 2 EMAs) with regime normalisation', { timeout: 180_000 }, async (t) => {
  const spec = featureSpecOf(loadPlantProfile(PARITY_PLANT_FILE));
  const regimes = parseRegimes(JSON.parse(readFileSync(PARITY_REGIMES_FILE, 'utf8')));
  const raw = parityPlantReadings({ arms: 4, hours: 36, seed: 7 });
  const readings = raw.map((r) => ({ ...r, value: normaliseReading({ plant_id: 'parity-plant', value: r.value, settings: r.settings ?? null }, channelOf({ sensor: r.sensor, channel: r.channel ?? null })!, regimes) }));
  const stores: [string, RollingWindowsStore][] = [
    ['redis', rollingWindows({ spec }).open({ kind: 'redis', redis: redis() }, `it:${runId()}`)],
    ['memory', rollingWindows({ spec }).open({ kind: 'memory' }, 'twin')],
  ];
  const points: { arm_id: string; after: number }[] = [];
  const rows: Record<string, Float64Array[]> = { redis: [], memory: [] };
  let late = 0;
  for (let i = 0; i < readings.length; i += 17) {
    const batch = readings.slice(i, i + 17);
    const [r, m] = await Promise.all(stores.map(([, store]) => store.apply(batch)));
    late += r.results.filter((x) => x === 'late').length;
    for (const [arm, agg] of r.arms) {
      points.push({ arm_id: arm, after: i + batch.length - 1 });
      rows.redis.push(features(agg));
      rows.memory.push(features(m.arms.get(arm)!));
    }
  }
  assert.ok(late > 0 && points.length > 300, `exercise lateness and many points (late ${late}, points ${points.length})`);
  // Python gets the readings as the gateway sent them: raw values, the channel when the reading names one, the settings.
  writeFileSync(join(dir, 'readings-2.jsonl'), raw.map((r) => JSON.stringify({ arm_id: r.arm, sensor: r.sensor, channel: r.channel ?? null, value: r.value, event_time: r.eventTime, settings: r.settings })).join('\n'));
  writeFileSync(join(dir, 'points-2.json'), JSON.stringify(points));
  const args = ['--readings', join(dir, 'readings-2.jsonl'), '--points', join(dir, 'points-2.json'), '--spec', PARITY_PLANT_FILE, '--regimes', PARITY_REGIMES_FILE, '--out', join(dir, 'out-2.json')];
  const py = spawnSync(PYTHON, [FEATURES_PY, ...args], { encoding: 'utf8' });
  assert.equal(py.status, 0, `python features failed: ${py.stderr}`);
  const expected = JSON.parse(readFileSync(join(dir, 'out-2.json'), 'utf8')) as { arm_id: string; features: Record<string, number | null> }[];
  assert.equal(expected.length, points.length);
  assert.deepEqual(Object.keys(expected[0].features), spec.names);
  let worst = 0;
  let compared = 0;
  expected.forEach((e, k) => {
    spec.names.forEach((name, j) => {
      const want = e.features[name];
      for (const label of ['redis', 'memory']) {
        const got = rows[label][k][j];
        const where = `${label} point ${k} (${e.arm_id} after ${points[k].after}) ${name}`;
        if (want === null) assert.ok(Number.isNaN(got), `${where}: ${got}, python NaN`);
        else {
          const err = Math.abs(got - want) / Math.max(1, Math.abs(want));
          worst = Math.max(worst, err);
          compared++;
          assert.ok(err <= 1e-6, `${where}: ${got} vs python ${want}`);
        }
      }
    });
  });
  assert.ok(compared > points.length * spec.names.length, `most features are defined (${compared} compared)`);
  t.diagnostic(`worst relative error ${worst.toExponential(2)} over ${points.length} points x ${spec.names.length} features`);
});
