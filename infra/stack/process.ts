// Processes of the local stack: pid files, ownership checks, detached start, graceful stop, and
// small wait/run helpers. A pid is only ever signalled when /proc/<pid>/cmdline still shows the
// command we started (main class + a path inside our data dir), so a recycled pid, or someone
// else's JVM, is never touched.
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StackError } from './errors.ts';
import { describeHost } from './host.ts';
import type { ServiceName } from './errors.ts';

export type Log = (line: string) => void;

export const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

/** What identifies our process: its pid file and strings its command line must contain. */
export interface ProcessIdentity {
  pidFile: string;
  /** Every needle must be a substring of some argument, e.g. ['kafka.Kafka', '/repo/.data/kafka/server.properties']. */
  cmdlineNeedles: string[];
}

export function cmdlineMatches(argv: readonly string[], needles: readonly string[]): boolean {
  if (argv.length === 0) return false; // zombie or kernel thread: nothing to match
  return needles.every((needle) => argv.some((arg) => arg.includes(needle)));
}

/** Parses the NUL-separated /proc/<pid>/cmdline. */
export function parseCmdline(raw: string): string[] {
  const parts = raw.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

const CMDLINE_REREADS = 20;

function isZombieOrGone(pid: number): boolean {
  try {
    // /proc/<pid>/stat: "pid (comm) S ...": the state follows the last ')' (comm may hold one).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] === 'Z';
  } catch {
    return true;
  }
}
/** Atomics.wait on this blocks for its timeout: a 1 ms synchronous pause without a busy loop. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * The process's argv, [] when it has none to show. A process reads empty for a few microseconds
 * while it execs (measured: bash exec'ing into a program shows '' between the two command lines,
 * in nearly every run polled closely), so an empty read of a live process is read again for up to
 * ~20 ms before it counts: otherwise a start-up check polling at that instant takes the Spark
 * launcher's exec into java for a daemon that died. Zombies and kernel threads stay empty.
 */
export function readCmdline(pid: number): string[] {
  for (let attempt = 0; ; attempt++) {
    let raw: string;
    try {
      raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return [];
    }
    if (raw !== '' || attempt >= CMDLINE_REREADS || isZombieOrGone(pid)) return parseCmdline(raw);
    Atomics.wait(PAUSE, 0, 0, 1);
  }
}

export function readPidFile(pidFile: string): number | null {
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8').trim();
  } catch {
    return null;
  }
  return /^\d+$/.test(text) && Number(text) > 1 ? Number(text) : null;
}

export function writePidFile(pidFile: string, pid: number): void {
  mkdirSync(dirname(pidFile), { recursive: true });
  writeFileSync(pidFile, `${pid}\n`);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid from the pid file if that process is alive and still ours, else null. Never deletes. */
export function ownedPid(id: ProcessIdentity): number | null {
  const pid = readPidFile(id.pidFile);
  if (pid === null || !isAlive(pid)) return null;
  return cmdlineMatches(readCmdline(pid), id.cmdlineNeedles) ? pid : null;
}

/** SIGTERM, then SIGKILL after graceMs; only if the pid is still ours. Removes the pid file. */
export async function stopOwned(id: ProcessIdentity, graceMs: number): Promise<{ pid: number; killed: boolean } | null> {
  const pid = ownedPid(id);
  if (pid === null) {
    rmSync(id.pidFile, { force: true });
    return null;
  }
  const stillOurs = () => isAlive(pid) && cmdlineMatches(readCmdline(pid), id.cmdlineNeedles);
  process.kill(pid, 'SIGTERM');
  let killed = false;
  if (!(await waitUntil(() => !stillOurs(), graceMs, 200))) {
    if (stillOurs()) process.kill(pid, 'SIGKILL');
    killed = true;
    if (!(await waitUntil(() => !stillOurs(), 10_000, 100))) {
      throw new StackError(`process ${pid} survived SIGKILL`);
    }
  }
  rmSync(id.pidFile, { force: true });
  return { pid, killed };
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last result. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/**
 * Waits for a daemon this process just spawned: 'ready' once `isReady` says so, 'exited' as soon as
 * it is gone or no longer ours (a crash at start is reported at once, not after the timeout).
 */
export async function awaitDaemon(pid: number, id: ProcessIdentity, isReady: () => Promise<boolean>, timeoutMs: number): Promise<'ready' | 'exited' | 'timeout'> {
  let exited = false;
  const done = await waitUntil(async () => {
    if (!isAlive(pid) || ownedPid(id) === null) {
      exited = true;
      return true;
    }
    return isReady();
  }, timeoutMs, 500);
  return exited ? 'exited' : done ? 'ready' : 'timeout';
}

/** How each process spawned by spawnDetached in this process ended, by pid (Node reaps its own children). */
const detachedExits = new Map<number, { code: number | null; signal: NodeJS.Signals | null }>();

/**
 * "exit code 1" / "killed by SIGKILL" for a process this process spawned detached and that has
 * ended, else null. SIGKILL with an empty log is the kernel's OOM killer's signature.
 */
export function detachedExitOf(pid: number): string | null {
  const e = detachedExits.get(pid);
  if (!e) return null;
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}

/** Starts a long-running process in its own session, stdout+stderr to `logFile` (truncated). */
export function spawnDetached(command: string, args: string[], opts: { logFile: string; cwd: string; env?: NodeJS.ProcessEnv }): number {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, 'w');
  try {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) throw new StackError(`could not start ${command}`);
    const pid = child.pid;
    child.on('error', () => {}); // reported through the pid/health checks instead
    child.on('exit', (code, signal) => detachedExits.set(pid, { code, signal }));
    child.unref();
    return pid;
  } finally {
    closeSync(fd);
  }
}

