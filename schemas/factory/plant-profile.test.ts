import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import { FEATURE_NAMES } from '../../streams/maintenance/features.ts';
import { PlantProfileError, featureNamesOf, loadPlantProfile, parsePlantProfile, type PlantProfile } from './plant-profile.ts';

const PLANTS = join(REPO_ROOT, 'connectors', 'plants');
const simulator = () => loadPlantProfile(join(PLANTS, 'plant-simulator.json'));

/** A C-MAPSS-like turbofan plant: 4 channels that are not the legacy kinds, 3 operating settings. */
const turbofan = (): PlantProfile => ({
  plant_id: 'turbofan-fleet',
  sample_interval_ms: 3_600_000,
  channels: [
    { name: 't30', code: 't30', unit: 'degC', min: 0, max: 1200 },
    { name: 't50', code: 't50', unit: 'degC', min: 0, max: 1200 },
    { name: 'p30', code: 'p30', unit: 'bar', min: 0, max: 100 },
    { name: 'nf', code: 'nf', unit: 'rpm', min: 0, max: 10000 },
  ],
  operating_settings: [{ name: 'altitude' }, { name: 'mach' }, { name: 'tra' }],
  label: { source: 'run_to_failure', horizon_ms: 24 * 3_600_000 },
  features: { bucket_ms: 3_600_000, lateness_buckets: 0, windows: [{ label: '5c', buckets: 5 }, { label: '20c', buckets: 20 }], ema: [{ label: '10c', tau_ms: 36_000_000 }], regimes: { k: 6 } },
  model: { artifacts: 'models/maintenance/plants/turbofan-fleet' },
});

function problemsOf(raw: unknown): string[] {
  try {
    parsePlantProfile(raw, 'test.json');
  } catch (err) {
    assert.ok(err instanceof PlantProfileError, String(err));
    return err.problems;
  }
  assert.fail('the profile was accepted');
}

test('the simulator profile gives exactly the 42 feature names the committed model was trained on', () => {
  assert.deepEqual(featureNamesOf(simulator()), [...FEATURE_NAMES]);
});

test('every bundled profile is valid', () => {
  const files = readdirSync(PLANTS).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 1);
  for (const f of files) assert.doesNotThrow(() => loadPlantProfile(join(PLANTS, f)), f);
});

test('a plant with its own channels, windows and settings gets its own feature names', () => {
  const names = featureNamesOf(parsePlantProfile(turbofan()));
  assert.equal(names.length, 4 * 10);
  assert.deepEqual(names.slice(0, 10), ['t30_mean_5c', 't30_mean_20c', 't30_std_5c', 't30_std_20c', 't30_ema_10c', 't30_last', 't30_lag1', 't30_lag2', 't30_trend_5c_20c', 't30_std_ratio_5c_20c']);
});

test('shape errors are all named, with the field they are in', () => {
  const p = turbofan() as unknown as Record<string, unknown>;
  delete p.label;
  (p.channels as Record<string, unknown>[])[1].name = 'T50';
  (p.channels as Record<string, unknown>[])[2].colour = 'red';
  (p.features as Record<string, unknown>).bucket_ms = 0;
  const problems = problemsOf(p);
  assert.ok(problems.some((x) => x.includes("must have required property 'label'")), problems.join('\n'));
  assert.ok(problems.some((x) => x.startsWith('channels.1.name') && x.includes('pattern')), problems.join('\n'));
  assert.ok(problems.includes('channels.2: unknown field "colour"'), problems.join('\n'));
  assert.ok(problems.some((x) => x.startsWith('features.bucket_ms must be >= 1')), problems.join('\n'));
  assert.deepEqual(problemsOf([]), ['must be a JSON object']);
});

test('what JSON Schema cannot say: duplicates, ranges, window order, units of legacy kinds, paths', () => {
  const p = turbofan();
  p.channels[1].code = 't30';
  p.channels[2] = { ...p.channels[2], min: 5, max: 5 };
  p.channels.push({ name: 'vib', code: 'v', unit: 'in/s', min: 0, max: 10, kind: 'VIBRATION' });
  p.features.windows = [{ label: '20c', buckets: 20 }, { label: '5c', buckets: 5 }];
  p.features.ema = [{ label: '99c', tau_ms: 99 * 3_600_000 }];
  p.model.artifacts = '../elsewhere';
  const problems = problemsOf(p);
  assert.deepEqual(problems, [
    'channels code "t30" appears more than once',
    'channels[2] (p30): min 5 must be below max 5',
    'channels[4] (vib): a VIBRATION channel is reported in mm/s, not "in/s"',
    'features.windows must grow: 5c (5 buckets) after 20c (20 buckets)',
    'features.ema 99c: tau 356400000 ms is longer than the longest window (18000000 ms)',
    'model.artifacts "../elsewhere" must be a path inside the repository, relative to its root',
  ]);
  const q = turbofan();
  q.operating_settings = [];
  q.model.artifacts = '/home/someone/model';
  assert.deepEqual(problemsOf(q), ['features.regimes needs operating_settings to cluster', 'model.artifacts "/home/someone/model" must be a path inside the repository, relative to its root']);
});

test('a file that is not JSON is one clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'profile-'));
  writeFileSync(join(dir, 'broken.json'), '{"plant_id": ');
  assert.throws(() => loadPlantProfile(join(dir, 'broken.json')), (err: unknown) => err instanceof PlantProfileError && /broken\.json is invalid/.test(err.message) && /cannot read it as JSON/.test(err.message));
});
