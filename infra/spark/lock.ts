// One `spark up`/`down` at a time per data dir: a second caller (a test and the churn CLI both
// calling sparkUp) waits instead of racing for the same ports, and a lock left by a dead process is
// taken over. Same scheme as the stack's lock (infra/stack/stack.ts), on its own file.
import { linkSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { StackError } from '../stack/errors.ts';
import { cmdlineMatches, ensureDir, isAlive, readCmdline, readPidFile, waitUntil } from '../stack/process.ts';
import type { Log } from '../stack/process.ts';

/** Long enough for a cold `spark up` (two JVM launches per daemon) on a 2-core box. */
const LOCK_WAIT_MS = 180_000;

export async function withSparkLock<T>(lock: string, log: Log, fn: () => Promise<T>): Promise<T> {
  ensureDir(dirname(lock));
  const holder = () => {
    const pid = readPidFile(lock);
    return pid !== null && pid !== process.pid && isAlive(pid) && cmdlineMatches(readCmdline(pid), ['node']) ? pid : null;
  };
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let logged = false; ;) {
    // Written aside and hard-linked in: the lock never exists without its pid (link fails if it exists).
    const mine = `${lock}.${process.pid}`;
    writeFileSync(mine, `${process.pid}\n`);
    try {
      linkSync(mine, lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      rmSync(mine, { force: true });
    }
    const pid = holder();
    if (pid === null) {
      rmSync(lock, { force: true }); // stale
      continue;
    }
    if (Date.now() >= deadline) throw new StackError(`another \`streamscore spark\` command (pid ${pid}) still holds ${lock}`, { hint: 'wait for it to finish' });
    if (!logged) log(`spark: waiting for another \`streamscore spark\` command (pid ${pid})...`);
    logged = true;
    await waitUntil(() => holder() === null, Math.max(0, deadline - Date.now()), 500);
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}
