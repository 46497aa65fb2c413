// Load test of the FactoryGuard scoring API with autocannon (docs/benchmarks.md): POST /v1/score
// with an arm's last N hours of one-per-minute readings, at fixed concurrency, against GET /healthz
// on the same server in the same run as the baseline (what the HTTP stack alone costs).
//   node loadtest/scoring-api.ts [--hours 6] [--connections 1,4,10] [--seconds 15] [--out loadtest/results/x.json]
import { resolve as resolvePath } from 'node:path';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const hours = Number(arg('hours', '6'));
const connectionSweep = arg('connections', '1,4,10').split(',').map(Number);
const seconds = Number(arg('seconds', '15'));
const out = arg('out', `loadtest/results/scoring-api-${new Date().toISOString().slice(0, 10)}.json`);
const root = new URL('..', import.meta.url).pathname;

export function requestBody(armId: string, hoursOfHistory: number, end = Date.now() - 60_000): string {
  const readings = [];
  for (let m = hoursOfHistory * 60 - 1; m >= 0; m--) {
    const t = end - m * 60_000;
    readings.push({ sensor: 'VIBRATION', value: 2.8 + Math.sin(m) * 0.3, unit: 'mm/s', event_time: t });
    readings.push({ sensor: 'TEMPERATURE', value: 58 + Math.cos(m / 7) * 2, unit: 'degC', event_time: t });
    readings.push({ sensor: 'PRESSURE', value: 6.2 + Math.sin(m / 3) * 0.1, unit: 'bar', event_time: t });
  }
  return JSON.stringify({ arm_id: armId, readings });
}

if (import.meta.main) {
  // --no-auth (loopback only): the numbers below are of scoring, as before keys existed (a key check is ~2 µs).
  const server = spawn(process.execPath, ['bin/streamscore.mjs', 'scoring-api', '--port', '0', '--no-auth'], { cwd: root, stdio: ['ignore', 'inherit', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: server.stderr! }).on('line', (l) => {
      const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(l);
      if (m) resolve(Number(m[1]));
    });
    server.once('exit', (c) => reject(new Error(`scoring-api exited ${c}`)));
  });
  const body = requestBody('arm-bench', hours);
  const run = (opts: autocannon.Options) => new Promise<autocannon.Result>((resolve, reject) => autocannon(opts, (err, r) => (err ? reject(err) : resolve(r))));
  const summary = (r: autocannon.Result) => ({ requests: r.requests.total, rps: r.requests.average, meanMs: r.latency.mean, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, non2xx: r.non2xx, errors: r.errors });
  const rows = [];
  for (const connections of connectionSweep) {
    const common = { url: `http://127.0.0.1:${port}`, connections, duration: seconds };
    const baseline = summary(await run({ ...common, url: `${common.url}/healthz` }));
    const scoring = summary(await run({ ...common, url: `${common.url}/v1/score`, method: 'POST', headers: { 'content-type': 'application/json' }, body }));
    // Latencies of the baseline round to 0 ms, so the ratio is of throughput (requests/s).
    rows.push({ connections, baseline, scoring, throughputRatio: scoring.rps / baseline.rps });
  }
  server.kill('SIGTERM');
  const result = { machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30) }, date: new Date().toISOString(), command: `node ${process.argv.slice(1).join(' ')}`, bodyBytes: body.length, readings: hours * 180, seconds, rows };
  mkdirSync(new URL('results/', import.meta.url), { recursive: true });
  writeFileSync(resolvePath(new URL('..', import.meta.url).pathname, out), JSON.stringify(result, null, 2));
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
