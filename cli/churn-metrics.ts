// `streamscore churn metrics`: the churn batch's drift as Prometheus gauges. The batch (score.py) runs
// for a minute a day and has no /metrics a scrape could catch, so this small long-lived exporter reads
// what the batch leaves behind, the latest `<lake>/telecom/churn_drift/score_date=D/drift.json`, and
// exposes it under the runtime's own metrics (createRuntimeMetrics: the same names, labels and help
// as the streaming processors' drift monitor), with processor="churn-score". StreamscoreModelDrift
// and the Grafana models dashboard therefore treat churn like every other model. The lake is the
// source rather than models.drift-alerts.v1 because the report holds every feature's PSI and KS D
// (the topic only has the alerts) and each episode's state, including those raised on earlier dates.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gauge } from 'prom-client';
import { startHealthServer, type HealthServer } from '../streams/runtime/health-server.ts';
import type { Logger } from '../streams/runtime/logger.ts';
import { createRuntimeMetrics, type RuntimeMetrics } from '../streams/runtime/metrics.ts';

/** The prom-client port after the processors' 9464-9470 (infra/compose/prometheus/prometheus.yml). */
export const CHURN_METRICS_PORT = 9471;
const PROCESSOR = 'churn-score'; // models/churn/drift.py PROCESSOR: the DriftAlerts' processor
/** Files change once a day; a scrape every 10 s reads the state of at most this long ago. */
const REFRESH_MS = 15_000;

interface DriftReport {
  score_date: string;
  model_name: string;
  model_version: string;
  features: { feature: string; psi: number; ks_d: number }[];
  episodes: Record<string, { streak: number; raised_at: number | string | null }>;
}

export interface ChurnDriftMetrics {
  metrics: RuntimeMetrics;
  /** Epoch seconds of the latest judged score date: how fresh the churn row is. */
  scoreDate: Gauge<'processor' | 'model' | 'version'>;
}

export function createChurnDriftMetrics(): ChurnDriftMetrics {
  const metrics = createRuntimeMetrics({ defaultMetrics: true });
  const scoreDate = new Gauge({ name: 'streamscore_drift_batch_score_date_seconds', help: 'Score date (UTC midnight, epoch s) of the latest drift report of a batch model (churn), per version', labelNames: ['processor', 'model', 'version'] as const, registers: [metrics.registry] });
  return { metrics, scoreDate };
}

/** The drift reports under the lake, by score date ascending. */
export function driftReports(lakeDir: string): { date: string; file: string }[] {
  const dir = join(lakeDir, 'telecom', 'churn_drift');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((d) => d.startsWith('score_date=')).map((d) => ({ date: d.slice('score_date='.length), file: join(dir, d, 'drift.json') }))
    .filter((r) => existsSync(r.file)).sort((a, b) => a.date.localeCompare(b.date));
}

/** Python's json.dumps writes a NaN statistic as a bare NaN, which JSON.parse refuses: read it as null (no sample). */
export const parseReport = (text: string): DriftReport => JSON.parse(text.replace(/(?<=[:\[,]\s*)(?:NaN|-?Infinity)(?=\s*[,\]}])/g, 'null')) as DriftReport;

/**
 * Sets the gauges from the latest report (the version that scored last); the series of an older
 * version go, as a restarted processor's would. Returns the report used, or null when there is none.
 */
export function refreshChurnDrift(m: ChurnDriftMetrics, lakeDir: string): DriftReport | null {
  // Everything is read before a gauge changes: a report that cannot be read leaves the last values.
  const reports = driftReports(lakeDir).map((r) => parseReport(readFileSync(r.file, 'utf8')));
  const latest = reports.at(-1) ?? null;
  const d = m.metrics;
  for (const g of [d.driftPsi, d.driftKsD, d.driftAlerting, m.scoreDate]) g.reset();
  d.driftWindows.reset();
  if (!latest) return null;
  const base = { processor: PROCESSOR, model: latest.model_name, version: latest.model_version };
  for (const f of latest.features) {
    if (Number.isFinite(f.psi)) d.driftPsi.set({ ...base, feature: f.feature }, f.psi);
    if (Number.isFinite(f.ks_d)) d.driftKsD.set({ ...base, feature: f.feature }, f.ks_d);
  }
  for (const [key, episode] of Object.entries(latest.episodes ?? {})) {
    const cut = key.lastIndexOf('/');
    d.driftAlerting.set({ ...base, feature: key.slice(0, cut), statistic: key.slice(cut + 1) }, episode.raised_at === null ? 0 : 1);
  }
  // Windows judged of this version: its reports (each score date is one window).
  d.driftWindows.inc(base, reports.filter((r) => r.model_version === latest.model_version).length);
  m.scoreDate.set(base, Date.parse(`${latest.score_date}T00:00:00Z`) / 1000);
  return latest;
}

/** Serves /metrics, /healthz, /readyz on `port` until closed, refreshing from the lake every 15 s. */
export async function serveChurnMetrics(o: { lakeDir: string; port: number; host?: string; log: Logger }): Promise<HealthServer> {
  const m = createChurnDriftMetrics();
  const refresh = () => {
    try {
      const r = refreshChurnDrift(m, o.lakeDir);
      o.log.debug({ score_date: r?.score_date ?? null }, 'churn drift gauges refreshed');
    } catch (err) {
      o.log.warn({ err: (err as Error).message, lake: o.lakeDir }, 'a churn drift report could not be read; the gauges keep their last values');
    }
  };
  refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  const server = await startHealthServer({ port: o.port, host: o.host, registry: m.metrics.registry, isReady: () => true, logger: o.log });
  return { port: server.port, close: async () => (clearInterval(timer), server.close()) };
}
