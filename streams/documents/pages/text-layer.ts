// Whether a page's PDF text layer is real text, from the text itself and from what the page draws.
// Decided per page: a contract scanned in part and typed in part has both kinds. A text layer is
// not real when it is a broken font encoding (symbols, private-use glyphs, consonant soup), when it
// is a few characters over a full-page image (a Bates stamp on a scan), or when it is a scanner's
// invisible OCR layer that does not read as English. Pure functions; read-pdf.ts feeds them.

/** What a page draws, from its operator list. */
export interface PageDrawing {
  /** Share of the page area covered by images (0..1, overlaps counted twice, capped at 1). */
  imageCoverage: number;
  /** Share of text-showing operations drawn in render mode 3 (invisible: an OCR layer over a scan). */
  invisibleTextShare: number;
  /** Path-construction operations: text converted to outlines draws many paths and shows no text. */
  pathCount: number;
}

export interface TextLayerVerdict {
  real: boolean;
  /** Why, in words (logged and kept for the benchmark's per-page table). */
  why: string;
}

/** Fewer non-space characters than this over a page-covering image: a stamp on a scan. */
const STAMP_MAX_CHARS = 200;
/** Measured on the 100 CUAD PDFs (all real text layers): tables of codes and names score 0.6-0.9. */
const MIN_PLAUSIBLE_SHARE = 0.5;
/** An invisible layer must read as English: plausible words and common function words. */
const MIN_PLAUSIBLE_SHARE_INVISIBLE = 0.85;
const MIN_FUNCTION_WORD_SHARE_INVISIBLE = 0.08;
const MAX_BAD_CHAR_SHARE = 0.05;
/** A page with almost no text but this many paths is outlined text (or a drawing): OCR decides. */
const OUTLINED_TEXT_MIN_PATHS = 400;
const OUTLINED_TEXT_MAX_CHARS = 20;

// The most frequent English function words (contracts are dense in them); a share of tokens.
const FUNCTION_WORDS = new Set(
  'the of and to in a is that for it as with be by on not this are or from at which an have has shall will may any such all other its their been was were than upon under each if no its into herein hereof thereof party parties'.split(' '),
);

