// Clause entities snapped to the sentence they stand in. CUAD highlights whole sentences for the
// expiry, the governing law and the termination clauses, and a lawyer reads a clause, not a run of
// tokens; the tagger's spans drift at the edges: they start on the section heading ("TERM This
// Agreement...", "Effective Date and Duration. This Agreement..."; the heading's "Effective Date"
// then anchored an expiry "three years" to the wrong date), a word late ("to the other provisions"
// for "Subject to the other provisions") or a clause late (", this Agreement will..."), and run on
// into the next sentence (". 15.2 Termination"). An expiry whose value is not a date counts by its
// text, so those edges decided a third of the validation expiry errors (models/documents/MODEL_CARD.md).
// The rules only move an edge over a short stretch: a long tail or a far sentence start is left
// alone, as a clause that CUAD cut mid-sentence is.
import type { NerEntity } from './ner.ts';

/** The labels whose gold spans are sentences (chosen on the train and validation splits: see the model card). */
export const CLAUSE_LABELS: readonly string[] = ['EXPIRATION_DATE', 'GOVERNING_LAW', 'TERMINATION_FOR_CONVENIENCE', 'POST_TERMINATION_SERVICES'];

/** A run on into the next sentence is cut when it is at most this long and shorter than the sentence before it. */
const MAX_TAIL = 120;
/** A span that starts or ends mid-sentence is extended to the sentence's start or end when it is this near. */
const MAX_START_REACH = 200;
const MAX_END_REACH = 400;
/** A heading before the sentence is dropped when the sentence starts this near the span's start. */
const MAX_HEADING = 80;

