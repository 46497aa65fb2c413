// One document's text as the NER model reads it and as entities point into it. The model sees the
// cleaned pages joined by a blank line (a page break reads as a paragraph break, so a sentence cut
// by a page is still one chunk of context); entities come back as offsets into that joined text
// and are mapped to (page, offset in that page's text), which is what the schema and a reviewer
// looking at page 7 need.

/** `s` as a literal inside a regular expression (a party's or a place's name, say). */
export const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Between two pages in the joined text. */
export const PAGE_SEPARATOR = '\n\n';

export interface JoinedPages {
  text: string;
  /** Offset in `text` where each page starts (page n at index n - 1). */
  pageStarts: number[];
  pageLengths: number[];
}

export function joinPages(pages: string[]): JoinedPages {
  const pageStarts: number[] = [];
  const pageLengths: number[] = [];
  let at = 0;
  for (const [i, page] of pages.entries()) {
    if (i > 0) at += PAGE_SEPARATOR.length;
    pageStarts.push(at);
    pageLengths.push(page.length);
    at += page.length;
  }
  return { text: pages.join(PAGE_SEPARATOR), pageStarts, pageLengths };
}

export interface PageSpan {
  /** Counted from 1. */
  page: number;
  start: number;
  end: number;
}

/**
 * The page a span of the joined text starts on, with offsets into that page's text. A span that
 * runs on into the next page (a clause cut by a page break) is clipped at the end of its first
 * page, so the offsets always index one page's text; its text is kept whole by the caller.
 */
export function toPageSpan(joined: JoinedPages, start: number, end: number): PageSpan {
  if (!(start >= 0 && end >= start && end <= joined.text.length)) {
    throw new RangeError(`span [${start}, ${end}) is outside the document text (length ${joined.text.length})`);
  }
  // Last page starting at or before `start` (binary search: contracts run to hundreds of pages).
  let lo = 0;
  let hi = joined.pageStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (joined.pageStarts[mid] <= start) lo = mid;
    else hi = mid - 1;
  }
  const pageStart = joined.pageStarts[lo];
  const pageLength = joined.pageLengths[lo];
  // A span starting inside the separator belongs to the next page.
  if (start - pageStart >= pageLength && lo + 1 < joined.pageStarts.length && end > pageStart + pageLength) {
    const next = joined.pageStarts[lo + 1];
    return { page: lo + 2, start: 0, end: Math.min(Math.max(end - next, 0), joined.pageLengths[lo + 1]) };
  }
  return { page: lo + 1, start: start - pageStart, end: Math.min(end - pageStart, pageLength) };
}
