// The 42 FactoryGuard features, computed from window aggregates exactly as specified in
// docs/factoryguard-features.md (models/maintenance/features.py implements the same spec for
// training; a parity test holds them to 1e-6).
import type { SensorReading } from '../../schemas/generated/types.ts';

export const BUCKET_MS = 60_000;
export const LATENESS_BUCKETS = 5;
export const RING_BUCKETS = 720;
export const WINDOW_BUCKETS = [60, 360, 720] as const;
export const WINDOW_LABELS = ['1h', '6h', '12h'] as const;
export const EMA_TAU_MS = [3_600_000, 21_600_000, 43_200_000] as const;

export type SensorKind = SensorReading['sensor'];
export const SENSORS: readonly SensorKind[] = ['VIBRATION', 'TEMPERATURE', 'PRESSURE'];
export const SENSOR_CODE: Record<SensorKind, 'v' | 't' | 'p'> = { VIBRATION: 'v', TEMPERATURE: 't', PRESSURE: 'p' };

const PER_SENSOR = ['mean_1h', 'mean_6h', 'mean_12h', 'std_1h', 'std_6h', 'std_12h', 'ema_1h', 'ema_6h', 'ema_12h', 'last', 'lag1', 'lag2', 'trend_1h_12h', 'std_ratio_1h_12h'] as const;
export const FEATURE_NAMES: readonly string[] = SENSORS.flatMap((s) => PER_SENSOR.map((f) => `${s.toLowerCase()}_${f}`));

/** Count, and sum and sum of squares of (value - ref). */
export interface Sums {
  n: number;
  s1: number;
  s2: number;
}

export interface SensorAggregates {
  ref: number;
  /** 1 h, 6 h, 12 h windows. */
  windows: [Sums, Sums, Sums];
  /** Per EMA time constant: Σ w·(bucket mean − ref) and Σ w over the 12 h ring. */
  ema: [[number, number], [number, number], [number, number]];
  /** Buckets H, H−1, H−2. */
  recent: [Sums, Sums, Sums];
}

export interface ArmAggregates {
  arm: string;
  head: number;
  sensors: Partial<Record<SensorKind, SensorAggregates>>;
}

/** Writes the arm's 42 features into `out` at `offset` (NaN where undefined). */
export function writeFeatures(a: ArmAggregates, out: Float64Array | Float32Array, offset = 0): void {
  let i = offset;
  for (const s of SENSORS) {
    const agg = a.sensors[s];
    if (!agg) {
      for (let k = 0; k < PER_SENSOR.length; k++) out[i++] = Number.NaN;
      continue;
    }
    const means = agg.windows.map((w) => (w.n > 0 ? agg.ref + w.s1 / w.n : Number.NaN));
    const stds = agg.windows.map((w) => (w.n > 0 ? populationStd(w) : Number.NaN));
    for (const m of means) out[i++] = m;
    for (const sd of stds) out[i++] = sd;
    for (const [num, den] of agg.ema) out[i++] = den > 0 ? agg.ref + num / den : Number.NaN;
    for (const b of agg.recent) out[i++] = b.n > 0 ? agg.ref + b.s1 / b.n : Number.NaN;
    out[i++] = means[0] - means[2];
    out[i++] = stds[2] > 0 ? stds[0] / stds[2] : Number.NaN;
  }
}

/**
 * Relative size below which E[d²] − E[d]² is rounding noise, not variance. A stuck sensor (the
 * same value over and over, != its reference) gives sums whose difference is ~1e-16 relative
 * instead of 0, i.e. a std of ~1e-8 where the exact answer (the training code's) is 0 — and then a
 * std ratio where the spec says NaN. The noise grows with the number of readings summed (10 Hz x
 * 12 h = 432k), so the cut is 1e-9 of the mean square: a std under ~3e-5 of the values' RMS
 * around the reference is reported as 0.
 */
const VARIANCE_NOISE = 1e-9;

function populationStd(w: Sums): number {
  const meanSquare = w.s2 / w.n;
  const variance = meanSquare - (w.s1 / w.n) ** 2;
  return variance <= VARIANCE_NOISE * meanSquare ? 0 : Math.sqrt(variance);
}

export function features(a: ArmAggregates): Float64Array {
  const out = new Float64Array(FEATURE_NAMES.length);
  writeFeatures(a, out);
  return out;
}

export function bucketOf(eventTime: number): number {
  return Math.floor(eventTime / BUCKET_MS);
}
