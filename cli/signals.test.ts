import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SIGNALS = new URL('./signals.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'signals-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A stand-in command: installs the stop handling, then (unless `handler` is false) stops on the
 * first SIGINT/SIGTERM like the real ones (`process.once`), taking `stopMs` to "flush".
 */
function command(name: string, o: { handler: boolean; stopMs: number }): string {
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, `
import { installStopSignals } from ${JSON.stringify(SIGNALS)};
installStopSignals();
const keepAlive = setInterval(() => {}, 1_000);
${o.handler ? `
const stop = (signal) => {
  process.stdout.write('stopping on ' + signal + '\\n');
  setTimeout(() => { clearInterval(keepAlive); process.stdout.write('stopped\\n'); process.exitCode = 0; }, ${o.stopMs});
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);` : ''}
process.stdout.write('ready\\n');
`);
  return file;
}

async function start(file: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_lifecycle_event: undefined, STREAMSCORE_WRAPPED: undefined, ...env } });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 20));
  return { child, exited, output: () => out };
}

test('the same stop delivered twice (terminal group + npm forward) lets the graceful stop finish', async () => {
  const { child, exited, output } = await start(command('twice', { handler: true, stopMs: 800 }));
  child.kill('SIGINT');
  // Apart enough to be two deliveries (a second one still pending is merged by the kernel).
  await new Promise((r) => setTimeout(r, 150));
  child.kill('SIGINT');
  const [code, signal] = await exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, output());
  assert.match(output(), /stopping on SIGINT\nstopped\n/);
});

test('a signal well after the first, while the stop hangs, ends the process at once', async () => {
  const { child, exited, output } = await start(command('insist', { handler: true, stopMs: 60_000 }));
  child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 2_300));
  child.kill('SIGINT');
  const [code, signal] = await exited;
  assert.deepEqual({ code, signal }, { code: null, signal: 'SIGINT' });
  assert.match(output(), /SIGINT again while stopping; exiting without finishing the stop/);
});

test('a command without a handler still dies of SIGINT and SIGTERM as Node does by default', async () => {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const { child, exited } = await start(command(`plain-${sig}`, { handler: false, stopMs: 0 }));
    child.kill(sig);
    const [code, signal] = await exited;
    assert.deepEqual({ code, signal }, { code: null, signal: sig });
  }
});

test('started by npm and the parent shell is killed: the command stops gracefully, not orphaned', async () => {
  const marker = join(dir, 'orphan.out');
  // sh -c "node cmd > marker": the shell stays the parent (dash does not exec), as under npm exec.
  const shell = spawn('/bin/sh', ['-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(command('orphan', { handler: true, stopMs: 100 }))} > ${JSON.stringify(marker)} 2>&1; echo unreachable`], {
    stdio: 'ignore',
    env: { ...process.env, npm_lifecycle_event: 'npx' },
  });
  const readMarker = () => {
    try {
      return readFileSync(marker, 'utf8');
    } catch {
      return '';
    }
  };
  while (!readMarker().includes('ready')) await new Promise((r) => setTimeout(r, 20));
  shell.kill('SIGKILL');
  const deadline = Date.now() + 5_000;
  while (!readMarker().includes('stopped') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.match(readMarker(), /is gone; stopping as on SIGTERM\nstopping on SIGTERM\nstopped\n/);
});
