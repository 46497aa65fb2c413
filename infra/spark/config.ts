// Configuration of the local Spark standalone cluster, read from the environment once and
// validated up front. The cluster is either `embedded` (started by `streamscore spark up` from the
// venv's pyspark, on 127.0.0.1) or `external` (SPARK_MASTER_URL set: never started, only probed
// through SPARK_MASTER_UI when that is given).
import { join } from 'node:path';
import { LOOPBACK, REPO_ROOT, loadStackConfig } from '../stack/config.ts';
import { ConfigError } from '../stack/errors.ts';

export const DEFAULT_SPARK_PORTS = {
  STREAMSCORE_SPARK_MASTER_PORT: 7077,
  STREAMSCORE_SPARK_UI_PORT: 8090,
  /** The first worker's web UI; worker i listens on this + i - 1. */
  STREAMSCORE_SPARK_WORKER_UI_PORT: 8091,
} as const;

type SparkPortVar = keyof typeof DEFAULT_SPARK_PORTS;

export interface WorkerShape {
  workers: number;
  /** Cores each worker offers to executors. */
  workerCores: number;
  /** Memory each worker offers to executors, in Spark's notation ('2g', '512m'). */
  workerMemory: string;
}

export const DEFAULT_WORKER_SHAPE: WorkerShape = { workers: 2, workerCores: 1, workerMemory: '2g' };

export type SparkManaged =
  | { managed: 'embedded'; masterPort: number; uiPort: number; workerUiPort: number }
  | { managed: 'external'; masterUrl: string; uiUrl: string | undefined };

export interface SparkPaths {
  /** `<data>/spark`: everything the embedded cluster writes. */
  root: string;
  logs: string;
  pids: string;
  /** Properties files the daemons read (--properties-file); the master's path also identifies it. */
  conf: string;
  /** Executor scratch space (shuffle, spills): SPARK_LOCAL_DIRS of the workers. */
  scratch: string;
  record: string;
  lock: string;
}

export interface SparkConfig {
  repoRoot: string;
  cluster: SparkManaged;
  paths: SparkPaths;
  /** The Python that has pyspark (STREAMSCORE_PYTHON, default <repo>/.venv/bin/python). */
  python: string;
  /** JDK home forced by JAVA_HOME; undefined: `java` on PATH or a JDK 17/21 under /usr/lib/jvm. */
  javaHome: string | undefined;
  /** Heap of the master and worker daemons themselves (not of executors). */
  daemonMemory: string;
}

type Env = Record<string, string | undefined>;

