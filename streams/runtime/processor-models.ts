// Opens what a processor's declaration asks for beyond Kafka: its models and its worker pool.
// Without `workers`, the models are loaded here, in the main thread, once, for ctx.models (small
// models scored in batches, like FactoryGuard's LightGBM). With `workers`, each worker thread loads
// them for its task (worker-entry.ts) and the main thread holds none; the pool starts (and its
// workers load) before the processor joins its group, so a signature mismatch fails at start.
import type { Logger } from './logger.ts';
import { FileModelSource, loadModels, timedModelSource, type LoadedModel, type ModelSource } from './models.ts';
import type { PoolMetricsRecorder } from './worker-pool-metrics.ts';
import type { ProcessorDefinition } from './processor.ts';
import { WorkerPool } from './worker-pool.ts';
import type { WorkerSettings } from './kafka-runner.ts';

export interface ProcessorModels {
  models: Record<string, LoadedModel>;
  pool: WorkerPool | null;
  close(): Promise<void>;
}

export async function openProcessorModels(def: ProcessorDefinition, settings: WorkerSettings, log: Logger, source?: ModelSource, metrics?: PoolMetricsRecorder): Promise<ProcessorModels> {
  const specs = def.models ?? [];
  if (!def.workers) {
    // One intra-op thread: in-process models share the event loop's core with the consumer.
    const timed = metrics ? timedModelSource(source ?? new FileModelSource(), (spec, seconds) => metrics.modelLoaded(spec, seconds)) : source;
    const models = await loadModels(specs, { intraOpThreads: 1 }, timed);
    if (specs.length) log.info({ models: specs.map((m) => `${m.name}@${m.version}`) }, 'models loaded');
    return { models, pool: null, close: async () => void (await Promise.all(Object.values(models).map((m) => m.close()))) };
  }
  if (source) throw new Error(`processor ${def.name}: a custom ModelSource is not supported with workers yet (worker threads load each ModelSpec's file)`);
  const pool = await WorkerPool.start({ taskModule: def.workers.module, models: specs, recordDeadlineMs: def.workers.recordDeadlineMs, log, metrics, ...settings });
  log.info({ threads: settings.threads, ortThreads: settings.ortThreads, maxInflight: settings.maxInflight, maxInflightBytes: settings.maxInflightBytes, models: specs.map((m) => `${m.name}@${m.version}`) }, 'worker pool started');
  return { models: {}, pool, close: () => pool.close() };
}
