// maintenance-outcomes in the test driver: a hand-built sequence of predictions, alerts and failure
// reports per arm, each case chosen to exercise one rule of label-join.ts, and the ModelPerformance
// tallies read back from models.performance.v1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS } from '../../schemas/topics.ts';
import type { FailureEvent, MaintenanceAlert, MaintenancePrediction, ModelPerformance } from '../../schemas/generated/types.ts';
import { ProcessorTestDriver } from '../runtime/test-driver.ts';
import { maintenanceOutcomes } from './topology.ts';
import { modelPerformanceValues } from '../runtime/model-performance-gauges.ts';

const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 5); // 2026-01-05 00:00 UTC
const V1 = '2026.01.01-aaaaaaa';
const V2 = '2026.01.02-bbbbbbb';
const MODEL = 'arm-failure-lgbm';

function prediction(arm: string, t: number, version = V1): MaintenancePrediction {
  return { arm_id: arm, event_time: t, scored_at: t, failure_probability: 0.1, model_name: MODEL, model_version: version, horizon_hours: 24 };
}
function alert(arm: string, raisedAt: number, state: 'RAISED' | 'CLEARED' = 'RAISED', version = V1): MaintenanceAlert {
  return { alert_id: `${arm}-${raisedAt}`, arm_id: arm, raised_at: raisedAt, cleared_at: state === 'CLEARED' ? raisedAt + 2 * H : null, event_time: state === 'CLEARED' ? raisedAt + 2 * H : raisedAt, failure_probability: 0.5, threshold: 0.2, model_name: MODEL, model_version: version, state, explanation: [], summary: 's' };
}
function failure(arm: string, t: number, kind: 'FAILURE' | 'MAINTENANCE' = 'FAILURE'): FailureEvent {
  return { arm_id: arm, plant_id: 'plant-01', kind, failure_time: t, mode: 'bearing-wear', repaired_at: t + 4 * H, source: 'simulator' };
}

/** The latest tally per (version, day): what a consumer of the topic keeps. */
async function latest(driver: ProcessorTestDriver): Promise<Map<string, ModelPerformance>> {
  const out = new Map<string, ModelPerformance>();
  for (const r of await driver.outputs<ModelPerformance>(TOPICS.modelPerformance)) {
    assert.equal(r.key, r.value.model_name);
    out.set(`${r.value.model_version} ${r.value.day}`, r.value);
  }
  return out;
}

function counts(p: ModelPerformance | undefined) {
  assert.ok(p, 'a tally was published');
  return { tp: p.true_positives, fp: p.false_positives, fn: p.false_negatives, caught: p.labels_caught, pending: p.pending, precision: p.precision, recall: p.recall };
}

