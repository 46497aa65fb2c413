// The canary reference's state copy on a real Redis (rollout-wiring.ts copyRedisState): every store's
// entry of each key goes from the live namespace to <processor>~canary-ref with its TTL, the copy
// replaces what an earlier chunk left there, a key with no live state leaves no stale copy behind,
// and the live entries are not touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyRedisState } from '../../streams/runtime/rollout/rollout-wiring.ts';
import { RedisState } from '../../streams/runtime/state/redis-state.ts';
import { endpoints, runId } from './helpers.ts';

test('the reference copy: values and TTLs from the live namespace, replaced each time, none for a key without live state', async () => {
  const redis = new RedisState(endpoints().redisUrl);
  await redis.connect();
  const live = `${runId()}-scorer`;
  const ref = `${live}~canary-ref`;
  const r = redis.client;
  try {
    await r.set(redis.key(`${live}:windows`, 'a1'), 'w-live', 'PX', 600_000);
    await r.hset(redis.key(`${live}:alerts`, 'a1'), 'state', 'RAISED');
    await r.set(redis.key(`${ref}:windows`, 'a1'), 'w-stale');
    await r.set(redis.key(`${ref}:windows`, 'a2'), 'w-stale-of-an-arm-with-no-live-state');
    await copyRedisState(redis, ['windows', 'alerts'], live, ref, ['a1', 'a2']);
    assert.equal(await r.get(redis.key(`${ref}:windows`, 'a1')), 'w-live', 'replaced by the live value');
    assert.deepEqual(await r.hgetall(redis.key(`${ref}:alerts`, 'a1')), { state: 'RAISED' }, 'every store, any type');
    const ttl = await r.pttl(redis.key(`${ref}:windows`, 'a1'));
    assert.ok(ttl > 590_000 && ttl <= 600_000, `TTL copied: ${ttl} ms`);
    assert.equal(await r.exists(redis.key(`${ref}:windows`, 'a2')), 0, 'a key with no live state has no reference state');
    assert.equal(await r.get(redis.key(`${live}:windows`, 'a1')), 'w-live', 'the live entry is untouched');
  } finally {
    const keys = [...(await r.keys(`ss:${live}*`))];
    if (keys.length) await r.del(...keys);
    await redis.close();
  }
});
