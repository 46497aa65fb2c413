// The latest-by-key store has a Redis (Lua) and an in-memory implementation; both must behave the
// same, and the Redis one must make one round trip per batch and set TTLs on every key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { latestByKey, type LatestByKeyStore } from '../../streams/runtime/state/latest-by-key.ts';
import { runId, useRedis } from './helpers.ts';

const redis = useRedis();

const spec = latestByKey({ ttlMs: 60_000 });

async function exercise(store: LatestByKeyStore) {
  const first = await store.update([
    { key: 'a', order: 5, payload: 'a5' },
    { key: 'b', order: 1, payload: 'b1' },
    { key: 'a', order: 7, payload: 'a7' },
  ]);
  const second = await store.update([
    { key: 'a', order: 6, payload: 'late' },
    { key: 'b', order: 4, payload: 'b4' },
    { key: 'c', order: 0, payload: 'c0' },
  ]);
  return { first, second, a: await store.get('a'), b: await store.get('b'), none: await store.get('zzz') };
}

test('Redis and in-memory latest-by-key agree', async () => {
  const ns = `it:${runId()}`;
  const viaRedis = await exercise(spec.open({ kind: 'redis', redis: redis() }, ns));
  const inMemory = await exercise(spec.open({ kind: 'memory' }, ns));
  assert.deepEqual(viaRedis, inMemory);
  assert.deepEqual(viaRedis.first, [null, null, 5]);
  assert.deepEqual(viaRedis.second, [7, 1, null]);
  assert.deepEqual(viaRedis.a, { order: 7, payload: 'a7' });
});

test('one EVALSHA per batch, namespaced keys with a TTL', async () => {
  const ns = `it:${runId()}`;
  const store = spec.open({ kind: 'redis', redis: redis() }, ns);
  await store.update([{ key: 'warm', order: 1, payload: '' }]); // loads the script (EVAL once)
  const evalshaCalls = async () => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await redis().client.info('commandstats'))?.[1] ?? 0);
  const before = await evalshaCalls();
  await store.update(Array.from({ length: 500 }, (_, i) => ({ key: `arm-${i}`, order: i, payload: String(i) })));
  assert.equal((await evalshaCalls()) - before, 1);
  const key = redis().key(ns, 'arm-42');
  assert.equal(key, `ss:${ns}:arm-42`);
  const ttl = await redis().client.pttl(key);
  assert.ok(ttl > 0 && ttl <= 60_000, `pttl ${ttl}`);
});
