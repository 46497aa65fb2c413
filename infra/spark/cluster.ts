// The local Spark standalone cluster: `sparkUp` (1 master + N workers from the venv's pyspark,
// detached, on 127.0.0.1), `sparkDown` (only what `sparkUp` started, found by our pid files and
// command lines), `sparkStatus` (the master's JSON), plus what jobs need: `sparkMasterUrl` and
// `sparkSubmitEnv`. With SPARK_MASTER_URL set the cluster is external: never started or stopped.
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { LOOPBACK } from '../stack/config.ts';
import { StackError } from '../stack/errors.ts';
import { ensureDir, ownedPid, portFree, seconds, stderrLog, stopOwned } from '../stack/process.ts';
import type { Log } from '../stack/process.ts';
import { DEFAULT_WORKER_SHAPE, embeddedPorts, loadSparkConfig, masterUiUrlOf, masterUrlOf, workerShapeProblems } from './config.ts';
import type { SparkConfig, WorkerShape } from './config.ts';
import { masterIdentity, startMaster, startWorker, waitForWorkers, workerIdentity } from './daemons.ts';
import { withSparkLock } from './lock.ts';
import { fetchMasterState, masterHealth } from './master-state.ts';
import type { SparkWorkerState } from './master-state.ts';
import { pysparkRuntime, submitEnv } from './pyspark-runtime.ts';

const STOP_GRACE_MS = 15_000;

export interface SparkUpOptions extends Partial<WorkerShape> {
  config?: SparkConfig;
  log?: Log;
}

export interface SparkOptions {
  config?: SparkConfig;
  log?: Log;
}

/** `<data>/spark/cluster.json`: what `spark up` started, for `status` (expected workers) and humans. */
export interface SparkClusterRecord extends WorkerShape {
  masterUrl: string;
  uiUrl: string;
  pysparkVersion: string;
  javaHome: string;
  startedAt: string;
}

/** A worker as the master reports it, plus what `spark up` knows of it. */
export interface SparkWorkerStatus extends Omit<SparkWorkerState, 'host'> {
  /** Our worker number (1..N) when `spark up` started it; null for a worker someone else registered. */
  index: number | null;
  pid: number | null;
}

export interface SparkClusterStatus {
  managed: 'embedded' | 'external';
  masterUrl: string;
  uiUrl: string | null;
  /** null: an external cluster without SPARK_MASTER_UI, which cannot be probed. */
  healthy: boolean | null;
  detail: string;
  masterPid: number | null;
  expectedWorkers: number | null;
  aliveWorkers: number | null;
  cores: number | null;
  coresUsed: number | null;
  memoryMb: number | null;
  memoryUsedMb: number | null;
  activeApps: string[];
  workers: SparkWorkerStatus[];
  logDir: string | null;
  startedAt: string | null;
}

export function sparkMasterUrl(config: SparkConfig = loadSparkConfig()): string {
  return masterUrlOf(config);
}

/** SPARK_HOME, PYSPARK_PYTHON, JAVA_HOME, SPARK_LOCAL_IP (...) for a PySpark job; merge over process.env. */
export function sparkSubmitEnv(config: SparkConfig = loadSparkConfig()): Record<string, string> {
  return submitEnv(config);
}

