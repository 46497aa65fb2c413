import { after, test as nodeTest, type TestFn } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createApiKey, parseRateLimit, revokeApiKey } from './api-keys.ts';
import { ApiKeyring } from './keyring.ts';
import { observabilityRoutes, type ObservabilityAccess } from './observability.ts';
import { startHttpApi, type HttpApi, type HttpApiOptions, type Route } from './server.ts';

// A hung request fails its test in 10 s instead of the runner's default of never.
const test = (name: string, fn: TestFn) => nodeTest(name, { timeout: 10_000 }, fn);

const logLines: string[] = [];
const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) }));
const keysFile = join(mkdtempSync(join(tmpdir(), 'streamscore-http-')), 'keys.json');
const scorer = createApiKey(keysFile, { name: 'scorer', scopes: ['score'] });
const watcher = createApiKey(keysFile, { name: 'watcher', scopes: ['metrics', 'health'] });
const slow = createApiKey(keysFile, { name: 'slow', scopes: ['score'], rateLimit: parseRateLimit('1/s', 2) });
const keyring = new ApiKeyring(keysFile, { reloadCheckMs: 0, logger });
const apis: HttpApi[] = [];
after(() => Promise.all(apis.map((a) => a.close())));

const waiting: (() => void)[] = [];
const releaseAll = () => waiting.splice(0).forEach((release) => release());
const echo: Route = { name: 'echo', method: 'POST', path: '/v1/echo', access: { scope: 'score' }, json: { maxBytes: 1024, maxDepth: 3, maxArrayItems: 10 }, handle: ({ body, key }) => ({ json: { body, key: key?.name ?? null } }) };
const routes: Route[] = [
  echo,
  { name: 'wait', method: 'POST', path: '/v1/wait', access: { scope: 'score' }, handle: () => new Promise((r) => waiting.push(() => r({ json: 'done' }))) },
  { name: 'boom', method: 'GET', path: '/v1/boom', access: 'open', handle: () => { throw new Error('database password is hunter2'); } },
];

async function start(over: Partial<HttpApiOptions> = {}, access: ObservabilityAccess = { metrics: 'key', health: 'open' }) {
  const api = await startHttpApi({ name: 'test-api', port: 0, keyring, logger, maxInFlight: 2, routes: [...routes, ...observabilityRoutes({ registry: new Registry(), isReady: () => true, access })], ...over });
  apis.push(api);
  const base = `http://127.0.0.1:${api.port}`;
  const call = (path: string, o: { token?: string; body?: string; method?: string; type?: string } = {}) =>
    fetch(`${base}${path}`, { method: o.method ?? (o.body === undefined ? 'GET' : 'POST'), body: o.body, headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), 'content-type': o.type ?? 'application/json' } });
  return { api, base, call };
}

const { api, call } = await start();

test('401 with WWW-Authenticate for a missing or unknown key, 403 for a key without the scope', async () => {
  const missing = await call('/v1/echo', { body: '{}' });
  assert.equal(missing.status, 401);
  assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="streamscore"');
  const unknown = await call('/v1/echo', { body: '{}', token: 'ssk_0123456789abcdef_' + 'x'.repeat(43) });
  assert.equal(unknown.status, 401);
  assert.equal(unknown.headers.get('www-authenticate'), 'Bearer realm="streamscore", error="invalid_token"');
  const wrongScope = await call('/v1/echo', { body: '{}', token: watcher.token });
  assert.equal(wrongScope.status, 403);
  assert.match(wrongScope.headers.get('www-authenticate')!, /error="insufficient_scope", scope="score"/);
  assert.match(((await wrongScope.json()) as { error: string }).error, /lacks the scope "score"/);
  const ok = await call('/v1/echo', { body: '{"a":[1]}', token: scorer.token });
  assert.deepEqual(await ok.json(), { body: { a: [1] }, key: 'scorer' });
  const apiKeyHeader = await fetch(`http://127.0.0.1:${api.port}/v1/echo`, { method: 'POST', body: '1', headers: { 'x-api-key': scorer.token, 'content-type': 'application/json' } });
  assert.equal(apiKeyHeader.status, 200);
});

test('a key over its rate gets 429 with Retry-After', async () => {
  const statuses = [];
  for (let i = 0; i < 3; i++) {
    const res = await call('/v1/echo', { body: '1', token: slow.token });
    statuses.push(res.status);
    if (res.status === 429) assert.equal(res.headers.get('retry-after'), '1');
  }
  assert.deepEqual(statuses, [200, 200, 429]);
});

