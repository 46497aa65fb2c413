// The real thing: `streamscore spark up` (1 master + 2 workers from the venv's pyspark), a PySpark
// job on spark://, `status`, `down`. The cluster runs on free ports with its own data dir, so a
// developer's cluster on 7077/8090 is neither needed nor touched.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, LOOPBACK } from '../stack/config.ts';
import { isAlive, portFree, waitUntil } from '../stack/process.ts';
import { sparkDown, sparkMasterUrl, sparkStatus, sparkSubmitEnv } from './cluster.ts';
import type { SparkClusterStatus } from './cluster.ts';
import { loadSparkConfig } from './config.ts';
import type { SparkConfig } from './config.ts';
import { workerDir } from './daemons.ts';
import { fetchJson, fetchMasterState, parseWorkerExecutors } from './master-state.ts';

const CLI = join(REPO_ROOT, 'bin', 'streamscore.mjs');

/** Four consecutive free ports: master, master UI, worker 1 UI, worker 2 UI. */
async function freePortBlock(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const free = await Promise.all([0, 1, 2, 3].map((i) => portFree(base + i, LOOPBACK)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no block of 4 free ports found');
}

function runJob(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(env.PYSPARK_PYTHON as string, [script, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('spark standalone cluster', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let config: SparkConfig;
  let up: SparkClusterStatus;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'streamscore-spark-'));
    const base = await freePortBlock();
    env = {
      ...process.env,
      SPARK_MASTER_URL: '',
      SPARK_MASTER_UI: '',
      STREAMSCORE_DATA_DIR: dataDir,
      STREAMSCORE_SPARK_MASTER_PORT: String(base),
      STREAMSCORE_SPARK_UI_PORT: String(base + 1),
      STREAMSCORE_SPARK_WORKER_UI_PORT: String(base + 2),
    };
    config = loadSparkConfig(env);
  });

  after(async () => {
    // Whatever happened above, leave no JVM behind.
    if (config) await sparkDown({ config, log: () => {} });
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('`spark up` starts a master and 2 workers and waits until both are registered', () => {
    const r = spawnSync(process.execPath, [CLI, 'spark', 'up'], { env, encoding: 'utf8', timeout: 150_000 });
    assert.equal(r.status, 0, `spark up failed:\n${r.stderr}\n${r.stdout}`);
    assert.match(r.stdout, /2 alive of 2/);
  });

  it('status shows the master ALIVE with 2 workers, each ours', async () => {
    up = await sparkStatus({ config });
    assert.equal(up.healthy, true, up.detail);
    assert.equal(up.masterUrl, sparkMasterUrl(config));
    assert.equal(up.aliveWorkers, 2);
    assert.equal(up.cores, 2);
    assert.equal(up.memoryMb, 4096);
    assert.deepEqual(up.workers.map((w) => [w.index, w.state, w.cores, w.memoryMb]), [[1, 'ALIVE', 1, 2048], [2, 'ALIVE', 1, 2048]]);
    assert.ok(up.masterPid !== null && up.workers.every((w) => w.pid !== null && isAlive(w.pid)));
  });

  it('`spark up` again reports the running cluster and starts nothing', () => {
    const r = spawnSync(process.execPath, [CLI, 'spark', 'up'], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /already up \(master pid \d+, 2 workers\)/);
    assert.match(r.stdout, new RegExp(`pid ${up.masterPid}`));
  });

  it('runs a PySpark job from the venv python with an executor on each worker', async () => {
    const jobEnv = { ...process.env, ...sparkSubmitEnv(config) };
    const job = await runJob(join(REPO_ROOT, 'infra', 'spark', 'distributed-count.py'), [sparkMasterUrl(config), '1000000', '2'], jobEnv);
    assert.equal(job.code, 0, `job failed:\n${job.stderr.slice(-3000)}`);
    const result = JSON.parse(job.stdout.trim().split('\n').at(-1) as string) as { appId: string; count: number; executorDirs: string[] };
    assert.equal(result.count, 1_000_000);
    // Python tasks run in their executor's directory: <worker work dir>/<app id>/<executor id>.
    const byWorker = [1, 2].map((i) => result.executorDirs.filter((d) => d.startsWith(`${workerDir(config, i)}/${result.appId}/`)));
    assert.ok(byWorker.every((dirs) => dirs.length === 1), `tasks ran in ${JSON.stringify(result.executorDirs)}`);

    const master = await fetchMasterState(up.uiUrl as string);
    assert.ok(master.completedApps.some((a) => a.id === result.appId && a.state === 'FINISHED'), JSON.stringify(master.completedApps));
    for (const w of up.workers) {
      const executors = parseWorkerExecutors(await fetchJson(w.webUiUrl));
      assert.ok(executors.some((e) => e.appId === result.appId), `worker ${w.index} ran no executor of ${result.appId}`);
    }
  });

  it('`spark status --json` prints the same cluster', () => {
    const r = spawnSync(process.execPath, [CLI, 'spark', 'status', '--json'], { env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as SparkClusterStatus;
    assert.equal(s.healthy, true);
    assert.equal(s.masterPid, up.masterPid);
    assert.equal(s.aliveWorkers, 2);
  });

  it('`spark down` stops the master and workers and frees the ports', async () => {
    const pids = [up.masterPid as number, ...up.workers.map((w) => w.pid as number)];
    const lines: string[] = [];
    await sparkDown({ config, log: (l) => lines.push(l) });
    assert.equal(lines.filter((l) => / stopped \(pid \d+/.test(l)).length, 3, lines.join('\n'));
    // A stopped daemon may linger a moment as a zombie until init reaps it (its parent, the CLI, is gone).
    await waitUntil(() => pids.every((p) => !isAlive(p)), 5_000, 100);
    assert.deepEqual(pids.filter(isAlive), []);
    const ports = [env.STREAMSCORE_SPARK_MASTER_PORT, env.STREAMSCORE_SPARK_UI_PORT, env.STREAMSCORE_SPARK_WORKER_UI_PORT].map(Number);
    ports.push(ports[2] + 1);
    assert.deepEqual(await Promise.all(ports.map((p) => portFree(p, LOOPBACK))), [true, true, true, true]);
    const after = await sparkStatus({ config });
    assert.equal(after.healthy, false);
    assert.equal(after.detail, 'not running');
  });
});
