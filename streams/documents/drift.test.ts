// LexiScan's drift: the per-document features (drift.ts), the documents processor's declaration
// with the committed model's reference, a real document through the driver carrying its sample, and
// the runtime's monitor with the processor's own windows against the committed reference: uploads
// like the reference's contracts raise nothing over weeks, and a switch to scanned, thinner, less
// certain documents is raised.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../runtime/random.ts';
import type { DocumentUpload, Entity, ExtractedEntities } from '../../schemas/generated/types.ts';
import { TOPICS } from '../../schemas/topics.ts';
import { ProcessorDrift, type DriftSample } from '../runtime/drift/processor-drift.ts';
import { PREDICTION, type FeatureReference } from '../runtime/drift/reference.ts';
import { ProcessorTestDriver } from '../runtime/test-driver.ts';
import { LocalBlobStore } from './blob-store.ts';
import { DOCUMENT_DRIFT_FEATURES, documentDriftValues } from './drift.ts';
import { nerModelSpec } from './ner/model.ts';
import { DOCUMENTS_DRIFT_WINDOWING, documentsProcessor } from './topology.ts';

const spec = nerModelSpec();
const entity = (label: string, confidence: number): Entity => ({ label, text: 'x', normalized: null, confidence, page: 1, start_offset: 0, end_offset: 1, problems: [] });

describe('document drift features', () => {
  it('OCR share, characters per page, entities and mean confidence per label, the contract-type confidence as prediction', () => {
    const values = documentDriftValues({
      pageTexts: ['a'.repeat(3000), 'b'.repeat(1000), ''],
      pageSources: [{ page: 1, source: 'text-layer', ocr_confidence: null }, { page: 2, source: 'ocr', ocr_confidence: 0.9 }, { page: 3, source: 'ocr', ocr_confidence: 0.4 }],
      entities: [entity('PARTY', 0.9), entity('PARTY', 0.7), entity('AGREEMENT_DATE', 0.6), entity('AMOUNT', 0.99)],
      contractTypeConfidence: 0.75,
    });
    assert.deepEqual(Object.keys(values).filter((k) => k !== PREDICTION).sort(), [...DOCUMENT_DRIFT_FEATURES].sort());
    assert.equal(values.ocr_page_share, 2 / 3);
    assert.equal(values.chars_per_page, 4000 / 3);
    assert.deepEqual([values.entities_PARTY, values.entities_AGREEMENT_DATE, values.entities_GOVERNING_LAW], [2, 1, 0]);
    assert.ok(Math.abs(values.confidence_PARTY - 0.8) < 1e-12);
    assert.equal(values.confidence_AGREEMENT_DATE, 0.6);
    // No governing law found: its mean confidence is undefined, and the monitor skips NaN.
    assert.ok(Number.isNaN(values.confidence_GOVERNING_LAW));
    assert.equal(values[PREDICTION], 0.75);
  });

  it('the processor declares drift with the committed reference, whose features are these', () => {
    const drift = documentsProcessor(spec, new LocalBlobStore({ root: tmpdir() })).drift!;
    assert.deepEqual([drift.windowMs, drift.minRecords], [null, 150]);
    assert.deepEqual(drift.references.map((r) => [r.model_name, r.model_version]), [[spec.name, spec.version]]);
    assert.deepEqual(Object.keys(drift.references[0].features).sort(), [...DOCUMENT_DRIFT_FEATURES].sort());
  });
});

