// The worker pool behind HandlerContext.offload: CPU-heavy steps (image decoding, CNN inference,
// OCR) run on piscina worker threads, so the consumer's event loop stays free to heartbeat and
// fetch while they run. Each job waits for room in the in-flight bounds (inflight-limiter.ts),
// runs under a deadline that starts when a worker picks it up, and ends as a value, a rejection
// (RecordRejectedError thrown by the task) or a timeout; a timed-out job's worker is terminated
// (it may be in a busy loop) and piscina starts a replacement, which loads the models again —
// but never in the middle of a native onnxruntime run, which would abort the process: then the
// task is cancelled and ends after that run (worker-entry.ts).
import { MessageChannel } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { InflightLimiter } from './inflight-limiter.ts';
import type { Logger } from './logger.ts';
import type { ModelSpec } from './models.ts';
import { CANCELLED, NATIVE_RUNS, UNWINDING, type TaskMessage, type TaskReply, type WorkerEvent, type WorkerSetup } from './worker-protocol.ts';
import type { JobOutcomeLabel, PoolMetricsRecorder } from './worker-pool-metrics.ts';

const WORKER_ENTRY = fileURLToPath(new URL('./worker-entry.ts', import.meta.url));

export interface WorkerPoolOptions {
  /** Absolute path or file URL of the task module (its default export runs each job). */
  taskModule: string;
  models: ModelSpec[];
  /** Worker threads (each loads the models once). */
  threads: number;
  /** onnxruntime intra-op threads per worker: threads x ortThreads should not exceed the cores. */
  ortThreads: number;
  /** Jobs running or queued in the pool at once. */
  maxInflight: number;
  /** Bytes (as the jobs declare them) running or queued in the pool at once. */
  maxInflightBytes: number;
  /** A job running longer than this is abandoned: its worker is terminated and replaced. */
  recordDeadlineMs: number;
  log?: Logger;
  /** Where the pool reports jobs, restarts and model loads (the processor's /metrics). */
  metrics?: PoolMetricsRecorder;
}

export interface PoolJob<I> {
  input: I;
  /** What the job holds in memory (its frame, image, document), for the byte bound. */
  bytes: number;
  /** ArrayBuffers moved to the worker instead of copied (the caller must not use them afterwards). */
  transfer?: ArrayBuffer[];
}

export type JobOutcome<R> = { kind: 'done'; value: R } | { kind: 'rejected'; reason: string } | { kind: 'timeout'; reason: string };

export class WorkerPool {
  readonly limiter: InflightLimiter;
  private readonly piscina: Piscina;
  private readonly options: WorkerPoolOptions;
  private closed = false;
  /** Set once the first workers are up: a worker destroyed after that (and before close) is a restart. */
  private started = false;

  private constructor(options: WorkerPoolOptions) {
    this.options = options;
    this.limiter = new InflightLimiter(options.maxInflight, options.maxInflightBytes);
    const workerData: WorkerSetup = { taskModule: options.taskModule, models: options.models, ortThreads: options.ortThreads };
    this.piscina = new Piscina({
      filename: WORKER_ENTRY,
      workerData,
      minThreads: options.threads,
      maxThreads: options.threads,
      // One job per thread: the job is CPU-bound, and its deadline must be its own running time.
      concurrentTasksPerWorker: 1,
      // Workers stay up (they hold loaded models); a terminated one is replaced at once.
      idleTimeout: Infinity,
    });
    this.piscina.on('error', (err: Error) => options.log?.error({ err: err.message }, 'worker pool: a worker failed outside any job'));
    // piscina replaces a destroyed worker (terminated at a deadline, or exited) at once.
    this.piscina.on('workerDestroy', () => {
      if (this.started && !this.closed) options.metrics?.workerRestarted();
    });
    this.piscina.on('message', (event: WorkerEvent) => {
      if (event && typeof event === 'object' && 'modelLoaded' in event) options.metrics?.modelLoaded(event.modelLoaded, event.modelLoaded.seconds);
    });
  }

