// Bad-request storm against the real scoring API in a child process (docs/benchmarks.md): N
// malformed requests of every kind in loadtest/bad-requests.ts (huge arrays, deep nesting, extreme
// numbers, oversize and chunked bodies, bad auth...), with a valid scoring request every 20th as a
// witness. Records the child's RSS at start, its peak and after an idle spell, latencies, and the
// status counts; exits 1 if any bad request got a 5xx or the API stopped answering.
//   node loadtest/api-bad-requests.ts [--requests 2000] [--concurrency 8] [--idle-seconds 10] [--rounds 1] [--kinds huge-array,...] [--gc-probe] [--root DIR] [--out FILE]
// --root runs another checkout's CLI (e.g. a `git worktree` of an older commit) for a before/after.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { createInterface } from 'node:readline';
import { createApiKey, parseRateLimit } from '../streams/runtime/http/api-keys.ts';
import { badRequests, sendRaw, type RawRequest } from './bad-requests.ts';
import { requestBody } from './scoring-api.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const total = Number(arg('requests', '2000'));
const concurrency = Number(arg('concurrency', '8'));
const idleSeconds = Number(arg('idle-seconds', '10'));
const rounds = Number(arg('rounds', '1'));
const root = arg('root', new URL('..', import.meta.url).pathname);
const out = arg('out', `loadtest/results/api-bad-requests-${new Date().toISOString().slice(0, 10)}.json`);

const keysFile = join(mkdtempSync(join(tmpdir(), 'streamscore-storm-')), 'keys.json');
// A rate the storm never reaches, so bad bodies get past the key check and reach the parser.
const { token } = createApiKey(keysFile, { name: 'storm', scopes: ['score', 'metrics'], rateLimit: parseRateLimit('1000000/s') });
// --gc-probe: after the idle spell, a full GC in the child (loadtest/gc-on-sigusr2.mjs), to tell
// memory V8 still holds alive from freed memory the process keeps.
const gcProbe = process.argv.includes('--gc-probe') ? new URL('gc-on-sigusr2.mjs', import.meta.url).pathname : '';
const child = spawn(process.execPath, [...(gcProbe ? ['--expose-gc', '--import', gcProbe] : []), 'bin/streamscore.mjs', 'scoring-api', '--port', '0'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, STREAMSCORE_API_KEYS_FILE: keysFile, LOG_LEVEL: 'warn' } });
const port = await new Promise<number>((resolve, reject) => {
  createInterface({ input: child.stderr! }).on('line', (l) => {
    const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(l);
    if (m) resolve(Number(m[1]));
  });
  child.once('exit', (c) => reject(new Error(`scoring-api exited ${c}`)));
});
/** V8 heap and off-heap memory as the API's own /metrics reports them (MiB): where RSS went. */
async function heap(): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const metric = (name: string) => Math.round(Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20);
  return { heapTotal: metric('nodejs_heap_size_total_bytes'), heapUsed: metric('nodejs_heap_size_used_bytes'), external: metric('nodejs_external_memory_bytes') };
}
const status = (field: 'VmRSS' | 'VmHWM') => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;

// Made before the warm-up: generating takes seconds, longer than the server keeps an idle
// keep-alive socket (5 s), and the storm's first request would meet a socket being closed.
// --kinds a,b: only those kinds of bad request (to see which one costs memory).
const kinds = arg('kinds', '').split(',').filter(Boolean);
const bad = badRequests({ seed: 2026, count: kinds.length ? total * 25 : total, token }).filter((r) => !kinds.length || kinds.includes(r.kind)).slice(0, total);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const witness: RawRequest = { kind: 'valid', method: 'POST', path: '/v1/score', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: requestBody('arm-witness', 6) };
// Warm up (JIT, first ONNX run) before the start RSS, as a running service would be.
for (let i = 0; i < 20; i++) await sendRaw(port, witness, agent);
await new Promise((r) => setTimeout(r, 1000));
const rssStart = status('VmRSS');
const heapStart = await heap();

const plan = bad.flatMap((r, i) => (i % 20 === 19 ? [r, witness] : [r]));
const results: { kind: string; status: number; ms: number; error?: string }[] = [];
let rssPeakSampled = rssStart;
const sampler = setInterval(() => (rssPeakSampled = Math.max(rssPeakSampled, status('VmRSS'))), 50);
const started = performance.now();
// --rounds N sends the same storm N times: RSS after each round shows a plateau or a leak.
const rssAfterRound: number[] = [];
for (let round = 0; round < rounds; round++) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < plan.length) {
        const r = plan[next++];
        results.push({ kind: r.kind, ...(await sendRaw(port, r, agent)) });
      }
    }),
  );
  rssAfterRound.push(Math.round(status('VmRSS')));
}
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
const rssAfterStorm = status('VmRSS');
// RSS every 5 s of the idle spell: V8 gives heap pages back only after a GC, which needs a reason to run.
const idleSamples: number[] = [];
for (let waited = 0; waited < idleSeconds; waited += 5) {
  await new Promise((r) => setTimeout(r, Math.min(5, idleSeconds - waited) * 1000));
  idleSamples.push(Math.round(status('VmRSS')));
}
const rssEnd = status('VmRSS');
const heapEnd = await heap();
let afterFullGc: Record<string, number> | null = null;
if (gcProbe) {
  child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 2000));
  afterFullGc = { rss: Math.round(status('VmRSS')), ...(await heap()) };
}
const rssPeak = Math.max(rssPeakSampled, status('VmHWM'));
const healthy = (await sendRaw(port, witness, agent)).status === 200;
agent.destroy();
child.kill('SIGTERM');

const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN);
const latency = (rows: typeof results) => ({ p50: +pct(rows.map((r) => r.ms), 50).toFixed(1), p99: +pct(rows.map((r) => r.ms), 99).toFixed(1), max: +Math.max(...rows.map((r) => r.ms)).toFixed(1) });
const badRows = results.filter((r) => r.kind !== 'valid');
const validRows = results.filter((r) => r.kind === 'valid');
const count = (rows: typeof results) => rows.reduce<Record<string, number>>((m, r) => ((m[r.status] = (m[r.status] ?? 0) + 1), m), {});
const byKind = Object.fromEntries([...new Set(badRows.map((r) => r.kind))].map((k) => [k, count(badRows.filter((r) => r.kind === k))]));
const fiveXX = badRows.filter((r) => r.status >= 500).length;
const noAnswer = badRows.filter((r) => r.status < 100).length;
const result = {
  machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30) },
  date: new Date().toISOString(),
  command: `node ${process.argv.slice(1).join(' ')}`,
  root,
  requests: { bad: badRows.length, valid: validRows.length, rounds, concurrency, seconds: +seconds.toFixed(1) },
  rssMiB: { start: Math.round(rssStart), peak: Math.round(rssPeak), afterStorm: Math.round(rssAfterStorm), end: Math.round(rssEnd), afterRound: rssAfterRound, idleSeconds, idleSamples },
  heapMiB: { start: heapStart, end: heapEnd },
  afterFullGcMiB: afterFullGc,
  badLatencyMs: latency(badRows),
  validLatencyMs: latency(validRows),
  statuses: { bad: count(badRows), valid: count(validRows) },
  fiveXX,
  noAnswer,
  noAnswerErrors: badRows.filter((r) => r.error).map((r) => `${r.kind}: ${r.error}`),
  healthyAfter: healthy,
  byKind,
};
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(resolvePath(new URL('..', import.meta.url).pathname, out), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
process.exitCode = fiveXX === 0 && healthy ? 0 : 1;
