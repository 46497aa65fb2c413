// What the main thread and a pool's worker threads exchange (worker-pool.ts, worker-entry.ts). Kept
// apart from worker-entry.ts, which starts loading models as soon as it is imported.
import type { MessagePort } from 'node:worker_threads';
import type { LoadedModel, ModelSpec } from './models.ts';

export interface WorkerSetup {
  /** Absolute path or file URL of the processor's task module. */
  taskModule: string;
  models: ModelSpec[];
  ortThreads: number;
}

/** Indexes in the Int32Array over the SharedArrayBuffer a worker sends with each job's start signal. */
export const NATIVE_RUNS = 0;
export const CANCELLED = 1;
/** Set by the worker when a fenced run saw CANCELLED and threw: the task is unwinding and about to return. */
export const UNWINDING = 2;
export const FLAG_COUNT = 3;

export interface TaskEnv {
  models: Record<string, LoadedModel>;
}

/** What the processor's task module exports as default. */
export type WorkerTask<I = any, R = any> = (input: I, env: TaskEnv) => Promise<R> | R;

export type TaskMessage = { warmup: true } | { input: unknown; started: MessagePort };
/** `seconds`: the task's running time, measured in the worker (the start signal may arrive after the reply). */
export type TaskReply = { ok: true; value: unknown; seconds: number } | { ok: false; rejected: string; seconds: number } | { warmedUp: true };

/** Posted by a worker outside any task (piscina re-emits it as the pool's 'message'): the main thread owns the metrics. */
export type WorkerEvent = { modelLoaded: { name: string; version: string; seconds: number } };
