import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InflightLimiter } from './inflight-limiter.ts';

test('never more than N jobs or B bytes in flight, whatever the job sizes and finishing order', async () => {
  const limiter = new InflightLimiter(3, 1_000);
  let maxCount = 0;
  let maxBytes = 0;
  let done = 0;
  // Deterministic pseudo-random sizes and durations, so a failure reproduces.
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const jobs = Array.from({ length: 60 }, async () => {
    const bytes = Math.floor(rand() * 600);
    await limiter.acquire(bytes);
    maxCount = Math.max(maxCount, limiter.count);
    maxBytes = Math.max(maxBytes, limiter.bytes);
    assert.ok(limiter.count <= 3 && limiter.bytes <= 1_000, `in flight: ${limiter.count} jobs, ${limiter.bytes} bytes`);
    await new Promise((r) => setTimeout(r, rand() * 5));
    limiter.release(bytes);
    done++;
  });
  await Promise.all(jobs);
  assert.equal(done, 60);
  assert.equal(limiter.count, 0);
  assert.equal(limiter.bytes, 0);
  assert.equal(maxCount, 3, 'the count bound was reached (so the test exercised it)');
  assert.ok(maxBytes > 600 && maxBytes <= 1_000, `bytes in flight peaked at ${maxBytes}`);
});

test('a job larger than the byte bound runs alone instead of waiting forever; jobs are admitted in order', async () => {
  const limiter = new InflightLimiter(4, 100);
  const order: string[] = [];
  await limiter.acquire(60);
  const big = limiter.acquire(500).then(() => order.push('big'));
  const small = limiter.acquire(1).then(() => order.push('small'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, [], 'the big job waits for the first to finish; the small one does not overtake it');
  limiter.release(60);
  await big;
  assert.equal(limiter.count, 1);
  assert.equal(limiter.bytes, 500);
  limiter.release(500);
  await small;
  assert.deepEqual(order, ['big', 'small']);
});

test('bad bounds and sizes are refused with the reason', () => {
  assert.throws(() => new InflightLimiter(0, 10), /integer >= 1/);
  assert.throws(() => new InflightLimiter(1, 0), /byte bound/);
  assert.throws(() => new InflightLimiter(1, 10).acquire(Number.NaN), /bytes >= 0/);
});
