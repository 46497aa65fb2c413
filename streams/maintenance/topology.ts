// maintenance-scorer (FactoryGuard): validated readings -> per-arm rolling windows in Redis ->
// LightGBM (ONNX) failure probability for every arm the batch touched -> predictions, and alerts
// with hysteresis and an exact TreeSHAP explanation. Each plant is scored by its own model, feature
// spec, regimes and alert rules (plant-scoring.ts: from its profile); the models are declared
// (`models`), loaded once by the runtime and reached through ctx.models, and every output's
// `streamscore-model` header names the one model that made it. Exactly-once: a duplicated RAISED
// would page an engineer twice, and the window state is idempotent per offset (rolling-windows.lua).
import { TOPICS } from '../../schemas/topics.ts';
import type { MaintenanceAlert, MaintenancePrediction, SensorReading } from '../../schemas/generated/types.ts';
import { validateReading } from '../../schemas/factory/sensor-reading-rules.ts';
import { defaultPlantRegistry, type PlantRegistry } from '../../schemas/factory/plant-registry.ts';
import { LateEventError } from '../runtime/errors.ts';
import { MODEL_HEADER } from '../runtime/models.ts';
import { defineProcessor, type InputRecord, type OutputRecord } from '../runtime/processor.ts';
import type { StateSpec } from '../runtime/state/state-spec.ts';
import { alertHysteresis, type AlertHysteresisStore, type ScoredArm } from './alert-hysteresis.ts';
import { describedContributions, summarize } from './explain.ts';
import { writeFeatures } from './features.ts';
import { predictWith, type FailureModelDeclaration } from './model.ts';
import { plantScoringPlan, windowReadingOf, type PlantScoring, type PlantScoringPlan } from './plant-scoring.ts';
import { rollingWindows, type RollingWindowsStore } from './rolling-windows.ts';
import { dirname } from 'node:path';
import { PREDICTION, readModelReference } from '../runtime/drift/reference.ts';
import type { DriftDeclaration } from '../runtime/drift/processor-drift.ts';

const EXPLANATION_FEATURES = 3;
/**
 * Drift windows of one model version: the last 7 days of predictions, judged every hour. A window
 * must span the plant's week: the simulator plant's weekends and hot afternoons alone move an hour's
 * or a day's temperature features to PSI 0.3-1.0 against the training reference, which covers whole
 * weeks (docs/models.md, "Drift", has the measurements).
 */
export const MAINTENANCE_DRIFT_WINDOWING = { windowMs: 7 * 24 * 3_600_000, stepMs: 3_600_000, minRecords: 500 };

/**
 * `models`: the default model (the simulator plant's: every plant with a trained profile is then
 * served by its own model from the plant registry) or an explicit plan (plant-scoring.ts).
 */
