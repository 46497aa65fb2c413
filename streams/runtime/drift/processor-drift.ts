// A processor's drift monitoring: what it declares (`drift` on its ProcessorDefinition), the
// sample each scored output carries (`drift` on an OutputRecord), and the monitors, one per served
// model version, fed after each delivered chunk. Shared by the Kafka runner (drift-publisher.ts)
// and the test driver, so both publish the same DriftAlert records.
import type { DriftAlert } from '../../../schemas/generated/types.ts';
import type { RuntimeMetrics } from '../metrics.ts';
import { DEFAULT_DRIFT_RULE, DriftMonitor, type DriftRule, type DriftWindowReport } from './drift-monitor.ts';
import { PREDICTION, type ModelReference } from './reference.ts';

/** What a model saw and said for one output: its input features and its prediction, by name. */
export interface DriftSample {
  model: string;
  version: string;
  /** Event time of the scored record: windows are cut by event time. */
  eventTime: number;
  /** Feature values by the names in the model's reference, plus `prediction`. */
  values: Record<string, number>;
}

export interface DriftDeclaration {
  /** The reference of each model version the processor serves; a sample of another version is not monitored. */
  references: ModelReference[];
  /** Event-time window length, or null for windows of `minRecords` records. */
  windowMs: number | null;
  /** How often a window is judged (it slides by this much); windowMs by default. */
  stepMs?: number;
  /** A window is judged only if it holds this many samples; a thinner one is skipped (no state change). */
  minRecords: number;
  reservoirSize?: number;
  rule?: Partial<DriftRule>;
}

/** The metrics the monitors set; the runner passes its own, the driver none. */
export type DriftMetrics = Pick<RuntimeMetrics, 'driftPsi' | 'driftKsD' | 'driftAlerting' | 'driftWindows'>;

export class ProcessorDrift {
  private readonly monitors = new Map<string, DriftMonitor>();
  private readonly unmonitored = new Set<string>();
  private readonly metrics: DriftMetrics | null;
  /** A monitor with the declaration's windowing and rule, for a version served after a model swap. */
  private readonly monitorOf: (ref: ModelReference) => DriftMonitor;
  readonly processor: string;

  constructor(processor: string, declaration: DriftDeclaration, metrics: DriftMetrics | null = null) {
    this.processor = processor;
    this.metrics = metrics;
    const rule = { ...DEFAULT_DRIFT_RULE, ...declaration.rule };
    const windowing = { windowMs: declaration.windowMs, stepMs: declaration.stepMs, minRecords: declaration.minRecords, reservoirSize: declaration.reservoirSize ?? 1_000 };
    for (const ref of declaration.references) {
      const key = keyOf(ref.model_name, ref.model_version);
      if (this.monitors.has(key)) throw new Error(`processor ${processor}: two drift references for ${ref.model_name} ${ref.model_version}`);
      this.monitors.set(key, new DriftMonitor(ref, windowing, rule));
    }
    this.monitorOf = (ref) => new DriftMonitor(ref, windowing, rule);
  }

  /**
   * Monitors the versions of `references` that are not monitored yet: the runtime calls it when it
   * swaps in models of new versions (serving-set.ts). Versions already monitored keep their windows.
   */
  track(references: readonly ModelReference[]): string[] {
    const added: string[] = [];
    for (const ref of references) {
      const key = keyOf(ref.model_name, ref.model_version);
      if (this.monitors.has(key)) continue;
      this.monitors.set(key, this.monitorOf(ref));
      this.unmonitored.delete(key);
      added.push(key);
    }
    return added;
  }

  /** The model versions monitored, as name@version. */
  get monitored(): string[] {
    return [...this.monitors.keys()];
  }

  /**
   * Counts the samples of one delivered chunk; returns the DriftAlert records of the windows they
   * closed, and the versions seen without a reference (once each, for the caller to log).
   */
  observe(samples: readonly DriftSample[], now: number): { alerts: DriftAlert[]; unknown: string[] } {
    const alerts: DriftAlert[] = [];
    const unknown: string[] = [];
    for (const s of samples) {
      const key = keyOf(s.model, s.version);
      const monitor = this.monitors.get(key);
      if (!monitor) {
        if (!this.unmonitored.has(key)) unknown.push(key);
        this.unmonitored.add(key);
        continue;
      }
      const report = monitor.observe(s.eventTime, s.values);
      if (report) alerts.push(...this.closed(monitor, report, now));
    }
    return { alerts, unknown };
  }

  private closed(m: DriftMonitor, report: DriftWindowReport, now: number): DriftAlert[] {
    const base = { processor: this.processor, model: m.model, version: m.version };
    this.metrics?.driftWindows.inc(base);
    for (const f of report.features) {
      this.metrics?.driftPsi.set({ ...base, feature: f.feature }, f.psi);
      this.metrics?.driftKsD.set({ ...base, feature: f.feature }, f.ksD);
    }
    return report.findings.map((f) => {
      this.metrics?.driftAlerting.set({ ...base, feature: f.feature, statistic: f.statistic }, f.state === 'RAISED' ? 1 : 0);
      return {
        alert_id: [this.processor, m.model, m.version, f.feature, f.statistic, f.episodeStart].join('/'),
        processor: this.processor,
        model_name: m.model,
        model_version: m.version,
        feature: f.feature,
        statistic: f.statistic,
        state: f.state,
        value: f.value,
        threshold: f.threshold,
        p_value: f.pValue,
        p_threshold: f.pThreshold,
        consecutive_windows: f.consecutiveWindows,
        window_start: report.windowStart,
        window_end: report.windowEnd,
        window_records: report.features.find((s) => s.feature === f.feature)?.records ?? 0,
        reference_records: (f.feature === PREDICTION ? m.reference.prediction : m.reference.features[f.feature]).count,
        detected_at: now,
      } satisfies DriftAlert;
    });
  }
}

function keyOf(model: string, version: string): string {
  return `${model}@${version}`;
}
