// The module every thread of a processor's worker pool runs (piscina's `filename`). On start it
// loads the processor's models once for this thread and imports the processor's task module; then
// each task: signal the main thread that it started (the record's deadline counts from here, not
// from the time it waited in the queue), run the task, and turn a RecordRejectedError into data,
// because structured clone would keep neither its class nor its stage.
//
// Terminating a worker while onnxruntime runs a session natively aborts the whole process (its
// Node-API callback throws into a torn-down environment), so model runs are fenced: a shared
// counter says a native run is in progress, and a cancel flag set by the main thread at the
// deadline stops new runs and ends the task after the current one. The pool terminates the worker
// only when no native run is in progress (worker-pool.ts). The two flags are checked in opposite
// orders on each side (Dekker), so a run never starts after the pool decided to terminate.
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { FileModelSource, loadModels, timedModelSource, type LoadedModel } from './models.ts';
import { CANCELLED, FLAG_COUNT, NATIVE_RUNS, UNWINDING, type TaskEnv, type TaskMessage, type TaskReply, type WorkerEvent, type WorkerSetup, type WorkerTask } from './worker-protocol.ts';
import { isRecordRejected } from './record-rejected-error.ts';

/** For task modules: `import type { TaskEnv } from '.../runtime/worker-entry.ts'` (types only: importing this module's code starts a worker's set-up). */
export type { TaskEnv, WorkerTask } from './worker-protocol.ts';

class TaskCancelledError extends Error {
  constructor() {
    super('the record deadline passed during inference; the task was cancelled');
    this.name = 'TaskCancelledError';
  }
}

/** Marks the task as unwinding BEFORE the run count drops (the finally below), so the pool, seeing no native run, also sees that the task is returning and waits for it rather than terminating the worker. */
function cancelled(flags: Int32Array): TaskCancelledError {
  Atomics.store(flags, UNWINDING, 1);
  return new TaskCancelledError();
}

/** A model whose runs are fenced by `flags` (see the top of this file). */
function fenced(model: LoadedModel, flags: Int32Array): LoadedModel {
  return {
    spec: model.spec,
    close: () => model.close(),
    async run(feeds) {
      Atomics.add(flags, NATIVE_RUNS, 1);
      try {
        if (Atomics.load(flags, CANCELLED)) throw cancelled(flags);
        const out = await model.run(feeds);
        if (Atomics.load(flags, CANCELLED)) throw cancelled(flags);
        return out;
      } finally {
        Atomics.sub(flags, NATIVE_RUNS, 1);
      }
    },
  };
}

async function setUp(setup: WorkerSetup): Promise<(message: TaskMessage) => Promise<TaskReply>> {
  const flags = new Int32Array(new SharedArrayBuffer(FLAG_COUNT * Int32Array.BYTES_PER_ELEMENT));
  // Each load's time goes to the main thread, which owns the metrics (streamscore_model_load_seconds).
  const source = timedModelSource(new FileModelSource(), (spec, seconds) => parentPort?.postMessage({ modelLoaded: { name: spec.name, version: spec.version, seconds } } satisfies WorkerEvent));
  const loaded = await loadModels(setup.models, { intraOpThreads: setup.ortThreads }, source);
  const env: TaskEnv = { models: Object.fromEntries(Object.entries(loaded).map(([name, m]) => [name, fenced(m, flags)])) };
  const url = setup.taskModule.startsWith('file:') ? setup.taskModule : pathToFileURL(setup.taskModule).href;
  const task = (await import(url)).default as unknown;
  if (typeof task !== 'function') throw new Error(`worker task module ${setup.taskModule} must export a function as default, found ${typeof task}`);
  return async (message) => {
    if ('warmup' in message) return { warmedUp: true };
    Atomics.store(flags, CANCELLED, 0);
    Atomics.store(flags, UNWINDING, 0);
    message.started.postMessage(flags.buffer);
    message.started.close();
    const startedAt = performance.now();
    const seconds = () => (performance.now() - startedAt) / 1000;
    try {
      const value = await (task as WorkerTask)(message.input, env);
      return { ok: true, value, seconds: seconds() };
    } catch (err) {
      if (isRecordRejected(err)) return { ok: false, rejected: err.message, seconds: seconds() };
      throw err;
    }
  };
}

export default setUp(workerData as WorkerSetup);
