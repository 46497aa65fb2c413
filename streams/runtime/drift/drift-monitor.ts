// Drift of one model version: the scored records' features and prediction, window by window,
// against the version's training reference (reference.ts). Per feature it keeps counts in the
// reference's decile bins (for PSI) and a reservoir sample (for KS), so memory is fixed whatever
// the rate. A window closes when the event time passes its end AND it holds minRecords (a quiet
// hour is merged into the next rather than judged on a handful of records); without windowMs,
// every minRecords records make a window. The rule and its tuning: docs/models.md, "Drift".
import { binIndex, ksTwoSample, psi } from './drift-stats.ts';
import { PREDICTION, type FeatureReference, type ModelReference } from './reference.ts';

export interface DriftRule {
  /** PSI above this ... */
  psiThreshold: number;
  /** ... in this many windows in a row raises: one window of a daily peak is not drift. */
  psiConsecutive: number;
  /** KS raises when p < ksAlpha / #features (Bonferroni: one family per window) ... */
  ksAlpha: number;
  /** ... and D > ksMinD: with thousands of records a tiny, harmless shift is "significant". */
  ksMinD: number;
  /** ... in this many windows in a row. */
  ksConsecutive: number;
}

/** The rule, kept after tuning on simulated stable data (loadtest/drift-false-alarms.ts). */
export const DEFAULT_DRIFT_RULE: DriftRule = { psiThreshold: 0.2, psiConsecutive: 2, ksAlpha: 0.001, ksMinD: 0.1, ksConsecutive: 1 };

export interface DriftWindowing {
  /** Event-time length of a window, or null for windows of minRecords records. */
  windowMs: number | null;
  minRecords: number;
  /** Values kept per feature for KS (reservoir sampling). */
  reservoirSize: number;
}

export interface FeatureWindowStats {
  feature: string;
  records: number;
  psi: number;
  ksD: number;
  ksP: number;
}

export interface DriftFinding {
  feature: string;
  statistic: 'PSI' | 'KS';
  state: 'RAISED' | 'CLEARED';
  value: number;
  threshold: number;
  pValue: number | null;
  pThreshold: number | null;
  consecutiveWindows: number;
  /** Start of the window that raised the episode (a CLEARED names its RAISED's window). */
  episodeStart: number;
}

export interface DriftWindowReport {
  windowStart: number;
  windowEnd: number;
  records: number;
  features: FeatureWindowStats[];
  findings: DriftFinding[];
}

interface Episode {
  streak: number;
  raisedAt: number | null;
}

class FeatureWindow {
  readonly counts: number[];
  readonly reservoir: Float64Array;
  seen = 0;
  readonly psi: Episode = { streak: 0, raisedAt: null };
  readonly ks: Episode = { streak: 0, raisedAt: null };
  readonly name: string;
  readonly ref: FeatureReference;
  constructor(name: string, ref: FeatureReference, size: number) {
    this.name = name;
    this.ref = ref;
    this.counts = new Array(ref.proportions.length).fill(0);
    this.reservoir = new Float64Array(size);
  }
  add(v: number, random: () => number): void {
    this.counts[binIndex(this.ref.edges, v)]++;
    // Algorithm R: every value of the window has the same chance to be in the sample.
    if (this.seen < this.reservoir.length) this.reservoir[this.seen] = v;
    else {
      const j = Math.floor(random() * (this.seen + 1));
      if (j < this.reservoir.length) this.reservoir[j] = v;
    }
    this.seen++;
  }
  reset(): void {
    this.counts.fill(0);
    this.seen = 0;
  }
}

export class DriftMonitor {
  readonly model: string;
  readonly version: string;
  private readonly features: FeatureWindow[];
  private readonly random: () => number;
  private windowStart: number | null = null;
  private windowEnd = -Infinity;
  private records = 0;

  readonly reference: ModelReference;
  readonly windowing: DriftWindowing;
  readonly rule: DriftRule;

