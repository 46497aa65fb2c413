// FactoryGuard features, computed from window aggregates exactly as specified in
// docs/factoryguard-features.md (models/maintenance/features.py implements the same spec for
// training; a parity test holds them to 1e-6). The spec is per channel and comes from a plant
// profile (connectors/plants/*.json): every channel gets the mean and std of every window, every
// EMA, the last value and two lags, and the trend and std ratio of the shortest against the longest
// window. The simulator's profile gives the 42 features of the committed model (FEATURE_NAMES).
import { readFileSync } from 'node:fs';
import { featureNamesOf, type PlantProfile } from '../../schemas/factory/plant-profile.ts';
import type { SensorReading } from '../../schemas/generated/types.ts';

export interface FeatureChannel {
  /** Feature-name prefix and the readings' `channel`. */
  name: string;
  /** Short code the rolling-window store keys the channel's Redis hash fields by (`b:<code>:<bucket>`). */
  code: string;
}

/** What the rolling windows keep and which features they give, for one plant. */
export interface FeatureSpec {
  bucketMs: number;
  latenessBuckets: number;
  /** Buckets kept per channel: the longest window. */
  ringBuckets: number;
  channels: readonly FeatureChannel[];
  /** Ascending; the first and last give the trend and std ratio. */
  windows: readonly { label: string; buckets: number }[];
  ema: readonly { label: string; tauMs: number }[];
  /** `<channel>_<feature>`, channels in spec order (featureNamesOf). */
  names: readonly string[];
}

/** Features per channel: mean and std per window, one per EMA, last, lag1, lag2, trend, std ratio. */
export function featuresPerChannel(spec: Pick<FeatureSpec, 'windows' | 'ema'>): number {
  return 2 * spec.windows.length + spec.ema.length + 5;
}

/** The feature spec of a (checked) plant profile. */
export function featureSpecOf(p: PlantProfile): FeatureSpec {
  const f = p.features;
  return {
    bucketMs: f.bucket_ms,
    latenessBuckets: f.lateness_buckets,
    ringBuckets: f.windows[f.windows.length - 1].buckets,
    channels: p.channels.map((c) => ({ name: c.name, code: c.code })),
    windows: f.windows.map((w) => ({ label: w.label, buckets: w.buckets })),
    ema: f.ema.map((e) => ({ label: e.label, tauMs: e.tau_ms })),
    names: featureNamesOf(p),
  };
}

/**
 * The simulator plant's profile (connectors/plants/plant-simulator.json): three channels v/t/p, 60 s
 * buckets, 1/6/12 h windows and EMAs. The profile is the one source; features.test.ts pins it to
 * the values the committed model was trained with. Read without the ajv check (plant-profile.test.ts
 * checks the file) so that loading the scorer does not depend on it.
 */
export const SIMULATOR_PROFILE = JSON.parse(readFileSync(new URL('../../connectors/plants/plant-simulator.json', import.meta.url), 'utf8')) as PlantProfile;
export const SIMULATOR_SPEC: FeatureSpec = featureSpecOf(SIMULATOR_PROFILE);

export const BUCKET_MS = SIMULATOR_SPEC.bucketMs;
export const LATENESS_BUCKETS = SIMULATOR_SPEC.latenessBuckets;
export const RING_BUCKETS = SIMULATOR_SPEC.ringBuckets;
export const FEATURE_NAMES: readonly string[] = SIMULATOR_SPEC.names;

export type SensorKind = SensorReading['sensor'];
/** The three sensor kinds that predate plant profiles (the simulator's channels). */
export const SENSORS = ['VIBRATION', 'TEMPERATURE', 'PRESSURE'] as const satisfies readonly SensorKind[];

/** Count, and sum and sum of squares of (value - ref). */
export interface Sums {
  n: number;
  s1: number;
  s2: number;
}

export interface ChannelAggregates {
  ref: number;
  /** One per spec window, in spec order. */
  windows: Sums[];
  /** Per EMA time constant: Σ w·(bucket mean − ref) and Σ w over the ring. */
  ema: [number, number][];
  /** Buckets H, H−1, H−2. */
  recent: [Sums, Sums, Sums];
}

export interface ArmAggregates {
  arm: string;
  head: number;
  /** The spec the aggregates follow (the store's). */
  spec: FeatureSpec;
  /** By channel name; absent for a channel with no accepted reading. */
  channels: Partial<Record<string, ChannelAggregates>>;
}

/** Writes the arm's features (spec order) into `out` at `offset` (NaN where undefined). */
export function writeFeatures(a: ArmAggregates, out: Float64Array | Float32Array, offset = 0): void {
  let i = offset;
  const perChannel = featuresPerChannel(a.spec);
  const last = a.spec.windows.length - 1;
  for (const c of a.spec.channels) {
    const agg = a.channels[c.name];
    if (!agg) {
      for (let k = 0; k < perChannel; k++) out[i++] = Number.NaN;
      continue;
    }
    const means = agg.windows.map((w) => (w.n > 0 ? agg.ref + w.s1 / w.n : Number.NaN));
    const stds = agg.windows.map((w) => (w.n > 0 ? populationStd(w) : Number.NaN));
    for (const m of means) out[i++] = m;
    for (const sd of stds) out[i++] = sd;
    for (const [num, den] of agg.ema) out[i++] = den > 0 ? agg.ref + num / den : Number.NaN;
    for (const b of agg.recent) out[i++] = b.n > 0 ? agg.ref + b.s1 / b.n : Number.NaN;
    out[i++] = means[0] - means[last];
    out[i++] = stds[last] > 0 ? stds[0] / stds[last] : Number.NaN;
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
  const out = new Float64Array(a.spec.names.length);
  writeFeatures(a, out);
  return out;
}

export function bucketOf(eventTime: number, bucketMs = BUCKET_MS): number {
  return Math.floor(eventTime / bucketMs);
}
