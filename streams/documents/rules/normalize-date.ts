// What one date entity means: a calendar date (ISO), a term computed from a known anchor date,
// or a problem a reviewer can act on. Design of relative expiry ("five (5) years after the
// Effective Date"): it is never guessed into a date. With the anchor's ISO date in
// opts.anchors the date is computed and the term is kept beside it; without it the result is
// a problem that still carries the structured term { duration, from }.
import { cleanDateText, findDates, type DateOrder, type FoundDate } from './dates.ts';
import { addDuration, ASSUMED_START, findRelativeTerm, isOpenEnded, refersToAgreementDate, type DateAnchor, type RelativeTerm } from './date-terms.ts';

export interface DateOptions {
  /** How to read numeric dates whose day and month could swap; default 'MDY' (US contracts). */
  dateOrder?: DateOrder;
  /** The entity's label: EXPIRATION_DATE texts are often whole clauses and get clause rules. */
  label?: string;
  /** Known ISO dates of the same document, for relative terms and "the date first written above". */
  anchors?: Partial<Record<DateAnchor, string>>;
}

export interface NormalizedDate {
  iso: string; // 'YYYY-MM-DD', or 'YYYY-MM' when precision is 'month'
  precision: 'day' | 'month';
  ambiguous: boolean; // day/month order not decided by the date itself (see notes)
  notes: string[];
  term?: RelativeTerm; // present when iso was computed from a relative term
}
export interface DateProblem {
  problem: string;
  notes: string[];
  term?: RelativeTerm; // a relative term whose anchor date is unknown
  openEnded?: true; // "until terminated", "perpetual": no date exists, by design of the contract
}
export type DateResult = NormalizedDate | DateProblem;

const START_WORDS = /\b(?:commenc\w*|begin\w*|began|start\w*|effective|from|as of)\W+(?:\w+\W+){0,3}$/i;
const END_WORDS = /\b(?:until|through|expir\w*|terminat\w*|end\w*|conclud\w*|last day|ending)\W+(?:\w+\W+){0,4}$|\bto\s+$/i;

const truncate = (text: string) => (text.length > 80 ? `${text.slice(0, 77)}...` : text);

function fromTerm(term: RelativeTerm, anchors: DateOptions['anchors'], notes: string[], clause: string): DateResult {
  if (term.from === null) {
    return { problem: `no date: ${term.text} counted from '${term.fromText}', an event rather than a date`, notes, term };
  }
  if (term.duration.businessDays) return { problem: `no date: ${term.text} cannot be counted on a calendar`, notes, term };
  const anchorIso = anchors?.[term.from];
  if (anchorIso === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(anchorIso)) {
    return { problem: `relative term '${term.text}' after the ${term.from}, which is not known as a full date`, notes, term };
  }
  const iso = addDuration(anchorIso, term.duration);
  notes.push(`computed: ${term.from} ${anchorIso} + ${term.text} (the anniversary date; contracts differ on whether the term ends on it or the day before)`);
  if (/\brenew/i.test(clause)) notes.push('the clause mentions renewal: this is the end of the first term');
  return { iso, precision: 'day', ambiguous: false, notes, term };
}

/**
 * Picks the date a clause means when it holds several: for an expiry the one after
 * "until/through/end", for an effective date the one after "commence/begin/effective".
 */
function pickDate(cleaned: string, dates: FoundDate[], label: string | undefined): FoundDate | string {
  const distinct = [...new Set(dates.map((d) => d.iso))];
  if (distinct.length === 1) return dates[0];
  const cue = label === 'EXPIRATION_DATE' ? END_WORDS : label === 'EFFECTIVE_DATE' ? START_WORDS : null;
  if (cue !== null) {
    const cued = [...new Set(dates.filter((d) => cue.test(cleaned.slice(Math.max(0, d.start - 50), d.start))).map((d) => d.iso))];
    if (cued.length === 1) return dates.find((d) => d.iso === cued[0]) as FoundDate;
  }
  return `several different dates in one entity: ${distinct.join(', ')}`;
}