describe('documents drift on the driver', () => {
  const blobDir = mkdtempSync(join(tmpdir(), 'docs-drift-blobs-'));
  const driver = new ProcessorTestDriver(documentsProcessor(spec, new LocalBlobStore({ root: blobDir })), { workers: { threads: 1, ortThreads: 1 } });
  after(async () => {
    await driver.close();
    rmSync(blobDir, { recursive: true, force: true });
  });

  it('each result carries its drift sample, windowed by upload time', { timeout: 120_000 }, async () => {
    const bytes = new Uint8Array(readFileSync(new URL('./pages/fixtures/contract.pdf', import.meta.url)));
    const uploadedAt = Date.UTC(2026, 2, 3, 9);
    const doc: DocumentUpload = { document_id: 'd-1', filename: 'contract.pdf', content_type: 'application/pdf', size_bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex'), uploaded_at: uploadedAt, source: 'test', content: Buffer.from(bytes), blob_uri: null };
    const samples: DriftSample[] = [];
    const observe = driver.drift!.observe.bind(driver.drift!);
    driver.drift!.observe = (s, now) => {
      samples.push(...s);
      return observe(s, now);
    };
    await driver.pipe(TOPICS.documentUploads, doc.document_id, doc);
    await driver.run();
    const [result] = (await driver.outputs<ExtractedEntities>(TOPICS.documentEntities)).map((r) => r.value);
    assert.equal(samples.length, 1);
    const s = samples[0];
    assert.deepEqual([s.model, s.version, s.eventTime], [spec.name, spec.version, uploadedAt]);
    assert.equal(s.values.ocr_page_share, 0);
    assert.equal(s.values.entities_PARTY, result.entities.filter((e) => e.label === 'PARTY').length);
    assert.equal(s.values[PREDICTION], result.contract_type_confidence);
  });
});

/** A value drawn from the reference's own training sample (what "like the training contracts" means). */
function drawer(ref: FeatureReference, random: () => number) {
  return () => ref.sample[Math.floor(random() * ref.sample.length)];
}

describe('documents drift against the committed reference, with the processor\'s windows', () => {
  it('1,200 uploads like the reference raise nothing; a switch to scanned, thinner, less certain documents is raised within 2 windows', () => {
    const def = documentsProcessor(spec, new LocalBlobStore({ root: tmpdir() }));
    const drift = new ProcessorDrift('documents', def.drift!);
    const ref = def.drift!.references[0];
    const random = seededRandom(12);
    const draw = Object.fromEntries([...Object.entries(ref.features), [PREDICTION, ref.prediction] as const].map(([n, f]) => [n, drawer(f, random)]));
    const start = Date.UTC(2026, 2, 2);
    const stable = 1_200;
    const raised: { index: number; what: string }[] = [];
    // One upload every 40 minutes (the windows count documents); from document 1,200 every other one is a scan.
    for (let i = 0; i < stable + 450; i++) {
      const at = start + i * 40 * 60_000;
      const values = Object.fromEntries(Object.entries(draw).map(([n, d]) => [n, d()]));
      if (i >= stable && i % 2 === 0) {
        // A scan: every page OCR'd, OCR keeps less text per page, and the model is less sure.
        Object.assign(values, { ocr_page_share: 1, chars_per_page: values.chars_per_page * 0.6, confidence_PARTY: values.confidence_PARTY * 0.7, [PREDICTION]: values[PREDICTION] * 0.6 });
      }
      const { alerts } = drift.observe([{ model: ref.model_name, version: ref.model_version, eventTime: at, values }], at);
      for (const a of alerts) if (a.state === 'RAISED') raised.push({ index: i, what: `${a.statistic} ${a.feature}` });
    }
    assert.deepEqual(raised.filter((r) => r.index < stable), [], 'no alert over the 8 windows of uploads like the reference');
    const found = raised.filter((r) => r.index >= stable);
    assert.ok(found.some((r) => r.what.endsWith('ocr_page_share')), `scans not raised on the OCR share: ${found.map((r) => r.what).join(', ') || 'no alert'}`);
    const windows = Math.ceil((Math.min(...found.map((r) => r.index)) + 1 - stable) / DOCUMENTS_DRIFT_WINDOWING.minRecords);
    assert.ok(windows <= 2, `raised only after ${windows} windows`);
    process.stdout.write(`# scans raised in window ${windows} after the switch: ${[...new Set(found.map((r) => r.what))].join(', ')}\n`);
  });
});
