// Prometheus metrics of a processor's worker pool (worker-pool.ts) and of its model loads. They live
// in the processor's runtime registry (metrics.ts), so they are on its /metrics; the pool records
// through a recorder bound to its processor's name. The alert rules in infra/compose/prometheus/
// read these names: change them together.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ModelSpec } from './models.ts';

/** How a job handed to the pool ended: a value, a RecordRejectedError, its deadline, or any other failure. */
export const JOB_OUTCOMES = ['ok', 'rejected', 'timeout', 'failed'] as const;
export type JobOutcomeLabel = (typeof JOB_OUTCOMES)[number];

export interface WorkerPoolMetrics {
  jobsInFlight: Gauge<'processor'>;
  bytesInFlight: Gauge<'processor'>;
  jobsWaiting: Gauge<'processor'>;
  jobDuration: Histogram<'processor'>;
  jobsFinished: Counter<'processor' | 'outcome'>;
  workerRestarts: Counter<'processor'>;
  modelLoad: Histogram<'processor' | 'model' | 'version'>;
  /** The recorder a pool (or the main-thread model loader) of processor `processor` writes through. */
  forProcessor(processor: string): PoolMetricsRecorder;
}

export interface PoolMetricsRecorder {
  /** Sets the three in-flight gauges from the pool's limiter after any change to it. */
  inFlight(state: { count: number; bytes: number; queued: number }): void;
  /** A job ended; `seconds` is its time in a worker (absent when it never started in one). */
  jobFinished(outcome: JobOutcomeLabel, seconds?: number): void;
  /** A worker was terminated at a deadline or crashed, and the pool replaces it. */
  workerRestarted(): void;
  modelLoaded(model: Pick<ModelSpec, 'name' | 'version'>, seconds: number): void;
}

export function createWorkerPoolMetrics(registers: Registry[]): WorkerPoolMetrics {
  const labelNames = ['processor'] as const;
  const metrics = {
    jobsInFlight: new Gauge({ name: 'streamscore_worker_jobs_in_flight', help: 'Jobs admitted to the worker pool (running in a worker or queued for one)', labelNames, registers }),
    bytesInFlight: new Gauge({ name: 'streamscore_worker_bytes_in_flight', help: 'Bytes the admitted jobs declare (frames, images, documents), against STREAMSCORE_MAX_INFLIGHT_BYTES', labelNames, registers }),
    jobsWaiting: new Gauge({ name: 'streamscore_worker_jobs_waiting', help: 'Jobs waiting for room in the in-flight bounds (count or bytes): above 0 the pool is saturated', labelNames, registers }),
    jobDuration: new Histogram({
      name: 'streamscore_worker_job_duration_seconds',
      help: 'Time a job spent in a worker, from its start there to its end (value, rejection, timeout or failure)',
      labelNames,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    jobsFinished: new Counter({ name: 'streamscore_worker_jobs_finished_total', help: 'Jobs ended, by outcome: ok, rejected (RecordRejectedError, dead-lettered), timeout (past the record deadline, dead-lettered), failed (any other error: the batch is re-run)', labelNames: ['processor', 'outcome'] as const, registers }),
    workerRestarts: new Counter({ name: 'streamscore_worker_restarts_total', help: 'Worker threads replaced after being terminated at a record deadline or crashing (the replacement loads the models again)', labelNames, registers }),
    modelLoad: new Histogram({
      name: 'streamscore_model_load_seconds',
      help: 'Time to load one model (session creation and signature check), in each worker thread or in the main thread',
      labelNames: ['processor', 'model', 'version'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
  };
  return {
    ...metrics,
    forProcessor(processor) {
      return {
        inFlight(state) {
          metrics.jobsInFlight.set({ processor }, state.count);
          metrics.bytesInFlight.set({ processor }, state.bytes);
          metrics.jobsWaiting.set({ processor }, state.queued);
        },
        jobFinished(outcome, seconds) {
          metrics.jobsFinished.inc({ processor, outcome });
          if (seconds !== undefined) metrics.jobDuration.observe({ processor }, seconds);
        },
        workerRestarted: () => metrics.workerRestarts.inc({ processor }),
        modelLoaded: (model, seconds) => metrics.modelLoad.observe({ processor, model: model.name, version: model.version }, seconds),
      };
    },
  };
}
