import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Counter, Registry } from 'prom-client';
import { createApiKey } from './http/api-keys.ts';
import { startHealthServer } from './health-server.ts';

const registry = new Registry();
new Counter({ name: 'streamscore_records_in_total', help: 'test', registers: [registry] }).inc(3);
const logger = pino({ level: 'silent' });
const keysFile = join(mkdtempSync(join(tmpdir(), 'streamscore-health-')), 'keys.json');
const prometheus = createApiKey(keysFile, { name: 'prometheus', scopes: ['metrics'] });
const probe = createApiKey(keysFile, { name: 'kubelet', scopes: ['health'] });

const get = (port: number, path: string, token?: string) => fetch(`http://127.0.0.1:${port}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

test('open by default (processors): /metrics, /healthz, /readyz need no key', async () => {
  let ready = false;
  const server = await startHealthServer({ port: 0, registry, isReady: () => ready, logger, env: {} });
  try {
    assert.match(await (await get(server.port, '/metrics')).text(), /streamscore_records_in_total 3/);
    assert.equal((await get(server.port, '/healthz')).status, 200);
    assert.equal((await get(server.port, '/readyz')).status, 503);
    ready = true;
    assert.equal((await get(server.port, '/readyz')).status, 200);
    assert.equal((await get(server.port, '/nope')).status, 404);
  } finally {
    await server.close();
  }
});

test('STREAMSCORE_METRICS_AUTH=key and STREAMSCORE_HEALTH_AUTH=key require keys with those scopes', async () => {
  const env = { STREAMSCORE_METRICS_AUTH: 'key', STREAMSCORE_HEALTH_AUTH: 'key', STREAMSCORE_API_KEYS_FILE: keysFile };
  const server = await startHealthServer({ port: 0, registry, isReady: () => true, logger, env });
  try {
    assert.equal((await get(server.port, '/metrics')).status, 401);
    assert.equal((await get(server.port, '/metrics', probe.token)).status, 403);
    assert.equal((await get(server.port, '/metrics', prometheus.token)).status, 200);
    assert.equal((await get(server.port, '/healthz')).status, 401);
    assert.equal((await get(server.port, '/readyz', probe.token)).status, 200);
  } finally {
    await server.close();
  }
  const metricsOnly = await startHealthServer({ port: 0, registry, isReady: () => true, logger, env: { ...env, STREAMSCORE_HEALTH_AUTH: 'open' } });
  try {
    assert.equal((await get(metricsOnly.port, '/metrics')).status, 401);
    assert.equal((await get(metricsOnly.port, '/healthz')).status, 200);
  } finally {
    await metricsOnly.close();
  }
});

test('a bad setting or a missing keys file stops the start with a clear message', async () => {
  await assert.rejects(startHealthServer({ port: 0, registry, isReady: () => true, logger, env: { STREAMSCORE_METRICS_AUTH: 'yes' } }), /STREAMSCORE_METRICS_AUTH="yes" must be "open" or "key"/);
  await assert.rejects(startHealthServer({ port: 0, registry, isReady: () => true, logger, env: { STREAMSCORE_METRICS_AUTH: 'key', STREAMSCORE_API_KEYS_FILE: `${keysFile}.missing` } }), /no API keys file at .*keys\.json\.missing/);
});
