// The claim-check store for document bytes: content-addressed (the SHA-256 of the bytes is the
// address), so a document uploaded twice is stored once and a reader can prove it got what was
// written. `docs.uploads.v1` carries the reference `blob:sha256:<hex>` instead of the bytes for
// large documents (docs/documents-api.md, "Inline or claim check"), and the processor writes the
// cleaned page texts here for the search index (`text_blob_uri`).
//
// Local disk is the default: <root>/sha256/ab/cd/abcd...; writes go to a temp file in the same
// directory, are fsynced and renamed into place, so a crash never leaves a partial blob under its
// final name and concurrent writers of the same bytes both succeed. Reads hash the bytes again and
// throw BlobIntegrityError on a mismatch (bit rot, a truncated copy, a hand-edited file). What is
// not done: deletion and garbage collection (blobs outlive the topic's 7-day retention on purpose:
// they are the system of record; see the doc), quotas beyond a free-space floor, replication.
// `BlobStore` is the interface an S3 (or GCS) store would implement with the same URIs' meaning.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, statfsSync } from 'node:fs';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const BLOB_URI_PREFIX = 'blob:sha256:';
const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface StoredBlob {
  /** `blob:sha256:<64 lowercase hex>`; the same bytes always get the same URI. */
  uri: string;
  sha256: string;
  sizeBytes: number;
  /** False when the bytes were already stored (nothing was written). */
  created: boolean;
}

export interface BlobStore {
  /** Stores the bytes (idempotent) and returns their address. */
  put(bytes: Uint8Array): Promise<StoredBlob>;
  /** The bytes behind `uri`, verified against its hash. Throws BlobNotFoundError / BlobIntegrityError. */
  get(uri: string): Promise<Buffer>;
  has(uri: string): Promise<boolean>;
  /** Says where the store is, for logs and errors. */
  describe(): string;
}

/** The URI is not one this store understands (scheme or hash malformed). */
export class BlobUriError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlobUriError';
  }
}

export class BlobNotFoundError extends Error {
  readonly uri: string;
  constructor(uri: string, where: string) {
    super(`blob ${uri} is not in the blob store (${where})`);
    this.name = 'BlobNotFoundError';
    this.uri = uri;
  }
}

/** The stored bytes no longer hash to their address: the blob is corrupt and must not be used. */
export class BlobIntegrityError extends Error {
  readonly uri: string;
  readonly actualSha256: string;
  constructor(uri: string, actualSha256: string, path: string) {
    super(`blob integrity check failed for ${uri}: the ${path} file hashes to sha256 ${actualSha256}; the stored copy is corrupt (restore it from a backup or upload the document again)`);
    this.name = 'BlobIntegrityError';
    this.uri = uri;
    this.actualSha256 = actualSha256;
  }
}

/** The disk holding the store is below its free-space floor; nothing was written. */
export class BlobStoreFullError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlobStoreFullError';
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function blobUri(sha256: string): string {
  return `${BLOB_URI_PREFIX}${sha256}`;
}

/** The hex SHA-256 a `blob:sha256:` URI names; BlobUriError for anything else. */
export function parseBlobUri(uri: string): string {
  if (!uri.startsWith(BLOB_URI_PREFIX)) throw new BlobUriError(`not a blob URI: ${JSON.stringify(uri.slice(0, 100))} (expected ${BLOB_URI_PREFIX}<64 hex digits>)`);
  const hex = uri.slice(BLOB_URI_PREFIX.length);
  if (!SHA256_HEX.test(hex)) throw new BlobUriError(`blob URI ${JSON.stringify(uri.slice(0, 100))} does not end in 64 lowercase hex digits`);
  return hex;
}

export interface LocalBlobStoreOptions {
  root: string;
  /** Refuse writes that would leave less than this many bytes free on the store's disk (default 256 MiB). */
  minFreeBytes?: number;
}

const DEFAULT_MIN_FREE_BYTES = 256 * 1024 * 1024;

