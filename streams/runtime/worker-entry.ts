// The module every thread of a processor's worker pool runs (piscina's `filename`). On start it
// loads the processor's models once for this thread and imports the processor's task module; then
// each task: signal the main thread that it started (the record's deadline counts from here, not
// from the time it waited in the queue), run the task, and turn a RecordRejectedError into data,
// because structured clone would keep neither its class nor its stage.
import { workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import type { MessagePort } from 'node:worker_threads';
import { loadModels, type LoadedModel, type ModelSpec } from './models.ts';
import { isRecordRejected } from './record-rejected-error.ts';

export interface WorkerSetup {
  /** Absolute path or file URL of the processor's task module. */
  taskModule: string;
  models: ModelSpec[];
  ortThreads: number;
}

export interface TaskEnv {
  models: Record<string, LoadedModel>;
}

/** What the processor's task module exports as default. */
export type WorkerTask<I = any, R = any> = (input: I, env: TaskEnv) => Promise<R> | R;

export type TaskMessage = { warmup: true } | { input: unknown; started: MessagePort };
export type TaskReply = { ok: true; value: unknown } | { ok: false; rejected: string } | { warmedUp: true };

async function setUp(setup: WorkerSetup): Promise<(message: TaskMessage) => Promise<TaskReply>> {
  const env: TaskEnv = { models: await loadModels(setup.models, { intraOpThreads: setup.ortThreads }) };
  const url = setup.taskModule.startsWith('file:') ? setup.taskModule : pathToFileURL(setup.taskModule).href;
  const task = (await import(url)).default as unknown;
  if (typeof task !== 'function') throw new Error(`worker task module ${setup.taskModule} must export a function as default, found ${typeof task}`);
  return async (message) => {
    if ('warmup' in message) return { warmedUp: true };
    message.started.postMessage(0);
    message.started.close();
    try {
      return { ok: true, value: await (task as WorkerTask)(message.input, env) };
    } catch (err) {
      if (isRecordRejected(err)) return { ok: false, rejected: err.message };
      throw err;
    }
  };
}

export default setUp(workerData as WorkerSetup);
