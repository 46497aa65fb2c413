// Text clean-up after extraction or OCR, before NER: the text this returns is the text stored and
// shown, and entity offsets point into it, so it is a pure, deterministic function of its input.
// Per document: running headers and footers (the same line at the top or bottom of most pages) and
// page numbers go; per page: words hyphenated at a line end are joined, the lines of a paragraph
// become one line, and paragraph breaks, headings, list items and short form lines stay.
import type { PageText } from './types.ts';

/** How many lines at the top and at the bottom of a page are looked at for headers, footers and page numbers. */
const EDGE_LINES = 3;
/** `7`, `- 7 -`, `Page 7`, `7 of 9`, `iv` (a well-formed roman numeral up to 399, so a line `CIVIL` is not one). */
const PAGE_NUMBER = /^(page\s*)?[-–—]?\s*(\d{1,4}|(?=[ivxlc])c{0,3}(xc|xl|l?x{0,3})(ix|iv|v?i{0,3}))\s*[-–—]?(\s*(of|\/)\s*\d{1,4})?$/iu;
/** A line that starts a list item, a numbered clause or a heading keeps its line break. */
const BLOCK_START = /^(\(?[a-z0-9]{1,3}[.)]\s|\d+(\.\d+)+\s|[•·▪‣●○■□◦*–-]\s|(section|article|exhibit|schedule|annex|appendix)\s+[\divxlc\d]+\b)/iu;
/** A form label starting a line ("By:", "Name: Jane Doe", "Attention: Legal") keeps its line break. */
const FORM_LABEL = /^\p{Lu}[\p{L}.]*( \p{L}[\p{L}.]*)?:(\s|$)/u;
/** Lines shorter than this are never the wrapped lines of a paragraph. */
const MIN_WRAPPED_LINE = 20;
const LIGATURES: Record<string, string> = { 'ﬀ': 'ff', 'ﬁ': 'fi', 'ﬂ': 'fl', 'ﬃ': 'ffi', 'ﬄ': 'ffl', 'ﬅ': 'st', 'ﬆ': 'st' };

/** Line endings, odd spaces, soft hyphens, zero-width characters, ligatures, typographic quotes and dashes normalised; runs of spaces collapsed. */
export function normalizeWhitespace(text: string): string {
  return text
    .replace(/\r\n?|\f|\u2028|\u2029/gu, '\n')
    .replace(/[\u00ad\u200b-\u200d\u2060\ufeff]/gu, '')
    .replace(/[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]/gu, ' ')
    .replace(/[ﬀ-ﬆ]/gu, (c) => LIGATURES[c] ?? c)
    // Typographic quotes and en dashes as ASCII, one character for one: the CUAD texts the NER model
    // learnt from have none (35,383 '"', 0 curly), and CUAD answer spans then match (docs/documents-ocr.md).
    .replace(/[“”„‟″]/gu, '"')
    .replace(/[‘’‚‛′]/gu, "'")
    .replace(/[‐‑‒–]/gu, '-')
    .replace(/ {2,}/gu, ' ')
    .replace(/^ +| +$/gmu, '')
    .replace(/\n{3,}/gu, '\n\n')
    .trim();
}

/** A line as compared across pages: case, spacing and digits ignored ("Page 3 of 9" = "Page 4 of 9"). */
const edgeKey = (line: string) => line.toLowerCase().replace(/\d+/gu, '#').replace(/\s+/gu, ' ').trim();

/** Indices of the first and last EDGE_LINES non-empty lines. */
function edgeLineIndices(lines: string[]): { top: number[]; bottom: number[] } {
  const filled = lines.map((l, i) => (l.trim() === '' ? -1 : i)).filter((i) => i >= 0);
  return { top: filled.slice(0, EDGE_LINES), bottom: filled.slice(-EDGE_LINES) };
}

