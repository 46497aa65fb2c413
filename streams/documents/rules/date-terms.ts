// Expiry and notice wording that is not a calendar date: "five (5) years after the Effective
// Date", "the third anniversary of the date hereof", "until terminated", "ninety (90) days".
// These become a structured term; a date is computed from it only when its anchor date is known.
import { NUMBER_WORD_PATTERN, parseNumberWords } from './number-words.ts';
import { daysInMonth } from './dates.ts';

export interface Duration { years: number; months: number; weeks: number; days: number; businessDays: boolean }
/** The date a relative term counts from. */
export type DateAnchor = 'EFFECTIVE_DATE' | 'AGREEMENT_DATE';
export interface RelativeTerm {
  duration: Duration;
  /** null: counted from an event that is not a date of the contract ("after the Launch"). */
  from: DateAnchor | null;
  fromText: string; // the words naming the anchor, or why it was assumed
  text: string; // the duration as written
}

const NUMBER_PHRASE = `${NUMBER_WORD_PATTERN}(?:[\\s-]+(?:and\\s+)?${NUMBER_WORD_PATTERN}){0,4}`;
const DURATION_RE = new RegExp(
  `\\b(?:(${NUMBER_PHRASE})\\s*(?:\\(\\s*(\\d+)\\s*\\))?|(\\d+))\\s*[-\\s]?\\s*(calendar\\s+|business\\s+|working\\s+|consecutive\\s+)?(year|month|week|day)s?\\b`, 'i');
const ANNIVERSARY_RE = new RegExp(`\\b(${NUMBER_PHRASE}|\\d+(?:st|nd|rd|th))\\s+anniversary\\b`, 'i');

const ANCHOR_PHRASES: { re: RegExp; from: DateAnchor }[] = [
  { re: /\beffective date\b|\bcommencement date\b/i, from: 'EFFECTIVE_DATE' },
  // "the date first written above", "the date set forth below"; not "the Expiration Date set forth in the Addendum".
  { re: /\bdate (?:first (?:above )?(?:written|set forth|stated)|(?:written|set forth|stated) (?:above|below)|above written)\b|\bdate hereof\b|\bdate of (?:this|the) agreement\b|\bexecution date\b|\bdate of (?:its )?execution\b|\bdate of signing\b/i, from: 'AGREEMENT_DATE' },
];
/** fromText of a term whose clause names no start. */
export const ASSUMED_START = 'no start named: the term of an agreement starts at its effective date';
const EVENT_RE = /\b(?:after|from|following|of|upon)\s+(?:the\s+)?((?:[A-Z][\w-]*\s?){1,4})/;

/** The first duration in the text ("five (5) years", "12 months", "the 3rd anniversary"), or why it cannot be read. */
export function findDuration(text: string): { duration: Duration; text: string; end: number } | { problem: string } | null {
  const m = DURATION_RE.exec(text);
  if (m) {
    const [whole, words, digitsInParens, digits, kind, unit] = m;
    let n: number | null = digits !== undefined ? Number(digits) : parseNumberWords(words);
    if (n === null) return null;
    if (digitsInParens !== undefined && Number(digitsInParens) !== n) {
      return { problem: `duration words and figures disagree: '${whole.trim()}' (${n} vs ${digitsInParens})` };
    }
    n = digitsInParens !== undefined ? Number(digitsInParens) : n;
    const unitKey = unit.toLowerCase();
    const duration: Duration = { years: 0, months: 0, weeks: 0, days: 0, businessDays: /business|working/i.test(kind ?? '') };
    if (unitKey === 'year') duration.years = n; else if (unitKey === 'month') duration.months = n;
    else if (unitKey === 'week') duration.weeks = n; else duration.days = n;
    return { duration, text: whole.trim(), end: m.index + whole.length };
  }
  const a = ANNIVERSARY_RE.exec(text);
  if (a) {
    const raw = a[1].toLowerCase();
    const n = /^\d/.test(raw) ? parseInt(raw, 10) : parseNumberWords(raw);
    if (n !== null && n > 0) return { duration: { years: n, months: 0, weeks: 0, days: 0, businessDays: false }, text: a[0], end: a.index + a[0].length };
  }
  return null;
}

/** ISO 8601 duration ("P5Y", "P90D", "P2W"); business days have no ISO form and are counted as days here. */
export function durationToIso8601(d: Duration): string {
  const parts = `${d.years ? d.years + 'Y' : ''}${d.months ? d.months + 'M' : ''}${d.weeks ? d.weeks + 'W' : ''}${d.days ? d.days + 'D' : ''}`;
  return 'P' + (parts || '0D');
}

/** Adds a calendar duration to an ISO date; a month end clamps (Jan 31 + 1 month = Feb 28/29). */
export function addDuration(iso: string, d: Duration): string {
  const [y, m, day] = iso.split('-').map(Number);
  const totalMonths = (y * 12 + (m - 1)) + d.years * 12 + d.months;
  const year = Math.floor(totalMonths / 12), month = (totalMonths % 12) + 1;
  const clamped = Math.min(day, daysInMonth(year, month));
  const t = Date.UTC(year, month - 1, clamped) + (d.weeks * 7 + d.days) * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/**
 * What a term counts from. The words right after the duration decide first ("after the Launch"
 * is an event: from null); then a contract date named anywhere in the clause; a bare term ("an initial term of three (3) years") starts at the effective date,
 * which is what a term of an agreement means when the clause names no start.
 */
export function findAnchor(text: string, afterDuration = ''): { from: DateAnchor | null; fromText: string } {
  // The words right after the duration ("twelve (12) months after the Launch") name its start
  // more surely than a contract date mentioned elsewhere in the clause.
  const near = afterDuration.slice(0, 80);
  if (/^\W*(?:\w+\W+){0,2}?(?:after|from|following|of|upon)\b/i.test(near)) {
    const anchor = ANCHOR_PHRASES.find(({ re }) => re.test(near));
    if (anchor) return { from: anchor.from, fromText: (anchor.re.exec(near) as RegExpExecArray)[0] };
    const event = EVENT_RE.exec(near);
    if (event && !/^(?:this|such|any|its)\b/i.test(event[1])) return { from: null, fromText: event[1].trim() };
  }
  for (const { re, from } of ANCHOR_PHRASES) {
    const m = re.exec(text);
    if (m) return { from, fromText: m[0] };
  }
  return { from: 'EFFECTIVE_DATE', fromText: ASSUMED_START };
}

export function findRelativeTerm(text: string): RelativeTerm | { problem: string } | null {
  const found = findDuration(text);
  if (found === null || 'problem' in found) return found;
  return { duration: found.duration, ...findAnchor(text, text.slice(found.end)), text: found.text };
}

/** "until terminated", "perpetual", "indefinitely": an expiry that no date can express. */
export function isOpenEnded(text: string): boolean {
  return /\buntil\s+(?:\w+\s+){0,3}terminated\b|\bperpetu|\bindefinite|\buntil\s+(?:either|one|a)\s+party\s+terminates\b|\bno\s+fixed\s+term\b/i.test(text);
}

/** References to the contract's own date: "the date first written above", "the date hereof". */
export function refersToAgreementDate(text: string): boolean {
  return ANCHOR_PHRASES[1].re.test(text) || /\bwhen (?:it is )?(?:signed|executed) by (?:both|all) parties\b/i.test(text);
}