export async function sparkUp({ config = loadSparkConfig(), log = stderrLog, ...requested }: SparkUpOptions = {}): Promise<SparkClusterStatus> {
  if (config.cluster.managed === 'external') {
    log(`spark: SPARK_MASTER_URL is set; using the external cluster at ${config.cluster.masterUrl}, nothing to start`);
    return sparkStatus({ config });
  }
  const cluster = config.cluster;
  const runtime = pysparkRuntime(config); // a missing venv or JDK fails before anything starts
  const started = Date.now();
  await withSparkLock(config.paths.lock, log, async () => {
    const record = readRecord(config);
    const masterRunning = ownedPid(masterIdentity(config)) !== null;
    const shape = resolveShape(requested, masterRunning ? record : null);
    const problems = workerShapeProblems(shape);
    const ports = embeddedPorts(cluster, shape.workers);
    for (const [i, p] of ports.entries()) {
      const other = ports.findIndex((q) => q.port === p.port);
      if (other !== i) problems.push(`${p.label} and ${ports[other].label} would both use port ${p.port}`);
    }
    if (problems.length) throw new StackError(`invalid Spark cluster shape: ${problems.join('; ')}`);

    const startedNow: (() => Promise<unknown>)[] = [];
    try {
      if (!masterRunning) {
        await assertFree(ports.slice(0, 2));
        log(`spark: starting master ${masterUrlOf(config)} (web UI ${masterUiUrlOf(config)}) with pyspark ${runtime.pysparkVersion}, Java ${runtime.javaMajor ?? '?'}...`);
        startedNow.push(() => stopOwned(masterIdentity(config), STOP_GRACE_MS));
        await startMaster(config, runtime, log);
      }
      const toStart = ports.slice(2).map((p, i) => ({ index: i + 1, port: p })).filter((w) => ownedPid(workerIdentity(config, w.index)) === null);
      for (const w of toStart) await assertFree([w.port]);
      for (const w of toStart) {
        startedNow.push(() => stopOwned(workerIdentity(config, w.index), STOP_GRACE_MS));
        startWorker(config, runtime, w.index, shape);
      }
      // Workers from an earlier, bigger `spark up` would register with this master too.
      for (const index of ownedWorkerIndexes(config).filter((i) => i > shape.workers)) {
        await stopOwned(workerIdentity(config, index), STOP_GRACE_MS);
        log(`spark: stopped worker ${index} (this cluster has ${shape.workers})`);
      }
      if (masterRunning && toStart.length === 0) log(`spark: already up (master pid ${ownedPid(masterIdentity(config))}, ${shape.workers} workers)`);
      else if (toStart.length > 0) log(`spark: starting ${toStart.length} worker(s) (${shape.workerCores} core(s), ${shape.workerMemory} each)...`);
      writeRecord(config, {
        ...shape,
        masterUrl: masterUrlOf(config),
        uiUrl: masterUiUrlOf(config) ?? '',
        pysparkVersion: runtime.pysparkVersion,
        javaHome: runtime.javaHome,
        startedAt: masterRunning && record ? record.startedAt : new Date().toISOString(),
      });
      await waitForWorkers(config, shape.workers);
    } catch (err) {
      // A failed `up` leaves nothing of its own running; the logs stay for the post-mortem.
      for (const stop of startedNow.reverse()) await stop().catch(() => undefined);
      if (startedNow.length > 0 && !masterRunning) rmSync(config.paths.record, { force: true });
      throw err;
    }
  });
  const status = await sparkStatus({ config });
  if (status.healthy !== true) throw new StackError(`Spark cluster is up but unhealthy: ${status.detail}`, { hint: `see ${config.paths.logs}` });
  log(`spark: up in ${seconds(started)}: ${status.masterUrl}, ${status.aliveWorkers} workers, web UI ${status.uiUrl}`);
  return status;
}

export async function sparkDown({ config = loadSparkConfig(), log = stderrLog }: SparkOptions = {}): Promise<void> {
  if (config.cluster.managed === 'external') {
    const leftover = ownedPid(masterIdentity(config));
    log(`spark: SPARK_MASTER_URL is set; the external cluster at ${config.cluster.masterUrl} is left alone`);
    if (leftover !== null) log(`spark: an embedded master (pid ${leftover}) from an earlier \`spark up\` still runs; unset SPARK_MASTER_URL and run \`spark down\` to stop it`);
    return;
  }
  const cluster = config.cluster;
  const record = readRecord(config);
  await withSparkLock(config.paths.lock, log, async () => {
    // Workers first: each stops its executors; then the master.
    const stopped = await Promise.all(ownedWorkerIndexes(config).map(async (i) => [i, await stopOwned(workerIdentity(config, i), STOP_GRACE_MS)] as const));
    for (const [i, s] of stopped) if (s !== null) log(`spark: worker ${i} stopped (pid ${s.pid}${s.killed ? ', killed' : ''})`);
    const master = await stopOwned(masterIdentity(config), STOP_GRACE_MS);
    log(master !== null ? `spark: master stopped (pid ${master.pid}${master.killed ? ', killed' : ''})` : 'spark: master not running');
    rmSync(config.paths.record, { force: true });
  });
  for (const p of embeddedPorts(cluster, record?.workers ?? DEFAULT_WORKER_SHAPE.workers)) {
    if (!(await portFree(p.port, LOOPBACK))) log(`spark: warning: ${LOOPBACK}:${p.port} (${p.label}) is still in use by a process streamscore did not start`);
  }
}

