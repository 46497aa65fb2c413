// Drift of one model version: the scored records' features and prediction, window by window,
// against the version's training reference (reference.ts). Per feature and step it keeps counts in
// the reference's decile bins (for PSI) and a reservoir sample (for KS), so memory is fixed whatever
// the rate. A window spans `windowMs` of event time and is judged every `stepMs` (sliding), once it
// is full (the monitor has seen a whole window since it started) and holds minRecords; without
// windowMs, every minRecords records make a window. The rule and its tuning: docs/models.md, "Drift".
import { seededRandom } from '../random.ts';
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

/**
 * The rule with the KS floor tuned on simulated stable data only (loadtest/drift-false-alarms.ts;
 * docs/models.md, "Drift"): windows raising over 913 + 1,273 stable windows of two 200-arm plants were
 * 8 + 73 at D > 0.10, 0 + 16 at 0.12, 0 + 7 at 0.13, 0 + 2 at 0.15 and none at 0.17 (a third, held-out
 * plant: none of 913 at 0.17). The values of one
 * arm are alike, so the p-value (which assumes independent records) alone overstates the evidence.
 */
export const DEFAULT_DRIFT_RULE: DriftRule = { psiThreshold: 0.2, psiConsecutive: 2, ksAlpha: 0.001, ksMinD: 0.17, ksConsecutive: 1 };

export interface DriftWindowing {
  /** Event-time span of a window, or null for tumbling windows of minRecords records. */
  windowMs: number | null;
  /**
   * How often a window is judged (windowMs must be a multiple): each step the window slides on by
   * one step. Defaults to windowMs (tumbling). A window must span the stream's own cycles (a plant's
   * week: days and weekends) or a stable stream looks drifted; sliding keeps the delay short anyway.
   */
  stepMs?: number;
  /** A window is judged only with this many records; a thinner one is left alone (no state change). */
  minRecords: number;
  /** Values kept per feature and window for KS (reservoir sampling, split evenly over the steps). */
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

/** One step of one feature: counts in the reference bins and a reservoir sample. */
class FeatureSlice {
  readonly counts: number[];
  readonly reservoir: Float64Array;
  seen = 0;
  constructor(bins: number, size: number) {
    this.counts = new Array(bins).fill(0);
    this.reservoir = new Float64Array(size);
  }
  add(bin: number, v: number, random: () => number): void {
    this.counts[bin]++;
    // Algorithm R: every value of the step has the same chance to be in its sample.
    if (this.seen < this.reservoir.length) this.reservoir[this.seen] = v;
    else {
      const j = Math.floor(random() * (this.seen + 1));
      if (j < this.reservoir.length) this.reservoir[j] = v;
    }
    this.seen++;
  }
}

interface Slice {
  index: number;
  records: number;
  start: number;
  end: number;
  features: FeatureSlice[];
}

interface MonitoredFeature {
  name: string;
  ref: FeatureReference;
  psi: Episode;
  ks: Episode;
}

export class DriftMonitor {
  readonly model: string;
  readonly version: string;
  readonly reference: ModelReference;
  readonly windowing: DriftWindowing;
  readonly rule: DriftRule;
  private readonly features: MonitoredFeature[];
  private readonly random: () => number;
  /** Steps per window, and the reservoir of one step. */
  private readonly steps: number;
  private readonly sliceReservoir: number;
  private slices: Slice[] = [];
  private firstIndex: number | null = null;
  private countIndex = 0;

  constructor(reference: ModelReference, windowing: DriftWindowing, rule: DriftRule = DEFAULT_DRIFT_RULE, seed = 1) {
    const { windowMs, minRecords, reservoirSize } = windowing;
    const stepMs = windowing.stepMs ?? windowMs;
    const problems: string[] = [];
    if (windowMs !== null && !(windowMs > 0)) problems.push(`windowMs must be > 0 or null, got ${windowMs}`);
    if (windowMs !== null && !(stepMs! > 0 && Number.isInteger(windowMs / stepMs!))) problems.push(`windowMs (${windowMs}) must be a multiple of stepMs (${stepMs})`);
    if (windowMs === null && windowing.stepMs !== undefined) problems.push('stepMs needs windowMs (windows of minRecords records do not slide)');
    if (!(Number.isInteger(minRecords) && minRecords >= 1)) problems.push(`minRecords must be an integer >= 1, got ${minRecords}`);
    if (!(Number.isInteger(reservoirSize) && reservoirSize >= 10)) problems.push(`reservoirSize must be an integer >= 10, got ${reservoirSize}`);
    if (problems.length) throw new Error(`drift monitor of ${reference.model_name} ${reference.model_version}: ${problems.join('; ')}`);
    this.reference = reference;
    this.windowing = { ...windowing, stepMs: stepMs ?? undefined };
    this.rule = rule;
    this.model = reference.model_name;
    this.version = reference.model_version;
    this.features = [...Object.entries(reference.features), [PREDICTION, reference.prediction] as const].map(([name, ref]) => ({ name, ref, psi: { streak: 0, raisedAt: null }, ks: { streak: 0, raisedAt: null } }));
    this.steps = windowMs === null ? 1 : windowMs / stepMs!;
    this.sliceReservoir = Math.ceil(reservoirSize / this.steps);
    // Seeded: the reservoir, and so a window's KS, is the same on every run of the same records.
    this.random = seededRandom(seed);
  }

