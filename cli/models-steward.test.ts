// The steward's pure parts: which retraining each model gets (policy, env, a plant's default,
// manual with the reason), the duration options, and which topic records are triggers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DriftAlert, ModelPerformance } from '../schemas/generated/types.ts';
import { driftTrigger, performanceTrigger } from '../streams/runtime/model-registry/steward-feed.ts';
import { durationMs, plantProfileOf, retrainPlanner } from './models-steward.ts';

test('retraining: the policy command, then STREAMSCORE_RETRAIN_<KIND>, then a plant from the topic; vision, ner and churn are manual', () => {
  const plan = retrainPlanner({ models: { 'own-model': { retrain: { command: 'make retrain' } } } }, { STREAMSCORE_RETRAIN_CHURN: 'streamscore churn train --cutoff 2026-11-01' }, '/data');
  const own = plan({ name: 'own-model', kind: 'failure' });
  assert.deepEqual(own.manual ? null : [own.command, own.description], ['make retrain', 'policy retrain.command: make retrain']);
  const churn = plan({ name: 'churn-30d-rf', kind: 'churn' });
  assert.equal(churn.manual ? null : churn.command, 'streamscore churn train --cutoff 2026-11-01');
  const sim = plan({ name: 'arm-failure-lgbm', kind: 'failure' });
  assert.ok(!sim.manual);
  assert.match(sim.command, /plant train --profile 'connectors\/plants\/plant-simulator\.json' --from-topic --failures-topic --work "\$W" --artifacts "\$W\/model" --model-name 'arm-failure-lgbm'$/);
  assert.match(sim.command, /^W="\/data\/retrain\/arm-failure-lgbm-\$STREAMSCORE_RETRAIN_STARTED_AT"/);
  // C-MAPSS plants label by run to failure: no failure events to read.
  const fd001 = plan({ name: 'cmapss-fd001-failure-lgbm', kind: 'failure' });
  assert.ok(!fd001.manual && !fd001.command.includes('--failures-topic') && fd001.command.includes("--profile 'connectors/plants/cmapss-fd001.json'"));
  for (const [name, kind, why] of [['pcb-qc-mobilenetv2', 'vision', /PyTorch/], ['legal-ner-minilm', 'ner', /PyTorch/], ['churn-30d-rf', 'churn', /STREAMSCORE_RETRAIN_CHURN/], ['unknown-failure', 'failure', /no plant profile/]] as const) {
    const p = retrainPlanner({}, {}, '/data')({ name, kind });
    assert.ok(p.manual && why.test(p.reason), `${name}: ${JSON.stringify(p)}`);
  }
  assert.equal(plantProfileOf('nobody-failure-lgbm'), null);
});

test('durations: ms, s, m, h, d; anything else is refused naming the option', () => {
  assert.deepEqual(['500ms', '2s', '1.5m', '6h', '2d'].map((s) => durationMs(s, 'x')), [500, 2_000, 90_000, 21_600_000, 172_800_000]);
  for (const bad of ['6', '0h', '-1h', 'h', '6 hours']) assert.throws(() => durationMs(bad, 'debounce'), /--debounce .* is not a duration/);
});

test('triggers: a RAISED drift alert and a judged precision under the floor; CLEARED, few judged or good precision are not', () => {
  const alert = { alert_id: 'a', processor: 'maintenance-scorer', model_name: 'm', model_version: 'v1', feature: 'temperature_ema_6h', statistic: 'PSI', state: 'RAISED', value: 0.42, threshold: 0.2, p_value: null, p_threshold: null, consecutive_windows: 2, window_start: 0, window_end: 1, window_records: 900, reference_records: 10, detected_at: 5 } satisfies DriftAlert;
  const t = driftTrigger(alert)!;
  assert.deepEqual([t.model, t.modelVersion, t.source, t.rule, t.at, t.numbers.value], ['m', 'v1', 'drift', 'drift:temperature_ema_6h/PSI', 5, 0.42]);
  assert.match(t.detail, /^PSI 0\.420 > 0\.2 on temperature_ema_6h in maintenance-scorer's window/);
  assert.equal(driftTrigger({ ...alert, state: 'CLEARED' }), null);
  const perf = { model_name: 'm', model_version: 'v1', processor: 'maintenance-outcomes', day: '2026-12-01', label_source: 'factory.failure-events.v1', horizon_ms: 1, threshold: null, true_positives: 3, false_positives: 9, false_negatives: 1, labels_caught: 3, pending: 0, precision: 0.25, recall: 0.75, computed_at: 7 } satisfies ModelPerformance;
  const rule = { minPrecision: 0.5, minJudged: 10 };
  assert.deepEqual([performanceTrigger(perf, rule)?.rule, performanceTrigger(perf, rule)?.numbers.precision], ['precision', 0.25]);
  assert.equal(performanceTrigger({ ...perf, false_positives: 6 }, rule), null, '9 judged < 10');
  assert.equal(performanceTrigger({ ...perf, true_positives: 10, precision: 10 / 19 }, rule), null);
  assert.equal(performanceTrigger({ ...perf, precision: null }, rule), null);
});
