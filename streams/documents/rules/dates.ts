// Calendar dates as contracts write them -> ISO 8601. Every date is checked against the real
// calendar (February 30 and month 13 are rejected, not rolled over like JavaScript's Date does).
// Numeric dates whose day and month could swap (03/04/2020) are read by the stated order and
// flagged `ambiguous`. normalize-date.ts decides what a whole entity text means.
import { NUMBER_WORD_PATTERN, parseNumberWords, parseYearWords } from './number-words.ts';

/** How numeric dates a/b/yyyy are read: 'MDY' (US, the default) or 'DMY' (most other locales). */
export type DateOrder = 'MDY' | 'DMY';

export interface FoundDate {
  start: number; end: number; // offsets into the cleaned text of cleanDateText()
  iso: string; // 'YYYY-MM-DD', or 'YYYY-MM' when the day is not given
  precision: 'day' | 'month';
  ambiguous: boolean; // day and month could be swapped and nothing in the date decides which
  notes: string[];
}
export interface FoundDateProblem { start: number; end: number; problem: string }

const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const MONTH_DISPLAY = MONTH_NAMES.map((n) => n[0].toUpperCase() + n.slice(1));
const MONTH_ALIASES: Record<string, number> = { sept: 9 };
MONTH_NAMES.forEach((name, i) => { MONTH_ALIASES[name] = i + 1; MONTH_ALIASES[name.slice(0, 3)] = i + 1; });
const MONTH = `(${Object.keys(MONTH_ALIASES).sort((a, b) => b.length - a.length).join('|')})\\.?`;
const DAY_WORD = `((?:twenty|thirty)[\\s-]?)?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth)`;
const DAY = `(\\d{1,2}|${DAY_WORD})(?:\\s?(?:st|nd|rd|th))?`;
const WORD_YEAR = `${NUMBER_WORD_PATTERN}(?:[\\s-]+(?:and\\s+)?${NUMBER_WORD_PATTERN}){1,6}`;
const YEAR = `(\\d{4}|${WORD_YEAR})`;
const SEP = `(?:\\s*,\\s*|\\s+)`;

// Order matters: earlier patterns win where matches overlap.
const PATTERNS: { name: string; re: RegExp }[] = [
  { name: 'ymd', re: /\b(\d{4})([-/.])(\d{1,2})\2(\d{1,2})\b/g },
  { name: 'month-day-year', re: new RegExp(`\\b${MONTH}\\s*${DAY}${SEP}${YEAR}\\b`, 'gi') },
  { name: 'day-month-year', re: new RegExp(`\\b${DAY}\\s+(?:day\\s+of\\s+|of\\s+)?(?:the\\s+month\\s+of\\s+)?${MONTH}${SEP}(?:in\\s+the\\s+year\\s+(?:of\\s+)?)?${YEAR}\\b`, 'gi') },
  // Dotted dates need a four-digit year: "Section 2.1.10" is a section number, not 2 January 2010.
  { name: 'numeric', re: /\b(\d{1,2})(?:([/-])(\d{1,2})\2(\d{4}|\d{2})|(\.)(\d{1,2})\.(\d{4}))\b/g },
  { name: 'month-year', re: new RegExp(`\\b${MONTH}${SEP}(?:of\\s+)?(\\d{4})\\b`, 'gi') },
];

/** A cleaned text and, per cleaned code unit (plus one past the end), its offset in the original. */
export interface MappedText { text: string; at: number[] }

/** `text.replace(re, fn)` that also carries the offset map: a replacement's units map to the start of what they replace. */
function replaceMapped(src: MappedText, re: RegExp, fn: (match: string, ...groups: string[]) => string): MappedText {
  let text = '';
  const at: number[] = [];
  let last = 0;
  for (const m of src.text.matchAll(re)) {
    const i = m.index;
    text += src.text.slice(last, i);
    for (let k = last; k < i; k++) at.push(src.at[k]);
    const replacement = fn(m[0], ...m.slice(1));
    text += replacement;
    for (let k = 0; k < replacement.length; k++) at.push(src.at[i + Math.min(k, m[0].length - 1)]);
    last = i + m[0].length;
  }
  text += src.text.slice(last);
  for (let k = last; k < src.at.length; k++) at.push(src.at[k]);
  return { text, at };
}

/**
 * Undoes what PDF text extraction does to dates ("17t h day", "1s t", non-breaking spaces,
 * "MAY , 2010") so the patterns see one spelling; `at` maps the result back to `text`.
 */