test('bodies: 413 over the limit, 400 too deep or too long an array or not JSON, 415 wrong type', async () => {
  const cases: [string, string, number, RegExp][] = [
    ['x'.repeat(2000), 'application/json', 413, /over the 1024-byte limit/],
    ['[[[[1]]]]', 'application/json', 400, /deeper than 3 levels/],
    [`[${'1,'.repeat(10)}1]`, 'application/json', 400, /more than 10 elements/],
    ['{"a": ', 'application/json', 400, /not JSON/],
    ['', 'application/json', 400, /body is empty/],
    ['{}', 'text/plain', 415, /content-type must be application\/json/],
    ['{}', 'application/json; charset=latin1', 415, /content-type/],
  ];
  for (const [body, type, status, message] of cases) {
    const res = await call('/v1/echo', { body, type, token: scorer.token });
    assert.equal(res.status, status, `${body.slice(0, 20)} ${type}`);
    assert.match(((await res.json()) as { error: string }).error, message);
  }
  const invalidUtf8 = await new Promise<number>((resolve, reject) => {
    const req = request(`http://127.0.0.1:${api.port}/v1/echo`, { method: 'POST', headers: { authorization: `Bearer ${scorer.token}`, 'content-type': 'application/json' } }, (res) => (res.resume(), resolve(res.statusCode!)));
    req.on('error', reject);
    req.end(Buffer.from([0x22, 0xff, 0xfe, 0x22]));
  });
  assert.equal(invalidUtf8, 400);
});

test('a streamed (chunked) body is cut off at the limit: 413, and the rest is never read', async () => {
  let written = 0;
  const status = await new Promise<number>((resolve) => {
    const req = request(`http://127.0.0.1:${api.port}/v1/echo`, { method: 'POST', headers: { authorization: `Bearer ${scorer.token}`, 'content-type': 'application/json' } }, (res) => (res.resume(), resolve(res.statusCode!)));
    req.on('error', () => resolve(-1));
    const pump = () => {
      while (written < 64 * 1024 * 1024 && !req.destroyed) {
        written += 16 * 1024;
        if (!req.write('1'.repeat(16 * 1024))) return void req.once('drain', pump);
      }
    };
    pump();
  });
  assert.equal(status, 413);
  assert.ok(written < 16 * 1024 * 1024, `the client could push ${written} bytes`);
});

test('404 and 405 (with Allow) for routes that do not exist or methods they do not take', async () => {
  const missing = await call('/nope');
  assert.equal(missing.status, 404);
  assert.match(((await missing.json()) as { error: string }).error, /no route \/nope/);
  const wrongMethod = await call('/v1/echo', { method: 'GET' });
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get('allow'), 'POST');
});

test('requests in flight are bounded: more wait in a bounded queue, beyond it 503 with Retry-After', async () => {
  const small = await start({ maxInFlight: 2, queue: { maxQueued: 1, maxWaitMs: 5_000 } });
  const first = small.call('/v1/wait', { body: '', token: scorer.token, type: 'text/plain' });
  const second = small.call('/v1/wait', { body: '', token: scorer.token, type: 'text/plain' });
  while (waiting.length < 2) await new Promise((r) => setTimeout(r, 5));
  const queued = small.call('/v1/echo', { body: '1', token: scorer.token });
  while (small.api.queued() < 1) await new Promise((r) => setTimeout(r, 5));
  const refused = await small.call('/v1/echo', { body: '1', token: scorer.token });
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.match(((await refused.json()) as { error: string }).error, /busy \(2 requests in flight, 1 waiting\)/);
  releaseAll();
  assert.deepEqual([(await first).status, (await second).status, (await queued).status], [200, 200, 200]);
  assert.equal(small.api.inFlight(), 0);
});

test('a request that waits longer than maxWaitMs for a slot gets 503', async () => {
  const small = await start({ maxInFlight: 1, queue: { maxQueued: 10, maxWaitMs: 200 } });
  const holder = small.call('/v1/wait', { body: '', token: scorer.token, type: 'text/plain' });
  while (waiting.length < 1) await new Promise((r) => setTimeout(r, 5));
  const t0 = Date.now();
  assert.equal((await small.call('/v1/echo', { body: '1', token: scorer.token })).status, 503);
  assert.ok(Date.now() - t0 >= 190, `refused after ${Date.now() - t0} ms`);
  releaseAll();
  assert.equal((await holder).status, 200);
});