export function maintenanceScorer(models: FailureModelDeclaration | PlantScoringPlan, registry: PlantRegistry = defaultPlantRegistry(), options: { drift?: Partial<DriftDeclaration> } = {}) {
  const plan = 'scorings' in models ? models : plantScoringPlan(registry, models);
  // Each plant model's training reference, next to its artifacts; a model without one (or with one
  // of another version) is not monitored, and the runtime says so when it scores.
  const references = plan.scorings.flatMap((s) => {
    const ref = readModelReference(dirname(s.model.spec.file));
    return ref && ref.model_name === s.model.name && ref.model_version === s.model.version ? [ref] : [];
  });
  const byPlant = new Map(plan.scorings.map((s) => [s.plantId, s]));
  const byModelName = new Map(plan.scorings.map((s) => [s.model.name, s]));
  const fallback = plan.scorings.find((s) => s.isDefault) ?? null;
  const unserved = new Map(plan.unserved.map((u) => [u.plantId, u.reason]));
  /** The entry that scores a plant: its own, the default for a plant without a profile, or none. */
  const scoringOf = (plantId: string): PlantScoring | null => byPlant.get(plantId) ?? (registry.profile(plantId) ? null : fallback);
  const warned = new Set<string>();
  const state = Object.fromEntries(plan.scorings.flatMap((s) => [[s.windowsStore, rollingWindows({ spec: s.spec })], [s.alertsStore, alertHysteresis()]])) as Record<string, StateSpec<RollingWindowsStore | AlertHysteresisStore>>;
  const windowsOf = (ctx: { state: Record<string, unknown> }, s: PlantScoring) => ctx.state[s.windowsStore] as RollingWindowsStore;
  // Windows are exact when rebuilt from the longest window plus lateness (the EMA is truncated there).
  const lookbackMs = Math.max(...plan.scorings.map((s) => (s.spec.ringBuckets + s.spec.latenessBuckets + 10) * s.spec.bucketMs));
  return defineProcessor({
    name: 'maintenance-scorer',
    description: `Scores each arm touched by a batch with its plant's model (${plan.scorings.map((s) => `${s.isDefault ? 'default / ' : ''}${s.plantId}: ${s.model.name} ${s.model.version}`).join('; ')}); alerts with hysteresis and TreeSHAP explanations.${plan.unserved.length ? ` Not scored (a profile, no trained model): ${plan.unserved.map((u) => u.plantId).join(', ')}.` : ''}`,
    inputs: [TOPICS.sensorReadingsValidated],
    outputs: [TOPICS.maintenancePredictions, TOPICS.maintenanceAlerts],
    semantics: 'exactly-once',
    semanticsReason: 'a duplicated alert would page an engineer twice; predictions are evaluated against failures later',
    models: plan.scorings.map((s) => s.model.spec),
    drift: { references, ...MAINTENANCE_DRIFT_WINDOWING, ...options.drift },
    state,
    // sensor-validation already applied these rules, but anyone who can write the validated topic
    // can break its contract, and one NaN would poison an arm's windows for hours: check again.
    // A shadow challenger (runtime rollout/) agrees when it puts the arm on the same side of its
    // plant's alert threshold, and when it makes the same alert transition.
    compare: {
      [TOPICS.maintenancePredictions.name]: (live: MaintenancePrediction, shadow: MaintenancePrediction) => {
        const threshold = byModelName.get(live.model_name)?.rules.threshold ?? 0.5;
        return { agree: (live.failure_probability >= threshold) === (shadow.failure_probability >= threshold), delta: Math.abs(live.failure_probability - shadow.failure_probability) };
      },
      [TOPICS.maintenanceAlerts.name]: (live: MaintenanceAlert, shadow: MaintenanceAlert) => ({ agree: live.state === shadow.state, delta: Math.abs(live.failure_probability - shadow.failure_probability) }),
    },
    validate: (r: SensorReading, record) => validateReading(r, record.timestamp, registry.rulesFor(r.plant_id)),
    // Alert episodes are not rebuilt: after a Redis loss an ongoing episode is raised once more.
    rebuild: {
      lookbackMs,
      async apply(records: InputRecord<SensorReading>[], ctx) {
        for (const [s, group] of groupByScoring(records, scoringOf)) await windowsOf(ctx, s).apply(group.map((r) => windowReadingOf(r.value, Number(r.offset), s.regimes)));
      },
    },
    async handle(records: InputRecord<SensorReading>[], ctx) {
      const outputs: OutputRecord[] = [];
      for (const [s, group] of groupByScoring(records, scoringOf, (plantId) => {
        if (warned.has(plantId)) return;
        warned.add(plantId);
        ctx.log.warn({ plantId, reason: unserved.get(plantId) }, 'readings of a plant with a profile but no model to score it: not scored (never by another plant\'s model)');
      })) {
        outputs.push(...(await scorePlant(s, group, ctx, windowsOf(ctx, s), ctx.state[s.alertsStore] as AlertHysteresisStore)));
      }
      return outputs;
    },
  });
}

/** Records by the plant entry that scores them, in first-seen order; `unscored` hears of the others. */
function groupByScoring(records: InputRecord<SensorReading>[], scoringOf: (plantId: string) => PlantScoring | null, unscored?: (plantId: string) => void): Map<PlantScoring, InputRecord<SensorReading>[]> {
  const groups = new Map<PlantScoring, InputRecord<SensorReading>[]>();
  for (const r of records) {
    const s = scoringOf(r.value.plant_id);
    if (!s) {
      unscored?.(r.value.plant_id);
      continue;
    }
    const g = groups.get(s);
    if (g) g.push(r);
    else groups.set(s, [r]);
  }
  return groups;
}

type ScoringContext = Parameters<Parameters<typeof defineProcessor>[0]['handle']>[1];