  /** Starts the threads and waits until each has loaded the models and the task module; a load error rejects here. */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    if (!Number.isInteger(options.threads) || options.threads < 1) throw new Error(`worker threads must be an integer >= 1, got ${options.threads}`);
    if (!(options.recordDeadlineMs > 0)) throw new Error(`workers.recordDeadlineMs must be > 0, got ${options.recordDeadlineMs}`);
    const pool = new WorkerPool(options);
    try {
      await Promise.all(Array.from({ length: options.threads }, () => pool.piscina.run({ warmup: true } satisfies TaskMessage)));
      pool.started = true;
    } catch (err) {
      await pool.close();
      throw new Error(`worker pool for ${options.taskModule} did not start: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    return pool;
  }

  get threads(): number {
    return this.options.threads;
  }

  /**
   * Runs one job within the in-flight bounds. Resolves with its value, its rejection reason or its
   * timeout; rejects when the task fails any other way (a bug, a crashed worker: the batch is retried).
   */
  async run<I, R>(job: PoolJob<I>): Promise<JobOutcome<R>> {
    if (this.closed) throw new Error('worker pool is closed');
    const admitted = this.limiter.acquire(job.bytes);
    this.sampleInFlight();
    await admitted;
    let startedAt: number | undefined;
    const started = new MessageChannel();
    const abort = new AbortController();
    let deadline: NodeJS.Timeout | undefined;
    let timedOut = false;
    let terminated = false;
    started.port1.once('message', (shared: SharedArrayBuffer) => {
      startedAt = performance.now();
      const flags = new Int32Array(shared);
      let unwindUntil = Infinity;
      const stop = () => {
        // Cancel first, then look for a native run: the worker checks in the opposite order.
        Atomics.store(flags, CANCELLED, 1);
        // A task whose fenced run saw the cancel is returning on its own: it gets one more deadline
        // to do so (a task that swallows the cancel and keeps going is then terminated). Runs are read
        // before UNWINDING, which the worker sets before its count drops.
        const idle = Atomics.load(flags, NATIVE_RUNS) === 0;
        if (idle && !(Atomics.load(flags, UNWINDING) === 1 && performance.now() < unwindUntil)) {
          terminated = true;
          abort.abort();
        } else deadline = setTimeout(stop, 10);
      };
      deadline = setTimeout(() => {
        timedOut = true;
        unwindUntil = performance.now() + this.options.recordDeadlineMs;
        stop();
      }, this.options.recordDeadlineMs);
    });
    try {
      const message: TaskMessage = { input: job.input, started: started.port2 };
      const reply = (await this.piscina.run(message, { transferList: [started.port2, ...(job.transfer ?? [])], signal: abort.signal })) as TaskReply;
      if ('warmedUp' in reply) throw new Error('worker answered a job with a warm-up reply');
      this.options.metrics?.jobFinished(reply.ok ? 'ok' : 'rejected', reply.seconds);
      return reply.ok ? { kind: 'done', value: reply.value as R } : { kind: 'rejected', reason: reply.rejected };
    } catch (err) {
      if (timedOut) {
        this.finished('timeout', startedAt);
        const how = terminated ? 'its worker was terminated and replaced' : 'it was cancelled when its inference run returned';
        return { kind: 'timeout', reason: `task ran longer than the record deadline of ${this.options.recordDeadlineMs} ms; ${how}` };
      }
      this.finished('failed', startedAt);
      throw err;
    } finally {
      clearTimeout(deadline);
      started.port1.close();
      this.limiter.release(job.bytes);
      this.sampleInFlight();
    }
  }

  private finished(outcome: JobOutcomeLabel, startedAt: number | undefined): void {
    this.options.metrics?.jobFinished(outcome, startedAt === undefined ? undefined : (performance.now() - startedAt) / 1000);
  }

  /** The limiter changes only in acquire() and release(): the gauges follow each call. */
  private sampleInFlight(): void {
    this.options.metrics?.inFlight({ count: this.limiter.count, bytes: this.limiter.bytes, queued: this.limiter.queued });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.piscina.close({ force: true });
  }
}
