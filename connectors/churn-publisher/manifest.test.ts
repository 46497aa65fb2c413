import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import avro from 'avsc';
import type { ChurnPrediction } from '../../schemas/generated/types.ts';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import { MANIFEST_FILE, contentHash, encodeRows, publishDecision, readManifest, writeManifest } from './manifest.ts';
import type { PublishedManifest } from './manifest.ts';

const type = avro.Type.forSchema(loadSchema(TOPICS.churnPredictions.schema) as avro.Schema);
const row = (user: string, p: number): ChurnPrediction => ({ user_id: user, score_date: 20148, churn_probability: p, model_name: 'gbt', model_version: '1', scored_at: 1_740_877_323_456, segment: null, high_value: false, top_reasons: null });
const hashOf = (rows: ChurnPrediction[]) => contentHash(encodeRows(type, rows));

describe('content hash', () => {
  const rows = [row('u-2', 0.2), row('u-1', 0.1), row('u-3', 0.3)];

  it('does not depend on row order (how Spark split the rows into files)', () => {
    assert.equal(hashOf(rows), hashOf([...rows].reverse()));
    assert.deepEqual(encodeRows(type, rows).map((r) => r.key), ['u-1', 'u-2', 'u-3']);
  });

  it('changes with any field, an added row or a duplicated row', () => {
    const base = hashOf(rows);
    assert.notEqual(hashOf([row('u-2', 0.2), row('u-1', 0.1), row('u-3', 0.30001)]), base);
    assert.notEqual(hashOf(rows.map((r) => ({ ...r, model_version: '2' }))), base);
    assert.notEqual(hashOf(rows.map((r) => ({ ...r, top_reasons: [] }))), base);
    assert.notEqual(hashOf([...rows, row('u-4', 0.4)]), base);
    assert.notEqual(hashOf([...rows, rows[0]]), base);
  });

  it('of an empty day is the sha256 of nothing', () => {
    assert.equal(hashOf([]), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('_PUBLISHED.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'streamscore-manifest-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const manifest: PublishedManifest = { content_sha256: 'ab'.repeat(32), rows: 3, topic: 't', score_date: '2025-03-01', schema_id: 7, transactional_id: 'churn-publisher.t.2025-03-01', published_at: '2025-03-02T06:00:00.000Z' };

  it('round-trips, and reads a missing or broken manifest as none', () => {
    assert.equal(readManifest(dir), null);
    writeManifest(dir, manifest);
    assert.deepEqual(readManifest(dir), manifest);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')), manifest);
    writeFileSync(join(dir, MANIFEST_FILE), '{"rows": 3');
    assert.equal(readManifest(dir), null);
  });

  it('skips only the same content to the same topic, unless forced', () => {
    assert.deepEqual(publishDecision(null, manifest.content_sha256, 't', false), { publish: true, reason: 'not published before' });
    assert.equal(publishDecision(manifest, manifest.content_sha256, 't', false).publish, false);
    assert.match(publishDecision(manifest, manifest.content_sha256, 't', true).reason, /^--force/);
    assert.match(publishDecision(manifest, 'cd'.repeat(32), 't', false).reason, /content changed/);
    assert.match(publishDecision(manifest, manifest.content_sha256, 'other', false).reason, /last published to t, now to other/);
  });
});