export async function sparkStatus({ config = loadSparkConfig() }: SparkOptions = {}): Promise<SparkClusterStatus> {
  const embedded = config.cluster.managed === 'embedded';
  const record = embedded ? readRecord(config) : null;
  const uiUrl = masterUiUrlOf(config) ?? null;
  const masterPid = embedded ? ownedPid(masterIdentity(config)) : null;
  const base: SparkClusterStatus = {
    managed: config.cluster.managed,
    masterUrl: masterUrlOf(config),
    uiUrl,
    healthy: false,
    detail: '',
    masterPid,
    expectedWorkers: record?.workers ?? null,
    aliveWorkers: null,
    cores: null,
    coresUsed: null,
    memoryMb: null,
    memoryUsedMb: null,
    activeApps: [],
    workers: [],
    logDir: embedded ? config.paths.logs : null,
    startedAt: masterPid !== null ? record?.startedAt ?? null : null,
  };
  if (uiUrl === null) return { ...base, healthy: null, detail: 'not probed: set SPARK_MASTER_UI to its web UI (e.g. http://<master host>:8080) to check it' };
  if (embedded && masterPid === null) {
    const orphans = ownedWorkerIndexes(config);
    return { ...base, detail: `not running${orphans.length ? `; worker(s) ${orphans.join(', ')} still run without a master, \`spark down\` stops them` : ''}` };
  }
  let state;
  try {
    state = await fetchMasterState(uiUrl);
  } catch (err) {
    return { ...base, detail: `master web UI not answering: ${(err as Error).message}` };
  }
  const health = masterHealth(state, base.expectedWorkers);
  const workerUiPort = config.cluster.managed === 'embedded' ? config.cluster.workerUiPort : null;
  return {
    ...base,
    healthy: health.healthy,
    detail: health.detail,
    aliveWorkers: state.aliveWorkers,
    cores: state.cores,
    coresUsed: state.coresUsed,
    memoryMb: state.memoryMb,
    memoryUsedMb: state.memoryUsedMb,
    activeApps: state.activeApps.map((a) => `${a.id} (${a.name})`),
    workers: state.workers.map((w) => {
      // The master lists a stopped worker as DEAD for a while; only a live entry is our process.
      const index = workerUiPort === null || w.state !== 'ALIVE' ? null : workerIndexOf(w.webUiUrl, workerUiPort);
      const pid = index === null ? null : ownedPid(workerIdentity(config, index));
      return { index: pid === null ? null : index, pid, ...w };
    }).sort((a, b) => (a.index ?? Infinity) - (b.index ?? Infinity) || a.webUiUrl.localeCompare(b.webUiUrl)),
  };
}

/** Explicit options win; unset ones come from the running cluster's record, else the defaults. */
function resolveShape(requested: Partial<WorkerShape>, running: SparkClusterRecord | null): WorkerShape {
  const explicit = Object.fromEntries(Object.entries(requested).filter(([k, v]) => v !== undefined && k in DEFAULT_WORKER_SHAPE)) as Partial<WorkerShape>;
  if (running === null) return { ...DEFAULT_WORKER_SHAPE, ...explicit };
  const current: WorkerShape = { workers: running.workers, workerCores: running.workerCores, workerMemory: running.workerMemory };
  const differs = (Object.keys(explicit) as (keyof WorkerShape)[]).filter((k) => String(explicit[k]).toLowerCase() !== String(current[k]).toLowerCase());
  if (differs.length > 0) {
    throw new StackError(`the Spark cluster already runs with ${current.workers} workers x ${current.workerCores} core(s) x ${current.workerMemory}; requested ${differs.map((k) => `${k}=${explicit[k]}`).join(', ')}`, {
      hint: 'run `streamscore spark down`, then `spark up` with the new shape',
    });
  }
  return current;
}

async function assertFree(ports: { label: string; envVar: string; port: number }[]): Promise<void> {
  for (const p of ports) {
    if (!(await portFree(p.port, LOOPBACK))) {
      throw new StackError(`Spark ${p.label} port ${LOOPBACK}:${p.port} is already in use by a process streamscore did not start`, {
        hint: `stop that process, or set ${p.envVar} to a free port`,
      });
    }
  }
}

/** Worker numbers with a pid file whose process is alive and ours. */
function ownedWorkerIndexes(config: SparkConfig): number[] {
  let names: string[] = [];
  try {
    names = readdirSync(config.paths.pids);
  } catch {
    return [];
  }
  return names.map((n) => /^worker-(\d+)\.pid$/.exec(n)).filter((m) => m !== null).map((m) => Number(m[1]))
    .filter((i) => ownedPid(workerIdentity(config, i)) !== null).sort((a, b) => a - b);
}

/** 'http://127.0.0.1:8092' with first worker UI port 8091 -> 2; null when not one of ours. */
export function workerIndexOf(webUiUrl: string, firstWorkerUiPort: number): number | null {
  const port = Number(/:(\d+)\/?$/.exec(webUiUrl)?.[1] ?? NaN);
  const index = port - firstWorkerUiPort + 1;
  return Number.isInteger(index) && index >= 1 && index <= 16 ? index : null;
}

function readRecord(config: SparkConfig): SparkClusterRecord | null {
  try {
    return JSON.parse(readFileSync(config.paths.record, 'utf8')) as SparkClusterRecord;
  } catch {
    return null;
  }
}

function writeRecord(config: SparkConfig, record: SparkClusterRecord): void {
  ensureDir(config.paths.root);
  writeFileSync(`${config.paths.record}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(`${config.paths.record}.tmp`, config.paths.record);
}
