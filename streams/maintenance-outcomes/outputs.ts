// The ModelPerformance record of one tally (schemas/models/model-performance.avsc).
import type { ModelPerformance } from '../../schemas/generated/types.ts';
import { TOPICS } from '../../schemas/topics.ts';
import { parseBucket, precisionOf, recallOf, type Tally } from './label-join.ts';

export function performanceRecord(t: Tally, o: { horizons: ReadonlyMap<string, number>; defaultHorizonMs: number }, now: number): ModelPerformance {
  const { model, version, day } = parseBucket(t.bucket);
  return {
    model_name: model,
    model_version: version,
    processor: 'maintenance-outcomes',
    day,
    label_source: TOPICS.failureEvents.name,
    horizon_ms: o.horizons.get(model) ?? o.defaultHorizonMs,
    // Alerts come from hysteresis rules (threshold, raise_after, clear rules in the model meta), not one cut-off.
    threshold: null,
    true_positives: t.truePositives,
    false_positives: t.falsePositives,
    false_negatives: t.missed,
    labels_caught: t.caught,
    pending: t.pending,
    precision: precisionOf(t),
    recall: recallOf(t),
    computed_at: now,
  };
}
