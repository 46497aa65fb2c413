// `churn metrics` over a lake with drift reports (the shape models/churn/batch_drift.py writes): the
// runtime's gauges with processor="churn-score" for the latest report's version only, alerting 1 for
// a RAISED episode (also one raised on an earlier date) and 0 for a cleared one, windows = that
// version's reports; and what StreamscoreModelDrift's expression selects is there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../streams/runtime/logger.ts';
import { parseReport, serveChurnMetrics } from './churn-metrics.ts';

const log = createLogger({ component: 'churn-metrics-test' }).child({}, { level: 'silent' });

function writeReport(lake: string, date: string, version: string, features: [string, number, number][], episodes: Record<string, string | null>) {
  const dir = join(lake, 'telecom', 'churn_drift', `score_date=${date}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'drift.json'), JSON.stringify({
    rule: {}, min_records: 500, alerts: [], score_date: date, model_name: 'churn-30d-rf', model_version: version, records: 5636, continued_from: null,
    features: features.map(([feature, psi, ks_d]) => ({ feature, records: 5636, psi, ks_d, ks_p: 0.5 })),
    episodes: Object.fromEntries(Object.entries(episodes).map(([k, raised]) => [k, { streak: raised ? 2 : 0, raised_at: raised === null ? null : Date.parse(raised) }])),
  }));
}

const sample = (text: string, name: string, labels: Record<string, string>): number | undefined => {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

test('churn metrics serves the latest drift report as the runtime drift gauges', async () => {
  const lake = mkdtempSync(join(tmpdir(), 'churn-metrics-'));
  try {
    writeReport(lake, '2026-07-14', 'v-old', [['calls_30d', 9.9, 0.9]], { 'calls_30d/PSI': '2026-07-14T00:00:00Z' });
    writeReport(lake, '2026-07-15', 'v-new', [['calls_30d', 0.31, 0.4], ['prediction', 0.01, 0.03]], { 'calls_30d/KS': '2026-07-15T00:00:00Z', 'calls_30d/PSI': null, 'prediction/KS': null });
    writeReport(lake, '2026-07-16', 'v-new', [['calls_30d', 0.5, 0.42], ['prediction', 0.02, 0.03], ['tenure_days', Number.NaN, Number.NaN]], { 'calls_30d/KS': '2026-07-15T00:00:00Z', 'calls_30d/PSI': '2026-07-16T00:00:00Z', 'prediction/KS': null });
    const server = await serveChurnMetrics({ lakeDir: lake, port: 0, log });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      assert.equal(res.status, 200);
      const text = await res.text();
      const base = { processor: 'churn-score', model: 'churn-30d-rf', version: 'v-new' };
      assert.equal(sample(text, 'streamscore_drift_psi', { ...base, feature: 'calls_30d' }), 0.5);
      assert.equal(sample(text, 'streamscore_drift_ks_d', { ...base, feature: 'calls_30d' }), 0.42);
      assert.equal(sample(text, 'streamscore_drift_psi', { ...base, feature: 'tenure_days' }), undefined, 'a NaN statistic is no sample');
      assert.equal(sample(text, 'streamscore_drift_alerting', { ...base, feature: 'calls_30d', statistic: 'KS' }), 1, 'raised on an earlier date, still raised');
      assert.equal(sample(text, 'streamscore_drift_alerting', { ...base, feature: 'calls_30d', statistic: 'PSI' }), 1);
      assert.equal(sample(text, 'streamscore_drift_alerting', { ...base, feature: 'prediction', statistic: 'KS' }), 0);
      assert.equal(sample(text, 'streamscore_drift_windows_total', base), 2);
      assert.equal(sample(text, 'streamscore_drift_batch_score_date_seconds', base), Date.parse('2026-07-16T00:00:00Z') / 1000);
      assert.ok(!text.includes('version="v-old"'), 'the older version has no series');
    } finally {
      await server.close();
    }
  } finally {
    rmSync(lake, { recursive: true, force: true });
  }
});

test('churn metrics without a drift report serves no drift series', async () => {
  const lake = mkdtempSync(join(tmpdir(), 'churn-metrics-'));
  try {
    const server = await serveChurnMetrics({ lakeDir: lake, port: 0, log });
    try {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      assert.match(text, /# TYPE streamscore_drift_alerting gauge/);
      assert.doesNotMatch(text, /^streamscore_drift_alerting\{/m);
    } finally {
      await server.close();
    }
  } finally {
    rmSync(lake, { recursive: true, force: true });
  }
});

test('a report with NaN statistics (as Python writes them) is read, the NaN as no value', () => {
  const r = parseReport('{"features": [{"feature": "x", "psi": NaN, "ks_d": -Infinity}, {"feature": "NaN", "psi": 0.1, "ks_d": 0.2}]}');
  assert.deepEqual(r.features, [{ feature: 'x', psi: null, ks_d: null }, { feature: 'NaN', psi: 0.1, ks_d: 0.2 }]);
});
