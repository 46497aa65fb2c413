// Embedded MLflow: the tracking server and model registry, run from the project's .venv (installed
// by infra/bootstrap.sh from infra/mlflow/requirements.txt), with a SQLite backend and a local,
// server-proxied artifact store under <data>/mlflow. One uvicorn worker and no job runner keep it
// near 500 MB RSS. MLFLOW_TRACKING_URI set means an external server: probed, never started.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LOOPBACK, redactUrl } from './config.ts';
import type { StackConfig } from './config.ts';
import { StackError } from './errors.ts';
import {
  assertPortsFree, awaitDaemon, cmdlineMatches, ensureDir, isAlive, ownedPid, portFree, readCmdline, readPidFile, seconds, spawnDetached, startFailureMessage,
  stopOwned, waitUntil, writePidFile,
} from './process.ts';
import type { Log, ProcessIdentity } from './process.ts';
import { errorMessage } from './service.ts';
import type { Health, Service } from './service.ts';
import { mlflowTarget } from '../../streams/runtime/model-registry/mlflow-http.ts';

/** Its first start creates the database (migrations); measured 7 s on a fast machine. */
const READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 15_000;
const PROBE_TIMEOUT_MS = 3_000;
const BOOTSTRAP_HINT = 'run `bash infra/bootstrap.sh` (it installs infra/mlflow/requirements.txt into .venv), or set MLFLOW_TRACKING_URI to a running MLflow server';

/** `mlflow==X` of the lock file: the version the stack installs and expects. */
export function pinnedMlflowVersion(requirements: string): string {
  const version = /^mlflow==(\S+)/m.exec(requirements)?.[1];
  if (!version) throw new StackError('infra/mlflow/requirements.txt has no `mlflow==VERSION` line', { service: 'mlflow' });
  return version;
}

function paths(config: StackConfig) {
  const dir = join(config.dataDir, 'mlflow');
  const venv = join(config.repoRoot, '.venv');
  return {
    venv,
    requirements: join(config.repoRoot, 'infra', 'mlflow', 'requirements.txt'),
    bin: join(venv, 'bin', 'mlflow'),
    /** Written by bootstrap.sh after a successful install (its naming: the path with / as _). */
    stamp: join(venv, '.infra_mlflow_requirements.txt.sha256'),
    dir,
    db: join(dir, 'mlflow.db'),
    artifacts: join(dir, 'artifacts'),
    pidFile: join(dir, 'mlflow.pid'),
    out: join(dir, 'mlflow.log'),
  };
}

function pinnedVersion(config: StackConfig): string {
  return pinnedMlflowVersion(readFileSync(paths(config).requirements, 'utf8'));
}

function identity(config: StackConfig): ProcessIdentity {
  const p = paths(config);
  return { pidFile: p.pidFile, cmdlineNeedles: [p.bin, 'server', `sqlite:///${p.db}`] };
}

async function ensureInstalled(config: StackConfig): Promise<void> {
  const p = paths(config);
  if (!existsSync(p.bin)) throw new StackError(`mlflow: ${p.bin} is missing`, { service: 'mlflow', hint: BOOTSTRAP_HINT });
  const installed = existsSync(p.stamp) ? readFileSync(p.stamp, 'utf8').trim() : null;
  const wanted = createHash('sha256').update(readFileSync(p.requirements)).digest('hex');
  if (installed !== wanted) {
    const why = installed === null ? 'was not installed into .venv by bootstrap' : 'changed since bootstrap installed it into .venv';
    throw new StackError(`mlflow: infra/mlflow/requirements.txt ${why}`, { service: 'mlflow', hint: BOOTSTRAP_HINT });
  }
}