function agreementDateReference(cleaned: string, opts: DateOptions): DateResult {
  const agreementDate = opts.anchors?.AGREEMENT_DATE;
  if (agreementDate) return { iso: agreementDate, precision: agreementDate.length === 7 ? 'month' : 'day', ambiguous: false, notes: [`refers to the AGREEMENT_DATE: '${truncate(cleaned)}'`] };
  return { problem: `refers to the AGREEMENT_DATE, which is not known: '${truncate(cleaned)}'`, notes: [] };
}

/** Normalizes a date entity's text. See DateResult; impossible dates and unreadable text are problems. */
export function normalizeDate(text: string, opts: DateOptions = {}): DateResult {
  const cleaned = cleanDateText(text).trim();
  const found = findDates(cleaned, opts.dateOrder ?? 'MDY');
  const impossible = found.filter((f) => 'problem' in f);
  if (impossible.length > 0) return { problem: impossible[0].problem, notes: [] };
  const dates = found as FoundDate[];
  const isClause = opts.label === 'EXPIRATION_DATE';

  if (dates.length > 0) {
    const picked = pickDate(cleaned, dates, opts.label);
    if (typeof picked === 'string') return { problem: picked, notes: [] };
    const notes = [...picked.notes];
    // An expiry clause whose date is its start ("commence effective June 1, 1998, and shall
    // continue for a term of three (3) years"): the expiry is computed from the term, never the start.
    const before = cleaned.slice(Math.max(0, picked.start - 50), picked.start);
    if (isClause && START_WORDS.test(before) && !END_WORDS.test(before)) {
      const rest = cleaned.slice(0, picked.start) + ' ' + cleaned.slice(picked.end);
      const term = findRelativeTerm(rest);
      if (term !== null && 'problem' in term) return { problem: term.problem, notes };
      if (term !== null && term.fromText !== ASSUMED_START) return fromTerm(term, opts.anchors, notes, cleaned);
      if (term !== null && picked.precision === 'day') return fromTerm({ ...term, fromText: `start date ${picked.iso} in the clause` }, { EFFECTIVE_DATE: picked.iso }, notes, cleaned);
      if (isOpenEnded(cleaned)) return { problem: `no fixed date: open-ended ('${truncate(cleaned)}')`, notes: ['open-ended: runs until terminated'], openEnded: true };
      return { problem: `the only date in the expiry clause is its start (${picked.iso})`, notes };
    }
    if (cleaned.length > picked.end - picked.start + 30) notes.push(`date found inside a longer text: '${truncate(cleaned)}'`);
    return { iso: picked.iso, precision: picked.precision, ambiguous: picked.ambiguous, notes };
  }

  // No calendar date. Blanks left in a signed form ("this ____ day of ______, 2013").
  const year = /\b(19\d\d|2[01]\d\d)\b/.exec(cleaned);
  if (/_{2,}|\bday of\s*,|\[\s*\*/.test(cleaned)) {
    return { problem: year ? `date left blank in the contract: only the year ${year[0]} is filled in` : 'date left blank in the contract', notes: [] };
  }
  if (year && cleaned.replace(year[0], '').replace(/[\s,.]/g, '').length < 12) {
    return { problem: `only a year (${year[0]}): no month or day`, notes: [] };
  }
  if (!isClause && refersToAgreementDate(cleaned)) return agreementDateReference(cleaned, opts);
  const term = findRelativeTerm(cleaned);
  if (term !== null && 'problem' in term) return { problem: term.problem, notes: [] };
  if (term !== null && (isClause || term.from !== 'EFFECTIVE_DATE' || /\bafter|from|following\b/i.test(cleaned))) {
    return fromTerm(term, opts.anchors, [], cleaned);
  }
  if (isOpenEnded(cleaned)) {
    return { problem: `no fixed date: open-ended ('${truncate(cleaned)}')`, notes: ['open-ended: runs until terminated'], openEnded: true };
  }
  if (refersToAgreementDate(cleaned)) return agreementDateReference(cleaned, opts);
  return { problem: `no date found in '${truncate(cleaned)}'`, notes: [] };
}
