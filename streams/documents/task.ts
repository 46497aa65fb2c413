// The worker task of the documents processor: one step of one document on a thread of the runtime's
// pool (streams/runtime/worker-pool.ts). Steps, not whole documents, are the unit of work so a
// scanned contract's pages are recognised in parallel and no single job runs for minutes. A
// document that cannot be read is rejected with its reason (RecordRejectedError: the runtime
// dead-letters the record); any other failure is a bug and fails the job.
import sharp from 'sharp';
import type { TaskEnv } from '../runtime/worker-entry.ts';
import { analyzePages, type DocumentAnalysis } from './analyze.ts';
import type { NerModelSpec } from './ner/model.ts';
import { ocrImage, ocrPdfPage, readPdfPages, type OcrMode, type PageText, type PdfPages } from './pages/index.ts';

// libvips' own threads would compete with the pool's, which is already sized to the cores.
sharp.concurrency(1);
sharp.cache(false);

export type DocumentJob =
  | { kind: 'read-pdf'; bytes: Uint8Array; ocr: OcrMode }
  | { kind: 'ocr-page'; bytes: Uint8Array; page: number }
  | { kind: 'ocr-image'; bytes: Uint8Array }
  | { kind: 'analyze'; model: string; pages: PageText[] };

export type DocumentJobResult = PdfPages | PageText | DocumentAnalysis;

// A DocumentRejectedError (encrypted, corrupt, too many pages, ...) is a RecordRejectedError: the
// worker entry turns it into a dead letter with its reason.
export default async function documentTask(job: DocumentJob, env: TaskEnv): Promise<DocumentJobResult> {
    switch (job.kind) {
      // pdf.js may keep or detach what it is given; the job's bytes can be shared with other jobs.
      case 'read-pdf':
        return await readPdfPages(new Uint8Array(job.bytes), {}, { ocr: job.ocr });
      case 'ocr-page':
        return await ocrPdfPage(new Uint8Array(job.bytes), job.page);
      case 'ocr-image':
        return await ocrImage(new Uint8Array(job.bytes));
      case 'analyze': {
        const model = env.models[job.model];
        if (!model) throw new Error(`documents task: model ${job.model} is not loaded in this worker (loaded: ${Object.keys(env.models).join(', ') || 'none'})`);
        return await analyzePages(job.pages, model, model.spec as NerModelSpec);
      }
      default:
        throw new Error(`documents task: unknown job kind ${(job as { kind: unknown }).kind}`);
    }
}
