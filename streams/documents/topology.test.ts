// The documents processor in the in-memory driver: the real worker pool (pdf.js, tesseract.js, the
// committed NER model), the runtime's decode and dead-letter path and a blob store in a temp dir,
// no broker. Readable documents become ExtractedEntities (review copies when flagged); every bad
// document becomes a dead letter with its reason while the rest of the batch goes on.
// test/integration/documents-e2e.test.ts runs the same through the upload API and Kafka.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { sampleExtractedEntities } from '../../schemas/sample-records.ts';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { DocumentUpload, ExtractedEntities } from '../../schemas/generated/types.ts';
import { describeTopology } from '../runtime/processor.ts';
import { ProcessorTestDriver } from '../runtime/test-driver.ts';
import { LocalBlobStore } from './blob-store.ts';
import { nerModelSpec } from './ner/model.ts';
import { documentsProcessor } from './topology.ts';

const spec = nerModelSpec();
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`./pages/fixtures/${name}`, import.meta.url)));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function upload(id: string, bytes: Uint8Array, extra: Partial<DocumentUpload> = {}): DocumentUpload {
  return { document_id: id, filename: `${id}.pdf`, content_type: 'application/pdf', size_bytes: bytes.byteLength, sha256: sha(bytes), uploaded_at: Date.UTC(2026, 0, 1), source: 'test', content: Buffer.from(bytes), blob_uri: null, ...extra };
}

describe('documents topology', () => {
  it('declares its model, worker task, both outputs and at-least-once with the reason', () => {
    const d = describeTopology(documentsProcessor(spec, new LocalBlobStore({ root: tmpdir() })));
    assert.equal(d.semantics, 'at-least-once');
    assert.match(d.semanticsReason, /document_id/);
    assert.deepEqual(d.models.map((m) => [m.name, m.version]), [[spec.name, spec.version]]);
    assert.match(d.workers!.module, /streams\/documents\/task\.ts$/);
    assert.deepEqual(d.sinks.map((s) => s.topic), [TOPICS.documentEntities.name, TOPICS.documentReview.name]);
  });

  it('ExtractedEntities reads results written before contract types, page sources and problems (BACKWARD)', () => {
    const current = loadSchema(TOPICS.documentEntities.schema) as avro.schema.RecordType;
    const added = ['contract_type', 'contract_type_confidence', 'page_sources', 'sha256', 'text_blob_uri'];
    const entityType = (current.fields.find((f) => f.name === 'entities')!.type as avro.schema.ArrayType).items as avro.schema.RecordType;
    const oldEntity = { ...entityType, fields: entityType.fields.filter((f) => f.name !== 'problems') };
    const before = { ...current, fields: current.fields.filter((f) => !added.includes(f.name)).map((f) => (f.name === 'entities' ? { ...f, type: { type: 'array', items: oldEntity } } : f)) };
    const [v1, v2] = [avro.Type.forSchema(before as avro.Schema), avro.Type.forSchema(current as avro.Schema)];
    const old = { ...sampleExtractedEntities, entities: sampleExtractedEntities.entities.map(({ problems: _, ...e }) => e) };
    for (const k of added) delete (old as Record<string, unknown>)[k];
    const read = v2.fromBuffer(v1.toBuffer(old), v2.createResolver(v1)) as ExtractedEntities;
    assert.deepEqual([read.contract_type, read.page_sources, read.text_blob_uri, read.entities[0].problems], [null, [], null, []]);
  });
});

