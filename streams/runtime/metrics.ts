// The runtime's Prometheus metrics. One registry per running processor so that several processors
// (or tests) in one process never collide; the names are what the Grafana dashboard and the alert
// rules in infra/compose/ read, so change them together.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FailureStage } from './errors.ts';
import { createWorkerPoolMetrics, type WorkerPoolMetrics } from './worker-pool-metrics.ts';
import { modelPerformanceValues } from './model-performance-gauges.ts';

export interface RuntimeMetrics {
  registry: Registry;
  recordsIn: Counter<'processor' | 'topic'>;
  recordsOut: Counter<'processor' | 'topic'>;
  recordsFailed: Counter<'processor' | 'topic' | 'stage'>;
  dlqRecords: Counter<'processor' | 'topic' | 'stage'>;
  batchDuration: Histogram<'processor' | 'topic'>;
  eventToOutputLatency: Histogram<'processor' | 'topic'>;
  consumerLag: Gauge<'processor' | 'topic' | 'partition'>;
  processorUp: Gauge<'processor'>;
  batchRetries: Counter<'processor' | 'topic' | 'reason'>;
  stateRebuilds: Counter<'processor' | 'topic'>;
  dlqTruncated: Counter<'processor' | 'topic'>;
  sessionRestarts: Counter<'processor'>;
  /** The worker pool's jobs, workers and model loads (worker-pool-metrics.ts). */
  workerPool: WorkerPoolMetrics;
  /** Drift per served model version and feature, set when a drift window closes (drift/). */
  driftPsi: Gauge<'processor' | 'model' | 'version' | 'feature'>;
  driftKsD: Gauge<'processor' | 'model' | 'version' | 'feature'>;
  driftAlerting: Gauge<'processor' | 'model' | 'version' | 'feature' | 'statistic'>;
  driftWindows: Counter<'processor' | 'model' | 'version'>;
  /** Precision and recall per model version from delayed labels, latest event-time day (model-performance-gauges.ts). */
  modelPrecision: Gauge<'processor' | 'model' | 'version'>;
  modelRecall: Gauge<'processor' | 'model' | 'version'>;
  recordFailed(processor: string, topic: string, stage: FailureStage): void;
}

export function createRuntimeMetrics(options: { defaultMetrics?: boolean } = {}): RuntimeMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const recordsFailed = new Counter({
    name: 'streamscore_records_failed_total',
    help: 'Input records that failed, by stage; each one was written to the dead-letter topic',
    labelNames: ['processor', 'topic', 'stage'] as const,
    registers,
  });
  const dlqRecords = new Counter({
    name: 'streamscore_dlq_records_total',
    help: 'Records written to dead-letter topics, by source topic and stage',
    labelNames: ['processor', 'topic', 'stage'] as const,
    registers,
  });
  return {
    registry,
    recordsIn: new Counter({ name: 'streamscore_records_in_total', help: 'Records consumed', labelNames: ['processor', 'topic'] as const, registers }),
    recordsOut: new Counter({ name: 'streamscore_records_out_total', help: 'Records produced (acknowledged by the broker)', labelNames: ['processor', 'topic'] as const, registers }),
    recordsFailed,
    dlqRecords,
    batchDuration: new Histogram({
      name: 'streamscore_batch_duration_seconds',
      help: 'Time to decode, handle, produce and commit one poll batch',
      labelNames: ['processor', 'topic'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    eventToOutputLatency: new Histogram({
      name: 'streamscore_event_to_output_latency_seconds',
      help: 'From the input record timestamp to its output being acknowledged',
      labelNames: ['processor', 'topic'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    consumerLag: new Gauge({ name: 'streamscore_consumer_lag', help: 'High watermark minus next offset to consume, per partition', labelNames: ['processor', 'topic', 'partition'] as const, registers }),
    batchRetries: new Counter({ name: 'streamscore_batch_retries_total', help: 'Batches run again in place after a transient failure (state lost, Redis or registry unreachable), by error class', labelNames: ['processor', 'topic', 'reason'] as const, registers }),
    stateRebuilds: new Counter({ name: 'streamscore_state_rebuilds_total', help: 'Partitions whose state was found missing in Redis and rebuilt from Kafka', labelNames: ['processor', 'topic'] as const, registers }),
    dlqTruncated: new Counter({ name: 'streamscore_dlq_truncated_total', help: 'Dead letters that could not keep the original record whole (too large for the dead-letter topic): key/value cut to a prefix, SHA-256 kept', labelNames: ['processor', 'topic'] as const, registers }),
    sessionRestarts: new Counter({ name: 'streamscore_session_restarts_total', help: 'Consumer sessions (consumer + producer) restarted after a crash, from the last commit', labelNames: ['processor'] as const, registers }),
    workerPool: createWorkerPoolMetrics(registers),
    driftPsi: new Gauge({ name: 'streamscore_drift_psi', help: 'PSI of the last closed drift window against the model version\'s training reference, per feature (and prediction)', labelNames: ['processor', 'model', 'version', 'feature'] as const, registers }),
    driftKsD: new Gauge({ name: 'streamscore_drift_ks_d', help: 'Two-sample KS D of the last closed drift window against the training reference sample, per feature (and prediction)', labelNames: ['processor', 'model', 'version', 'feature'] as const, registers }),
    driftAlerting: new Gauge({ name: 'streamscore_drift_alerting', help: '1 while the drift rule holds for the feature and statistic (a DriftAlert RAISED and not yet CLEARED)', labelNames: ['processor', 'model', 'version', 'feature', 'statistic'] as const, registers }),
    driftWindows: new Counter({ name: 'streamscore_drift_windows_total', help: 'Drift windows closed and judged, per model version', labelNames: ['processor', 'model', 'version'] as const, registers }),
    modelPrecision: new Gauge({ name: 'streamscore_model_precision', help: 'Precision of the model version on its latest event-time day with judged positives, from delayed labels (models.performance.v1)', labelNames: ['processor', 'model', 'version'] as const, registers, collect() { for (const v of modelPerformanceValues()) if (v.precision !== null) this.set({ processor: v.processor, model: v.model, version: v.version }, v.precision); } }),
    modelRecall: new Gauge({ name: 'streamscore_model_recall', help: 'Recall of the model version on its latest event-time day with labels, from delayed labels (models.performance.v1)', labelNames: ['processor', 'model', 'version'] as const, registers, collect() { for (const v of modelPerformanceValues()) if (v.recall !== null) this.set({ processor: v.processor, model: v.model, version: v.version }, v.recall); } }),
    processorUp: new Gauge({ name: 'streamscore_processor_up', help: '1 while the processor is a member of its consumer group', labelNames: ['processor'] as const, registers }),
    recordFailed(processor, topic, stage) {
      recordsFailed.inc({ processor, topic, stage });
      dlqRecords.inc({ processor, topic, stage });
    },
  };
}