export function cleanDateTextMapped(text: string): MappedText {
  let m: MappedText = { text, at: Array.from({ length: text.length + 1 }, (_, i) => i) };
  m = replaceMapped(m, /[\u00a0\u2007\u202f]/g, () => ' ');
  m = replaceMapped(m, /(\d)\s?(s\s?t|n\s?d|r\s?d|t\s?h)\b/gi, (_m, d, suffix) => d + suffix.replace(/\s/g, ''));
  m = replaceMapped(m, /\((\d{1,2}(?:st|nd|rd|th)?)\)(?=\s*day\b)/gi, (_m, day) => day); // "(1st) day of January"
  // "as of1 August 2019": text layers glue a day to the word before it, which hides the date from
  // the patterns' word boundary. A space goes in where a lower-case letter meets a day and a month.
  m = replaceMapped(m, new RegExp(`(?<=[a-z])(?=\\d{1,2}(?:st|nd|rd|th)?\\s+${MONTH}\\b)`, 'gi'), () => ' ');
  m = replaceMapped(m, /\s+,/g, () => ',');
  return replaceMapped(m, /\s+/g, () => ' ');
}

export function cleanDateText(text: string): string {
  return cleanDateTextMapped(text).text;
}

export function daysInMonth(year: number, month: number): number {
  return month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Checks a year/month/day against the calendar; returns the ISO date or why it is impossible. */
export function checkCalendarDate(year: number, month: number, day: number): { iso: string } | { problem: string } {
  if (!Number.isInteger(year) || year < 1900 || year > 2199) return { problem: `implausible year ${year} (expected 1900-2199)` };
  if (!Number.isInteger(month) || month < 1 || month > 12) return { problem: `impossible date: month ${month} does not exist` };
  const last = daysInMonth(year, month);
  if (!Number.isInteger(day) || day < 1 || day > last) {
    const leap = month === 2 && day === 29 ? ` (${year} is not a leap year)` : '';
    return { problem: `impossible date: ${MONTH_DISPLAY[month - 1]} ${year} has ${last} days, not ${day}${leap}` };
  }
  return { iso: `${year}-${pad(month)}-${pad(day)}` };
}

function dayValue(raw: string): number | null {
  return /^\d+$/.test(raw) ? Number(raw) : parseNumberWords(raw);
}

function yearValue(raw: string): number | null {
  return /^\d{4}$/.test(raw) ? Number(raw) : parseYearWords(raw);
}

/** Two-digit years pivot at 50: 00-49 -> 2000s, 50-99 -> 1900s (CUAD spans 1993-2020). */
function expandYear(raw: string, notes: string[]): number {
  if (raw.length === 4) return Number(raw);
  const yy = Number(raw);
  const year = yy < 50 ? 2000 + yy : 1900 + yy;
  notes.push(`two-digit year '${raw}' read as ${year}`);
  return year;
}

function readNumeric(m: RegExpExecArray, order: DateOrder): Omit<FoundDate, 'start' | 'end'> | { problem: string } {
  const [aRaw, sep, bRaw, yRaw] = m[5] === '.' ? [m[1], '.', m[6], m[7]] : [m[1], m[2], m[3], m[4]];
  const notes: string[] = [];
  const a = Number(aRaw), b = Number(bRaw);
  const year = expandYear(yRaw, notes);
  // Dotted dates (15.06.2020) are day-first wherever they are written; slashes follow the order.
  const dayFirst = sep === '.' ? true : order === 'DMY';
  const asMonthDay = checkCalendarDate(year, a, b);
  const asDayMonth = checkCalendarDate(year, b, a);
  if ('problem' in asMonthDay && 'problem' in asDayMonth) {
    return { problem: `impossible date '${m[0]}': no reading as month/day or day/month exists` };
  }
  if ('problem' in asMonthDay || 'problem' in asDayMonth || a === b) {
    // One reading is impossible (a day above 12 decides it) or both readings are the same date.
    const only = 'iso' in asMonthDay ? asMonthDay : asDayMonth as { iso: string };
    if (a !== b && dayFirst !== ('iso' in asDayMonth)) notes.push(`'${m[0]}' is ${'iso' in asDayMonth ? 'day/month' : 'month/day'}: the other reading is impossible`);
    return { iso: only.iso, precision: 'day', ambiguous: false, notes };
  }
  const chosen = dayFirst ? asDayMonth : asMonthDay;
  const other = dayFirst ? asMonthDay : asDayMonth;
  const rule = sep === '.' ? 'dotted dates are day-first' : order === 'DMY' ? 'date order DMY' : 'US convention month/day';
  notes.push(`'${m[0]}' read as ${chosen.iso} (${rule}); could be ${other.iso}`);
  return { iso: chosen.iso, precision: 'day', ambiguous: true, notes };
}

function readMatch(name: string, m: RegExpExecArray, order: DateOrder): Omit<FoundDate, 'start' | 'end'> | { problem: string } | null {
  const notes: string[] = [];
  const monthOf = (raw: string) => MONTH_ALIASES[raw.toLowerCase()];
  let year: number | null, month: number, day: number | null;
  switch (name) {
    case 'ymd': year = Number(m[1]); month = Number(m[3]); day = Number(m[4]); break;
    case 'month-day-year': month = monthOf(m[1]); day = dayValue(m[2]); year = yearValue(m[4]); break;
    case 'day-month-year': day = dayValue(m[1]); month = monthOf(m[3]); year = yearValue(m[4]); break;
    case 'numeric': return readNumeric(m, order);
    case 'month-year': {
      const checked = checkCalendarDate(Number(m[2]), monthOf(m[1]), 1);
      if ('problem' in checked) return checked;
      return { iso: checked.iso.slice(0, 7), precision: 'month', ambiguous: false, notes: [`'${m[0]}' gives no day: partial date`] };
    }
    default: return null;
  }
  if (year === null || day === null) return null; // words that are not numbers: not a date
  if (!/^\d{4}$/.test(name === 'ymd' ? m[1] : m[4])) notes.push(`year written in words: '${m[4]}'`);
  const checked = checkCalendarDate(year, month, day);
  return 'problem' in checked ? { problem: `${checked.problem} ('${m[0]}')` } : { iso: checked.iso, precision: 'day', ambiguous: false, notes };
}

/** Every calendar date expression in `cleaned` (output of cleanDateText), in text order. */
export function findDates(cleaned: string, order: DateOrder = 'MDY'): (FoundDate | FoundDateProblem)[] {
  const found: (FoundDate | FoundDateProblem)[] = [];
  const overlaps = (s: number, e: number) => found.some((f) => s < f.end && e > f.start);
  for (const { name, re } of PATTERNS) {
    re.lastIndex = 0;
    for (let m = re.exec(cleaned); m !== null; m = re.exec(cleaned)) {
      const start = m.index, end = m.index + m[0].length;
      if (overlaps(start, end)) continue;
      const read = readMatch(name, m, order);
      if (read !== null) found.push({ start, end, ...read });
    }
  }
  return found.sort((x, y) => x.start - y.start);
}

// A date the signed form left blank: "November ___, 2006", "____________, 1996", "this ____ day
// of ________, 20__", "[·] day of [·], 2019", "this day of , 2012" (the underscores dropped by the
// text layer). CUAD answers an unsigned contract's date with the blank as written, so the blank is a
// candidate too; its value is its text (normalize-date.ts says why it is no date).
const BLANK = String.raw`(?:_{2,}[_ ]*|\[\s*[·●•*]?\s*\]|\[Date\])`;
const BLANK_YEAR = String.raw`(?:19|20)(?:\d\d|\d?_+)?\b`;
const BLANK_DATE_PATTERNS: RegExp[] = [
  // "this ___ day of ______, 20__", "day of , 2014", "14 day of SEPTEMBER, 200_" (a blank year)
  new RegExp(String.raw`(?:\bthis\s+)?(?:(?:${BLANK}|\b\d{1,2}(?:st|nd|rd|th)?)\s*)?\bday\s+of\s*(?:${BLANK}|${MONTH})?\s*,?\s*${BLANK_YEAR}`, 'gi'),
  new RegExp(String.raw`\b${MONTH}\s*${BLANK}\s*,?\s*${BLANK_YEAR}`, 'gi'),
  new RegExp(String.raw`${BLANK}\s*(?:__+\s*)?,\s*${BLANK_YEAR}`, 'g'),
];

export interface BlankDate { start: number; end: number; text: string }

/** The blank dates of `text` (see BLANK_DATE_PATTERNS); one with "this" before it also comes without. */
export function findBlankDates(text: string): BlankDate[] {
  const out: BlankDate[] = [];
  const taken: [number, number][] = [];
  for (const re of BLANK_DATE_PATTERNS) {
    for (const m of text.matchAll(re)) {
      const start = m.index, end = m.index + m[0].trimEnd().length;
      if (taken.some(([s, e]) => start < e && end > s)) continue;
      const before = text.slice(Math.max(0, start - 12), start);
      const blankYear = /_$/.test(m[0].trimEnd()) || /\b(?:19|20)\d?$/.test(m[0].trimEnd());
      // "1st day of June, 2004" is a calendar date (findDatesInText); only a blank year keeps a day.
      if ((/\d(?:\s?(?:st|nd|rd|th))?\s*$/i.test(before) || /^(?:this\s+)?\d/i.test(m[0])) && !blankYear) continue;
      if (!/_|\[|day\s+of\s*,|\s,/.test(m[0]) && !blankYear) continue;
      taken.push([start, end]);
      out.push({ start, end, text: text.slice(start, end) });
      const lead = /^this\s+/i.exec(m[0]);
      if (lead) out.push({ start: start + lead[0].length, end, text: text.slice(start + lead[0].length, end) });
    }
  }
  return out.sort((a, b) => a.start - b.start || b.end - a.end);
}

/** findDates over a raw text: offsets index `text` itself (cleaned for matching, mapped back). */
export function findDatesInText(text: string, order: DateOrder = 'MDY'): FoundDate[] {
  const cleaned = cleanDateTextMapped(text);
  return findDates(cleaned.text, order).filter((f): f is FoundDate => 'iso' in f).map((f) => ({
    ...f, start: cleaned.at[f.start], end: cleaned.at[f.end - 1] + 1,
  }));
}
