// One document, bytes -> validated entities, as a sequence of CPU-heavy steps: read the PDF (text
// layer per page), OCR the pages without a real text layer (or every page, or none: --ocr), then
// analyse (clean-up, NER, rules). Where each step runs is the caller's: the documents processor
// sends each to the runtime's worker pool (topology.ts), `documents extract` runs them in-process
// (extract-files.ts: inProcessSteps). A step answers null when its record was already dead-lettered by the runtime
// (a deadline, a rejected page): the document stops there.
import type { DocumentAnalysis } from './analyze.ts';
import { DocumentRejectedError, readTextPages, sniffDocument, type OcrMode, type PageText, type PdfPages } from './pages/index.ts';

export type { OcrMode };
export const OCR_MODES: readonly OcrMode[] = ['auto', 'always', 'never'];

export interface ExtractionSteps {
  /** Pages whose text layer `ocr` does not accept come back null: they need ocrPdfPage. */
  readPdf(bytes: Uint8Array, ocr: OcrMode): Promise<PdfPages | null>;
  ocrPdfPage(bytes: Uint8Array, page: number): Promise<PageText | null>;
  ocrImage(bytes: Uint8Array): Promise<PageText | null>;
  analyze(pages: PageText[]): Promise<DocumentAnalysis | null>;
}

export interface Extraction extends DocumentAnalysis {
  kind: 'pdf' | 'image' | 'text';
  pageCount: number;
  ocrUsed: boolean;
}

export async function extractDocument(bytes: Uint8Array, ocr: OcrMode, steps: ExtractionSteps): Promise<Extraction | null> {
  const sniffed = sniffDocument(bytes);
  let kind: Extraction['kind'];
  let pages: PageText[];
  if (sniffed.kind === 'text') {
    kind = 'text';
    pages = readTextPages(bytes);
  } else if (sniffed.kind === 'pdf') {
    kind = 'pdf';
    const read = await steps.readPdf(bytes, ocr);
    if (!read) return null;
    // Pages OCR independently: on the pool they run in parallel, one thread each.
    const ocred = await Promise.all(read.pages.map((p, i) => (p ? Promise.resolve(p) : steps.ocrPdfPage(bytes, i + 1))));
    if (ocred.some((p) => p === null)) return null;
    pages = ocred as PageText[];
  } else {
    if (ocr === 'never') throw new DocumentRejectedError('unsupported type', `a ${sniffed.mime} image has no text without OCR (--ocr never)`);
    kind = 'image';
    const page = await steps.ocrImage(bytes);
    if (!page) return null;
    pages = [page];
  }
  if (pages.every((p) => p.text.trim() === '')) throw new DocumentRejectedError('empty', `no text on any of its ${pages.length} page(s)`);
  const analysis = await steps.analyze(pages);
  if (!analysis) return null;
  return { ...analysis, kind, pageCount: pages.length, ocrUsed: pages.some((p) => p.source === 'ocr' || p.source === 'image-ocr') };
}