test('a client that hangs up while queued or in flight gives its place back', async () => {
  const small = await start({ maxInFlight: 1, queue: { maxQueued: 5, maxWaitMs: 5_000 } });
  const holder = small.call('/v1/wait', { body: '', token: scorer.token, type: 'text/plain' });
  while (waiting.length < 1) await new Promise((r) => setTimeout(r, 5));
  const quitter = connect(small.api.port, '127.0.0.1', () => quitter.write(`POST /v1/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${scorer.token}\r\nContent-Type: application/json\r\nContent-Length: 1\r\n\r\n1`));
  while (small.api.queued() < 1) await new Promise((r) => setTimeout(r, 5));
  quitter.destroy();
  while (small.api.queued() > 0) await new Promise((r) => setTimeout(r, 5));
  releaseAll();
  assert.equal((await holder).status, 200);
  assert.equal((await small.call('/v1/echo', { body: '1', token: scorer.token })).status, 200);
  assert.equal(small.api.inFlight(), 0);
});

test('an internal error is a 500 without details, logged with its stack', async () => {
  const res = await call('/v1/boom');
  assert.equal(res.status, 500);
  const text = await res.text();
  assert.ok(!text.includes('hunter2') && !text.includes('server.test.ts'), text);
  assert.ok(logLines.some((l) => l.includes('hunter2') && l.includes('server.test.ts')), 'the log has the message and stack');
});

test('rotation: old and new keys both work, the revoked one is refused once the file changes', async () => {
  const old = createApiKey(keysFile, { name: 'old', scopes: ['score'] });
  const fresh = createApiKey(keysFile, { name: 'new', scopes: ['score'] });
  assert.deepEqual([(await call('/v1/echo', { body: '1', token: old.token })).status, (await call('/v1/echo', { body: '1', token: fresh.token })).status], [200, 200]);
  revokeApiKey(keysFile, old.record.id);
  assert.equal((await call('/v1/echo', { body: '1', token: old.token })).status, 401);
  assert.equal((await call('/v1/echo', { body: '1', token: fresh.token })).status, 200);
});

test('/metrics and health: protected by scope when configured, open otherwise', async () => {
  assert.equal((await call('/metrics')).status, 401);
  assert.equal((await call('/metrics', { token: scorer.token })).status, 403);
  assert.equal((await call('/metrics', { token: watcher.token })).status, 200);
  assert.equal((await call('/healthz')).status, 200);
  const locked = await start({}, { metrics: 'open', health: 'key' });
  assert.equal((await locked.call('/metrics')).status, 200);
  assert.equal((await locked.call('/healthz')).status, 401);
  assert.equal((await locked.call('/readyz')).status, 401);
  assert.equal((await locked.call('/readyz', { token: watcher.token })).status, 200);
});

test('binds 127.0.0.1 by default, and refuses to serve keyed routes without keys off loopback', async () => {
  assert.equal(api.host, '127.0.0.1');
  const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  if (external) {
    const reached = await new Promise<boolean>((resolve) => connect(api.port, external).once('connect', () => resolve(true)).once('error', () => resolve(false)));
    assert.equal(reached, false, `port ${api.port} must not answer on ${external}`);
  }
  await assert.rejects(startHttpApi({ name: 'x', port: 0, host: '0.0.0.0', keyring: null, logger, routes }), /refusing to serve \/v1\/echo, \/v1\/wait without API keys on 0\.0\.0\.0/);
  const noAuth = await start({ keyring: null });
  assert.equal((await noAuth.call('/v1/echo', { body: '1' })).status, 200);
});

test('slow clients are cut off: headers within headersMs, the whole request within requestMs', async () => {
  const quick = await start({ timeouts: { headersMs: 300, requestMs: 600 } });
  const stall = (payload: string) =>
    new Promise<{ reply: string; ms: number }>((resolve) => {
      const t0 = Date.now();
      let reply = '';
      const socket = connect(quick.api.port, '127.0.0.1', () => socket.write(payload));
      socket.on('data', (d) => (reply += d)).on('close', () => resolve({ reply, ms: Date.now() - t0 })).on('error', () => {});
    });
  const headers = await stall('POST /v1/echo HTTP/1.1\r\nHost: x\r\n');
  assert.match(headers.reply, /^HTTP\/1\.1 408/);
  assert.ok(headers.ms < 3000, `closed after ${headers.ms} ms`);
  const body = await stall(`POST /v1/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${scorer.token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[1,`);
  assert.match(body.reply, /^HTTP\/1\.1 (408|400)/);
  assert.ok(body.ms < 3000, `closed after ${body.ms} ms`);
});

test('keys never appear in the logs', () => {
  const all = logLines.join('');
  for (const k of [scorer, watcher, slow]) assert.ok(!all.includes(k.token.slice(21)), `secret of ${k.record.name} logged`);
  assert.ok(logLines.some((l) => l.includes('request refused') && l.includes('"status":401')));
});
