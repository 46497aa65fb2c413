// maintenance-scorer (FactoryGuard): validated readings -> per-arm rolling windows in Redis ->
// LightGBM (ONNX) failure probability for every arm the batch touched -> predictions, and alerts
// with hysteresis and an exact TreeSHAP explanation. The model is declared (`models`), loaded once by
// the runtime and reached through ctx.models; every output carries `streamscore-model`. Exactly-once: a duplicated RAISED would page
// an engineer twice, and the window state is idempotent per offset (see rolling-windows.lua).
import { TOPICS } from '../../schemas/topics.ts';
import type { MaintenanceAlert, MaintenancePrediction, SensorReading } from '../../schemas/generated/types.ts';
import { LateEventError } from '../runtime/errors.ts';
import { defineProcessor, type InputRecord, type OutputRecord } from '../runtime/processor.ts';
import { alertHysteresis, type HysteresisRules, type ScoredArm } from './alert-hysteresis.ts';
import { describedContributions, summarize } from './explain.ts';
import { BUCKET_MS, FEATURE_NAMES, LATENESS_BUCKETS, RING_BUCKETS, writeFeatures } from './features.ts';
import { predictWith, type FailureModelDeclaration } from './model.ts';
import { rollingWindows, type WindowReading } from './rolling-windows.ts';
import { validateReading } from '../../schemas/factory/sensor-reading-rules.ts';

export const HORIZON_HOURS = 24;
const EXPLANATION_FEATURES = 3;

export function hysteresisRules(model: Pick<FailureModelDeclaration, 'meta'>): HysteresisRules {
  return {
    threshold: model.meta.threshold,
    // Three scores in a row: on held-out arms this catches more failures (39 of 52 vs 37) with
    // 124 false raises instead of 412 (models/maintenance/MODEL_CARD.md, alert analysis).
    raiseAfter: Number(model.meta.raise_after ?? 3),
    clearThreshold: model.meta.clear_threshold,
    clearAfter: Number(model.meta.clear_after ?? 3),
    cooldownMs: Number(model.meta.cooldown_ms ?? 30 * 60_000),
  };
}

/** `model` is the declaration (failureModelDeclaration()); a loaded FailureModel works too, its session is not used. */
export function maintenanceScorer(model: FailureModelDeclaration) {
  const rules = hysteresisRules(model);
  const width = FEATURE_NAMES.length;
  return defineProcessor({
    name: 'maintenance-scorer',
    description: `Scores each arm touched by a batch with ${model.name} ${model.version}; alerts with hysteresis and TreeSHAP explanations.`,
    inputs: [TOPICS.sensorReadingsValidated],
    outputs: [TOPICS.maintenancePredictions, TOPICS.maintenanceAlerts],
    semantics: 'exactly-once',
    semanticsReason: 'a duplicated alert would page an engineer twice; predictions are evaluated against failures later',
    models: [model.spec],
    state: { windows: rollingWindows(), alerts: alertHysteresis() },
    // sensor-validation already applied these rules, but anyone who can write the validated topic
    // can break its contract, and one NaN would poison an arm's windows for 12 h: check again.
    validate: (r: SensorReading, record) => validateReading(r, record.timestamp),
    // Windows are exact when rebuilt from their 12 h plus lateness (the EMA is truncated at 12 h).
    // Alert episodes are not rebuilt: after a Redis loss an ongoing episode is raised once more.
    rebuild: {
      lookbackMs: RING_BUCKETS * BUCKET_MS + (LATENESS_BUCKETS + 10) * BUCKET_MS,
      async apply(records: InputRecord<SensorReading>[], ctx) {
        await ctx.state.windows.apply(records.map(toWindowReading));
      },
    },
    async handle(records: InputRecord<SensorReading>[], ctx) {
      const { results, arms } = await ctx.state.windows.apply(records.map(toWindowReading));
      // Per arm: the readings that count (late ones are dead-lettered), newest event time, offset range.
      const touched = new Map<string, { source: InputRecord<SensorReading>; eventTime: number; firstOffset: number }>();
      results.forEach((result, i) => {
        const r = records[i];
        if (result === 'late') {
          ctx.reject(r, new LateEventError(`${r.value.arm_id} ${r.value.sensor} reading at ${new Date(r.value.event_time).toISOString()} arrived more than ${LATENESS_BUCKETS} min after the arm's newest reading`));
          return;
        }
        const t = touched.get(r.value.arm_id);
        if (!t) touched.set(r.value.arm_id, { source: r, eventTime: r.value.event_time, firstOffset: Number(r.offset) });
        else Object.assign(t, { source: r, eventTime: Math.max(t.eventTime, r.value.event_time) });
      });
      const scored = [...touched].filter(([arm]) => arms.has(arm));
      if (scored.length === 0) return [];
      const x = new Float32Array(scored.length * width);
      const rows = scored.map(([arm], i) => {
        const row = new Float64Array(width);
        writeFeatures(arms.get(arm)!, row);
        x.set(row, i * width);
        return row;
      });
      const probabilities = await predictWith(ctx.models[model.spec.name])(x, scored.length);
      const now = ctx.now();
      const outputs: OutputRecord[] = scored.map(([arm, t], i) => ({
        topic: TOPICS.maintenancePredictions,
        key: arm,
        value: {
          arm_id: arm,
          event_time: t.eventTime,
          scored_at: now,
          failure_probability: probabilities[i],
          model_name: model.name,
          model_version: model.version,
          horizon_hours: HORIZON_HOURS,
        } satisfies MaintenancePrediction,
        source: t.source,
      }));
      const scores: ScoredArm[] = scored.map(([arm, t], i) => ({ arm, probability: probabilities[i], eventTime: t.eventTime, offset: Number(t.source.offset), firstOffset: t.firstOffset }));
      const transitions = await ctx.state.alerts.apply(scores, rules);
      transitions.forEach((tr, i) => {
        if (!tr) return;
        const [arm, t] = scored[i];
        const contributions = model.explain(rows[i]);
        const top = describedContributions(FEATURE_NAMES, rows[i], contributions, EXPLANATION_FEATURES);
        const alert: MaintenanceAlert = {
          alert_id: tr.alertId,
          arm_id: arm,
          raised_at: tr.raisedAt,
          cleared_at: tr.kind === 'CLEARED' ? tr.clearedAt : null,
          event_time: t.eventTime,
          failure_probability: probabilities[i],
          threshold: rules.threshold,
          model_name: model.name,
          model_version: model.version,
          state: tr.kind,
          explanation: top,
          summary: tr.kind === 'RAISED' ? summarize(arm, probabilities[i], top, HORIZON_HOURS) : `${arm}: risk back to ${(probabilities[i] * 100).toFixed(0)}% (below ${(rules.clearThreshold * 100).toFixed(0)}% for ${rules.clearAfter} scores); alert cleared`,
        };
        outputs.push({ topic: TOPICS.maintenanceAlerts, key: arm, value: alert, source: t.source });
      });
      return outputs;
    },
  });
}

function toWindowReading(r: InputRecord<SensorReading>): WindowReading {
  return { arm: r.value.arm_id, sensor: r.value.sensor, value: r.value.value, eventTime: r.value.event_time, offset: Number(r.offset) };
}
