import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImageCache, type CachedImage } from './image-cache.ts';

const image = (bytes: number): CachedImage => ({ bytes: Buffer.alloc(bytes), contentType: 'image/png', width: 1, height: 1 });

test('the oldest pictures go first once over the byte or count bound; one too large is not kept', () => {
  const cache = new ImageCache({ maxBytes: 100, maxEntries: 3 });
  cache.put('a', image(40));
  cache.put('b', image(40));
  cache.put('c', image(40));
  assert.deepEqual([cache.get('a'), cache.size, cache.bytes], [undefined, 2, 80]);
  cache.put('d', image(10));
  cache.put('e', image(10));
  assert.deepEqual(['b', 'c', 'd', 'e'].map((id) => cache.get(id) !== undefined), [false, true, true, true]);
  cache.put('huge', image(101));
  assert.equal(cache.get('huge'), undefined);
  assert.equal(cache.size, 3);
  // Putting an id again replaces it and counts its bytes once.
  cache.put('c', image(5));
  assert.equal(cache.bytes, 25);
});

test('a reader waits for a picture that is on its way, and gives up after its time', async () => {
  const cache = new ImageCache({ maxBytes: 1_000 });
  const waiting = cache.waitFor('x', 1_000);
  const late = cache.waitFor('never', 50);
  setTimeout(() => cache.put('x', image(3)), 20);
  assert.equal((await waiting)?.bytes.length, 3);
  assert.equal(await late, undefined);
  assert.equal((await cache.waitFor('x', 0))?.bytes.length, 3);
});
