#!/usr/bin/env node
// Entry point of `npx streamscore`. The CLI is TypeScript run directly by Node's type stripping
// (Node >= 22.18); npm scripts and npx put node_modules/.bin (Node 24 from the `node` dev
// dependency) first on PATH, but a user may call this file with an older system node, so re-exec.
import { spawnSync } from 'node:child_process';
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
  const r = spawnSync(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
await import(join(root, 'cli', 'main.ts'));
