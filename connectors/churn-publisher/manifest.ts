// What makes re-runs idempotent: a content hash of the partition's rows, and `_PUBLISHED.json`,
// written into the partition only after the Kafka transaction committed. A re-run whose hash and
// topic equal the manifest's publishes nothing; a re-scored partition hashes differently (and a
// Spark overwrite of the partition usually deletes the old manifest anyway) and is published again.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type avro from 'avsc';

export const MANIFEST_FILE = '_PUBLISHED.json';

export interface PublishedManifest {
  /** sha256 of the rows, see contentHash. */
  content_sha256: string;
  rows: number;
  topic: string;
  score_date: string;
  schema_id: number;
  transactional_id: string;
  published_at: string;
}

export interface EncodedRow<T> {
  key: string;
  /** The row's Avro binary encoding (no wire-format header: the registry id is not content). */
  body: Buffer;
  record: T;
}

/** Encodes rows with `type` and sorts them by their bytes (user_id first), the order hashed and sent. */
export function encodeRows<T extends { user_id: string }>(type: avro.Type, rows: readonly T[]): EncodedRow<T>[] {
  return rows.map((record) => ({ key: record.user_id, body: type.toBuffer(record), record })).sort((a, b) => Buffer.compare(a.body, b.body));
}

/**
 * sha256 over the sorted encodings, each length-prefixed. Sorting makes it independent of how
 * Spark split the rows into part files; the encoding makes it cover every field exactly.
 */
export function contentHash(sorted: readonly { body: Buffer }[]): string {
  const hash = createHash('sha256');
  const length = Buffer.alloc(4);
  for (const { body } of sorted) {
    length.writeUInt32BE(body.length);
    hash.update(length);
    hash.update(body);
  }
  return hash.digest('hex');
}

/** The manifest in `dir`, or null when there is none or it is unreadable (then: publish). */
export function readManifest(dir: string): PublishedManifest | null {
  try {
    const m = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as Partial<PublishedManifest>;
    return typeof m.content_sha256 === 'string' && typeof m.topic === 'string' ? (m as PublishedManifest) : null;
  } catch {
    return null;
  }
}

export function writeManifest(dir: string, manifest: PublishedManifest): void {
  const path = join(dir, MANIFEST_FILE);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

/** Why a partition is (not) published this time. */
export function publishDecision(manifest: PublishedManifest | null, hash: string, topic: string, force: boolean): { publish: boolean; reason: string } {
  if (manifest === null) return { publish: true, reason: 'not published before' };
  const same = manifest.content_sha256 === hash && manifest.topic === topic;
  if (same && force) return { publish: true, reason: `--force: republishing, unchanged since ${manifest.published_at}` };
  if (same) return { publish: false, reason: `already published to ${topic} at ${manifest.published_at} (${manifest.rows} records, same content)` };
  if (manifest.topic !== topic) return { publish: true, reason: `last published to ${manifest.topic}, now to ${topic}` };
  return { publish: true, reason: `content changed since it was published at ${manifest.published_at}` };
}
