// The worker task of the documents processor: one step of one document on a thread of the runtime's
// pool (streams/runtime/worker-pool.ts). Steps, not whole documents, are the unit of work so a
// scanned contract's pages are recognised in parallel and no single job runs for minutes. A
// document that cannot be read is rejected with its reason (RecordRejectedError: the runtime
// dead-letters the record); any other failure is a bug and fails the job.
import sharp from 'sharp';
import { RecordRejectedError } from '../runtime/record-rejected-error.ts';
import type { TaskEnv } from '../runtime/worker-entry.ts';
import { analyzePages, type DocumentAnalysis } from './analyze.ts';
import type { LegalNerModelSpec } from './ner/model.ts';
import { DocumentRejectedError } from './pages/errors.ts';
import { ocrImage, ocrPdfPage } from './pages/ocr.ts';
import { readPdfPages } from './pages/pdf-pages.ts';
import type { PageText, PdfPages } from './pages/types.ts';

// libvips' own threads would compete with the pool's, which is already sized to the cores.
sharp.concurrency(1);
sharp.cache(false);

export type DocumentJob =
  | { kind: 'read-pdf'; bytes: Uint8Array }
  | { kind: 'ocr-page'; bytes: Uint8Array; page: number }
  | { kind: 'ocr-image'; bytes: Uint8Array }
  | { kind: 'analyze'; model: string; pages: PageText[] };

export type DocumentJobResult = PdfPages | PageText | DocumentAnalysis;

export default async function documentTask(job: DocumentJob, env: TaskEnv): Promise<DocumentJobResult> {
  try {
    switch (job.kind) {
      // pdf.js may keep or detach what it is given; the job's bytes can be shared with other jobs.
      case 'read-pdf':
        return await readPdfPages(new Uint8Array(job.bytes));
      case 'ocr-page':
        return await ocrPdfPage(new Uint8Array(job.bytes), job.page);
      case 'ocr-image':
        return await ocrImage(new Uint8Array(job.bytes));
      case 'analyze': {
        const model = env.models[job.model];
        if (!model) throw new Error(`documents task: model ${job.model} is not loaded in this worker (loaded: ${Object.keys(env.models).join(', ') || 'none'})`);
        return await analyzePages(job.pages, model, model.spec as LegalNerModelSpec);
      }
      default:
        throw new Error(`documents task: unknown job kind ${(job as { kind: unknown }).kind}`);
    }
  } catch (err) {
    if (err instanceof DocumentRejectedError) throw new RecordRejectedError(err.message);
    throw err;
  }
}
