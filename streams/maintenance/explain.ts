// Renders TreeSHAP contributions (log-odds) as sentences a maintenance engineer can act on, e.g.
// "temperature 6 h mean 82.0 °C (+0.21); vibration 1 h std 3.1x its 12 h level (+0.17)".
import type { FeatureContribution } from '../../schemas/generated/types.ts';
import { topContributions } from './treeshap.ts';

const UNITS: Record<string, string> = { vibration: 'mm/s', temperature: '°C', pressure: 'bar' };
const WINDOW_WORDS: Record<string, string> = { '1h': '1 h', '6h': '6 h', '12h': '12 h' };

function fmt(value: number, unit = ''): string {
  if (Number.isNaN(value)) return 'no data';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return `${value.toFixed(digits)}${unit ? (unit === '°C' ? ' °C' : ` ${unit}`) : ''}`;
}

/** Words for one feature's value, e.g. "vibration 1 h std 0.84 mm/s". */
export function describeFeature(name: string, value: number): string {
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
export function describedContributions(names: readonly string[], values: ArrayLike<number>, contributions: ArrayLike<number>, k: number): FeatureContribution[] {
  return topContributions(names, values, contributions, k).map((c) => ({ feature: c.name, value: c.value, contribution: c.contribution, description: describeFeature(c.name, c.value) }));
}

export function summarize(arm: string, probability: number, top: FeatureContribution[], horizonHours = 24): string {
  const drivers = top.filter((c) => c.contribution > 0).map((c) => `${c.description} (${signed(c.contribution)})`);
  const risk = `${arm}: ${(probability * 100).toFixed(0)}% risk of failure within ${horizonHours} h`;
  return drivers.length ? `${risk}; ${drivers.join('; ')}` : risk;
}
