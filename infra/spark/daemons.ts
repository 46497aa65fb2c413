// Starting the master and worker JVMs: `$SPARK_HOME/bin/spark-class <Master|Worker> ...`, detached,
// stdout+stderr to `<data>/spark/logs/<name>.log`. spark-class ends in `exec java ...`, so the pid we
// spawn is the daemon's JVM. Each daemon gets its own --properties-file under `<data>/spark/conf`;
// that path is on its command line, so it identifies our process for `spark down`.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LOOPBACK } from '../stack/config.ts';
import { StackError } from '../stack/errors.ts';
import { detachedExitOf, ensureDir, ownedPid, readPidFile, spawnDetached, startFailureMessage, tailFile, waitUntil, writePidFile } from '../stack/process.ts';
import type { Log, ProcessIdentity } from '../stack/process.ts';
import { masterUiUrlOf, masterUrlOf } from './config.ts';
import type { SparkConfig, WorkerShape } from './config.ts';
import { fetchMasterState } from './master-state.ts';
import type { PysparkRuntime } from './pyspark-runtime.ts';

export const MASTER_CLASS = 'org.apache.spark.deploy.master.Master';
export const WORKER_CLASS = 'org.apache.spark.deploy.worker.Worker';

/** Two JVM launches (spark-class runs Spark's launcher first) on a busy 2-core box. */
const MASTER_READY_MS = 60_000;
const WORKERS_READY_MS = 90_000;

const masterProps = (config: SparkConfig) => join(config.paths.conf, 'master.properties');
const workerProps = (config: SparkConfig, index: number) => join(config.paths.conf, `worker-${index}.properties`);
export const masterLog = (config: SparkConfig) => join(config.paths.logs, 'master.log');
export const workerLog = (config: SparkConfig, index: number) => join(config.paths.logs, `worker-${index}.log`);
export const workerDir = (config: SparkConfig, index: number) => join(config.paths.root, 'work', `worker-${index}`);

export function masterIdentity(config: SparkConfig): ProcessIdentity {
  return { pidFile: join(config.paths.pids, 'master.pid'), cmdlineNeedles: [MASTER_CLASS, masterProps(config)] };
}

export function workerIdentity(config: SparkConfig, index: number): ProcessIdentity {
  // 'worker-1.properties' is not a substring of 'worker-10.properties', unlike the work dir's path.
  return { pidFile: join(config.paths.pids, `worker-${index}.pid`), cmdlineNeedles: [WORKER_CLASS, workerProps(config, index)] };
}

function daemonEnv(config: SparkConfig, runtime: PysparkRuntime): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SPARK_HOME: runtime.sparkHome,
    JAVA_HOME: runtime.javaHome,
    // Our conf dir, so an ambient SPARK_CONF_DIR (spark-env.sh, log4j2.properties) does not leak in.
    SPARK_CONF_DIR: config.paths.conf,
    SPARK_LOCAL_IP: LOOPBACK,
    SPARK_LOCAL_HOSTNAME: LOOPBACK,
    SPARK_DAEMON_MEMORY: config.daemonMemory,
    // Executors inherit it: shuffle files and spills go under .data, not a small /tmp.
    SPARK_LOCAL_DIRS: ensureDir(config.paths.scratch),
    PYSPARK_PYTHON: runtime.python,
  };
}

function writeProperties(path: string, props: Record<string, string>): void {
  ensureDir(dirname(path));
  writeFileSync(path, `# written by \`streamscore spark up\`; rewritten on every start\n${Object.entries(props).map(([k, v]) => `${k} ${v}`).join('\n')}\n`);
}

/**
 * Starts the master and waits until its JSON says ALIVE; on failure throws with how it ended, the
 * log's tail and the host's free memory and disk. A master that dies before writing a single line
 * (its launcher JVM killed, as the OOM killer does) is started once more before giving up.
 */
