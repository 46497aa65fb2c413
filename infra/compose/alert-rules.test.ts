// The Prometheus alert rules read metrics by name; a metric renamed in code would leave its alert
// silent forever. Every `streamscore_*` series a rule reads must be one the code registers (the
// processor runtime, the Parquet sink, the HTTP APIs), and the file must load in Prometheus
// (`promtool check rules`, where promtool is installed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { createRuntimeMetrics } from '../../streams/runtime/metrics.ts';
import { createSinkMetrics } from '../../connectors/parquet-sink/sink-metrics.ts';
import { startHttpApi } from '../../streams/runtime/http/server.ts';
import { createLogger } from '../../streams/runtime/logger.ts';
import { CHURN_METRICS_PORT, createChurnDriftMetrics } from '../../cli/churn-metrics.ts';

const RULES = new URL('./prometheus/alerts.yml', import.meta.url).pathname;

/** Names a PromQL expression can use for each registered metric (histograms: _bucket, _count, _sum). */
async function seriesNames(registry: Registry): Promise<string[]> {
  return (await registry.getMetricsAsJSON()).flatMap((m) => ((m.type as unknown as string) === 'histogram' ? ['_bucket', '_count', '_sum'].map((s) => m.name + s) : [m.name]));
}

test('every streamscore metric an alert rule reads is registered by the code', async () => {
  const apiRegistry = new Registry();
  const api = await startHttpApi({ name: 'rules-test', port: 0, routes: [], keyring: null, logger: createLogger({}).child({}, { level: 'silent' }), registry: apiRegistry });
  await api.close();
  const known = new Set([...(await seriesNames(createRuntimeMetrics({ defaultMetrics: false }).registry)), ...(await seriesNames(createSinkMetrics().registry)), ...(await seriesNames(apiRegistry))]);
  const read = new Set([...readFileSync(RULES, 'utf8').matchAll(/\bstreamscore_[a-z0-9_]+/g)].map((m) => m[0]));
  assert.ok(read.size >= 5, `the rules read ${read.size} streamscore metrics`);
  const unknown = [...read].filter((name) => !known.has(name));
  assert.deepEqual(unknown, [], `alert rules read metrics nothing registers: ${unknown.join(', ')}`);
});

test('the churn drift exporter registers every drift series the rules read (StreamscoreModelDrift fires for churn too)', async () => {
  const churn = new Set(await seriesNames(createChurnDriftMetrics().metrics.registry));
  const drift = [...new Set([...readFileSync(RULES, 'utf8').matchAll(/\bstreamscore_drift_[a-z0-9_]+/g)].map((m) => m[0]))];
  assert.ok(drift.includes('streamscore_drift_alerting'), `the rules read ${drift.join(', ') || 'no drift series'}`);
  assert.deepEqual(drift.filter((name) => !churn.has(name)), [], '`streamscore churn metrics` lacks drift series a rule reads');
});

test('Prometheus scrapes the churn drift exporter', () => {
  const config = readFileSync(new URL('./prometheus/prometheus.yml', import.meta.url), 'utf8');
  assert.ok(config.includes(`host.docker.internal:${CHURN_METRICS_PORT}`), `prometheus.yml has no target for churn metrics on ${CHURN_METRICS_PORT}`);
});

test('the rules file loads in Prometheus (promtool check rules)', (t) => {
  const r = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
  if (r.error) {
    t.skip('promtool is not installed (apt-get install prometheus); the metric names are still checked above');
    return;
  }
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /SUCCESS: \d+ rules found/);
});