/** Lines to drop from each page: running headers/footers (on >= half the pages, at least 2, or 3 when numbered) and page numbers. */
function repeatedEdgeLines(pagesLines: string[][]): Set<number>[] {
  const pagesWithText = pagesLines.filter((lines) => lines.some((l) => l.trim() !== '')).length;
  const seen = new Map<string, number>();
  const edges = pagesLines.map(edgeLineIndices);
  edges.forEach((edge, p) => {
    const keys = new Set([...edge.top, ...edge.bottom].map((i) => edgeKey(pagesLines[p][i])));
    for (const key of keys) seen.set(key, (seen.get(key) ?? 0) + 1);
  });
  return edges.map((edge, p) => {
    const drop = new Set<number>();
    for (const i of [...edge.top, ...edge.bottom]) {
      const line = pagesLines[p][i];
      const key = edgeKey(line);
      const needed = Math.max(key.includes('#') ? 3 : 2, Math.ceil(pagesWithText / 2));
      if (pagesWithText >= 2 && (seen.get(key) ?? 0) >= needed) drop.add(i);
    }
    // Page numbers: the outermost lines only (a "3" inside a table is data), up to two at each end.
    for (const side of [edge.top, [...edge.bottom].reverse()]) {
      for (const i of side.slice(0, 2)) {
        if (drop.has(i)) continue;
        if (!PAGE_NUMBER.test(pagesLines[p][i].trim())) break;
        drop.add(i);
      }
    }
    return drop;
  });
}

/** Lowercase word counts of the whole document, for deciding whether a line-end hyphen is part of the word. */
function wordCounts(texts: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const word of text.toLowerCase().match(/\p{L}+(?:-\p{L}+)*/gu) ?? []) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}

/** The join of a line ending in "-" with the next line: "con-" + "tract" -> "contract", "non-" + "exclusive" -> "non-exclusive" when the document writes it so. */
function joinHyphenated(prev: string, next: string, words: Map<string, number>): string {
  const head = /(\p{L}+)-$/u.exec(prev)?.[1] ?? '';
  const tail = /^\p{L}+/u.exec(next)?.[0] ?? '';
  const dropHyphen = /^\p{Ll}/u.test(tail) && (words.get(`${head}-${tail}`.toLowerCase()) ?? 0) <= (words.get(`${head}${tail}`.toLowerCase()) ?? 0);
  return dropHyphen ? prev.slice(0, -1) + next : prev + next;
}

/** The lines of a block joined into paragraphs where they are the wrapped lines of one. */
function joinLines(lines: string[], typicalLength: number, words: Map<string, number>): string {
  let out = lines[0];
  for (let i = 1; i < lines.length; i++) {
    const prev = lines[i - 1];
    const next = lines[i];
    if (/\p{L}-$/u.test(prev) && /^\p{L}/u.test(next)) {
      out = joinHyphenated(out, next, words);
      continue;
    }
    // A line well short of the page's usual length ends a paragraph (or is a form line, an address line).
    const prevIsShort = prev.length < typicalLength * 0.6 || prev.length < MIN_WRAPPED_LINE;
    const prevIsHeading = prev.length <= 80 && prev === prev.toUpperCase() && /\p{Lu}{3}/u.test(prev);
    const keepBreak = prevIsShort || prevIsHeading || /:$/u.test(prev) || BLOCK_START.test(next) || FORM_LABEL.test(next);
    out += (keepBreak ? '\n' : ' ') + next;
  }
  return out;
}

/** The length most full lines of the page have (the 75th percentile), so a shorter line ends a paragraph. */
function typicalLineLength(lines: string[]): number {
  const lengths = lines.map((l) => l.length).filter((n) => n > 0).sort((a, b) => a - b);
  return lengths.length === 0 ? 0 : lengths[Math.floor((lengths.length - 1) * 0.75)];
}

export function cleanPageTexts(pages: PageText[]): PageText[] {
  const pagesLines = pages.map((p) => normalizeWhitespace(p.text).split('\n'));
  const drops = repeatedEdgeLines(pagesLines);
  const kept = pagesLines.map((lines, p) => lines.filter((_, i) => !drops[p].has(i)).join('\n').replace(/\n{3,}/gu, '\n\n').trim());
  const words = wordCounts(kept);
  return pages.map((page, p) => {
    const blocks = kept[p].split(/\n\s*\n/u).filter((b) => b.trim() !== '');
    const typical = typicalLineLength(kept[p].split('\n'));
    const text = blocks.map((block) => joinLines(block.split('\n'), typical, words)).join('\n\n');
    return { ...page, text };
  });
}
