// Per-regime normalisation (issue #11), the stream's twin of models/maintenance/regimes.py. A plant
// whose operating settings change (altitude, Mach, throttle) moves every sensor with them, and
// features of raw values then measure the regime rather than wear. The trainer clusters the
// standardised settings into k regimes and keeps each channel's mean and std per regime
// (regimes.json, copied into model-meta.json as "regimes"); the stream replaces every value by its
// z-score within the regime of the reading's settings, before bucketing, so Redis holds normalised
// values. Same operations in the same order as Regimes.apply in Python, so both sides give the same
// doubles (the parity test's case 2 holds them to it).
import type { SensorReading } from '../../schemas/generated/types.ts';
import { ValidationError } from '../runtime/errors.ts';

export interface Regimes {
  /** The profile's operating settings, in the order readings carry them. */
  settings: string[];
  center: number[];
  scale: number[];
  /** k rows of standardised settings. */
  centroids: number[][];
  /** Channels normalised, each with a mean and std per regime; other channels pass unchanged. */
  channels: Record<string, { mean: number[]; std: number[] }>;
}

export class RegimesError extends Error {
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`regimes ${source} are invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'RegimesError';
    this.problems = problems;
  }
}

const isNumbers = (v: unknown, n: number): v is number[] => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number');

/** Checks a parsed regimes.json (or model-meta.json's "regimes"); throws RegimesError naming every problem. */
export function parseRegimes(raw: unknown, source = 'regimes.json'): Regimes {
  const r = raw as Partial<Regimes> | null;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new RegimesError(source, ['must be a JSON object']);
  const problems: string[] = [];
  const m = Array.isArray(r.settings) && r.settings.every((s) => typeof s === 'string') ? r.settings.length : -1;
  if (m < 1) problems.push('settings must be a non-empty list of setting names');
  for (const field of ['center', 'scale'] as const) if (!isNumbers(r[field], m)) problems.push(`${field} must be ${m} numbers, one per setting`);
  const k = Array.isArray(r.centroids) ? r.centroids.length : 0;
  if (k === 0) problems.push('centroids must be a non-empty list of regimes');
  r.centroids?.forEach((c, i) => {
    if (!isNumbers(c, m)) problems.push(`centroids[${i}] must be ${m} numbers, one per setting`);
  });
  if (typeof r.channels !== 'object' || r.channels === null || Array.isArray(r.channels)) problems.push('channels must be an object of channel name -> {mean, std}');
  else {
    for (const [ch, s] of Object.entries(r.channels)) {
      if (!isNumbers(s?.mean, k) || !isNumbers(s?.std, k)) problems.push(`channels.${ch} needs a mean and a std for each of the ${k} regimes`);
    }
  }
  if (problems.length) throw new RegimesError(source, problems);
  return { settings: r.settings!, center: r.center!, scale: r.scale!, centroids: r.centroids!, channels: r.channels! };
}

/**
 * The regime of a sample: standardise each setting, then the nearest centroid by squared distance
 * summed in setting order; ties go to the lowest index. Throws when the settings are missing or
 * of the wrong count (validation rejects such readings before they get here).
 */
export function regimeOf(regimes: Regimes, settings: readonly number[] | null | undefined): number {
  const m = regimes.settings.length;
  if (!settings || settings.length !== m) {
    throw new ValidationError(`normalising by regime needs the ${m} operating settings ${regimes.settings.join(', ')}; the reading has ${settings ? settings.length : 'none'}`);
  }
  const z = settings.map((s, j) => (s - regimes.center[j]) / (regimes.scale[j] > 0 ? regimes.scale[j] : 1));
  let best = 0;
  let bestD = Number.POSITIVE_INFINITY;
  regimes.centroids.forEach((centroid, i) => {
    let d = 0;
    for (let j = 0; j < m; j++) {
      const t = z[j] - centroid[j];
      d += t * t;
    }
    if (d < bestD) {
      best = i;
      bestD = d;
    }
  });
  return best;
}

/** `value` of `channel` as a z-score within the regime of `settings`; a channel without statistics passes unchanged. */
export function normalise(regimes: Regimes, channel: string, value: number, settings: readonly number[] | null | undefined): number {
  const r = regimeOf(regimes, settings);
  if (!Object.hasOwn(regimes.channels, channel)) return value;
  const stats = regimes.channels[channel];
  const sd = stats.std[r];
  return (value - stats.mean[r]) / (sd > 0 && Number.isFinite(sd) ? sd : 1);
}

/**
 * The value the rolling windows get for a reading: normalised when its plant has regimes, else the
 * raw value. For the maintenance topology's `toWindowReading` (range validation uses the raw value).
 */
export function normaliseReading(reading: Pick<SensorReading, 'plant_id' | 'value' | 'settings'>, channel: string, regimes: Regimes | null | undefined): number {
  if (!regimes) return reading.value;
  if (!reading.settings) throw new ValidationError(`plant ${reading.plant_id} normalises by regime and the reading has no operating settings`);
  return normalise(regimes, channel, reading.value, reading.settings);
}
