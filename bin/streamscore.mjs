#!/usr/bin/env node
// Entry point of `npx streamscore`. The CLI is TypeScript run directly by Node's type stripping
// (Node >= 22.18); npm scripts and npx put node_modules/.bin (Node 24 from the `node` dev
// dependency) first on PATH, but a user may call this file with an older system node, so re-exec.
// The re-exec forwards SIGINT, SIGTERM and SIGHUP to the child and leaves as it leaves: a stop sent
// to this pid alone must reach the command's graceful stop (spawnSync blocked the event loop, so a
// signal killed this process and left the child running). cli/signals.ts takes a repeated signal.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  const bundled = join(root, 'node_modules', '.bin', 'node');
  if (!existsSync(bundled)) {
    console.error(`streamscore needs Node >= 22.18 (found ${process.version}); run \`npm install\` first to get Node 24 in node_modules/.bin`);
    process.exit(1);
  }
  const child = spawn(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, STREAMSCORE_WRAPPED: '1' } });
  const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of forwarded) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    console.error(`streamscore: could not start ${bundled}: ${err.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal === null) process.exit(code ?? 1);
    // Die of the same signal, so whoever waits for this process sees what happened to the command.
    for (const s of forwarded) process.removeAllListeners(s);
    process.kill(process.pid, signal);
  });
} else {
  await import(join(root, 'cli', 'main.ts'));
}