describe('documents on the driver', () => {
  let driver: ProcessorTestDriver;
  let blobDir: string;
  let blobs: LocalBlobStore;
  before(() => {
    blobDir = mkdtempSync(join(tmpdir(), 'documents-topology-'));
    blobs = new LocalBlobStore({ root: blobDir });
    driver = new ProcessorTestDriver(documentsProcessor(spec, blobs), { workers: { threads: 2, ortThreads: 1 } });
  });
  after(async () => {
    await driver?.close();
    rmSync(blobDir, { recursive: true, force: true });
  });

  it('native, mixed and claim-checked documents -> entities; each of ten bad documents -> its reason in the DLQ, in one batch', { timeout: 180_000 }, async () => {
    const contract = fixture('contract.pdf');
    const mixed = fixture('mixed.pdf');
    const stored = await blobs.put(contract);
    const bad: { doc: DocumentUpload; reason: RegExp }[] = [
      { doc: upload('encrypted', fixture('encrypted-user-password.pdf')), reason: /^encrypted: / },
      { doc: upload('truncated', fixture('contract-truncated.pdf')), reason: /^corrupt: / },
      { doc: upload('garbage', fixture('garbage.pdf')), reason: /^corrupt: / },
      { doc: upload('thousands', fixture('many-pages-2000.pdf')), reason: /^too many pages: / },
      { doc: upload('huge-page', fixture('oversized-page.pdf')), reason: /^page too large: / },
      { doc: upload('no-pages', fixture('no-pages.pdf')), reason: /^no pages: / },
      { doc: upload('zip', new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0xff, 0xfe])), reason: /^unsupported type: / },
      { doc: upload('tampered', contract, { sha256: sha(new Uint8Array([1])) }), reason: /hash to .* the upload says/ },
      { doc: upload('lost-blob', contract, { content: null, blob_uri: `blob:sha256:${'0'.repeat(64)}` }), reason: /claim check .* not in the blob store/ },
      { doc: upload('', contract), reason: /^document_id must be 1-256 characters/ },
    ];
    const good = [upload('native', contract), upload('mixed', mixed), upload('by-claim-check', contract, { content: null, blob_uri: stored.uri })];
    const order = [good[0], ...bad.map((b) => b.doc), good[1], good[2]];
    for (const d of order) await driver.pipe(TOPICS.documentUploads, d.document_id, d);
    await driver.run();

    const results = await driver.outputs<ExtractedEntities>(TOPICS.documentEntities);
    assert.deepEqual(results.map((r) => r.key), ['native', 'mixed', 'by-claim-check']);
    const [native, mixedResult, claimed] = results.map((r) => r.value);
    assert.equal(results[0].headers['streamscore-model'], `${spec.name}@${spec.version}`);
    assert.deepEqual([native.pages, native.ocr_used, native.page_sources.map((p) => p.source)], [3, false, ['text-layer', 'text-layer', 'text-layer']]);
    // Per page, not per document: the mixed PDF's scanned pages were OCR'd, its text page was not.
    assert.equal(mixedResult.ocr_used, true);
    assert.equal(mixedResult.page_sources[0].source, 'text-layer');
    assert.ok(mixedResult.page_sources.some((p) => p.source === 'ocr' && p.ocr_confidence !== null && p.ocr_confidence > 0.5), JSON.stringify(mixedResult.page_sources));
    // Offsets point into the stored page texts, which the claim check of the result holds.
    const pages = JSON.parse((await blobs.get(native.text_blob_uri!)).toString('utf8')) as string[];
    assert.equal(pages.length, 3);
    for (const e of native.entities) assert.equal(pages[e.page - 1].slice(e.start_offset, e.end_offset), e.text.slice(0, e.end_offset - e.start_offset));
    // What the model finds is its card's business (models/documents/MODEL_CARD.md); here: only its labels, confidences in range.
    for (const e of native.entities) assert.ok(spec.meta.labels.includes(e.label) && e.confidence >= 0 && e.confidence <= 1, JSON.stringify(e));
    assert.deepEqual(claimed.entities, native.entities, 'the claim-checked copy gives the same entities');
    assert.equal(native.sha256, sha(contract));
    const review = await driver.outputs<ExtractedEntities>(TOPICS.documentReview);
    assert.deepEqual(review.map((r) => r.key), results.filter((r) => r.value.needs_review).map((r) => r.key));

    const letters = await driver.deadLetters(TOPICS.documentUploads);
    assert.equal(letters.length, bad.length, letters.map((l) => l.errorMessage).join('\n'));
    bad.forEach((b, k) => {
      const l = letters.find((x) => x.sourceOffset === String(k + 1));
      assert.ok(l, `${b.doc.document_id} (offset ${k + 1}) was not dead-lettered`);
      assert.match(l.errorMessage, b.reason, b.doc.document_id);
    });
  });
});

describe('a step over its deadline', () => {
  it('is dead-lettered as a timeout, its worker replaced, and the next document is read', { timeout: 120_000 }, async () => {
    const blobDir = mkdtempSync(join(tmpdir(), 'documents-deadline-'));
    // One thread, a deadline a 300 dpi page's OCR cannot meet (3-8 s) but a short text's analysis can (~0.1 s).
    const driver = new ProcessorTestDriver(documentsProcessor(spec, new LocalBlobStore({ root: blobDir }), { stepDeadlineMs: 2_000 }), { workers: { threads: 1, ortThreads: 1 } });
    try {
      const scan = new Uint8Array(readFileSync(new URL('./fixtures/scanned-sponsorship-3p.pdf', import.meta.url)));
      await driver.pipe(TOPICS.documentUploads, 'slow-scan', upload('slow-scan', scan));
      await driver.run();
      const letters = await driver.deadLetters(TOPICS.documentUploads);
      assert.deepEqual(letters.map((l) => l.errorClass), ['RecordTimeoutError'], letters.map((l) => l.errorMessage).join('\n'));
      const text = new TextEncoder().encode('This Supply Agreement is made on March 1, 2021 between Acme Inc. and Beta LLC.');
      await driver.pipe(TOPICS.documentUploads, 'after', upload('after', text, { content_type: 'text/plain' }));
      await driver.run();
      assert.deepEqual((await driver.outputs<ExtractedEntities>(TOPICS.documentEntities)).map((r) => r.key), ['after']);
    } finally {
      await driver.close();
      rmSync(blobDir, { recursive: true, force: true });
    }
  });
});