/** Reads and validates the Spark configuration; throws ConfigError listing every problem. */
export function loadSparkConfig(env: Env = process.env, repoRoot: string = REPO_ROOT): SparkConfig {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const port = (name: SparkPortVar): number => {
    const raw = value(name);
    if (raw === undefined) return DEFAULT_SPARK_PORTS[name];
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= 1 && n <= 65535)) {
      problems.push(`${name}=${JSON.stringify(raw)} is not a TCP port (an integer 1-65535)`);
      return DEFAULT_SPARK_PORTS[name];
    }
    return n;
  };

  const masterUrl = value('SPARK_MASTER_URL');
  let cluster: SparkManaged;
  if (masterUrl !== undefined) {
    if (!/^spark:\/\/[^/\s]+:\d+(,[^/\s]+:\d+)*\/?$/.test(masterUrl)) problems.push(`SPARK_MASTER_URL=${JSON.stringify(masterUrl)} is not a spark://host:port URL`);
    const uiUrl = value('SPARK_MASTER_UI');
    if (uiUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(uiUrl)) problems.push(`SPARK_MASTER_UI=${JSON.stringify(uiUrl)} is not an http(s):// URL`);
    cluster = { managed: 'external', masterUrl: masterUrl.replace(/\/$/, ''), uiUrl: uiUrl?.replace(/\/+$/, '') };
  } else {
    cluster = { managed: 'embedded', masterPort: port('STREAMSCORE_SPARK_MASTER_PORT'), uiPort: port('STREAMSCORE_SPARK_UI_PORT'), workerUiPort: port('STREAMSCORE_SPARK_WORKER_UI_PORT') };
    const [m, u, w] = [cluster.masterPort, cluster.uiPort, cluster.workerUiPort];
    if (m === u || m === w || u === w) problems.push(`the Spark master port (${m}), master UI port (${u}) and first worker UI port (${w}) must differ`);
  }

  const daemonMemory = value('SPARK_DAEMON_MEMORY') ?? '512m';
  if (parseMemoryMb(daemonMemory) === null) problems.push(`SPARK_DAEMON_MEMORY=${JSON.stringify(daemonMemory)} is not a size like 512m or 1g`);
  const javaHome = value('JAVA_HOME');
  if (javaHome !== undefined && !javaHome.startsWith('/')) problems.push(`JAVA_HOME=${JSON.stringify(javaHome)} must be an absolute path`);

  // The stack's data dir rule (STREAMSCORE_DATA_DIR, default <repo>/.data) is the one source of truth.
  let dataDir: string;
  try {
    dataDir = loadStackConfig(env, repoRoot).dataDir;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
    dataDir = join(repoRoot, '.data');
  }
  // JAVA_HOME is checked by both configs; say it once.
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);

  const root = join(dataDir, 'spark');
  return {
    repoRoot,
    cluster,
    paths: {
      root,
      logs: join(root, 'logs'),
      pids: join(root, 'pids'),
      conf: join(root, 'conf'),
      scratch: join(root, 'scratch'),
      record: join(root, 'cluster.json'),
      lock: join(root, 'spark.lock'),
    },
    python: value('STREAMSCORE_PYTHON') ?? join(repoRoot, '.venv', 'bin', 'python'),
    javaHome,
    daemonMemory,
  };
}

/** The spark:// URL jobs connect to. */
export function masterUrlOf(config: SparkConfig): string {
  return config.cluster.managed === 'external' ? config.cluster.masterUrl : `spark://${LOOPBACK}:${config.cluster.masterPort}`;
}

/** The master's web UI (its /json/ is the health probe); undefined for an external cluster without SPARK_MASTER_UI. */
export function masterUiUrlOf(config: SparkConfig): string | undefined {
  return config.cluster.managed === 'external' ? config.cluster.uiUrl : `http://${LOOPBACK}:${config.cluster.uiPort}`;
}

/** Spark's memory notation -> MiB: '2g' -> 2048, '512m' -> 512, '1t' -> 1048576; null if not a size. */
export function parseMemoryMb(raw: string): number | null {
  const m = /^(\d+)([mgt])b?$/i.exec(raw.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const mb = n * { m: 1, g: 1024, t: 1024 * 1024 }[m[2].toLowerCase() as 'm' | 'g' | 't'];
  return mb > 0 ? mb : null;
}

/** Checks a requested worker shape; returns every problem (empty when fine). */
export function workerShapeProblems(shape: WorkerShape): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(shape.workers) || shape.workers < 1 || shape.workers > 16) problems.push(`--workers ${shape.workers}: need an integer 1-16`);
  if (!Number.isInteger(shape.workerCores) || shape.workerCores < 1) problems.push(`--worker-cores ${shape.workerCores}: need a positive integer`);
  if (parseMemoryMb(shape.workerMemory) === null) problems.push(`--worker-memory ${JSON.stringify(shape.workerMemory)}: need a size like 2g or 512m`);
  return problems;
}

/** Ports the embedded cluster binds for `workers` workers, labelled for error messages. */
export function embeddedPorts(cluster: Extract<SparkManaged, { managed: 'embedded' }>, workers: number): { label: string; envVar: SparkPortVar; port: number }[] {
  const ports: { label: string; envVar: SparkPortVar; port: number }[] = [
    { label: 'master', envVar: 'STREAMSCORE_SPARK_MASTER_PORT', port: cluster.masterPort },
    { label: 'master web UI', envVar: 'STREAMSCORE_SPARK_UI_PORT', port: cluster.uiPort },
  ];
  for (let i = 1; i <= workers; i++) ports.push({ label: `worker ${i} web UI`, envVar: 'STREAMSCORE_SPARK_WORKER_UI_PORT', port: cluster.workerUiPort + i - 1 });
  return ports;
}
