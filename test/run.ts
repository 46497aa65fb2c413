// `npm test`: static checks, the Python tests of models/, then every TypeScript test (unit and
// integration) against real services: KAFKA_BROKERS / SCHEMA_REGISTRY_URL / REDIS_URL /
// MLFLOW_TRACKING_URI when set, else the embedded stack: the services this run starts are stopped
// afterwards, those that were up before it are left running.
// Test files run one at a time (they share the broker and a 2-core machine), each in its own
// `node --test`, so every file gets a wall-clock line with the host's free memory and disk, a file
// that hangs is killed and named, and the run ends with a summary: the slowest and the failed files.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeHost, hostBrief, recentOomKills } from '../infra/stack/host.ts';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { down, endpointsEnv, status, up } from '../infra/stack/stack.ts';

/** Where test files live, in the order they run. */
const TEST_ROOTS = ['schemas', 'infra', 'cli', 'streams', 'connectors', 'test'];
/** A file still running after this is killed and reported (the longest, the SparkScale demo, takes ~4 min). */
const FILE_TIMEOUT_MS = 30 * 60_000;
/** CI shows only the end of a run, so the summary repeats why each failed file failed, in this many lines. */
const FAILURE_LINES = 24;
const PYTHON = join(REPO_ROOT, '.venv', 'bin', 'python');

