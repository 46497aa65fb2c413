// Step 1 of a PDF (one worker job per document): open it, refuse what cannot be read (encrypted,
// corrupt, no pages, too many pages, a page too large to render), and take each page's text layer
// where it is real. A page without a real text layer comes back as null: it needs OCR (step 2,
// ocrPdfPage, one job per page). The page count is read from the page tree before any page is
// parsed, so a 2,000-page PDF is refused in milliseconds.
import { DocumentRejectedError } from './errors.ts';
import { documentLimits, type DocumentLimits } from './limits.ts';
import { openPdf, pdfRejection, withDeadline, type PDFDocumentProxy } from './pdf-document.ts';
import { pageDrawing } from './page-drawing.ts';
import { judgeTextLayer, NO_DRAWING, textFromItems, textLayerVerdictNeedsDrawing, type TextItemLike } from './text-layer.ts';
import type { OcrMode, PageText } from './types.ts';

export interface PdfPages {
  pageCount: number;
  /** One per page, in order; null = the page has no real text layer and needs OCR. */
  pages: (PageText | null)[];
  /** Why each page went the way it did ("blank page", "not words (...)", ...), for logs and evaluation. */
  decisions: string[];
}

export interface ReadPdfOptions {
  /** 'auto': OCR the pages without a real text layer; 'always': every page; 'never': none (their text layer, however poor). */
  ocr?: OcrMode;
}

/** Pixels of `page` rendered at `dpi` (what an OCR job would allocate). */
export function pagePixels(page: { getViewport(p: { scale: number }): { width: number; height: number } }, dpi: number): { width: number; height: number } {
  const viewport = page.getViewport({ scale: dpi / 72 });
  return { width: Math.ceil(viewport.width), height: Math.ceil(viewport.height) };
}

export function checkPagePixels(pageNumber: number, size: { width: number; height: number }, limits: Pick<DocumentLimits, 'maxPagePixels' | 'ocrDpi'>): void {
  if (size.width * size.height > limits.maxPagePixels) {
    throw new DocumentRejectedError(
      'page too large',
      `page ${pageNumber} is ${size.width} x ${size.height} pixels at ${limits.ocrDpi} dpi (${((size.width * size.height) / 1e6).toFixed(1)} Mpx), more than the ${(limits.maxPagePixels / 1e6).toFixed(1)} Mpx an OCR job may render`,
    );
  }
}

export async function readPdfPages(bytes: Uint8Array, limitsIn: Partial<DocumentLimits> = {}, options: ReadPdfOptions = {}): Promise<PdfPages> {
  const limits = documentLimits(limitsIn);
  const ocr = options.ocr ?? 'auto';
  if (bytes.length === 0) throw new DocumentRejectedError('empty', 'the document has 0 bytes');
  if (bytes.length > limits.maxBytes) throw new DocumentRejectedError('too large', `the PDF has ${bytes.length} bytes, the limit is ${limits.maxBytes}`);
  const started = performance.now();
  const { doc, close } = await openPdf(bytes, limits.readTimeoutMs);
  try {
    const pageCount = doc.numPages;
    if (pageCount === 0) throw new DocumentRejectedError('no pages', 'the PDF has no pages');
    if (pageCount > limits.maxPages) throw new DocumentRejectedError('too many pages', `the PDF has ${pageCount} pages, the limit is ${limits.maxPages}`);
    const pages: (PageText | null)[] = [];
    const decisions: string[] = [];
    for (let n = 1; n <= pageCount; n++) {
      const left = limits.readTimeoutMs - (performance.now() - started);
      if (left <= 0) throw new DocumentRejectedError('timed out', `reading the text layer took longer than ${limits.readTimeoutMs} ms (stopped at page ${n} of ${pageCount})`);
      const { text, real, why } = await withDeadline(readPage(doc, n), left, `reading page ${n}`);
      const needsOcr = ocr === 'always' || (ocr === 'auto' && !real);
      decisions.push(ocr === 'auto' ? why : `${ocr === 'always' ? 'OCR' : 'text layer'} (--ocr ${ocr}; ${why})`);
      pages.push(needsOcr ? null : { page: n, text, source: 'text-layer', ocrConfidence: null });
    }
    // Checked after every page is read, so the rejection names the first page that would be rendered.
    for (let n = 1; n <= pageCount; n++) {
      if (pages[n - 1] === null) checkPagePixels(n, pagePixels(await doc.getPage(n), limits.ocrDpi), limits);
    }
    return { pageCount, pages, decisions };
  } catch (err) {
    throw pdfRejection(err, 'the PDF is damaged');
  } finally {
    await close();
  }
}

async function readPage(doc: PDFDocumentProxy, n: number): Promise<{ text: string; real: boolean; why: string }> {
  const page = await doc.getPage(n);
  try {
    const content = await page.getTextContent();
    const text = textFromItems(content.items.filter((i) => 'str' in i) as TextItemLike[]);
    const [x0, y0, x1, y1] = page.view;
    const drawing = textLayerVerdictNeedsDrawing(text) ? pageDrawing(await page.getOperatorList(), Math.abs((x1 - x0) * (y1 - y0))) : NO_DRAWING;
    const verdict = judgeTextLayer(text, drawing);
    return { text, ...verdict };
  } finally {
    page.cleanup();
  }
}
