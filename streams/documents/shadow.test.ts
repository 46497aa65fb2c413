// Issue #12 for LexiScan, in the driver: the documents processor as streams/processors.ts serves it
// (a ServedProcessor whose build makes the champion's and the challenger's definitions), with a
// challenger in shadow that is the same NER model under another model_version. A 3-page scan is
// OCR'd once per page (the pool jobs are counted on both arms' pools): the shadow reads the pages
// from the champion's page-text memo. The live topic carries the champion's result only, the .shadow
// topic the challenger's, with the same entities, and every comparison agrees with delta 0; the
// same upload re-delivered is OCR'd by neither arm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS } from '../../schemas/topics.ts';
import type { DocumentUpload, ExtractedEntities } from '../../schemas/generated/types.ts';
import { MODEL_HEADER } from '../runtime/models.ts';
import { ROLE_HEADER, shadowSpec } from '../runtime/rollout/rollout-state.ts';
import type { ServedProcessor } from '../runtime/served-processor.ts';
import { ProcessorTestDriver } from '../runtime/test-driver.ts';
import type { WorkerPool } from '../runtime/worker-pool.ts';
import { LocalBlobStore } from './blob-store.ts';
import { DEFAULT_NER_MODEL_DIR, NER_META_FILE, nerModelSpec } from './ner/model.ts';
import { sharedPageMemo } from './page-memo.ts';
import { documentsProcessor } from './topology.ts';

const champion = nerModelSpec();
/** Decoded Avro records are instances of each reader's own classes: compare their data. */
const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

/** The committed model folder under another model_version: every served file copied, the meta rewritten (the float graph and the reference are not served). */
function challengerDir(root: string, version: string): string {
  const dir = join(root, 'challenger');
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(DEFAULT_NER_MODEL_DIR)) {
    if (f === 'legal-ner-fp32.onnx' || f === 'reference.json') continue;
    if (f === NER_META_FILE) writeFileSync(join(dir, f), JSON.stringify({ ...JSON.parse(readFileSync(join(DEFAULT_NER_MODEL_DIR, f), 'utf8')), model_version: version }));
    else copyFileSync(join(DEFAULT_NER_MODEL_DIR, f), join(dir, f));
  }
  return dir;
}

/** Counts the OCR jobs a pool runs (its run() wrapped; the jobs still run). */
function countOcrJobs(pool: WorkerPool | null, counts: { ocr: number }): void {
  assert.ok(pool, 'the documents processor runs on a worker pool');
  const run = pool.run.bind(pool);
  pool.run = (job) => {
    const kind = (job.input as { kind?: string }).kind;
    if (kind === 'ocr-page' || kind === 'ocr-image') counts.ocr++;
    return run(job);
  };
}