function step(title: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  process.stderr.write(`\n== ${title}: ${[command, ...args].join(' ')}\n`);
  const r = spawnSync(command, args, { cwd: REPO_ROOT, stdio: 'inherit', env });
  if (r.status !== 0) {
    process.stderr.write(`== ${title} failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status ?? 1);
  }
}

const bin = (name: string) => join(REPO_ROOT, 'node_modules', '.bin', name);
step('type check', bin('tsc'), ['-p', '.']);
step('generated types match schemas/', process.execPath, ['schemas/codegen.ts', '--check']);
/** `node test/run.ts gateway spark`: only the test files whose path contains one of the words (and no Python tests). */
const only = process.argv.slice(2);
if (existsSync(PYTHON) && only.length === 0) step('python tests (models/)', PYTHON, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'models']);
const compose = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' });
if (compose.status === 0) step('compose file', 'docker', ['compose', '-f', 'docker-compose.kafka.yml', 'config', '-q']);
else process.stderr.write('\n== compose file: skipped, this docker client has no compose plugin\n');

process.stderr.write(`\n== host: ${describeHost([REPO_ROOT])}\n`);
// Services that were already up (a developer's stack, a demo) are left running; only what this run starts is stopped.
const upBefore = new Set((await status()).filter((s) => s.managed === 'external' || s.pid !== null).map((s) => s.service));
const startedHere = (await up()).map((s) => s.service).filter((name) => !upBefore.has(name));
let exitCode = 1;
try {
  const env = {
    ...process.env,
    ...endpointsEnv(),
    ...pick(process.env, ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'REDIS_URL', 'MLFLOW_TRACKING_URI']),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    ...(existsSync(PYTHON) ? { STREAMSCORE_PYTHON: PYTHON } : {}),
  };
  exitCode = await runTestFiles(testFiles().filter((f) => only.length === 0 || only.some((w) => f.includes(w))), env);
} finally {
  if (startedHere.length) await down({ only: startedHere });
}
process.exit(exitCode);

function pick(env: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  return Object.fromEntries(names.filter((n) => env[n]).map((n) => [n, env[n] as string]));
}

function testFiles(): string[] {
  return TEST_ROOTS.filter((root) => existsSync(join(REPO_ROOT, root))).flatMap((root) =>
    readdirSync(join(REPO_ROOT, root), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.test.ts') && !f.split('/').includes('node_modules'))
      .map((f) => `${root}/${f}`)
      .sort(),
  );
}

interface FileResult {
  file: string;
  ms: number;
  /** node --test's exit status, or why it did not finish. */
  outcome: 'pass' | 'fail' | 'killed (hung)';
  /** From node --test's closing lines; null where it printed none (killed). */
  tests: { pass: number; fail: number; cancelled: number } | null;
  /** A process started by the file outlived it, holding its output open. */
  outputHeld: boolean;
  /** For a failed file: the start of node --test's "failing tests" section (else its last lines). */
  failure: string[];
}

function failureExcerpt(output: string): string[] {
  const lines = output.split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0 && !/^\s+at /.test(l));
  const start = lines.findIndex((l) => l.startsWith('✖ failing tests'));
  const section = start >= 0 ? lines.slice(start + 1) : lines.slice(-FAILURE_LINES);
  // The assertion's own fields (generatedMessage, code, actual...) repeat what its message said.
  const fields = section.findIndex((l) => /^\s+generatedMessage: /.test(l));
  const picked = (fields >= 0 ? section.slice(0, fields) : section).slice(0, FAILURE_LINES);
  return picked.map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l));
}

function describeCounts(t: FileResult['tests']): string {
  return t ? `${t.pass} passed, ${t.fail} failed, ${t.cancelled} cancelled` : 'no test summary';
}

/** Runs each file in its own `node --test`, echoing its output; returns the exit code for the whole run. */
async function runTestFiles(files: string[], env: NodeJS.ProcessEnv): Promise<number> {
  process.stderr.write(`\n== tests: ${files.length} files under ${TEST_ROOTS.join(', ')}, one at a time\n`);
  const results: FileResult[] = [];
  const started = Date.now();
  for (const [i, file] of files.entries()) {
    const result = await runTestFile(file, env);
    results.push(result);
    const held = result.outputHeld ? '; a process it started is still running and holds its output' : '';
    process.stderr.write(`== [${i + 1}/${files.length}] ${file}: ${result.outcome} in ${(result.ms / 1000).toFixed(1)} s (${describeCounts(result.tests)}${held}; ${hostBrief(REPO_ROOT)})\n`);
  }
  const failed = results.filter((r) => r.outcome !== 'pass');
  const leaky = results.filter((r) => r.outputHeld);
  const slowest = [...results].sort((a, b) => b.ms - a.ms).slice(0, 8);
  const sum = (k: 'pass' | 'fail' | 'cancelled') => results.reduce((n, r) => n + (r.tests?.[k] ?? 0), 0);
  const lines = [
    `== test summary: ${results.length - failed.length}/${results.length} files passed in ${((Date.now() - started) / 60_000).toFixed(1)} min; tests: ${sum('pass')} passed, ${sum('fail')} failed, ${sum('cancelled')} cancelled`,
    `   slowest: ${slowest.map((r) => `${r.file} ${(r.ms / 1000).toFixed(0)} s`).join(', ')}`,
    ...failed.flatMap((r) => [
      `   FAILED ${r.file}: ${r.outcome} after ${(r.ms / 1000).toFixed(1)} s (${describeCounts(r.tests)}); its output is above, and begins:`,
      ...r.failure.map((l) => `     | ${l}`),
    ]),
    ...(leaky.length ? [`   left processes running: ${leaky.map((r) => r.file).join(', ')}`] : []),
    `   host now: ${describeHost([REPO_ROOT])}`,
    ...(failed.length ? recentOomKills().map((l) => `   kernel: ${l}`) : []),
  ];
  process.stderr.write(`\n${lines.join('\n')}\n`);
  return failed.length ? 1 : 0;
}

function runTestFile(file: string, env: NodeJS.ProcessEnv): Promise<FileResult> {
  const started = Date.now();
  return new Promise((resolvePromise) => {
    // --test-force-exit: a file whose tests are done ends even if a client left a socket open.
    // --test-isolation=none: the file runs in this `node --test` process itself. With the default
    // (a child process per file) force-exit drops the tail of a file's verdicts before the parent
    // reads them and still exits 0 (nodejs/node#64833): schemas.test.ts reported 24 of its 34 tests
    // in a CI run, and 9 of 30 local runs lost some. Each file has its own process here anyway.
    const child = spawn(process.execPath, ['--test', '--test-isolation=none', '--test-force-exit', '--test-timeout=300000', file], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const echo = (to: NodeJS.WriteStream) => (chunk: Buffer) => {
      to.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-64_000);
    };
    child.stdout.on('data', echo(process.stdout));
    child.stderr.on('data', echo(process.stderr));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const finish = (outputHeld: boolean) => {
        const count = (name: string) => new RegExp(`^ℹ ${name} (\\d+)$`, 'm').exec(tail)?.[1];
        resolvePromise({
          file,
          ms: Date.now() - started,
          outcome: hung ? 'killed (hung)' : code === 0 ? 'pass' : 'fail',
          tests: count('pass') === undefined ? null : { pass: Number(count('pass')), fail: Number(count('fail') ?? 0), cancelled: Number(count('cancelled') ?? 0) },
          outputHeld,
          failure: code === 0 && !hung ? [] : failureExcerpt(tail),
        });
      };
      // A process the file started and left running can hold the output pipe open for as long as it
      // lives; the run goes on without it, and the file's line says so.
      const grace = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(true);
      }, 3_000);
      child.once('close', () => {
        clearTimeout(grace);
        finish(false);
      });
    });
  });
}