/** U+FFFD, private-use glyphs and control characters: what a font without a usable encoding extracts to. */
const BAD_CHAR = /[\ufffd\ue000-\uf8ff\u0000-\u0008\u000b\u000e-\u001f]/gu;
const NUMBER_LIKE = /^[$€£¥(]?[\d][\d.,:/\-%]*[)%]?$/u;
const ORDINAL_OR_SECTION = /^(\d+(st|nd|rd|th)|\d+(\.\d+)*\(?[a-z]?\)?|\([a-z0-9]{1,4}\))$/iu;
const WORD = /^\p{L}[\p{L}'’\-/&]*$/u;
/** Part numbers, dates and references that mix letters and digits: PWM-5700-00431-SH, 13-Apr-2019, 0.2MW. */
const CODE_WITH_DIGIT = /^(?=.*\d)[\p{L}\d]+([-_/.:#][\p{L}\d]+)*$/u;
const ABBREVIATION = /^(\p{L}\.)+\p{L}?$/u;
const DOMAIN_OR_EMAIL = /^([\w.+-]+@)?([a-z0-9-]+\.)+[a-z]{2,}(\/\S*)?$/iu;
/** Form lines, leader dots, bullets and redaction marks ([***]): neither words nor garbage, so not counted. */
const NEUTRAL = /^[-–—_.…·=*•\[\]]+$/u;
const VOWEL = /[aeiouyàâäéèêëïîôöùûüáíóú]/iu;

function isPlausibleToken(token: string): boolean {
  if (NUMBER_LIKE.test(token) || ORDINAL_OR_SECTION.test(token) || CODE_WITH_DIGIT.test(token)) return true;
  if (ABBREVIATION.test(token) || DOMAIN_OR_EMAIL.test(token)) return true;
  if (!WORD.test(token) || token.length > 24) return false;
  const letters = token.replace(/['’\-/&]/gu, '');
  // Acronyms (LLC, USA, NY) have no vowels; longer words without one are glyph soup.
  if (letters.length >= 4 && letters !== letters.toUpperCase() && !VOWEL.test(letters)) return false;
  if (letters.length > 5 && letters === letters.toUpperCase() && !VOWEL.test(letters)) return false;
  // "tHiS": case flipping inside a word is a shifted encoding, not English.
  return !/\p{Ll}\p{Lu}\p{Ll}?\p{Lu}/u.test(letters);
}

export interface TextStatistics {
  chars: number;
  badCharShare: number;
  plausibleShare: number;
  functionWordShare: number;
}

export function textStatistics(text: string): TextStatistics {
  const chars = text.replace(/\s+/gu, '').length;
  const bad = text.match(BAD_CHAR)?.length ?? 0;
  const tokens = text
    .split(/\s+/u)
    .map((t) => t.replace(/^[("'“‘\[]+|[)"'”’\].,;:!?]+$/gu, ''))
    .filter((t) => t !== '' && !NEUTRAL.test(t));
  let plausibleChars = 0;
  let totalChars = 0;
  let functionWords = 0;
  for (const token of tokens) {
    totalChars += token.length;
    if (isPlausibleToken(token)) plausibleChars += token.length;
    if (FUNCTION_WORDS.has(token.toLowerCase())) functionWords++;
  }
  return {
    chars,
    badCharShare: chars === 0 ? 0 : bad / chars,
    // Only neutral tokens (a page of [***] redactions): nothing reads as garbage.
    plausibleShare: totalChars === 0 ? 1 : plausibleChars / totalChars,
    functionWordShare: tokens.length === 0 ? 0 : functionWords / tokens.length,
  };
}

/** Text that reads as English (plausible words, common function words): another engine's OCR layer is kept. */
function readsAsEnglish(s: TextStatistics): boolean {
  return s.plausibleShare >= MIN_PLAUSIBLE_SHARE_INVISIBLE && (s.chars < 100 || s.functionWordShare >= MIN_FUNCTION_WORD_SHARE_INVISIBLE);
}

/**
 * Whether judgeTextLayer needs the page's drawing for this text: not when the text is long enough
 * for the stamp and outlined-text rules and reads as English, since every rule then says "real".
 * The operator list costs as much as the text content (0.4 s on a page of 340,000 operators).
 */
export function textLayerVerdictNeedsDrawing(text: string): boolean {
  const s = textStatistics(text);
  return s.chars < STAMP_MAX_CHARS || s.badCharShare > MAX_BAD_CHAR_SHARE || !readsAsEnglish(s);
}

/** The verdict without the drawing, for text where textLayerVerdictNeedsDrawing() is false. */
export const NO_DRAWING: PageDrawing = Object.freeze({ imageCoverage: 0, invisibleTextShare: 0, pathCount: 0 });

export function judgeTextLayer(text: string, drawing: PageDrawing): TextLayerVerdict {
  const s = textStatistics(text);
  const stats = `${s.chars} chars, ${(s.plausibleShare * 100).toFixed(0)}% plausible, ${(s.functionWordShare * 100).toFixed(0)}% function words`;
  if (s.chars === 0) {
    if (drawing.imageCoverage > 0.05) return { real: false, why: 'no text over an image' };
    if (drawing.pathCount >= OUTLINED_TEXT_MIN_PATHS) return { real: false, why: `no text, ${drawing.pathCount} paths (outlined text?)` };
    return { real: true, why: 'blank page' };
  }
  if (s.badCharShare > MAX_BAD_CHAR_SHARE) return { real: false, why: `${(s.badCharShare * 100).toFixed(0)}% unreadable glyphs (${stats})` };
  if (s.chars >= 10 && s.plausibleShare < MIN_PLAUSIBLE_SHARE) return { real: false, why: `not words (${stats})` };
  if (drawing.invisibleTextShare >= 0.5) {
    // Another engine's OCR of a scan: kept when it reads as English (re-OCR costs ~3 s a page).
    const english = readsAsEnglish(s);
    return { real: english, why: `invisible OCR layer that ${english ? 'reads' : 'does not read'} as English (${stats})` };
  }
  if (drawing.imageCoverage >= 0.5 && s.chars < STAMP_MAX_CHARS) return { real: false, why: `a stamp over a scan (${stats}, image covers ${(drawing.imageCoverage * 100).toFixed(0)}%)` };
  if (drawing.pathCount >= OUTLINED_TEXT_MIN_PATHS && s.chars <= OUTLINED_TEXT_MAX_CHARS) return { real: false, why: `${drawing.pathCount} paths, little text (outlined text?)` };
  return { real: true, why: stats };
}

/** One text item of pdfjs' getTextContent() (the fields used here). */
export interface TextItemLike {
  str: string;
  transform: number[];
  width: number;
  height: number;
  hasEOL: boolean;
}

/**
 * The page's text in content order: items on one baseline joined (a space where there is a gap),
 * a line break where the baseline moves, and an empty line where the gap between lines is wider
 * than 1.8 lines (a paragraph break, which cleanPageTexts keeps).
 */
export function textFromItems(items: TextItemLike[]): string {
  let out = '';
  let lastY: number | null = null;
  let lastEndX = 0;
  let lastSize = 0;
  let lineBreakPending = false;
  for (const item of items) {
    const size = Math.hypot(item.transform[2], item.transform[3]) || item.height || 1;
    const x = item.transform[4];
    const y = item.transform[5];
    if (item.str !== '') {
      if (lastY !== null) {
        const dy = Math.abs(y - lastY);
        const lineHeight = Math.max(size, lastSize);
        if (lineBreakPending || dy > lineHeight * 0.5) {
          out = out.replace(/[ \t]+$/u, '');
          out += dy > lineHeight * 1.8 ? '\n\n' : '\n';
        } else if (x - lastEndX > size * 0.15 && !/\s$/u.test(out) && !/^\s/u.test(item.str)) {
          out += ' ';
        }
      }
      out += item.str;
      lastY = y;
      lastEndX = x + item.width;
      lastSize = size;
      lineBreakPending = false;
    }
    if (item.hasEOL) lineBreakPending = true;
  }
  return out.replace(/[ \t]+$/gmu, '').trim();
}
