// HandlerContext.offload, bound per batch attempt: each job goes to the worker pool, and a job that
// times out or is rejected by its task dead-letters its record through that attempt's reject(), so
// a failed attempt (re-run record by record) does not dead-letter anything twice.
import { RecordTimeoutError, type StreamError } from './errors.ts';
import type { InputRecord, OffloadJob } from './processor.ts';
import { RecordRejectedError } from './record-rejected-error.ts';
import type { WorkerPool } from './worker-pool.ts';

export function offloadTo(pool: WorkerPool | null, processor: string, reject: (record: InputRecord, error: StreamError) => void) {
  return async <I, R>(jobs: OffloadJob<I>[]): Promise<(R | null)[]> => {
    if (!pool) throw new Error(`processor ${processor} called ctx.offload() but declares no workers (ProcessorDefinition.workers)`);
    // Settle every job before reporting a failure, so a retried batch never overlaps its own leftovers in the pool.
    const settled = await Promise.allSettled(jobs.map((job) => pool.run<I, R>({ input: job.input, bytes: job.bytes, transfer: job.transfer })));
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((s, i) => {
      const outcome = (s as PromiseFulfilledResult<Awaited<ReturnType<WorkerPool['run']>>>).value;
      if (outcome.kind === 'done') return outcome.value as R;
      reject(jobs[i].record, outcome.kind === 'timeout' ? new RecordTimeoutError(outcome.reason) : new RecordRejectedError(outcome.reason));
      return null;
    });
  };
}
