// `streamscore spark up | down | status [--json]`: the local Spark standalone cluster (infra/spark/).
import { sparkDown, sparkStatus, sparkUp } from '../infra/spark/cluster.ts';
import type { SparkClusterStatus } from '../infra/spark/cluster.ts';
import type { WorkerShape } from '../infra/spark/config.ts';

const USAGE = `usage: streamscore spark <up [--workers N] [--worker-cores N] [--worker-memory SIZE] | down | status [--json]>

  up      start a Spark master and N workers (default 2 x 1 core x 2g) from the venv's pyspark on
          127.0.0.1 and wait until every worker is registered (idempotent)
  down    stop what \`spark up\` started
  status  master URL, web UI, workers alive / cores / memory; --json prints the object.
          Exit code 1 when unhealthy

env: STREAMSCORE_SPARK_MASTER_PORT (7077) STREAMSCORE_SPARK_UI_PORT (8090)
     STREAMSCORE_SPARK_WORKER_UI_PORT (8091, worker i uses +i-1) SPARK_DAEMON_MEMORY (512m)
     SPARK_MASTER_URL (an external cluster: up/down do nothing) SPARK_MASTER_UI (its web UI, for status)
     STREAMSCORE_DATA_DIR (<repo>/.data; the cluster writes under spark/) JAVA_HOME (a JDK 17-21)
`;

const UP_FLAGS: Record<string, keyof WorkerShape> = { '--workers': 'workers', '--worker-cores': 'workerCores', '--worker-memory': 'workerMemory' };

/** `--workers 3 --worker-memory=1g` -> { workers: 3, workerMemory: '1g' }; a string on error. */
export function parseUpArgs(args: string[]): Partial<WorkerShape> | string {
  const shape: Partial<WorkerShape> = {};
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    const key = UP_FLAGS[flag];
    if (key === undefined) return `unknown option ${JSON.stringify(args[i])}`;
    const value = inline ?? args[++i];
    if (value === undefined) return `${flag} needs a value`;
    if (key === 'workerMemory') shape.workerMemory = value;
    else {
      if (!/^\d+$/.test(value)) return `${flag} ${JSON.stringify(value)}: need a positive integer`;
      shape[key] = Number(value);
    }
  }
  return shape;
}

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'help' || sub === '--help' || sub === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (sub === 'up') {
    const shape = parseUpArgs(rest);
    if (typeof shape === 'string') return usageError(shape);
    process.stdout.write(formatStatus(await sparkUp(shape)));
    return 0;
  }
  if (sub === 'down' && rest.length === 0) {
    await sparkDown();
    return 0;
  }
  if (sub === 'status' && rest.every((a) => a === '--json')) {
    const status = await sparkStatus();
    process.stdout.write(rest.includes('--json') ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
    return status.healthy === false ? 1 : 0;
  }
  return usageError(sub === undefined ? 'missing subcommand' : `unknown arguments: ${args.join(' ')}`);
}

function usageError(problem: string): number {
  process.stderr.write(`streamscore spark: ${problem}\n${USAGE}`);
  return 2;
}

export function formatStatus(s: SparkClusterStatus): string {
  const health = s.healthy === null ? 'unknown' : s.healthy ? 'healthy' : 'UNHEALTHY';
  const lines = [
    `spark     ${s.managed}, ${health}: ${s.detail}`,
    `master    ${s.masterUrl}${s.masterPid !== null ? `  (pid ${s.masterPid}${s.startedAt ? `, up since ${s.startedAt}` : ''})` : ''}`,
    `web UI    ${s.uiUrl ?? '- (set SPARK_MASTER_UI)'}`,
  ];
  if (s.aliveWorkers !== null) {
    lines.push(`workers   ${s.aliveWorkers} alive${s.expectedWorkers !== null ? ` of ${s.expectedWorkers}` : ''}, ${s.cores} cores (${s.coresUsed} used), ${s.memoryMb} MiB (${s.memoryUsedMb} used)`);
    for (const w of s.workers) {
      const name = w.index !== null ? `worker-${w.index}` : w.id;
      lines.push(`  ${name.padEnd(9)} ${w.state.padEnd(6)} ${w.webUiUrl}  ${w.cores} core(s), ${w.memoryMb} MiB${w.pid !== null ? `  pid ${w.pid}` : ''}`);
    }
  }
  if (s.activeApps.length) lines.push(`apps      ${s.activeApps.join(', ')}`);
  if (s.logDir !== null) lines.push(`logs      ${s.logDir}`);
  return `${lines.join('\n')}\n`;
}
