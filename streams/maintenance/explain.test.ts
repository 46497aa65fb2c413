// Explanations in words: the simulator plant's established wording, and a profiled plant's own
// channel labels, units, windows and regime-normalised levels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlantProfile } from '../../schemas/factory/plant-profile.ts';
import { describeFeature, type PlantWords } from './explain.ts';
import { featureSpecOf } from './features.ts';

const plants = fileURLToPath(new URL('../../connectors/plants/', import.meta.url));
const words = (file: string, regimes: boolean): PlantWords => {
  const p = loadPlantProfile(join(plants, file));
  return { channels: new Map(p.channels.map((c) => [c.name, c])), spec: featureSpecOf(p), regimes };
};

test('the simulator plant keeps its wording', () => {
  assert.equal(describeFeature('temperature_mean_6h', 82.04), 'temperature 6 h mean 82.0 °C');
  assert.equal(describeFeature('vibration_std_ratio_1h_12h', 3.14), 'vibration 1 h std 3.1x its 12 h level');
});

test('a profiled plant in its own words: labels, units, windows, sample length', () => {
  const fd001 = words('cmapss-fd001.json', false);
  assert.equal(describeFeature('t50_mean_15c', 1_412.37, fd001), 'T50 (Total temperature at LPT outlet) 15c mean 1412 degR');
  assert.equal(describeFeature('ps30_last', 47.61, fd001), 'Ps30 (Static pressure at HPC outlet) last 1 h 47.6 psia');
  assert.equal(describeFeature('nc_lag2', 9_065, fd001), 'Nc (Physical core speed) 2 h earlier 9065 rpm');
  assert.equal(describeFeature('htbleed_trend_5c_30c', 1.5, fd001), 'htBleed (Bleed enthalpy) 5c mean +1.50 1 vs its 30c mean');
  assert.equal(describeFeature('phi_std_ratio_5c_30c', Number.NaN, fd001), 'phi (Ratio of fuel flow to Ps30) 5c std n/a its 30c level');
});

test('regime-normalised channels are described as sigmas from their regime\'s level', () => {
  const fd002 = words('cmapss-fd002.json', true);
  assert.equal(describeFeature('t50_ema_30c', 1.84, fd002), 'T50 (Total temperature at LPT outlet) 30c EMA 1.84 σ from its regime\'s level');
  assert.equal(describeFeature('t50_std_5c', 0.42, fd002), 'T50 (Total temperature at LPT outlet) 5c std 0.42 σ');
  // A name that is not one of the plant's features falls back to the generic form.
  assert.equal(describeFeature('oil_temp_mean_5c', 3, fd002), 'oil_temp_mean_5c 3.00');
});
