// Spark scaling benchmark (docs/benchmarks.md): churn training (feature build + CrossValidator) and
// daily scoring time against data size (1x, 2x, 4x, 8x subscribers) on the local standalone cluster
// with 1 and with 2 workers (1 core, 2 GiB each). Lakes are synthetic subscribers written in the
// sink's file format (loadtest/synthetic-lake.ts) and kept under .data/bench/ between runs; timings
// come from models/churn/bench.py (train.py + score.py run as they run in production).
//   node loadtest/spark-scaling.ts [--base-users 1000] [--factors 1,2,4,8] [--workers 1,2] [--grid tiny]
// then: .venv/bin/python loadtest/plot_spark_scaling.py loadtest/results/spark-scaling-<date>.json docs/spark-scaling.png
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { loadSparkConfig } from '../infra/spark/config.ts';
import { sparkDown, sparkMasterUrl, sparkSubmitEnv, sparkUp } from '../infra/spark/cluster.ts';
import { writeSyntheticLake } from './synthetic-lake.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const baseUsers = Number(arg('base-users', '1000'));
const factors = arg('factors', '1,2,4,8').split(',').map(Number);
const workerCounts = arg('workers', '1,2').split(',').map(Number);
const grid = arg('grid', 'tiny');
const DAYS = 121; // 2026-04-01 .. 2026-07-30: the cut-off 2026-06-30 has its whole 30-day label window
const CUTOFF = '2026-06-30';
const SCORE_DATE = '2026-07-15';
const out = arg('out', `loadtest/results/spark-scaling-${new Date().toISOString().slice(0, 10)}.json`);

/** A lake per size, reused when it was written with the same parameters. */
async function lakeFor(factor: number): Promise<{ dir: string; events: number; bytes: number }> {
  const dir = join(REPO_ROOT, '.data', 'bench', `churn-lake-${baseUsers * factor}u-${DAYS}d`);
  const stamp = join(dir, 'lake.json');
  if (existsSync(stamp)) return JSON.parse(readFileSync(stamp, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write(`writing a synthetic lake of ${baseUsers * factor} subscribers x ${DAYS} days -> ${dir}\n`);
  const totals = await writeSyntheticLake(dir, { users: baseUsers * factor, days: DAYS, seed: 11 });
  const info = { dir, events: totals.events, bytes: totals.bytes };
  writeFileSync(stamp, JSON.stringify(info));
  return info;
}

function benchRun(lake: string): Record<string, unknown> {
  const config = loadSparkConfig();
  const r = spawnSync(config.python, [join(REPO_ROOT, 'models/churn/bench.py'), 'run', '--lake', lake, '--cutoff', CUTOFF, '--date', SCORE_DATE, '--grid', grid, '--no-ui', '--master', sparkMasterUrl()], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...sparkSubmitEnv(config) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
  if (r.status !== 0 || !line) throw new Error(`bench.py failed (exit ${r.status})`);
  return JSON.parse(line);
}

const lakes = [];
for (const f of factors) lakes.push({ factor: f, ...(await lakeFor(f)) });
const results = [];
for (const workers of workerCounts) {
  await sparkDown();
  await sparkUp({ workers, workerCores: 1, workerMemory: '2g' });
  for (const lake of lakes) {
    process.stderr.write(`\n== ${lake.factor}x (${lake.events.toLocaleString('en')} events), ${workers} worker(s)\n`);
    const r = benchRun(lake.dir) as { seconds: Record<string, number>; training_rows: number; users_scored: number; events_read_train: number };
    const row = {
      factor: lake.factor,
      users: baseUsers * lake.factor,
      events: lake.events,
      lakeMiB: Number((lake.bytes / 2 ** 20).toFixed(1)),
      workers,
      trainSeconds: r.seconds.train_total,
      scoreSeconds: r.seconds.score_total,
      trainingRows: r.training_rows,
      usersScored: r.users_scored,
      stages: r.seconds,
    };
    results.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
}
await sparkDown();
await sparkUp(); // leave the default shape (2 workers) running, as `spark up` would

const report = {
  benchmark: 'spark-scaling',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30) },
  command: `node loadtest/spark-scaling.ts --base-users ${baseUsers} --factors ${factors.join(',')} --workers ${workerCounts.join(',')} --grid ${grid}`,
  settings: `standalone cluster, workers of 1 core / 2 GiB, driver in the client (2 GiB); train cut-off ${CUTOFF} (CrossValidator 3 folds, grid ${grid}), score ${SCORE_DATE}`,
  results,
};
mkdirSync(join(REPO_ROOT, 'loadtest', 'results'), { recursive: true });
writeFileSync(join(REPO_ROOT, out), `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`\n| size | subscribers | events | lake MiB | workers | train s | score s |\n|---:|---:|---:|---:|---:|---:|---:|\n`);
for (const r of results) process.stdout.write(`| ${r.factor}x | ${r.users.toLocaleString('en')} | ${r.events.toLocaleString('en')} | ${r.lakeMiB} | ${r.workers} | ${r.trainSeconds.toFixed(1)} | ${r.scoreSeconds.toFixed(1)} |\n`);
process.stdout.write(`\nwrote ${out}\n`);