export class LocalBlobStore implements BlobStore {
  readonly root: string;
  private readonly minFreeBytes: number;

  constructor(o: LocalBlobStoreOptions) {
    this.root = resolve(o.root);
    this.minFreeBytes = o.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES;
    mkdirSync(join(this.root, 'sha256'), { recursive: true });
  }

  describe(): string {
    return `local disk ${this.root}`;
  }

  /** Two levels of 256 directories keep any one directory small at millions of blobs. */
  pathOf(sha256: string): string {
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async put(bytes: Uint8Array): Promise<StoredBlob> {
    const sha256 = sha256Hex(bytes);
    const uri = blobUri(sha256);
    const path = this.pathOf(sha256);
    if (await this.hasPath(path, bytes.length)) return { uri, sha256, sizeBytes: bytes.length, created: false };
    this.checkFreeSpace(bytes.length);
    const dir = join(path, '..');
    mkdirSync(dir, { recursive: true });
    // Same directory as the target, so the rename is atomic (one file system).
    const temp = join(dir, `.${sha256}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const file = await open(temp, 'wx', 0o640);
    try {
      await file.writeFile(bytes);
      await file.sync();
    } catch (err) {
      await file.close().catch(() => {});
      await rm(temp, { force: true });
      throw err;
    }
    await file.close();
    // A concurrent writer of the same bytes may have renamed first; renaming over it is harmless
    // (identical content), and no reader ever sees a partial file under the final name.
    await rename(temp, path);
    return { uri, sha256, sizeBytes: bytes.length, created: true };
  }

  async get(uri: string): Promise<Buffer> {
    const sha256 = parseBlobUri(uri);
    const path = this.pathOf(sha256);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(uri, this.describe());
      throw err;
    }
    const actual = sha256Hex(bytes);
    if (actual !== sha256) throw new BlobIntegrityError(uri, actual, path);
    return bytes;
  }

  async has(uri: string): Promise<boolean> {
    return this.hasPath(this.pathOf(parseBlobUri(uri)), null);
  }

  /** Present with the expected size (a half-copied file from outside would differ; its hash is checked on read). */
  private async hasPath(path: string, size: number | null): Promise<boolean> {
    try {
      const s = await stat(path);
      return size === null || s.size === size;
    } catch {
      return false;
    }
  }

  private checkFreeSpace(incoming: number): void {
    const fs = statfsSync(this.root);
    const free = Number(fs.bavail) * Number(fs.bsize);
    if (free - incoming < this.minFreeBytes) {
      throw new BlobStoreFullError(`blob store ${this.root} has ${formatMiB(free)} free; storing ${formatMiB(incoming)} would leave less than the ${formatMiB(this.minFreeBytes)} floor (STREAMSCORE_BLOB_MIN_FREE_MB)`);
    }
  }
}

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** STREAMSCORE_BLOB_DIR, else <STREAMSCORE_DATA_DIR (default <repo>/.data)>/blobs: the stack's data-dir rule. */
export function defaultBlobDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.STREAMSCORE_BLOB_DIR) return resolve(env.STREAMSCORE_BLOB_DIR);
  const repoRoot = new URL('../../', import.meta.url).pathname;
  return join(resolve(repoRoot, env.STREAMSCORE_DATA_DIR ?? '.data'), 'blobs');
}

/** The blob store the environment names (local disk today). */
export function blobStoreFromEnv(env: NodeJS.ProcessEnv = process.env): BlobStore {
  const floorMb = env.STREAMSCORE_BLOB_MIN_FREE_MB?.trim();
  let minFreeBytes: number | undefined;
  if (floorMb) {
    const n = Number(floorMb);
    if (!Number.isFinite(n) || n < 0) throw new Error(`STREAMSCORE_BLOB_MIN_FREE_MB=${JSON.stringify(floorMb)} must be a number of MiB >= 0`);
    minFreeBytes = n * 1024 * 1024;
  }
  return new LocalBlobStore({ root: defaultBlobDir(env), minFreeBytes });
}