test('TP, FP and FN from a hand-built sequence: late report, re-raised alert, failure with no alert, watermark past the horizon', async () => {
  const driver = new ProcessorTestDriver(maintenanceOutcomes({ graceMs: 6 * H, horizons: new Map([[MODEL, 24 * H]]), defaultHorizonMs: 24 * H }));
  const pipe = async (topic: typeof TOPICS.maintenanceAlerts | typeof TOPICS.failureEvents | typeof TOPICS.maintenancePredictions, arm: string, value: unknown) => driver.pipe(topic, arm, value);
  // Every arm is scored by V1 from 01:00 on day 1.
  for (const arm of ['arm-a', 'arm-b', 'arm-c', 'arm-d']) await pipe(TOPICS.maintenancePredictions, arm, prediction(arm, T0 + H));
  // arm-a: raised at 02:00, cleared, raised again at 06:00, fails at 20:00 (both alerts within 24 h
  // before it) and the plant reports the failure 10 h late: two TPs, one caught failure.
  await pipe(TOPICS.maintenanceAlerts, 'arm-a', alert('arm-a', T0 + 2 * H));
  await pipe(TOPICS.maintenanceAlerts, 'arm-a', alert('arm-a', T0 + 2 * H, 'CLEARED'));
  await pipe(TOPICS.maintenanceAlerts, 'arm-a', alert('arm-a', T0 + 6 * H));
  // arm-b: raised at 03:00, never fails.
  await pipe(TOPICS.maintenanceAlerts, 'arm-b', alert('arm-b', T0 + 3 * H));
  // arm-c: fails at 12:00 with no alert before it (and a planned MAINTENANCE stop, which is no label).
  await pipe(TOPICS.failureEvents, 'arm-c', failure('arm-c', T0 + 12 * H));
  await pipe(TOPICS.failureEvents, 'arm-c', failure('arm-c', T0 + 5 * H, 'MAINTENANCE'));
  await driver.run();
  let day1 = (await latest(driver)).get(`${V1} 2026-01-05`);
  assert.deepEqual(counts(day1), { tp: 0, fp: 0, fn: 1, caught: 0, pending: 3, precision: null, recall: 0 });

  // Scoring goes on to day 2, 20:00: past arm-b's horizon (03:00 + 24 h) but not past its grace (6 h).
  await pipe(TOPICS.maintenancePredictions, 'arm-b', prediction('arm-b', T0 + 30 * H));
  await driver.run();
  assert.equal(counts((await latest(driver)).get(`${V1} 2026-01-05`)).fp, 0, 'within the grace an alert is not yet a false positive');

  // The late report of arm-a's failure (20:00 on day 1) arrives; arm-b's watermark passes its grace.
  await pipe(TOPICS.failureEvents, 'arm-a', failure('arm-a', T0 + 20 * H));
  await pipe(TOPICS.maintenancePredictions, 'arm-b', prediction('arm-b', T0 + 34 * H));
  await driver.run();
  day1 = (await latest(driver)).get(`${V1} 2026-01-05`);
  assert.deepEqual(counts(day1), { tp: 2, fp: 1, fn: 1, caught: 1, pending: 0, precision: 2 / 3, recall: 1 / 2 });
  assert.equal(day1!.label_source, TOPICS.failureEvents.name);
  assert.equal(day1!.horizon_ms, 24 * H);
  assert.equal(day1!.processor, 'maintenance-outcomes');

  // arm-d on V2 (day 2): an alert at 10:00, a failure 30 h later (outside the horizon) and scoring until 65 h (past horizon + grace): the
  // alert is an FP and the failure an FN, both charged to V2.
  await pipe(TOPICS.maintenancePredictions, 'arm-d', prediction('arm-d', T0 + 33 * H, V2));
  await pipe(TOPICS.maintenanceAlerts, 'arm-d', alert('arm-d', T0 + 34 * H, 'RAISED', V2));
  await pipe(TOPICS.maintenancePredictions, 'arm-d', prediction('arm-d', T0 + 65 * H, V2));
  await pipe(TOPICS.failureEvents, 'arm-d', failure('arm-d', T0 + 64 * H));
  await driver.run();
  const all = await latest(driver);
  assert.deepEqual(counts(all.get(`${V2} 2026-01-06`)), { tp: 0, fp: 1, fn: 0, caught: 0, pending: 0, precision: 0, recall: null });
  assert.deepEqual(counts(all.get(`${V2} 2026-01-07`)), { tp: 0, fp: 0, fn: 1, caught: 0, pending: 0, precision: null, recall: 0 });
  // Day 1 of V1 is unchanged by V2's records.
  assert.deepEqual(counts(all.get(`${V1} 2026-01-05`)), counts(day1));
  assert.ok(modelPerformanceValues().some((v) => v.model === MODEL && v.version === V2 && v.day === '2026-01-07'), 'the gauges see the latest day of V2');
});

test('a RAISED alert read after its failure (alerts partition lagging) turns the FN into a catch; a redelivered record changes nothing', async () => {
  const driver = new ProcessorTestDriver(maintenanceOutcomes({ graceMs: 0, horizons: new Map(), defaultHorizonMs: 24 * H }));
  await driver.pipe(TOPICS.maintenancePredictions, 'arm-e', prediction('arm-e', T0 + H));
  await driver.pipe(TOPICS.failureEvents, 'arm-e', failure('arm-e', T0 + 10 * H));
  await driver.run();
  assert.deepEqual(counts((await latest(driver)).get(`${V1} 2026-01-05`)), { tp: 0, fp: 0, fn: 1, caught: 0, pending: 0, precision: null, recall: 0 });
  await driver.pipe(TOPICS.maintenanceAlerts, 'arm-e', alert('arm-e', T0 + 4 * H));
  await driver.run();
  const after = counts((await latest(driver)).get(`${V1} 2026-01-05`));
  assert.deepEqual(after, { tp: 1, fp: 0, fn: 0, caught: 1, pending: 0, precision: 1, recall: 1 });
  // The same failure and alert again (at-least-once redelivery from another producer): same tally.
  await driver.pipe(TOPICS.failureEvents, 'arm-e', failure('arm-e', T0 + 10 * H));
  await driver.pipe(TOPICS.maintenanceAlerts, 'arm-e', alert('arm-e', T0 + 4 * H));
  await driver.run();
  assert.deepEqual(counts((await latest(driver)).get(`${V1} 2026-01-05`)), after);
});

test('a failure read before any prediction of its arm is charged to the first model that scores the arm', async () => {
  const driver = new ProcessorTestDriver(maintenanceOutcomes({ graceMs: 0, horizons: new Map(), defaultHorizonMs: 24 * H }));
  await driver.pipe(TOPICS.failureEvents, 'arm-f', failure('arm-f', T0 + 10 * H));
  await driver.run();
  assert.deepEqual(await driver.outputs(TOPICS.modelPerformance), [], 'no version to charge yet');
  await driver.pipe(TOPICS.maintenancePredictions, 'arm-f', prediction('arm-f', T0 + 16 * H, V2));
  await driver.run();
  assert.deepEqual(counts((await latest(driver)).get(`${V2} 2026-01-05`)), { tp: 0, fp: 0, fn: 1, caught: 0, pending: 0, precision: null, recall: 0 });
});

test('bad configuration is refused with the reason', () => {
  assert.throws(() => maintenanceOutcomes({ graceMs: -1, horizons: new Map(), defaultHorizonMs: H }), /label grace must be a duration >= 0/);
});