/**
 * Why a daemon we started did not come up: how it ended (when it did), its log's tail and what the
 * host has left. Waits a moment for the exit status, which arrives after /proc shows the process gone.
 */
export async function startFailureMessage(what: string, pid: number, exited: boolean, readyMs: number, logFile: string, lines = 40): Promise<string> {
  if (exited) await waitUntil(() => detachedExitOf(pid) !== null, 2_000, 50);
  const ended = detachedExitOf(pid);
  const how = exited ? `exited during start${ended ? ` (${ended})` : ''}` : `not ready within ${readyMs / 1000} s`;
  return `${what} ${how}; last lines of ${logFile}:\n${tailFile(logFile, lines) || '(the log is empty)'}\nhost: ${describeHost([dirname(logFile)])}`;
}

/** Runs a tool to completion, capturing its output; throws with the output's tail when it fails. */
export function runTool(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; missingHint?: string } = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', (err: NodeJS.ErrnoException) => {
      const message = err.code === 'ENOENT' ? `${command} not found` : `could not run ${command}: ${err.message}`;
      reject(new StackError(message, { hint: opts.missingHint, cause: err }));
    });
    child.on('close', (code, signal) => {
      const output = Buffer.concat(chunks).toString('utf8');
      if (code === 0) return resolvePromise(output);
      const tail = lastLines(output, 40);
      reject(new StackError(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`})${tail ? `:\n${tail}` : ''}`));
    });
  });
}

export function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

export function tailFile(path: string, n = 40): string {
  try {
    return lastLines(readFileSync(path, 'utf8'), n);
  } catch {
    return `(no log at ${path})`;
  }
}

/** True when nothing listens on host:port (we can bind it ourselves). */
export function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolvePromise(true)));
  });
}

export async function assertPortsFree(service: ServiceName, host: string, ports: [envVar: string, port: number][]): Promise<void> {
  for (const [envVar, port] of ports) {
    if (!(await portFree(port, host))) {
      throw new StackError(`${service}: ${host}:${port} is already in use by a process streamscore did not start`, {
        service,
        hint: `stop that process, or set ${envVar} to a free port`,
      });
    }
  }
}

export function findOnPath(name: string, pathEnv: string = process.env.PATH ?? ''): string | null {
  for (const dir of pathEnv.split(delimiter).filter((d) => d !== '')) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}

export function fileContains(path: string, needle: string): boolean {
  return existsSync(path) && readFileSync(path, 'utf8').includes(needle);
}

export function seconds(sinceMs: number): string {
  return `${((Date.now() - sinceMs) / 1000).toFixed(1)} s`;
}

/**
 * Runs `fn` holding an exclusive lock file (its content is the holder's pid): a second caller waits
 * up to `waitMs`, and a lock left by a dead process is taken over.
 */
export async function withFileLock<T>(o: { lock: string; what: string; waitMs: number; log: Log }, fn: () => Promise<T>): Promise<T> {
  const { lock, log } = o;
  ensureDir(dirname(lock));
  const holder = () => {
    const pid = readPidFile(lock);
    return pid !== null && pid !== process.pid && isAlive(pid) && cmdlineMatches(readCmdline(pid), ['node']) ? pid : null;
  };
  const deadline = Date.now() + o.waitMs;
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
    if (Date.now() >= deadline) throw new StackError(`another ${o.what} (pid ${pid}) still holds ${lock}`, { hint: 'wait for it to finish' });
    if (!logged) log(`waiting for another ${o.what} (pid ${pid})...`);
    logged = true;
    await waitUntil(() => holder() === null, Math.max(0, deadline - Date.now()), 500);
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}
