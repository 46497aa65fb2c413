// The contract every stack service (kafka.ts, registry.ts, redis.ts) implements, so stack.ts can
// bring them up, down and report them with one loop.
import type { Managed, StackConfig } from './config.ts';
import type { ServiceName } from './errors.ts';
import type { Log, ProcessIdentity } from './process.ts';

export interface Health {
  healthy: boolean;
  detail: string;
}

export interface Service {
  name: ServiceName;
  managed(config: StackConfig): Managed;
  /** Where clients reach it (credentials redacted). */
  endpoint(config: StackConfig): string;
  /** Pid file and command-line needles of the embedded process. */
  identity(config: StackConfig): ProcessIdentity;
  /** Fetches or installs what the embedded service needs; a no-op when already there. */
  ensureInstalled(config: StackConfig, log: Log): Promise<void>;
  /** Starts the embedded service and waits until it is ready; returns its pid. */
  start(config: StackConfig, log: Log): Promise<number>;
  /** Stops the embedded service if it is running and ours; returns the pid stopped, if any. */
  stop(config: StackConfig, log: Log): Promise<number | null>;
  /** Probes the service at its endpoint (embedded or external). Never throws. */
  health(config: StackConfig): Promise<Health>;
}

export function errorMessage(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e?.code ?? e?.cause?.code;
  const message = e instanceof Error ? e.message : String(err);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
