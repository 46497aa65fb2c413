// The Grafana dashboards read metrics by name, as the alert rules do: every `streamscore_*` series a
// panel reads must be one the code registers (the runtime, the Parquet sink, the churn drift
// exporter), and the churn batch has its own row on the models dashboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRuntimeMetrics } from '../../streams/runtime/metrics.ts';
import { createSinkMetrics } from '../../connectors/parquet-sink/sink-metrics.ts';
import { createChurnDriftMetrics } from '../../cli/churn-metrics.ts';

const DIR = new URL('./grafana/dashboards/', import.meta.url);
interface Panel { type: string; title: string; targets?: { expr: string }[] }
const dashboard = (file: string) => JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as { panels: Panel[] };

async function known(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const registry of [createRuntimeMetrics({ defaultMetrics: false }).registry, createSinkMetrics().registry, createChurnDriftMetrics().metrics.registry]) {
    for (const m of await registry.getMetricsAsJSON()) {
      for (const suffix of (m.type as unknown as string) === 'histogram' ? ['_bucket', '_count', '_sum'] : ['']) names.add(m.name + suffix);
    }
  }
  return names;
}

test('every streamscore metric the models dashboard reads is registered by the code', async () => {
  const registered = await known();
  const read = new Set(dashboard('streamscore-models.json').panels.flatMap((p) => (p.targets ?? []).flatMap((t) => [...t.expr.matchAll(/\bstreamscore_[a-z0-9_]+/g)].map((m) => m[0]))));
  assert.ok(read.size >= 4, `the dashboard reads ${[...read].join(', ')}`);
  assert.deepEqual([...read].filter((n) => !registered.has(n)), []);
  assert.ok(readdirSync(DIR).includes('streamscore-models.json'));
});

test('the models dashboard has a churn batch row whose panels read the churn-score series', () => {
  const panels = dashboard('streamscore-models.json').panels;
  const row = panels.findIndex((p) => p.type === 'row' && /churn/i.test(p.title));
  assert.ok(row >= 0, 'no churn row');
  const next = panels.findIndex((p, i) => i > row && p.type === 'row');
  const own = panels.slice(row + 1, next < 0 ? undefined : next);
  assert.ok(own.length >= 3, `the churn row has ${own.length} panels`);
  for (const p of own) assert.ok(p.targets?.length && p.targets.every((t) => t.expr.includes('processor="churn-score"')), `${p.title} does not select processor="churn-score"`);
});
