// Renders TreeSHAP contributions (log-odds) as sentences a maintenance engineer can act on, e.g.
// "temperature 6 h mean 82.0 °C (+0.21); vibration 1 h std 3.1x its 12 h level (+0.17)". A plant
// with a profile is described in its own words: its channels' labels and units, its windows, and
// "σ from its regime's level" where the plant normalises by operating regime.
import type { FeatureContribution } from '../../schemas/generated/types.ts';
import type { PlantChannel } from '../../schemas/factory/plant-profile.ts';
import type { FeatureSpec } from './features.ts';
import { topContributions } from './treeshap.ts';

/** What a plant's profile says about its features; without it, the simulator plant's three sensors. */
export interface PlantWords {
  channels: ReadonlyMap<string, PlantChannel>;
  spec: FeatureSpec;
  /** Channel values are z-scores within their operating regime. */
  regimes: boolean;
}

const UNITS: Record<string, string> = { vibration: 'mm/s', temperature: '°C', pressure: 'bar' };
const WINDOW_WORDS: Record<string, string> = { '1h': '1 h', '6h': '6 h', '12h': '12 h' };

function fmt(value: number, unit = ''): string {
  if (Number.isNaN(value)) return 'no data';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return `${value.toFixed(digits)}${unit ? (unit === '°C' ? ' °C' : ` ${unit}`) : ''}`;
}

function duration(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : `${+(ms / 60_000).toFixed(1)} min`;
}

/** Words for a feature of a profiled plant, e.g. "T50 (Total temperature at LPT outlet) 5c mean 1.8 σ from its regime's level". */
function describePlantFeature(name: string, value: number, w: PlantWords): string | null {
  const channel = [...w.channels.values()].filter((c) => name.startsWith(`${c.name}_`)).sort((a, b) => b.name.length - a.name.length)[0];
  if (!channel) return null;
  const what = name.slice(channel.name.length + 1);
  const label = channel.label ?? channel.name;
  const unit = w.regimes ? 'σ' : channel.unit;
  const level = (x: number) => (Number.isNaN(x) ? 'no data' : w.regimes ? `${fmt(x)} σ from its regime's level` : fmt(x, unit));
  const first = w.spec.windows[0].label;
  const last = w.spec.windows[w.spec.windows.length - 1].label;
  const m = /^(mean|std|ema)_(.+)$/.exec(what);
  const labels = m?.[1] === 'ema' ? w.spec.ema.map((e) => e.label) : w.spec.windows.map((x) => x.label);
  if (m && labels.includes(m[2])) return `${label} ${m[2]} ${m[1] === 'ema' ? 'EMA' : m[1]} ${m[1] === 'std' && w.regimes ? `${fmt(value)} σ` : level(value)}`;
  if (what === 'last') return `${label} last ${duration(w.spec.bucketMs)} ${level(value)}`;
  const lag = /^lag(\d)$/.exec(what);
  if (lag) return `${label} ${duration(Number(lag[1]) * w.spec.bucketMs)} earlier ${level(value)}`;
  if (what === `trend_${first}_${last}`) return `${label} ${first} mean ${value >= 0 ? '+' : ''}${fmt(value, unit)} vs its ${last} mean`;
  if (what === `std_ratio_${first}_${last}`) return `${label} ${first} std ${Number.isNaN(value) ? 'n/a' : `${value.toFixed(1)}x`} its ${last} level`;
  return null;
}

/** Words for one feature's value, e.g. "vibration 1 h std 0.84 mm/s". */
export function describeFeature(name: string, value: number, plant?: PlantWords): string {
  const words = plant ? describePlantFeature(name, value, plant) : null;
  if (words) return words;
  const [sensor, ...rest] = name.split('_');
  const unit = UNITS[sensor] ?? '';
  const what = rest.join('_');
  let m = /^(mean|std|ema)_(\d+h)$/.exec(what);
  if (m) return `${sensor} ${WINDOW_WORDS[m[2]]} ${m[1] === 'ema' ? 'EMA' : m[1]} ${fmt(value, unit)}`;
  if (what === 'last') return `${sensor} last minute ${fmt(value, unit)}`;
  m = /^lag(\d)$/.exec(what);
  if (m) return `${sensor} ${m[1]} min earlier ${fmt(value, unit)}`;
  if (what === 'trend_1h_12h') return `${sensor} 1 h mean ${value >= 0 ? '+' : ''}${fmt(value, unit)} vs its 12 h mean`;
  if (what === 'std_ratio_1h_12h') return `${sensor} 1 h std ${Number.isNaN(value) ? 'n/a' : `${value.toFixed(1)}x`} its 12 h level`;
  return `${name} ${fmt(value)}`;
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`;
}

/** The `k` largest contributions (treeshap.ts ranks them) as FeatureContribution records with words. */
export function describedContributions(names: readonly string[], values: ArrayLike<number>, contributions: ArrayLike<number>, k: number, plant?: PlantWords): FeatureContribution[] {
  return topContributions(names, values, contributions, k).map((c) => ({ feature: c.name, value: c.value, contribution: c.contribution, description: describeFeature(c.name, c.value, plant) }));
}

export function summarize(arm: string, probability: number, top: FeatureContribution[], horizonHours = 24): string {
  const drivers = top.filter((c) => c.contribution > 0).map((c) => `${c.description} (${signed(c.contribution)})`);
  const risk = `${arm}: ${(probability * 100).toFixed(0)}% risk of failure within ${horizonHours} h`;
  return drivers.length ? `${risk}; ${drivers.join('; ')}` : risk;
}