const ABBREVIATION = /(?:^|[^\p{L}])(?:inc|co|corp|ltd|llc|l\.p|no|nos|sec|secs|art|para|e\.g|i\.e|etc|mr|mrs|ms|dr|st|jr|sr|vs|v|u\.s)$/iu;
const SENTENCE_OPENER = /^(?:The|This|These|Unless|Subject|Except|Notwithstanding|Each|Either|Neither|If|Upon|Following|Commencing|In|Any|All|Such)\b/u;
const SMALL_WORDS = new Set(['of', 'and', 'the', 'this', 'for', 'to', 'or', 'on', 'in']);
/** A heading never ends on one of these: they lead into a sentence's subject. */
const DETERMINERS = new Set([...SMALL_WORDS, 'these', 'a', 'an', 'such', 'any', 'each', 'either', 'all']);
/** A section number before the sentence ("1.84 ", "2. ", "(a) ", ".2 " cut from "4.2") when a capital or a quote follows. */
const SECTION_NUMBER = /^(?:\.?\(?\d+(?:\.\d+)*[.)]?|\([a-z]{1,4}\)|[a-z][.)])\s+(?=["“\p{Lu}])/u;

/** Whether a sentence starts at `i` (its first character): after a paragraph break, or after ". " that ends no abbreviation. */
export function startsSentence(text: string, i: number): boolean {
  if (i <= 0) return true;
  if (!/[\p{Lu}\p{N}("“[]/u.test(text[i])) return false;
  let j = i - 1;
  let newlines = 0;
  while (j >= 0 && /\s/.test(text[j])) { if (text[j] === '\n') newlines++; j--; }
  if (j < 0 || newlines >= 2) return true;
  if (j === i - 1) return false; // no space before it
  while (j >= 0 && /["'”’)]/.test(text[j])) j--;
  if (!/[.!?]/.test(text[j] ?? '')) return false;
  return !ABBREVIATION.test(text.slice(Math.max(0, j - 6), j));
}

/** The last sentence start in (from, to), or -1. */
function lastSentenceStart(text: string, from: number, to: number): number {
  for (let i = to - 1; i > from; i--) if (/\S/.test(text[i]) && startsSentence(text, i)) return i;
  return -1;
}

/** The end (exclusive, after its period) of the sentence that holds `from`, within `reach`, or -1. */
function sentenceEnd(text: string, from: number, reach: number): number {
  const stop = Math.min(text.length, from + reach);
  for (let i = from + 1; i < stop; i++) {
    if (/\S/.test(text[i]) && startsSentence(text, i)) return trimEnd(text, from, i);
  }
  return stop === text.length ? trimEnd(text, from, stop) : -1;
}

function trimEnd(text: string, start: number, end: number): number {
  while (end > start && /\s/.test(text[end - 1])) end--;
  return end;
}

function trimStart(text: string, start: number, end: number): number {
  while (start < end && /\s/.test(text[start])) start++;
  return start;
}

/** Offset of the sentence after a heading-like prefix ("0 TERM ", "Term and Termination a) "), or `start`. */
function afterHeading(text: string, start: number, end: number): number {
  const head = text.slice(start, Math.min(end, start + MAX_HEADING));
  const opener = /[\p{L}]+/gu;
  for (let m = opener.exec(head); m; m = opener.exec(head)) {
    if (m.index === 0) continue;
    if (!SENTENCE_OPENER.test(head.slice(m.index))) continue;
    const prefix = head.slice(0, m.index);
    const words = prefix.match(/[\p{L}]+/gu) ?? [];
    // A heading's words are capitalised (small words and item letters aside), and its last word is
    // no determiner: "The Company" is a sentence's subject, not a heading.
    const last = words.at(-1) ?? '';
    const headingLike = /^[\s\p{L}\p{N}.():;&[\]*'’-]*$/u.test(prefix) && words.length <= 8
      && words.every((w) => /^\p{Lu}/u.test(w) || SMALL_WORDS.has(w) || (w.length <= 4 && /^[a-z]+$/.test(w) && new RegExp(`\\b${w}[.)]`).test(prefix)))
      && (words.length === 0 || !DETERMINERS.has(last.toLowerCase()) || /[.:)\]]\s*$|\n/.test(prefix));
    return headingLike ? start + m.index : start;
  }
  return start;
}

/** One clause entity snapped to its sentence: heading dropped, start and end moved to the sentence's where near. */
export function snapClause(text: string, start: number, end: number): { start: number; end: number } {
  let s = trimStart(text, start, end);
  let e = trimEnd(text, s, end);
  // A run on into the next sentence: cut when the part after the last sentence start is short.
  const next = lastSentenceStart(text, s, e);
  if (next > s && e - next <= MAX_TAIL && next - s > e - next) e = trimEnd(text, s, next);
  // Started mid-sentence: back to the sentence's start when it is near.
  let before = s - 1;
  while (before >= 0 && /[ \t]/.test(text[before])) before--;
  if (before >= 0 && (/^[\p{Ll},;]/u.test(text[s]) || /[\p{Ll},]/u.test(text[before]))) {
    const from = lastSentenceStart(text, Math.max(-1, s - MAX_START_REACH - 1), s);
    if (from >= 0) s = from;
  }
  s = afterHeading(text, s, e);
  const number = SECTION_NUMBER.exec(text.slice(s, e));
  if (number) s += number[0].length;
  // Ended mid-sentence: on to the sentence's end when it is near.
  let after = e;
  while (after < text.length && /[ \t]/.test(text[after])) after++;
  // Mid-sentence: a lower-case word, a comma or bracket follows, or the span stops inside a number ("5.2, 5|.3").
  const midToken = after === e && /^[.,]?[\p{N}(]/u.test(text.slice(e, e + 2)) && /[\p{N}]$/u.test(text.slice(s, e));
  if (after < text.length && (midToken || /[\p{Ll},(]/u.test(text[after])) && !/[.;:]$/.test(text.slice(s, e))) {
    const to = sentenceEnd(text, e, MAX_END_REACH);
    if (to > e) e = to;
  }
  return { start: s, end: e };
}

/** The entities of `labels` snapped to their sentences (snapClause); others as they are. */
export function snapClauses(entities: readonly NerEntity[], text: string, labels: readonly string[] = CLAUSE_LABELS): NerEntity[] {
  return entities.map((entity) => {
    if (!labels.includes(entity.label)) return entity;
    const { start, end } = snapClause(text, entity.start, entity.end);
    return start === entity.start && end === entity.end ? entity : { ...entity, start, end, text: text.slice(start, end) };
  });
}
