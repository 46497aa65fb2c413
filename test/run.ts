// `npm test`: static checks, the Python tests of models/, then every TypeScript test (unit and
// integration) in one `node --test` run against real services: KAFKA_BROKERS / SCHEMA_REGISTRY_URL /
// REDIS_URL when set, else the embedded stack, which is started here and stopped afterwards if this
// run started it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { down, endpointsEnv, status, up } from '../infra/stack/stack.ts';

const TEST_GLOBS = ['schemas/**/*.test.ts', 'infra/**/*.test.ts', 'cli/**/*.test.ts', 'streams/**/*.test.ts', 'connectors/**/*.test.ts', 'test/**/*.test.ts'];
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
if (existsSync(PYTHON)) step('python tests (models/)', PYTHON, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'models']);
const compose = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' });
if (compose.status === 0) step('compose file', 'docker', ['compose', '-f', 'docker-compose.kafka.yml', 'config', '-q']);
else process.stderr.write('\n== compose file: skipped, this docker client has no compose plugin\n');

const before = await status();
const wasUp = before.every((s) => s.healthy);
await up();
let exitCode = 1;
try {
  const env = {
    ...process.env,
    ...endpointsEnv(),
    ...pick(process.env, ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'REDIS_URL']),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    ...(existsSync(PYTHON) ? { STREAMSCORE_PYTHON: PYTHON } : {}),
  };
  const files = TEST_GLOBS.filter((g) => existsSync(join(REPO_ROOT, g.split('/')[0])));
  process.stderr.write(`\n== tests: node --test ${files.join(' ')}\n`);
  // One file at a time: integration tests share the broker and the 2-core machine.
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=300000', ...files], { cwd: REPO_ROOT, stdio: 'inherit', env });
  exitCode = r.status ?? 1;
} finally {
  if (!wasUp) await down();
}
process.exit(exitCode);

function pick(env: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  return Object.fromEntries(names.filter((n) => env[n]).map((n) => [n, env[n] as string]));
}