  /** The monitored names: the reference's features and `prediction`. */
  get featureNames(): string[] {
    return this.features.map((f) => f.name);
  }

  /**
   * Counts one scored record (its features and prediction by name; names the reference lacks and
   * non-finite values are skipped). Returns the report of the window judged when this record
   * started a new step, if any. A record older than the current step counts in the current step.
   */
  observe(eventTime: number, values: Readonly<Record<string, number>>): DriftWindowReport | null {
    const stepMs = this.windowing.stepMs;
    let report: DriftWindowReport | null = null;
    const index = stepMs === undefined ? this.countIndex : Math.floor(eventTime / stepMs);
    let current = this.slices.at(-1);
    if (!current || index > current.index) {
      // A new step judges the window that ended with the last one (windows of records judge themselves below).
      if (current && stepMs !== undefined) report = this.judge(current.index);
      current = { index, records: 0, start: eventTime, end: eventTime, features: this.features.map((f) => new FeatureSlice(f.ref.proportions.length, this.sliceReservoir)) };
      this.slices = [...this.slices.filter((s) => s.index > index - this.steps), current];
      this.firstIndex ??= index;
    }
    this.features.forEach((f, i) => {
      const v = values[f.name];
      if (typeof v === 'number' && Number.isFinite(v)) current.features[i].add(binIndex(f.ref.edges, v), v, this.random);
    });
    current.records++;
    current.start = Math.min(current.start, eventTime);
    current.end = Math.max(current.end, eventTime);
    // Windows of records: the step ends with its minRecords-th record.
    if (stepMs === undefined && current.records >= this.windowing.minRecords) {
      report = this.judge(current.index);
      this.countIndex++;
    }
    return report;
  }

  /** Judges the window ending with step `last`, if it is full: it spans a whole window and holds minRecords. */
  private judge(last: number): DriftWindowReport | null {
    const window = this.slices.filter((s) => s.index > last - this.steps && s.index <= last);
    const records = window.reduce((n, s) => n + s.records, 0);
    if (this.firstIndex! > last - this.steps + 1 || records < this.windowing.minRecords) return null;
    const stats: FeatureWindowStats[] = [];
    const findings: DriftFinding[] = [];
    const windowStart = Math.min(...window.map((s) => s.start));
    const pThreshold = this.rule.ksAlpha / this.features.length;
    this.features.forEach((f, i) => {
      const counts = new Array(f.ref.proportions.length).fill(0);
      const sample: number[] = [];
      let seen = 0;
      for (const s of window) {
        const fs = s.features[i];
        fs.counts.forEach((c, b) => (counts[b] += c));
        for (let j = 0; j < Math.min(fs.seen, fs.reservoir.length); j++) sample.push(fs.reservoir[j]);
        seen += fs.seen;
      }
      if (seen === 0) return;
      const ks = ksTwoSample(f.ref.sample, Float64Array.from(sample).sort());
      const value = psi(f.ref.proportions, counts);
      stats.push({ feature: f.name, records: seen, psi: value, ksD: ks.d, ksP: ks.p });
      const psiFinding = step(f.psi, value > this.rule.psiThreshold, this.rule.psiConsecutive, windowStart);
      if (psiFinding) findings.push({ feature: f.name, statistic: 'PSI', state: psiFinding.state, value, threshold: this.rule.psiThreshold, pValue: null, pThreshold: null, consecutiveWindows: f.psi.streak, episodeStart: psiFinding.episodeStart });
      const ksFinding = step(f.ks, ks.d > this.rule.ksMinD && ks.p < pThreshold, this.rule.ksConsecutive, windowStart);
      if (ksFinding) findings.push({ feature: f.name, statistic: 'KS', state: ksFinding.state, value: ks.d, threshold: this.rule.ksMinD, pValue: ks.p, pThreshold, consecutiveWindows: f.ks.streak, episodeStart: ksFinding.episodeStart });
    });
    return { windowStart, windowEnd: Math.max(...window.map((s) => s.end)), records, features: stats, findings };
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
