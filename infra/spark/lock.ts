// One `spark up`/`down` at a time per data dir: a second caller (a test and the churn CLI both
// calling sparkUp) waits instead of racing for the same ports, and a lock left by a dead process is
// taken over. Same scheme as the stack's lock (infra/stack/stack.ts), on its own file.
import { withFileLock } from '../stack/process.ts';
import type { Log } from '../stack/process.ts';

/** Long enough for a cold `spark up` (two JVM launches per daemon) on a 2-core box. */
const LOCK_WAIT_MS = 180_000;

export function withSparkLock<T>(lock: string, log: Log, fn: () => Promise<T>): Promise<T> {
  return withFileLock({ lock, what: '`streamscore spark` command', waitMs: LOCK_WAIT_MS, log }, fn);
}
