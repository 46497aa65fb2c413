// documents (LexiScan): uploaded contracts -> pages (text layer, or OCR per page) -> clean-up ->
// legal NER (ONNX, chunked) -> validation rules -> docs.entities.v1, and the results a person must
// check also to docs.entities-review.v1. Every CPU-heavy step runs on the runtime's worker pool
// (task.ts); the handler only moves bytes and assembles records. At-least-once: a result is a
// pure function of (document, model) keyed by document_id, which readers upsert by.
import 'sharp'; // Loaded by the main thread too, so a terminated worker never unloads libvips (glibc) under the others.
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { DocumentUpload, ExtractedEntities } from '../../schemas/generated/types.ts';
import { TOPICS } from '../../schemas/topics.ts';
import { defineProcessor, type HandlerContext, type InputRecord, type OutputRecord } from '../runtime/processor.ts';
import { RecordRejectedError } from '../runtime/record-rejected-error.ts';
import type { DocumentAnalysis } from './analyze.ts';
import { BlobIntegrityError, BlobNotFoundError, BlobUriError, type BlobStore } from './blob-store.ts';
import { extractDocument, type ExtractionSteps } from './extract.ts';
import type { NerModelSpec } from './ner/model.ts';
import { DocumentRejectedError, type PageText, type PdfPages } from './pages/index.ts';
import type { DocumentJob } from './task.ts';
import { dirname } from 'node:path';
import { readModelReference } from '../runtime/drift/reference.ts';
import type { DriftDeclaration } from '../runtime/drift/processor-drift.ts';
import { documentDriftValues } from './drift.ts';
import { ocrPageKey, registerPageMemoMetrics, sharedPageMemo, type PageTextMemo } from './page-memo.ts';
import type { Registry } from 'prom-client';
import { compareEntities, compareReview } from './shadow-compare.ts';

const TASK_MODULE = fileURLToPath(new URL('./task.ts', import.meta.url));

export interface DocumentsOptions {
  /** One step (reading a PDF, one page's OCR, one document's NER) running longer is dead-lettered. */
  stepDeadlineMs: number;
}

// A 300 dpi page OCRs in 3-6 s on one core and a 100-page contract's NER takes ~20 s; two minutes
// is a step that will not finish (a pathological page), not a slow one.
export const DEFAULT_DOCUMENTS_OPTIONS: DocumentsOptions = { stepDeadlineMs: 120_000 };
/** A shadow's or canary reference's run of one chunk (see `shadowTimeoutMs` below). */
export const SIDE_RUN_TIMEOUT_MS = 10 * 60_000;

/**
 * Drift windows of the NER model: every 150 documents, whenever they come. A legal team sends tens
 * of contracts a day, unevenly (none at weekends, many at a quarter's end), and a document's
 * features do not follow the clock as a plant's temperatures do, so a window counts documents, not
 * hours: then each window has the same power. 150, because PSI's sampling noise over 10 bins is
 * about 9/n per side: on uploads drawn from the reference itself, windows of 60 documents (a week
 * at 12 a day) reached PSI 0.8 (99th percentile), of 150 0.17. docs/models.md "Drift" has
 * the reference's size and what that means for small shifts.
 */
export const DOCUMENTS_DRIFT_WINDOWING = { windowMs: null, minRecords: 150 };

class UploadProblem extends Error {}

/**
 * document_id keys every result and names the document in the index and the API: an id the index
 * cannot hold (connectors/documents-api/status-follower.ts: 1-256 characters, no control
 * characters) would be extracted for nothing and its result skipped, so it is refused first.
 */
function documentIdProblem(id: string): string | null {
  if (id.length === 0 || id.length > 256) return `document_id must be 1-256 characters, got ${id.length}`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(id)) return `document_id ${JSON.stringify(id.slice(0, 80))} has control characters`;
  return null;
}

/** The upload's bytes, inline or from the blob store, checked against the sha256 the upload claims. */
async function documentBytes(upload: DocumentUpload, blobs: BlobStore): Promise<Uint8Array> {
  let bytes: Uint8Array;
  if (upload.content && upload.blob_uri) throw new UploadProblem('upload has both content and blob_uri; exactly one must be set');
  if (upload.content) bytes = new Uint8Array(upload.content);
  else if (upload.blob_uri) {
    try {
      bytes = new Uint8Array(await blobs.get(upload.blob_uri));
    } catch (err) {
      if (err instanceof BlobNotFoundError || err instanceof BlobIntegrityError || err instanceof BlobUriError) throw new UploadProblem(`claim check ${upload.blob_uri}: ${err.message}`);
      throw err; // the store itself failing (disk) is not the document's fault: retry
    }
  } else throw new UploadProblem('upload has neither content nor blob_uri');
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== upload.sha256.toLowerCase()) throw new UploadProblem(`document bytes hash to ${actual}, the upload says ${upload.sha256}`);
  return bytes;
}

/**
 * Each step of one record's extraction as one job on the pool; null when the runtime dead-lettered the
 * record. OCR goes through the page memo (page-memo.ts) under the document's checked sha256.
 */
