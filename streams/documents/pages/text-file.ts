// A plain-text document as pages: form feeds (which `pdftotext` and line printers write between
// pages) split it; without one it is a single page.
import { decodeTextDocument } from './sniff.ts';
import type { PageText } from './types.ts';

export function readTextPages(bytes: Uint8Array): PageText[] {
  const pages = decodeTextDocument(bytes).split('\f');
  // A trailing form feed ends the last page; it does not start an empty one.
  if (pages.length > 1 && pages[pages.length - 1].trim() === '') pages.pop();
  return pages.map((text, i) => ({ page: i + 1, text, source: 'text-file', ocrConfidence: null }));
}
