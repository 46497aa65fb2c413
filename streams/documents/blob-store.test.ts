// The local blob store on a real temp directory: content addressing, idempotent and concurrent
// writes, the integrity check on read, the free-space floor, and the data-dir rule for its root.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobIntegrityError, BlobNotFoundError, BlobStoreFullError, BlobUriError, LocalBlobStore, defaultBlobDir, parseBlobUri } from './blob-store.ts';

const tempRoot = () => mkdtempSync(join(tmpdir(), 'blob-store-'));

describe('LocalBlobStore', () => {
  it('stores bytes under their SHA-256 in sharded directories and reads them back', async () => {
    const store = new LocalBlobStore({ root: tempRoot(), minFreeBytes: 0 });
    const bytes = randomBytes(100_000);
    const expected = createHash('sha256').update(bytes).digest('hex');
    const put = await store.put(bytes);
    assert.deepEqual(put, { uri: `blob:sha256:${expected}`, sha256: expected, sizeBytes: bytes.length, created: true });
    const path = join(store.root, 'sha256', expected.slice(0, 2), expected.slice(2, 4), expected);
    assert.deepEqual(readFileSync(path), bytes);
    assert.deepEqual(await store.get(put.uri), bytes);
    assert.equal(await store.has(put.uri), true);
  });

  it('is idempotent: the same bytes again write nothing and get the same URI', async () => {
    const store = new LocalBlobStore({ root: tempRoot(), minFreeBytes: 0 });
    const bytes = Buffer.from('%PDF-1.7 the same contract twice');
    const first = await store.put(bytes);
    const mtime = statSync(store.pathOf(first.sha256)).mtimeMs;
    const second = await store.put(bytes);
    assert.equal(second.uri, first.uri);
    assert.equal(second.created, false);
    assert.equal(statSync(store.pathOf(first.sha256)).mtimeMs, mtime);
  });

  it('concurrent writers of the same bytes both succeed and leave one file, no temp files', async () => {
    const store = new LocalBlobStore({ root: tempRoot(), minFreeBytes: 0 });
    const bytes = randomBytes(2 * 1024 * 1024);
    const results = await Promise.all(Array.from({ length: 8 }, () => store.put(bytes)));
    assert.equal(new Set(results.map((r) => r.uri)).size, 1);
    const dir = join(store.pathOf(results[0].sha256), '..');
    assert.deepEqual(readdirSync(dir), [results[0].sha256]);
    assert.deepEqual(await store.get(results[0].uri), bytes);
  });

  it('refuses a blob whose stored bytes no longer match their hash', async () => {
    const store = new LocalBlobStore({ root: tempRoot(), minFreeBytes: 0 });
    const { uri, sha256 } = await store.put(Buffer.from('governing law: New York'));
    writeFileSync(store.pathOf(sha256), 'governing law: Delaware');
    await assert.rejects(store.get(uri), (err: Error) => {
      assert.ok(err instanceof BlobIntegrityError);
      assert.match(err.message, new RegExp(`^blob integrity check failed for ${uri}: .* hashes to sha256 ${createHash('sha256').update('governing law: Delaware').digest('hex')};`));
      return true;
    });
  });

  it('names a missing blob and a malformed URI clearly', async () => {
    const store = new LocalBlobStore({ root: tempRoot(), minFreeBytes: 0 });
    const absent = `blob:sha256:${'0'.repeat(64)}`;
    await assert.rejects(store.get(absent), (err: Error) => err instanceof BlobNotFoundError && err.message === `blob ${absent} is not in the blob store (local disk ${store.root})`);
    assert.equal(await store.has(absent), false);
    await assert.rejects(store.get('s3://bucket/key'), (err: Error) => err instanceof BlobUriError && /^not a blob URI: "s3:\/\/bucket\/key"/.test(err.message));
    assert.throws(() => parseBlobUri('blob:sha256:ABC'), /does not end in 64 lowercase hex digits/);
    // A path-like "hash" never reaches the file system.
    assert.throws(() => parseBlobUri(`blob:sha256:../../${'a'.repeat(58)}`), BlobUriError);
  });

  it('refuses a write that would take the disk below its free-space floor, and writes nothing', async () => {
    const store = new LocalBlobStore({ root: tempRoot(), minFreeBytes: Number.MAX_SAFE_INTEGER });
    await assert.rejects(store.put(Buffer.from('x')), (err: Error) => err instanceof BlobStoreFullError && /MiB free; storing 0\.0 MiB would leave less than the .* floor/.test(err.message));
    assert.deepEqual(readdirSync(join(store.root, 'sha256')), []);
  });
});

describe('defaultBlobDir', () => {
  it('STREAMSCORE_BLOB_DIR wins, else <STREAMSCORE_DATA_DIR>/blobs, else <repo>/.data/blobs', () => {
    assert.equal(defaultBlobDir({ STREAMSCORE_BLOB_DIR: '/srv/blobs', STREAMSCORE_DATA_DIR: '/x' }), '/srv/blobs');
    assert.equal(defaultBlobDir({ STREAMSCORE_DATA_DIR: '/work/data-x' }), '/work/data-x/blobs');
    const repoRoot = new URL('../../', import.meta.url).pathname;
    assert.equal(defaultBlobDir({}), join(repoRoot, '.data', 'blobs'));
  });
});