export async function startMaster(config: SparkConfig, runtime: PysparkRuntime, log: Log = () => {}): Promise<number> {
  if (config.cluster.managed !== 'embedded') throw new StackError('the Spark cluster is external (SPARK_MASTER_URL); nothing to start');
  const { masterPort, uiPort } = config.cluster;
  // The REST submission server (port 6066) is not used: jobs connect with spark://.
  writeProperties(masterProps(config), { 'spark.master.rest.enabled': 'false' });
  const uiUrl = masterUiUrlOf(config) as string;
  const earlier: string[] = [];
  for (let attempt = 1; ; attempt++) {
    const pid = spawnDetached(join(runtime.sparkHome, 'bin', 'spark-class'), [
      MASTER_CLASS, '--host', LOOPBACK, '--port', String(masterPort), '--webui-port', String(uiPort), '--properties-file', masterProps(config),
    ], { logFile: masterLog(config), cwd: config.paths.root, env: daemonEnv(config, runtime) });
    writePidFile(masterIdentity(config).pidFile, pid);
    let died = false;
    const ready = await waitUntil(async () => {
      if (ownedPid(masterIdentity(config)) === null) return (died = true);
      return (await fetchMasterState(uiUrl, 2_000).catch(() => null))?.status === 'ALIVE';
    }, MASTER_READY_MS, 500);
    if (ready && !died) return pid;
    const failure = await startFailureMessage('Spark master', pid, died, MASTER_READY_MS, masterLog(config), 30);
    if (died && attempt === 1 && tailFile(masterLog(config)) === '') {
      log(`spark: the master exited during start (${detachedExitOf(pid) ?? 'exit status unknown'}) without a line of output; starting it once more`);
      earlier.push(failure);
      continue;
    }
    throw new StackError([...earlier.map((f) => `first attempt: ${f}`), failure].join('\n'), { hint: 'fix the cause above, then `streamscore spark up` again' });
  }
}

export function startWorker(config: SparkConfig, runtime: PysparkRuntime, index: number, shape: WorkerShape): number {
  if (config.cluster.managed !== 'embedded') throw new StackError('the Spark cluster is external (SPARK_MASTER_URL); nothing to start');
  // Finished applications' executor dirs (logs, jars) are removed after Spark's default 7 days.
  writeProperties(workerProps(config, index), { 'spark.worker.cleanup.enabled': 'true' });
  const pid = spawnDetached(join(runtime.sparkHome, 'bin', 'spark-class'), [
    WORKER_CLASS, '--host', LOOPBACK, '--webui-port', String(config.cluster.workerUiPort + index - 1),
    '--cores', String(shape.workerCores), '--memory', shape.workerMemory,
    '--work-dir', ensureDir(workerDir(config, index)), '--properties-file', workerProps(config, index),
    masterUrlOf(config),
  ], { logFile: workerLog(config, index), cwd: config.paths.root, env: daemonEnv(config, runtime) });
  writePidFile(workerIdentity(config, index).pidFile, pid);
  return pid;
}

/** Waits until the master counts `workers` alive workers; fails fast when one of ours exits. */
export async function waitForWorkers(config: SparkConfig, workers: number): Promise<void> {
  const uiUrl = masterUiUrlOf(config) as string;
  let dead: number | undefined;
  let alive = 0;
  const ready = await waitUntil(async () => {
    dead = Array.from({ length: workers }, (_, i) => i + 1).find((i) => ownedPid(workerIdentity(config, i)) === null);
    if (dead !== undefined) return true;
    alive = (await fetchMasterState(uiUrl, 2_000).catch(() => null))?.aliveWorkers ?? 0;
    return alive >= workers;
  }, WORKERS_READY_MS, 500);
  if (dead !== undefined) {
    const pid = readPidFile(workerIdentity(config, dead).pidFile) ?? -1;
    throw new StackError(await startFailureMessage(`Spark worker ${dead}`, pid, true, WORKERS_READY_MS, workerLog(config, dead), 30));
  }
  if (!ready) {
    const tails = Array.from({ length: workers }, (_, i) => `--- ${workerLog(config, i + 1)}\n${tailFile(workerLog(config, i + 1), 15)}`).join('\n');
    throw new StackError(`only ${alive}/${workers} Spark workers registered within ${WORKERS_READY_MS / 1000} s; last lines of the worker logs:\n${tails}\n--- ${masterLog(config)}\n${tailFile(masterLog(config), 15)}`, {
      hint: 'fix the cause above, then `streamscore spark up` again',
    });
  }
}