function poolSteps(ctx: HandlerContext<unknown>, record: InputRecord, model: NerModelSpec, sha256: string, memo: PageTextMemo | null): ExtractionSteps {
  const run = async <R>(input: DocumentJob, bytes: number): Promise<R | null> => (await ctx.offload<DocumentJob, R>([{ record, input, bytes }]))[0];
  // Every page job of a document reads the same PDF: share one copy instead of cloning it per page.
  const memoized = (key: string, read: () => Promise<PageText | null>) => (memo ? memo.through(key, read) : read());
  let shared: Uint8Array | null = null;
  const sharedBytes = (bytes: Uint8Array) => {
    if (!shared) {
      shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
      shared.set(bytes);
    }
    return shared;
  };
  return {
    readPdf: (bytes, ocr) => run<PdfPages>({ kind: 'read-pdf', bytes: sharedBytes(bytes), ocr }, bytes.byteLength * 4),
    // A 300 dpi letter page is ~8.7 Mpx: the render, its cleaned copy and tesseract's own.
    ocrPdfPage: (bytes, page) => memoized(ocrPageKey(sha256, page), () => run<PageText>({ kind: 'ocr-page', bytes: sharedBytes(bytes), page }, 3 * 9_000_000)),
    ocrImage: (bytes) => memoized(ocrPageKey(sha256, 'image'), () => run<PageText>({ kind: 'ocr-image', bytes }, bytes.byteLength + 3 * 9_000_000)),
    analyze: (pages) => run<DocumentAnalysis>({ kind: 'analyze', model: model.name, pages }, pages.reduce((n, p) => n + p.text.length * 2, 0) * 4),
  };
}

/**
 * `extra.pageMemo`: the OCR'd pages memo; default the process's shared one (sharedPageMemo), which the
 * champion's and a shadow challenger's definitions then share; null reads every page again.
 */
export function documentsProcessor(model: NerModelSpec, blobs: BlobStore, options: DocumentsOptions = DEFAULT_DOCUMENTS_OPTIONS, extra: { drift?: Partial<DriftDeclaration>; pageMemo?: PageTextMemo | null } = {}) {
  const memo = extra.pageMemo === undefined ? sharedPageMemo() : extra.pageMemo;
  // The version's reference.json (models/documents/make_reference.py), when it is this version's.
  const ref = readModelReference(dirname(model.file));
  const references = ref && ref.model_name === model.name && ref.model_version === model.version ? [ref] : [];
  return defineProcessor({
    name: 'documents',
    description: `Extracts parties, dates, amounts, governing law and termination clauses from contracts (PDF text layer or OCR per page) with ${model.name} ${model.version}, validated by rules; results needing a person also go to the review topic.`,
    inputs: [TOPICS.documentUploads],
    outputs: [TOPICS.documentEntities, TOPICS.documentReview],
    semantics: 'at-least-once',
    semanticsReason:
      'a result is a pure function of the document and the model, keyed by document_id: a document re-delivered after a crash yields the same entities, which the index and the API upsert by document_id; OCR of a scan takes seconds per page, so a transaction per batch would only add latency',
    models: [model],
    workers: { module: TASK_MODULE, recordDeadlineMs: options.stepDeadlineMs },
    drift: { references, ...DOCUMENTS_DRIFT_WINDOWING, ...extra.drift },
    // A shadow challenger (runtime rollout/) agrees when it finds the same entities at the same places
    // (shadow-compare.ts), and when it sends the same documents to review.
    compare: { [TOPICS.documentEntities.name]: compareEntities, [TOPICS.documentReview.name]: compareReview },
    // The arm that runs first in a chunk OCRs its scans (the other reads the page memo): a side run
    // takes what the champion's does, minutes for a chunk of scans. Each OCR or NER step is still cut
    // at stepDeadlineMs by the worker pool, so this bounds only a run that stalls outside the pool.
    shadowTimeoutMs: SIDE_RUN_TIMEOUT_MS,
    // The memo's hits, misses and size on /metrics (page-memo.ts).
    ...(memo ? { metrics: (registry: Registry, processor: string) => registerPageMemoMetrics(memo, registry, processor) } : {}),
    validate: (upload: DocumentUpload) => documentIdProblem(upload.document_id),
    async handle(records: InputRecord<DocumentUpload>[], ctx) {
      const perRecord: OutputRecord[][] = records.map(() => []);
      // Settle every document before failing the batch, so a re-run never overlaps its own leftovers in the pool.
      const settled = await Promise.allSettled(
        records.map(async (record, i) => {
          const upload = record.value;
          let result;
          try {
            const bytes = await documentBytes(upload, blobs);
            // documentBytes checked that the bytes hash to upload.sha256: the memo's key.
            result = await extractDocument(bytes, 'auto', poolSteps(ctx as HandlerContext<unknown>, record, model, upload.sha256.toLowerCase(), memo));
          } catch (err) {
            if (err instanceof UploadProblem || err instanceof DocumentRejectedError) return ctx.reject(record, new RecordRejectedError(err.message));
            throw err;
          }
          if (!result) return; // dead-lettered by the runtime with its reason
          // The texts the offsets point into, for the search index and a reviewer (content-addressed: a re-run writes nothing new).
          const texts = await blobs.put(Buffer.from(JSON.stringify(result.pageTexts)));
          const value: ExtractedEntities = {
            document_id: upload.document_id,
            model_name: model.name,
            model_version: model.version,
            extracted_at: ctx.now(),
            ocr_used: result.ocrUsed,
            pages: result.pageCount,
            entities: result.entities,
            needs_review: result.needsReview,
            validation_errors: result.validationErrors,
            contract_type: result.contractType,
            contract_type_confidence: result.contractTypeConfidence,
            page_sources: result.pageSources,
            sha256: upload.sha256.toLowerCase(),
            text_blob_uri: texts.uri,
          };
          // The upload time dates the windows (they count documents): when it came, not when its OCR finished.
          const drift = { model: model.name, version: model.version, eventTime: upload.uploaded_at, values: documentDriftValues(result) };
          perRecord[i].push({ topic: TOPICS.documentEntities, key: upload.document_id, value, source: record, drift });
          if (value.needs_review) perRecord[i].push({ topic: TOPICS.documentReview, key: upload.document_id, value, source: record });
        }),
      );
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
      return perRecord.flat();
    },
  });
}
