import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiKey, hashToken, parseDuration, parseRateLimit, readKeyFile, revokeApiKey, tokenKeyId } from './api-keys.ts';
import { ApiKeyring } from './keyring.ts';

const scratch = () => join(mkdtempSync(join(tmpdir(), 'streamscore-keys-')), 'keys.json');
const cliMain = fileURLToPath(new URL('../../../cli/main.ts', import.meta.url));
const cli = (file: string, ...args: string[]) => spawnSync(process.execPath, [cliMain, 'api-keys', ...args], { encoding: 'utf8', env: { ...process.env, STREAMSCORE_API_KEYS_FILE: file } });

test('the keys file holds the SHA-256 of each key, never the key, and is readable by its owner only', () => {
  const file = scratch();
  const { token, record } = createApiKey(file, { name: 'dashboard', scopes: ['metrics', 'score'], rateLimit: parseRateLimit('600/min'), expiresInMs: parseDuration('30d') }, Date.UTC(2026, 0, 1));
  const text = readFileSync(file, 'utf8');
  const secret = token.split('_').slice(2).join('_');
  assert.ok(!text.includes(secret) && !text.includes(token), 'the file must not contain the secret');
  assert.equal(tokenKeyId(token), record.id);
  assert.equal(readKeyFile(file).keys[0].sha256, hashToken(token).toString('hex'));
  assert.deepEqual(readKeyFile(file).keys[0].rate_limit, { per_second: 10, burst: 10 });
  assert.equal(readKeyFile(file).keys[0].not_after, '2026-01-31T00:00:00.000Z');
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('rate and duration specs are parsed or refused with a clear message', () => {
  assert.deepEqual(parseRateLimit('50/s'), { per_second: 50, burst: 50 });
  assert.deepEqual(parseRateLimit('1/h'), { per_second: 1 / 3600, burst: 1 });
  assert.deepEqual(parseRateLimit('5/s', 20), { per_second: 5, burst: 20 });
  assert.throws(() => parseRateLimit('fast'), /rate "fast" is not N\/s, N\/min or N\/h/);
  assert.throws(() => parseRateLimit('0/s'), /N > 0/);
  assert.equal(parseDuration('12h'), 43_200_000);
  assert.throws(() => parseDuration('forever'), /duration "forever" is not/);
  assert.throws(() => createApiKey(scratch(), { name: 'x', scopes: ['admin'] }), /unknown: admin/);
});

test('a hand-edited keys file that is not a keys file is refused at start with the path and the problem', () => {
  const file = scratch();
  writeFileSync(file, '{"version": 1, "keys": [{"id": "nothex"}]}');
  assert.throws(() => new ApiKeyring(file), /keys\.json is not a keys file: \/keys\/0 must have required property/);
  assert.throws(() => new ApiKeyring(`${file}.missing`), /no API keys file at .*hint|no API keys file/);
});

test('a revoked or expired key is refused; the others stay valid', () => {
  const file = scratch();
  let now = Date.UTC(2026, 0, 1);
  const a = createApiKey(file, { name: 'a', scopes: ['score'] }, now);
  const b = createApiKey(file, { name: 'b', scopes: ['score'], expiresInMs: 60_000 }, now);
  const ring = new ApiKeyring(file, { reloadCheckMs: 0, now: () => now });
  assert.equal(ring.authenticate(a.token, 'score').ok, true);
  assert.equal(ring.authenticate(b.token, 'score').ok, true);
  now += 61_000;
  assert.match(JSON.stringify(ring.authenticate(b.token, 'score')), /expired at 2026-01-01T00:01:00.000Z/);
  revokeApiKey(file, a.record.id, now);
  assert.deepEqual(ring.authenticate(a.token, 'score'), { ok: false, status: 401, error: 'invalid_token', message: 'the API key is not valid (unknown, revoked or mistyped)' });
  // A wrong secret for a known id is refused the same way as an unknown id.
  const forged = `ssk_${b.record.id}_${'A'.repeat(43)}`;
  assert.equal(ring.authenticate(forged, 'score').ok, false);
  assert.equal(ring.authenticate('ssk_0123456789abcdef_' + 'A'.repeat(43), 'score').ok, false);
});

test('api-keys CLI: create prints the key once, list never shows secrets or hashes, revoke marks the key', () => {
  const file = scratch();
  const created = cli(file, 'create', '--name', 'ci', '--scopes', 'score,metrics', '--rate', '20/s', '--expires', '7d');
  assert.equal(created.status, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, /^ssk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  assert.match(created.stderr, /shown once/);
  const listed = cli(file, 'list', '--json');
  assert.equal(listed.status, 0, listed.stderr);
  const keys = JSON.parse(listed.stdout) as { id: string; name: string; scopes: string[]; sha256?: string }[];
  assert.deepEqual(keys.map((k) => [k.name, k.scopes, k.sha256]), [['ci', ['score', 'metrics'], undefined]]);
  assert.ok(!listed.stdout.includes(token.slice(21)) && !readFileSync(file, 'utf8').includes(token.slice(21)));
  const revoked = cli(file, 'revoke', keys[0].id);
  assert.equal(revoked.status, 0, revoked.stderr);
  assert.match(cli(file, 'list').stdout, /revoked 20/);
  const unknown = cli(file, 'revoke', 'ffffffffffffffff');
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /no key "ffffffffffffffff"/);
  assert.match(cli(file, 'create', '--name', 'x').stderr, /create needs --name NAME and --scopes/);
});
