import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadPlantProfile } from '../../schemas/factory/plant-profile.ts';
import { FEATURE_NAMES, SIMULATOR_SPEC, featureSpecOf, features, type ArmAggregates, type FeatureSpec } from './features.ts';
import { MemoryRollingWindows, defaultTtlMs } from './rolling-windows.ts';

/** What the committed model was trained with, written out once (FEATURE_NAMES derive from the profile). */
const PER_SENSOR = ['mean_1h', 'mean_6h', 'mean_12h', 'std_1h', 'std_6h', 'std_12h', 'ema_1h', 'ema_6h', 'ema_12h', 'last', 'lag1', 'lag2', 'trend_1h_12h', 'std_ratio_1h_12h'];

test('the simulator spec is the committed model spec: codes v/t/p, 60 s buckets, 1/6/12 h, 42 names', () => {
  assert.deepEqual(FEATURE_NAMES, ['vibration', 'temperature', 'pressure'].flatMap((s) => PER_SENSOR.map((f) => `${s}_${f}`)));
  assert.deepEqual({ ...SIMULATOR_SPEC, names: undefined }, {
    bucketMs: 60_000,
    latenessBuckets: 5,
    ringBuckets: 720,
    channels: [{ name: 'vibration', code: 'v' }, { name: 'temperature', code: 't' }, { name: 'pressure', code: 'p' }],
    windows: [{ label: '1h', buckets: 60 }, { label: '6h', buckets: 360 }, { label: '12h', buckets: 720 }],
    ema: [{ label: '1h', tauMs: 3_600_000 }, { label: '6h', tauMs: 21_600_000 }, { label: '12h', tauMs: 43_200_000 }],
    names: undefined,
  });
  // The checked profile gives the same spec as the unchecked read the scorer does.
  const checked = loadPlantProfile(fileURLToPath(new URL('../../connectors/plants/plant-simulator.json', import.meta.url)));
  assert.deepEqual(featureSpecOf(checked), SIMULATOR_SPEC);
  assert.equal(defaultTtlMs(SIMULATOR_SPEC), (12 * 60 + 5) * 60_000 + 3_600_000);
});

const TWO_WINDOWS: FeatureSpec = {
  bucketMs: 3_600_000,
  latenessBuckets: 2,
  ringBuckets: 4,
  channels: [{ name: 't50', code: 'a' }, { name: 'oil_temp', code: 'b' }],
  windows: [{ label: '2c', buckets: 2 }, { label: '4c', buckets: 4 }],
  ema: [{ label: '3c', tauMs: 3 * 3_600_000 }],
  names: ['t50', 'oil_temp'].flatMap((c) => ['mean_2c', 'mean_4c', 'std_2c', 'std_4c', 'ema_3c', 'last', 'lag1', 'lag2', 'trend_2c_4c', 'std_ratio_2c_4c'].map((f) => `${c}_${f}`)),
};

test('features follow the spec: n windows, n EMAs, channels in spec order, NaN for a silent channel', async () => {
  const store = new MemoryRollingWindows(TWO_WINDOWS);
  const h = 3_600_000;
  const values = [10, 12, 11, 15, 13];
  const { arms } = await store.apply(values.map((value, i) => ({ arm: 'e1', sensor: 'OTHER', channel: 't50', value, eventTime: i * h, offset: i })));
  const agg = arms.get('e1') as ArmAggregates;
  const f = features(agg);
  assert.equal(f.length, 20);
  const at = (name: string) => f[TWO_WINDOWS.names.indexOf(name)];
  // Head bucket 4; the ring of 4 keeps buckets 1-4 (12, 11, 15, 13).
  assert.equal(at('t50_mean_2c'), 14);
  assert.equal(at('t50_mean_4c'), 12.75);
  assert.equal(at('t50_std_2c'), 1);
  assert.ok(Math.abs(at('t50_std_4c') - Math.sqrt(((12 - 12.75) ** 2 + (11 - 12.75) ** 2 + (15 - 12.75) ** 2 + (13 - 12.75) ** 2) / 4)) < 1e-12);
  const w = [3, 2, 1, 0].map((lag) => Math.exp(-lag / 3));
  assert.ok(Math.abs(at('t50_ema_3c') - (w[0] * 12 + w[1] * 11 + w[2] * 15 + w[3] * 13) / (w[0] + w[1] + w[2] + w[3])) < 1e-12);
  assert.deepEqual([at('t50_last'), at('t50_lag1'), at('t50_lag2')], [13, 15, 11]);
  assert.equal(at('t50_trend_2c_4c'), 14 - 12.75);
  assert.ok(TWO_WINDOWS.names.slice(10).every((n) => Number.isNaN(at(n))), 'oil_temp sent nothing');
});

test('a reading of a channel the spec does not have is refused by name, before anything is applied', async () => {
  const store = new MemoryRollingWindows(TWO_WINDOWS);
  await assert.rejects(store.apply([
    { arm: 'e1', sensor: 'OTHER', channel: 't50', value: 1, eventTime: 0, offset: 0 },
    { arm: 'e1', sensor: 'VIBRATION', value: 1, eventTime: 0, offset: 1 },
  ]), /e1 sent channel "vibration", which the feature spec does not have \(t50, oil_temp\)/);
  await assert.rejects(store.apply([{ arm: 'e1', sensor: 'OTHER', value: 1, eventTime: 0, offset: 0 }]), /e1 sent sensor OTHER without a channel/);
  const { results } = await store.apply([{ arm: 'e1', sensor: 'OTHER', channel: 't50', value: 1, eventTime: 0, offset: 0 }]);
  assert.deepEqual(results, ['accepted']);
});