/** One plant's part of a batch: windows -> its model -> predictions, and alerts with hysteresis. */
async function scorePlant(s: PlantScoring, records: InputRecord<SensorReading>[], ctx: ScoringContext, windows: RollingWindowsStore, alerts: AlertHysteresisStore): Promise<OutputRecord[]> {
  const { results, arms } = await windows.apply(records.map((r) => windowReadingOf(r.value, Number(r.offset), s.regimes)));
  // Per arm: the readings that count (late ones are dead-lettered), newest event time, offset range.
  const touched = new Map<string, { source: InputRecord<SensorReading>; eventTime: number; firstOffset: number }>();
  results.forEach((result, i) => {
    const r = records[i];
    if (result === 'late') {
      const lateness = (s.spec.latenessBuckets * s.spec.bucketMs) / 60_000;
      ctx.reject(r, new LateEventError(`${r.value.arm_id} ${r.value.channel ?? r.value.sensor} reading at ${new Date(r.value.event_time).toISOString()} arrived more than ${lateness} min after the arm's newest reading`));
      return;
    }
    const t = touched.get(r.value.arm_id);
    if (!t) touched.set(r.value.arm_id, { source: r, eventTime: r.value.event_time, firstOffset: Number(r.offset) });
    else Object.assign(t, { source: r, eventTime: Math.max(t.eventTime, r.value.event_time) });
  });
  const scored = [...touched].filter(([arm]) => arms.has(arm));
  if (scored.length === 0) return [];
  const width = s.spec.names.length;
  const x = new Float32Array(scored.length * width);
  const rows = scored.map(([arm], i) => {
    const row = new Float64Array(width);
    writeFeatures(arms.get(arm)!, row);
    x.set(row, i * width);
    return row;
  });
  const probabilities = await predictWith(ctx.models[s.model.spec.name], width)(x, scored.length);
  const now = ctx.now();
  // The header names the one model that made each output (the processor serves several).
  const headers = { [MODEL_HEADER]: `${s.model.name}@${s.model.version}` };
  const outputs: OutputRecord[] = scored.map(([arm, t], i) => ({
    topic: TOPICS.maintenancePredictions,
    key: arm,
    value: {
      arm_id: arm,
      event_time: t.eventTime,
      scored_at: now,
      failure_probability: probabilities[i],
      model_name: s.model.name,
      model_version: s.model.version,
      horizon_hours: s.horizonHours,
    } satisfies MaintenancePrediction,
    source: t.source,
    headers,
    // The model's inputs as it saw them and its output: the drift monitor's sample of this plant's model.
    drift: { model: s.model.name, version: s.model.version, eventTime: t.eventTime, values: driftValues(s.spec.names, rows[i], probabilities[i]) },
  }));
  const scores: ScoredArm[] = scored.map(([arm, t], i) => ({ arm, probability: probabilities[i], eventTime: t.eventTime, offset: Number(t.source.offset), firstOffset: t.firstOffset }));
  const rules = s.rules;
  const transitions = await alerts.apply(scores, rules);
  transitions.forEach((tr, i) => {
    if (!tr) return;
    const [arm, t] = scored[i];
    const contributions = s.model.explain(rows[i]);
    // The simulator plant keeps its established wording; a profiled plant is described in its own words.
    const words = s.isDefault ? undefined : { channels: s.channels, regimes: s.regimes !== null, spec: s.spec };
    const top = describedContributions(s.spec.names, rows[i], contributions, EXPLANATION_FEATURES, words);
    const alert: MaintenanceAlert = {
      alert_id: tr.alertId,
      arm_id: arm,
      raised_at: tr.raisedAt,
      cleared_at: tr.kind === 'CLEARED' ? tr.clearedAt : null,
      event_time: t.eventTime,
      failure_probability: probabilities[i],
      threshold: rules.threshold,
      model_name: s.model.name,
      model_version: s.model.version,
      state: tr.kind,
      explanation: top,
      summary: tr.kind === 'RAISED' ? summarize(arm, probabilities[i], top, s.horizonHours) : `${arm}: risk back to ${(probabilities[i] * 100).toFixed(0)}% (below ${(rules.clearThreshold * 100).toFixed(0)}% for ${rules.clearAfter} scores); alert cleared`,
    };
    outputs.push({ topic: TOPICS.maintenanceAlerts, key: arm, value: alert, source: t.source, headers });
  });
  return outputs;
}

function driftValues(names: readonly string[], row: Float64Array, probability: number): Record<string, number> {
  const values: Record<string, number> = { [PREDICTION]: probability };
  names.forEach((n, i) => (values[n] = row[i]));
  return values;
}
