// A plain-text document as pages: form feeds (which `pdftotext` and line printers write between
// pages) split it; without one it is a single page. A PDF's page limit holds for text too: 1 MB of
// form feeds is 100,000 pages to analyse, and a result (one page source each) far over
// docs.entities.v1's 1 MiB.
import { DocumentRejectedError } from './errors.ts';
import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits } from './limits.ts';
import { decodeTextDocument } from './sniff.ts';
import type { PageText } from './types.ts';

export function readTextPages(bytes: Uint8Array, limits: Pick<DocumentLimits, 'maxPages'> = DEFAULT_DOCUMENT_LIMITS): PageText[] {
  const pages = decodeTextDocument(bytes).split('\f');
  // A trailing form feed ends the last page; it does not start an empty one.
  if (pages.length > 1 && pages[pages.length - 1].trim() === '') pages.pop();
  if (pages.length > limits.maxPages) throw new DocumentRejectedError('too many pages', `the text has ${pages.length} pages (form feeds), the limit is ${limits.maxPages}`);
  return pages.map((text, i) => ({ page: i + 1, text, source: 'text-file', ocrConfidence: null }));
}
