import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const cli = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });

describe('streamscore cli', () => {
  it('prints usage and exits 2 on an unknown command', () => {
    const r = cli('no-such-command');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command "no-such-command"/);
    assert.match(r.stderr, /infra/);
  });

  it('prints usage and exits 0 on --help', () => {
    const r = cli('--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /usage: streamscore <command>/);
  });

  it('rejects an unknown infra subcommand with exit code 2', () => {
    const r = cli('infra', 'sideways');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage: streamscore infra/);
  });

  it('reports configuration errors with exit code 1', () => {
    const r = spawnSync(process.execPath, [main, 'infra', 'status'], { encoding: 'utf8', env: { ...process.env, KAFKA_BROKERS: '', SCHEMA_REGISTRY_URL: '', REDIS_URL: '', STREAMSCORE_KAFKA_PORT: 'x' } }); // embedded mode: npm test sets the URLs
    assert.equal(r.status, 1);
    assert.match(r.stderr, /STREAMSCORE_KAFKA_PORT="x" is not a TCP port/);
  });
});