async function start(config: StackConfig, log: Log): Promise<number> {
  if (config.mlflow.managed !== 'embedded') throw new StackError('mlflow is external (MLFLOW_TRACKING_URI is set); nothing to manage', { service: 'mlflow' });
  const { port } = config.mlflow;
  const p = paths(config);
  for (const dir of [p.dir, p.artifacts]) ensureDir(dir);
  await assertPortsFree('mlflow', LOOPBACK, [['STREAMSCORE_MLFLOW_PORT', port]]);

  const started = Date.now();
  log(`mlflow: starting MLflow ${pinnedVersion(config)} on ${LOOPBACK}:${port}...`);
  const pid = spawnDetached(p.bin, [
    'server',
    '--backend-store-uri', `sqlite:///${p.db}`,
    // The server proxies artifacts (mlflow-artifacts:/ URIs), so clients need only its HTTP API.
    '--artifacts-destination', p.artifacts,
    '--host', LOOPBACK,
    '--port', String(port),
    '--workers', '1',
  ], {
    logFile: p.out,
    cwd: p.dir,
    env: {
      ...process.env,
      // Its huey job runner (a third process, ~250 MB) serves only the GenAI evaluation jobs.
      MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
      MLFLOW_DISABLE_TELEMETRY: 'true',
    },
  });
  writePidFile(p.pidFile, pid);

  const outcome = await awaitDaemon(pid, identity(config), async () => (await health(config)).healthy, READY_TIMEOUT_MS);
  if (outcome !== 'ready') {
    await stop(config);
    throw new StackError(await startFailureMessage('mlflow server', pid, outcome === 'exited', READY_TIMEOUT_MS, p.out), { service: 'mlflow' });
  }
  log(`mlflow ready in ${seconds(started)} (pid ${pid}), UI at http://${LOOPBACK}:${port}`);
  return pid;
}

/** Live pids whose process group is `pgid` (spawnDetached makes the server a group leader; uvicorn joins its group). */
export function processGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid pgrp ...": the fields after the last ')', as comm may hold spaces or ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return members;
}

/**
 * SIGTERM to the server stops its uvicorn child too. But a server killed (after the grace period, or
 * by the OOM killer) leaves uvicorn holding the port, so what is left of its group is killed as well,
 * where it still runs MLflow from our .venv. Waiting is on the group and on the port: an exiting
 * process shows no command line for a moment, and a multi-threaded one shows as a zombie while its
 * other threads still hold its sockets.
 */
async function stop(config: StackConfig): Promise<number | null> {
  const p = paths(config);
  const leader = readPidFile(p.pidFile);
  const stopped = (await stopOwned(identity(config), STOP_GRACE_MS))?.pid ?? null;
  // A live leader that is not ours is a recycled pid: its group is someone else's.
  if (leader === null || (stopped === null && isAlive(leader))) return stopped;
  const port = config.mlflow.managed === 'embedded' ? config.mlflow.port : null;
  const emptied = () => waitUntil(async () => processGroupMembers(leader).length === 0 && (port === null || (await portFree(port, LOOPBACK))), 5_000, 100);
  // A server that stopped on SIGTERM takes uvicorn with it: give that time. Orphans of a dead one go at once.
  if (stopped === null || !(await emptied())) {
    for (const pid of processGroupMembers(leader)) {
      if (!cmdlineMatches(readCmdline(pid), [p.venv, 'mlflow'])) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    await emptied();
  }
  return stopped;
}

async function get(config: StackConfig, path: string): Promise<{ status: number; body: string }> {
  const { baseUrl, headers } = mlflowTarget(config.mlflowTrackingUri);
  const response = await fetch(`${baseUrl}${path}`, { headers, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  return { status: response.status, body: (await response.text()).trim() };
}

async function health(config: StackConfig): Promise<Health> {
  try {
    if (config.mlflow.managed === 'embedded' && ownedPid(identity(config)) === null) return { healthy: false, detail: 'not running' };
    const ok = await get(config, '/health');
    if (ok.status !== 200) return { healthy: false, detail: `GET /health: HTTP ${ok.status}` };
    const version = await get(config, '/version');
    const pinned = pinnedVersion(config);
    if (version.status !== 200) return { healthy: true, detail: `healthy; GET /version: HTTP ${version.status}, streamscore is tested with ${pinned}` };
    // A different server version still serves the REST API; the warning names what was tested.
    return version.body === pinned
      ? { healthy: true, detail: `MLflow ${version.body}` }
      : { healthy: true, detail: `MLflow ${version.body} (WARNING: streamscore is tested with ${pinned}; infra/mlflow/requirements.txt)` };
  } catch (err) {
    return { healthy: false, detail: errorMessage(err) };
  }
}

export const mlflowService: Service = {
  name: 'mlflow',
  managed: (config) => config.mlflow.managed,
  endpoint: (config) => redactUrl(config.mlflowTrackingUri),
  identity,
  ensureInstalled,
  start,
  stop,
  health,
};