  constructor(reference: ModelReference, windowing: DriftWindowing, rule: DriftRule = DEFAULT_DRIFT_RULE, seed = 1) {
    this.reference = reference;
    this.windowing = windowing;
    this.rule = rule;
    const problems: string[] = [];
    if (windowing.windowMs !== null && !(windowing.windowMs > 0)) problems.push(`windowMs must be > 0 or null, got ${windowing.windowMs}`);
    if (!(Number.isInteger(windowing.minRecords) && windowing.minRecords >= 1)) problems.push(`minRecords must be an integer >= 1, got ${windowing.minRecords}`);
    if (!(Number.isInteger(windowing.reservoirSize) && windowing.reservoirSize >= 10)) problems.push(`reservoirSize must be an integer >= 10, got ${windowing.reservoirSize}`);
    if (problems.length) throw new Error(`drift monitor of ${reference.model_name} ${reference.model_version}: ${problems.join('; ')}`);
    this.model = reference.model_name;
    this.version = reference.model_version;
    this.features = [...Object.entries(reference.features), [PREDICTION, reference.prediction] as const].map(([n, r]) => new FeatureWindow(n, r, windowing.reservoirSize));
    this.random = mulberry32(seed);
  }

  /** The monitored names: the reference's features and `prediction`. */
  get featureNames(): string[] {
    return this.features.map((f) => f.name);
  }

  /**
   * Counts one scored record (its features and prediction by name; names the reference lacks and
   * non-finite values are skipped). Returns the report of the window this record closed, if any.
   */
  observe(eventTime: number, values: Readonly<Record<string, number>>): DriftWindowReport | null {
    const { windowMs, minRecords } = this.windowing;
    let closed: DriftWindowReport | null = null;
    if (this.windowStart === null) this.windowStart = startOf(eventTime, windowMs);
    else if (windowMs !== null && eventTime >= this.windowStart + windowMs && this.records >= minRecords) {
      closed = this.close();
      this.windowStart = startOf(eventTime, windowMs);
    }
    for (const f of this.features) {
      const v = values[f.name];
      if (typeof v === 'number' && Number.isFinite(v)) f.add(v, this.random);
    }
    this.records++;
    this.windowEnd = Math.max(this.windowEnd, eventTime);
    if (windowMs === null && this.records >= minRecords) {
      closed = this.close();
      this.windowStart = null;
    }
    return closed;
  }

  private close(): DriftWindowReport {
    const stats: FeatureWindowStats[] = [];
    const findings: DriftFinding[] = [];
    const windowStart = this.windowStart!;
    const pThreshold = this.rule.ksAlpha / this.features.length;
    for (const f of this.features) {
      if (f.seen === 0) continue;
      const sample = f.reservoir.slice(0, Math.min(f.seen, f.reservoir.length)).sort();
      const ks = ksTwoSample(f.ref.sample, sample);
      const value = psi(f.ref.proportions, f.counts);
      stats.push({ feature: f.name, records: f.seen, psi: value, ksD: ks.d, ksP: ks.p });
      const psiFinding = step(f.psi, value > this.rule.psiThreshold, this.rule.psiConsecutive, windowStart);
      if (psiFinding) findings.push({ feature: f.name, statistic: 'PSI', state: psiFinding.state, value, threshold: this.rule.psiThreshold, pValue: null, pThreshold: null, consecutiveWindows: f.psi.streak, episodeStart: psiFinding.episodeStart });
      const ksHolds = ks.d > this.rule.ksMinD && ks.p < pThreshold;
      const ksFinding = step(f.ks, ksHolds, this.rule.ksConsecutive, windowStart);
      if (ksFinding) findings.push({ feature: f.name, statistic: 'KS', state: ksFinding.state, value: ks.d, threshold: this.rule.ksMinD, pValue: ks.p, pThreshold, consecutiveWindows: f.ks.streak, episodeStart: ksFinding.episodeStart });
      f.reset();
    }
    const report = { windowStart, windowEnd: this.windowEnd, records: this.records, features: stats, findings };
    this.records = 0;
    this.windowEnd = -Infinity;
    return report;
  }
}

/** Advances an episode by one window; a RAISED after `needed` windows in a row, a CLEARED at the first window without. */
function step(e: Episode, holds: boolean, needed: number, windowStart: number): { state: 'RAISED' | 'CLEARED'; episodeStart: number } | null {
  if (!holds) {
    e.streak = 0;
    if (e.raisedAt === null) return null;
    const episodeStart = e.raisedAt;
    e.raisedAt = null;
    return { state: 'CLEARED', episodeStart };
  }
  e.streak++;
  if (e.raisedAt !== null || e.streak < needed) return null;
  e.raisedAt = windowStart;
  return { state: 'RAISED', episodeStart: windowStart };
}

function startOf(eventTime: number, windowMs: number | null): number {
  return windowMs === null ? eventTime : Math.floor(eventTime / windowMs) * windowMs;
}

/** A small seeded PRNG: the reservoir (and so a window's KS) is the same on every run of the same records. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
