// The monitor's windowing and rule on synthetic references (pure logic; the maintenance scorer's
// end-to-end drift test is streams/maintenance/drift.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DRIFT_RULE, DriftMonitor } from './drift-monitor.ts';
import { parseModelReference, type FeatureReference, type ModelReference } from './reference.ts';
import { ProcessorDrift } from './processor-drift.ts';

const HOUR = 3_600_000;

/** Deciles of U(0, 1) and a sorted sample of it. */
function uniformReference(): FeatureReference {
  return { edges: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], proportions: new Array(10).fill(0.1), count: 100_000, sample: Array.from({ length: 1000 }, (_, i) => (i + 0.5) / 1000) };
}
const reference: ModelReference = { format: 'streamscore-reference/1', model_name: 'm', model_version: '1', created: '', source: 'test', features: { x: uniformReference() }, prediction: uniformReference() };

/** A seeded U(0,1) stream, shifted by `shift` (clipped to [0, 1]). */
function stream(seed: number) {
  let a = seed;
  return (shift = 0) => {
    a = (a * 1103515245 + 12345) % 2 ** 31;
    return Math.min(1, Math.max(0, a / 2 ** 31 + shift));
  };
}

test('a stable stream raises nothing over 500 tumbling windows', () => {
  const m = new DriftMonitor(reference, { windowMs: HOUR, minRecords: 500, reservoirSize: 1000 });
  const next = stream(7);
  let windows = 0;
  for (let i = 0; i < 500 * 1000; i++) {
    const r = m.observe(i * (HOUR / 1000), { x: next(), prediction: next() });
    if (!r) continue;
    windows++;
    assert.deepEqual(r.findings, [], `window ${windows}: ${JSON.stringify(r.features)}`);
    assert.equal(r.records, 1000);
  }
  assert.equal(windows, 499);
});

test('a shift raises PSI after 2 windows in a row and KS at once, names the feature, and clears when it ends', () => {
  const m = new DriftMonitor(reference, { windowMs: HOUR, minRecords: 100, reservoirSize: 1000 });
  const next = stream(3);
  const reports = [];
  for (let h = 0; h < 8; h++) {
    const shift = h >= 3 && h < 6 ? 0.3 : 0; // hours 3-5 drifted
    for (let i = 0; i < 1000; i++) {
      const r = m.observe(h * HOUR + i * 3600, { x: next(shift), prediction: next() });
      if (r) reports.push(r);
    }
  }
  const findings = reports.flatMap((r, i) => r.findings.map((f) => `${i}:${f.statistic}:${f.feature}:${f.state}`));
  // Report i judges hour i: KS raises with hour 3, PSI with hour 4 (its second window), both clear with hour 6.
  assert.deepEqual(findings, ['3:KS:x:RAISED', '4:PSI:x:RAISED', '6:PSI:x:CLEARED', '6:KS:x:CLEARED']);
  const psiRaised = reports[4].findings.find((f) => f.statistic === 'PSI')!;
  assert.equal(psiRaised.consecutiveWindows, 2);
  assert.equal(psiRaised.episodeStart, 4 * HOUR, 'the episode is named by the window that raised it');
  assert.ok(psiRaised.value > DEFAULT_DRIFT_RULE.psiThreshold);
  const ksRaised = reports[3].findings.find((f) => f.statistic === 'KS')!;
  assert.ok(ksRaised.pValue! < ksRaised.pThreshold! && ksRaised.pThreshold === DEFAULT_DRIFT_RULE.ksAlpha / 2, 'Bonferroni over x and prediction');
});

test('sliding windows: judged every step once a whole window has been seen, over the last windowMs', () => {
  const m = new DriftMonitor(reference, { windowMs: 24 * HOUR, stepMs: HOUR, minRecords: 10, reservoirSize: 240 });
  const next = stream(5);
  const judged: { start: number; records: number }[] = [];
  for (let h = 0; h < 48; h++) {
    for (let i = 0; i < 50; i++) {
      const r = m.observe(h * HOUR + i * 60_000, { x: next(), prediction: next() });
      if (r) judged.push({ start: r.windowStart, records: r.records });
    }
  }
  // Hour 23 closes the first full day (judged when hour 24 begins); then one judgement per hour.
  assert.equal(judged.length, 24);
  assert.deepEqual(judged[0], { start: 0, records: 24 * 50 });
  assert.deepEqual(judged[5], { start: 5 * HOUR, records: 24 * 50 });
});

test('a window short of minRecords is not judged; missing and non-finite values are skipped', () => {
  const m = new DriftMonitor(reference, { windowMs: HOUR, minRecords: 100, reservoirSize: 100 });
  const next = stream(9);
  for (let i = 0; i < 50; i++) m.observe(i * 60_000, { x: next(), prediction: Number.NaN });
  assert.equal(m.observe(2 * HOUR, { x: 0.5, prediction: 0.5 }), null, 'a thin hour (50 records) is left alone');
  for (let i = 0; i < 200; i++) m.observe(3 * HOUR + i, { x: next() });
  const r = m.observe(4 * HOUR, { x: 0.5 });
  assert.ok(r);
  assert.deepEqual(r.features.map((f) => [f.feature, f.records]), [['x', 200]], 'prediction had no value in the window: not judged');
});

test('bad windowing and bad references are refused with every reason', () => {
  assert.throws(() => new DriftMonitor(reference, { windowMs: 90 * 60_000, stepMs: HOUR, minRecords: 0, reservoirSize: 5 }), /multiple of stepMs.*minRecords must be.*reservoirSize must be/);
  assert.throws(() => parseModelReference({ format: 'x', features: { prediction: uniformReference(), y: { edges: [2, 1], proportions: [1], sample: [], count: 0 } } }, 'ref.json'),
    /ref\.json: not a valid model reference: format must be .*model_name.*may not be named "prediction".*features\.y\.edges must be strictly ascending.*features\.y\.sample.*features\.y\.count.*prediction is missing/);
});

test('ProcessorDrift: one monitor per version; another version is reported once and not monitored', () => {
  const drift = new ProcessorDrift('p', { references: [reference, { ...reference, model_version: '2' }], windowMs: null, minRecords: 10 });
  assert.deepEqual(drift.monitored, ['m@1', 'm@2']);
  const sample = { model: 'm', version: '3', eventTime: 0, values: { x: 0.5, prediction: 0.5 } };
  assert.deepEqual(drift.observe([sample, sample], 0).unknown, ['m@3']);
  assert.deepEqual(drift.observe([sample], 0).unknown, []);
  assert.throws(() => new ProcessorDrift('p', { references: [reference, reference], windowMs: null, minRecords: 10 }), /two drift references for m 1/);
});