test('a documents shadow: OCR once per page (the memo), outputs on the .shadow topic, compare agrees for the same model', { timeout: 180_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'documents-shadow-'));
  const blobs = new LocalBlobStore({ root: join(root, 'blobs') });
  // As streams/processors.ts builds it: one build for the champion, one for the challenger.
  const served: ServedProcessor = { name: 'documents', slots: [{ name: champion.name, committedDir: DEFAULT_NER_MODEL_DIR }], build: (dirs) => documentsProcessor(nerModelSpec(dirs[champion.name]), blobs) };
  const driver = new ProcessorTestDriver(served, { workers: { threads: 2, ortThreads: 1 } });
  try {
    const version = `${champion.version}-challenger`;
    const set = await driver.startRollout(champion.name, challengerDir(root, version), { stage: 'shadow' });
    const championJobs = { ocr: 0 };
    const challengerJobs = { ocr: 0 };
    countOcrJobs(set.pool, championJobs);
    countOcrJobs(set.rollout!.challenger!.pool, challengerJobs);

    const scan = new Uint8Array(readFileSync(new URL('./fixtures/scanned-sponsorship-3p.pdf', import.meta.url)));
    const upload: DocumentUpload = { document_id: 'scan-1', filename: 'scan-1.pdf', content_type: 'application/pdf', size_bytes: scan.byteLength, sha256: createHash('sha256').update(scan).digest('hex'), uploaded_at: Date.UTC(2026, 0, 1), source: 'test', content: Buffer.from(scan), blob_uri: null };
    const started = performance.now();
    await driver.pipe(TOPICS.documentUploads, upload.document_id, upload);
    await driver.run();
    const ms = performance.now() - started;

    const live = await driver.outputs<ExtractedEntities>(TOPICS.documentEntities);
    const shadow = await driver.outputs<ExtractedEntities>(shadowSpec(TOPICS.documentEntities));
    const chunk = driver.rolloutChunks.at(-1)!;
    const memo = sharedPageMemo()?.stats() ?? null;
    t.diagnostic(`3-page scan: ${ms.toFixed(0)} ms (champion ${chunk.champion.ms.toFixed(0)} ms, shadow ${chunk.challengerSample.ms.toFixed(0)} ms); OCR jobs: champion ${championJobs.ocr}, challenger ${challengerJobs.ocr}; memo ${JSON.stringify(memo)}; ${live[0]?.value.entities.length} entities`);

    assert.equal(live.length, 1);
    assert.equal(shadow.length, 1, 'the shadow result landed on the .shadow topic');
    assert.deepEqual([live[0].value.model_version, live[0].headers[ROLE_HEADER], live[0].headers[MODEL_HEADER]], [champion.version, undefined, `${champion.name}@${champion.version}`]);
    assert.deepEqual([shadow[0].value.model_version, shadow[0].headers[ROLE_HEADER], shadow[0].headers[MODEL_HEADER]], [version, 'shadow', `${champion.name}@${version}`]);
    assert.deepEqual(live[0].value.page_sources.map((p) => p.source), ['ocr', 'ocr', 'ocr'], 'the fixture is a scan: every page needs OCR');

    assert.equal(championJobs.ocr, 3, 'the champion OCRs each of the 3 pages');
    assert.equal(challengerJobs.ocr, 0, 'the shadow OCRs none: it reads the champion\'s pages from the memo');
    assert.deepEqual([memo?.misses, memo?.hits, memo?.entries], [3, 3, 3], 'the shared memo served the shadow');
    assert.deepEqual(plain(shadow[0].value.page_sources), plain(live[0].value.page_sources), 'the shadow saw the same page texts');
    assert.deepEqual(plain(shadow[0].value.entities), plain(live[0].value.entities), 'the same model on the same pages finds the same entities');

    assert.equal(chunk.challengerSample.errors, 0);
    const review = await driver.outputs<ExtractedEntities>(TOPICS.documentReview);
    const expected = [{ topic: TOPICS.documentEntities.name, agree: true, delta: 0 }, ...(review.length ? [{ topic: TOPICS.documentReview.name, agree: true }] : [])];
    assert.deepEqual(chunk.compared, expected, 'the entity sets agree (Jaccard 1) and so does the review decision');
    assert.equal((await driver.outputs(shadowSpec(TOPICS.documentReview))).length, review.length);

    // The same upload again (a re-delivery): the next chunk runs the shadow first (the runtime
    // alternates the order), and neither arm OCRs a page of it.
    await driver.pipe(TOPICS.documentUploads, upload.document_id, upload);
    await driver.run();
    const again = driver.rolloutChunks.at(-1)!;
    t.diagnostic(`re-delivered: champion ${again.champion.ms.toFixed(0)} ms, shadow ${again.challengerSample.ms.toFixed(0)} ms; OCR jobs: champion ${championJobs.ocr}, challenger ${challengerJobs.ocr}`);
    assert.deepEqual([championJobs.ocr, challengerJobs.ocr], [3, 0], 'no page was read again');
    assert.equal((await driver.outputs(shadowSpec(TOPICS.documentEntities))).length, 2);
    assert.deepEqual(again.compared, expected);
  } finally {
    await driver.close();
    rmSync(root, { recursive: true, force: true });
  }
});
