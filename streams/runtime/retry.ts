// One retry policy for every transient fault the runtime meets at its edges (broker coordinator
// loading, registry restarts, Redis reconnects): exponential backoff with full jitter, a bound on
// attempts AND on elapsed time, a log line per retry and one clear line when giving up. Errors that
// retrying cannot fix are rethrown at once.
import type { Logger } from './logger.ts';

export interface RetryPolicy {
  /** What is being attempted, for the log lines and the final error ("fetching committed offsets of sensor-validation"). */
  what: string;
  /** Attempts in all, the first included. */
  attempts?: number;
  /** Give up once this much time has passed since the first attempt, whatever `attempts` says. */
  maxElapsedMs?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Whether an error is worth another attempt; default: isTransient(). */
  retriable?: (err: unknown) => boolean;
  log?: Logger;
  /** Stops retrying early (shutdown). */
  signal?: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
}

/** The error when a retried operation gives up: one line naming the operation, the attempts and the last cause. */
export class RetriesExhaustedError extends Error {
  readonly attempts: number;
  constructor(what: string, attempts: number, elapsedMs: number, cause: unknown) {
    super(`gave up ${what} after ${attempts} attempt(s) in ${(elapsedMs / 1000).toFixed(1)} s: ${errorLine(cause)}`, { cause });
    this.name = 'RetriesExhaustedError';
    this.attempts = attempts;
  }
}

/**
 * Transient by its own account: kafkajs marks its errors `retriable` (GROUP_LOAD_IN_PROGRESS,
 * NOT_COORDINATOR, connection errors), runtime StreamErrors do the same; network errors of fetch
 * (TypeError 'fetch failed', AbortSignal timeouts) count too.
 */
export function isTransient(err: unknown): boolean {
  const e = err as { retriable?: boolean; name?: string; type?: string; cause?: unknown } | null;
  if (!e) return false;
  if (typeof e.retriable === 'boolean') return e.retriable;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
  if (e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSRequestTimeoutError' || e.name === 'KafkaJSNumberOfRetriesExceeded') return true;
  if (err instanceof TypeError && /fetch failed/.test(err.message)) return true;
  return false;
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy): Promise<T> {
  const attempts = policy.attempts ?? 8;
  const maxElapsedMs = policy.maxElapsedMs ?? 120_000;
  const initial = policy.initialDelayMs ?? 200;
  const cap = policy.maxDelayMs ?? 10_000;
  const retriable = policy.retriable ?? isTransient;
  const sleep = policy.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const elapsed = Date.now() - started;
      if (!retriable(err)) throw err;
      if (attempt >= attempts || elapsed >= maxElapsedMs || policy.signal?.aborted) throw new RetriesExhaustedError(policy.what, attempt, elapsed, err);
      const delay = Math.min(cap, initial * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      policy.log?.warn({ attempt, retryInMs: Math.round(delay), err: errorLine(err) }, `transient failure ${policy.what}; retrying`);
      await sleep(Math.min(delay, Math.max(0, maxElapsedMs - elapsed)));
    }
  }
}

/** An error as one short line: its message (cut at 500 characters), and its cause's when it adds something. */
export function errorLine(err: unknown, max = 500): string {
  const msg = err instanceof Error ? err.message : String(err);
  const cause = err instanceof Error && err.cause instanceof Error && !msg.includes(err.cause.message) ? ` (cause: ${err.cause.message})` : '';
  const line = `${msg}${cause}`.replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max)}... (${line.length} characters)` : line;
}
