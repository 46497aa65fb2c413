// Which calendar date of a contract is its agreement date, which its effective date: a ranker over
// every date the rules can read (findDatesInText; since 2026-12-06.5 also the dates a form left
// blank and the sentences that make a contract effective without a date), not a tagger. The tagger of ner.ts had to find
// and delimit a date among thousands of words, and missed half of CUAD's agreement dates (validation
// recall 0.46): a contract's date almost always sits in a few recognisable places ("dated as of",
// "made and entered into this", "effective as of", the signature block), so a linear model over the
// words around each candidate and its place in the document picks it far more often. The weights are
// fitted by models/documents/date_ranker.py on the train and validation splits' candidates (features
// written by date-ranker-data.ts, this file's twin for training), with the penalty and threshold
// chosen by cross-validation; this file is the only implementation of the features, so training and
// serving cannot drift apart.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { refersToAgreementDate } from '../rules/date-terms.ts';
import { findBlankDates, findDatesInText, type FoundDate } from '../rules/dates.ts';
import { snapClause } from './clause-bounds.ts';
import { normaliseEntityText } from './mentions.ts';
import type { NerEntity } from './ner.ts';

export const DATE_RANKER_FILE = 'date-ranker.json';

export interface DateRankerLabel {
  /**
   * 'softmax' (since 2026-12-06.6): a candidate's probability is its share of its contract, beside a
   * "none of them" option scored `none`, so candidates compete for the one answer. Absent or
   * 'sigmoid' (until .5): each candidate alone, the logistic of `bias` plus its weights; older model
   * folders in the registry still load.
   */
  scoring?: 'sigmoid' | 'softmax';
  bias?: number;
  none?: number;
  weights: Record<string, number>;
  /** The best candidate becomes the label's entity when its probability reaches this (chosen by cross-validation). */
  threshold: number;
  /** Below this probability the entity goes to review: out-of-fold precision above it is >= 0.9. */
  review_threshold?: number;
}
export interface DateRankerModel {
  model_version: string;
  labels: Record<string, DateRankerLabel>;
}

export interface DateCandidate {
  start: number;
  end: number;
  /** The ISO date, or for a blank date ("____, 2013") or an effective sentence its text as textValue gives it. */
  iso: string;
  text: string;
  features: string[];
}

/** The value of an answer that is no date (a blank, a sentence): its normalised text, the way evaluation compares texts. */
export function textValue(text: string): string {
  return `text:${normaliseEntityText(text)}`;
}

const WORD = /[\p{L}\p{N}]+/gu;
const BEFORE_WORDS = 6;
const AFTER_WORDS = 4;
const CUES: [string, RegExp][] = [
  ['effective_date', /effective\s+date/i],
  ['effective', /\beffective\b/i],
  ['dated', /\bdated\b/i],
  ['as_of', /\bas\s+of\b/i],
  ['entered', /\bentered\s+into\b/i],
  ['made', /\bmade\b/i],
  ['expire', /\bexpir/i],
  ['terminat', /\bterminat/i],
  ['commence', /\bcommenc/i],
  ['signature', /\b(?:by:|name:|title:|signature|witness)/i],
  ['amend', /\bamend/i],
];
const POSITION_BUCKETS = [300, 700, 1500, 3000, 6000, 15000, 40000];

// How the contract defines its effective date, the same for all its candidates: by reference to
// its own date ("'Effective Date' means the date first written above", "commence on the date hereof
// (the 'Effective Date')": CUAD then answers with the agreement date), by an event ("the date of the
// Closing": no calendar date is the answer), or not at all. Joined with the candidate's place, so the
// first date of a contract that defines its effective date by reference can be told from the rest.
const EFFECTIVE_TERM = String.raw`["“]?effective\s+date["”]?`;
const OWN_DATE = String.raw`(?:the\s+)?(?:date|day\s+and\s+year)\s+(?:first\s+)?(?:(?:written|set\s+forth|stated|shown|listed)\s+above|above\s+written|hereof|of\s+this\s+agreement)`;
const EFFECTIVE_BY_REFERENCE = new RegExp(`${EFFECTIVE_TERM}\\)?\\s+(?:means|shall\\s+mean|shall\\s+be|is)\\s+${OWN_DATE}|${OWN_DATE}\\s*\\(\\s*(?:the\\s+|hereinafter\\s+)?${EFFECTIVE_TERM}|effective\\s+(?:as\\s+of|on|from|upon|as\\s+from|as\\s+at)\\s+${OWN_DATE}`, 'i');
const EFFECTIVE_BY_EVENT = new RegExp(`${EFFECTIVE_TERM}\\)?\\s+(?:means|shall\\s+mean|shall\\s+be)\\s+(?:the\\s+)?(?:date\\s+(?:on|upon|of|that|when)|first\\s+date|later|earlier|closing)`, 'i');

// Where a contract uses the word "effective", for the contracts that define their effective date
// neither by reference nor by an event ('other'). Over train and validation (label_ceiling.py), of the
// contracts whose effective date CUAD answers with the agreement date or leaves empty, it is the
// agreement date in 135 of 144 with "effective" in the preamble ("made effective as of ...") and in
// 17 of 46 where the word comes later in a phrase ("shall become effective upon ...").
// label_ceiling.py's effective_usage is the same reading in Python, for that measurement: change both.
const PREAMBLE = 2000;
export function effectiveUsage(text: string): 'preamble' | 'defined' | 'phrase' | 'incidental' {
  if (/\beffective\b/i.test(text.slice(0, PREAMBLE))) return 'preamble';
  if (/["“]effective\s+date["”]/i.test(text)) return 'defined';
  if (/\beffective\s+(?:date|as\s+of|on|upon|from|immediately)\b/i.test(text)) return 'phrase';
  return 'incidental';
}

export function effectiveDefinition(text: string): 'reference' | 'event' | 'none' | 'other' {
  if (EFFECTIVE_BY_REFERENCE.test(text)) return 'reference';
  if (EFFECTIVE_BY_EVENT.test(text)) return 'event';
  return /\beffective\b/i.test(text) ? 'other' : 'none';
}

// A contract whose effective date is an event ("shall become effective upon the approval of the
// authority", "'Effective Date' means the date of the last signature") has no calendar date for it:
// CUAD answers with the sentence. The sentences that define when the contract takes effect are
// candidates too, valued by their text; one that points at the contract's own date is left to the
// dates (the rules resolve it to the agreement date).
const EFFECTIVE_SENTENCE = /\b(?:shall|will|is\s+to|to)\s+(?:become|be|take|come\s+into|enter\s+into)\s+(?:effective|effect|force)\b|\bis\s+effective\b|\btakes?\s+effect\b|["“]effective\s+date["”]\)?\s+(?:means|shall\s+mean|shall\s+be)\b|\(\s*(?:the\s+|hereinafter\s+)?["“][\w\s-]*effective\s+(?:date|time)["”]/gi;
const MAX_SENTENCE = 600;
const SENTENCE_CUES: [string, RegExp][] = [
  ['means', /\bmeans?\b/i], ['sign', /\bsign|\bexecut/i], ['last', /\blast\b|\blater\b/i], ['approv', /\bapprov/i],
  ['closing', /\bclosing\b/i], ['upon', /\bupon\b/i], ['term', /\bterm\b/i], ['continue', /\bcontinu|\bremain/i],
];

export function effectiveSentences(text: string): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (const m of text.matchAll(EFFECTIVE_SENTENCE)) {
    const { start, end } = snapClause(text, m.index, m.index + m[0].length);
    const sentence = text.slice(start, end);
    if (end - start > MAX_SENTENCE || out.some((o) => o.start === start)) continue;
    if (findDatesInText(sentence).length > 0 || findBlankDates(sentence).length > 0 || refersToAgreementDate(sentence)) continue;
    out.push({ start, end });
  }
  return out;
}

// The date a defined term names: "November 1, 2019 (the "Effective Date")", "(Effective Date: February
// 5, 2020)", ""Effective Date" means October 31, 2019". The words around a candidate see "effective"
// and "date" but not that the term is defined by this very date, and that is what CUAD answers with.
const TERM_AFTER = /^\s*,?\s*\(\s*(?:the\s+|this\s+|hereinafter\s+(?:the\s+)?|herein\s+)?["“']{0,2}([a-z][\w\s-]{0,40}?)["”']{0,2}\s*\)/i;
const TERM_BEFORE = /["“']?([a-z][\w-]*(?:\s+[a-z][\w-]*){0,3})["”']?\s*(?:\)\s*)?(?::|means|shall\s+mean|shall\s+be|is)\s*(?:the\s+)?$/i;

/** The defined term whose value the candidate is ("effective_date", "agreement_date", "other_date"), or null. */
export function definedTerm(text: string, start: number, end: number): string | null {
  const after = TERM_AFTER.exec(text.slice(end, end + 60));
  const before = TERM_BEFORE.exec(text.slice(Math.max(0, start - 50), start));
  const term = (after?.[1] ?? before?.[1] ?? '').toLowerCase().replace(/\s+/g, ' ').trim();
  if (!term) return null;
  if (/effective\s+date$/.test(term)) return 'effective_date';
  if (/(?:agreement|execution|signing)\s+date$/.test(term)) return 'agreement_date';
  return after && /date$/.test(term) ? 'other_date' : null;
}

function words(s: string): string[] {
  return (s.toLowerCase().match(WORD) ?? []);
}

/** Every date the rules read in `text`, with the features the ranker scores. */
export function dateCandidates(text: string): DateCandidate[] {
  const calendar = (f: { precision: string }) => f.precision === 'day' || f.precision === 'month';
  const found: (Pick<FoundDate, 'start' | 'end' | 'iso'> & { precision: string })[] = [
    ...findDatesInText(text).filter(calendar),
    ...findBlankDates(text).map((b) => ({ start: b.start, end: b.end, iso: textValue(b.text), precision: 'blank' })),
    ...effectiveSentences(text).map((c) => ({ ...c, iso: textValue(text.slice(c.start, c.end)), precision: 'sentence' })),
  ].sort((a, b) => a.start - b.start || b.end - a.end);
  const count = new Map<string, number>();
  for (const f of found) count.set(f.iso, (count.get(f.iso) ?? 0) + 1);
  const distinct = [...new Set(found.filter(calendar).map((f) => f.iso))].sort();
  const seen = new Set<string>();
  const definition = `eff_def:${effectiveDefinition(text)}`;
  const usage = definition === 'eff_def:other' ? `eff_use:${effectiveUsage(text)}` : null;
  return found.map((f, index) => {
    const before = words(text.slice(Math.max(0, f.start - 80), f.start)).slice(-BEFORE_WORDS);
    const after = words(text.slice(f.end, f.end + 60)).slice(0, AFTER_WORDS);
    const near = text.slice(Math.max(0, f.start - 150), Math.min(text.length, f.end + 100));
    const defined = definedTerm(text, f.start, f.end);
    const features = [
      `pos:${POSITION_BUCKETS.findIndex((b) => f.start < b)}`,
      `rank:${Math.min(index, 6)}`,
      `prec:${f.precision}`,
      `count:${Math.min(count.get(f.iso)!, 4)}`,
      `order:${!calendar(f) ? f.precision : distinct.indexOf(f.iso) === 0 ? 'earliest' : distinct.indexOf(f.iso) === distinct.length - 1 ? 'latest' : 'middle'}`,
      ...(seen.has(f.iso) ? ['repeat'] : ['first_of_value']),
      ...before.map((w) => `b:${w}`),
      ...(before.length ? [`b1:${before[before.length - 1]}`] : []),
      ...(before.length > 1 ? [`b2:${before.slice(-2).join('_')}`] : []),
      ...after.map((w) => `a:${w}`),
      ...(after.length ? [`a1:${after[0]}`] : []),
      ...CUES.filter(([, re]) => re.test(near)).map(([name]) => `near:${name}`),
      ...(/\(\s*$/.test(text.slice(Math.max(0, f.start - 3), f.start)) ? ['paren'] : []),
      ...(f.precision === 'blank' && /^this\b/i.test(text.slice(f.start, f.end)) ? ['blank:this'] : []),
      ...(f.precision === 'sentence' ? SENTENCE_CUES.filter(([, re]) => re.test(text.slice(f.start, f.end))).map(([name]) => `sent:${name}`) : []),
      ...(defined ? [`defines:${defined}`] : []),
      definition,
      `${definition}&rank:${Math.min(index, 2)}`,
      ...(usage ? [usage, `${usage}&rank:${Math.min(index, 2)}`] : []),
    ];
    seen.add(f.iso);
    return { start: f.start, end: f.end, iso: f.iso, text: text.slice(f.start, f.end), features };
  });
}

function linearScore(label: DateRankerLabel, features: readonly string[]): number {
  let z = 0;
  for (const f of features) z += label.weights[f] ?? 0;
  return z;
}

/** Each candidate's probability of being the label's answer, in the order given. */
export function candidateProbabilities(label: DateRankerLabel, candidates: readonly Pick<DateCandidate, 'features'>[]): number[] {
  const z = candidates.map((c) => linearScore(label, c.features));
  if (label.scoring !== 'softmax') return z.map((x) => 1 / (1 + Math.exp(-((label.bias ?? 0) + x))));
  const none = label.none ?? 0;
  const top = z.reduce((max, x) => (x > max ? x : max), none); // not Math.max(...z): a long contract has more dates than a call takes arguments
  const total = Math.exp(none - top) + z.reduce((sum, x) => sum + Math.exp(x - top), 0);
  return z.map((x) => Math.exp(x - top) / total);
}

/** Per label of the model, its best candidate as an entity when it reaches the label's threshold. */
export function rankDates(text: string, model: DateRankerModel, candidates = dateCandidates(text)): NerEntity[] {
  const entities: NerEntity[] = [];
  for (const [label, weights] of Object.entries(model.labels)) {
    const probabilities = candidateProbabilities(weights, candidates);
    let best = -1;
    probabilities.forEach((p, i) => { if (best < 0 || p > probabilities[best]) best = i; });
    if (best >= 0 && probabilities[best] >= weights.threshold) {
      const c = candidates[best];
      entities.push({ label, start: c.start, end: c.end, text: c.text, confidence: probabilities[best] });
    }
  }
  return entities;
}

/** The ranker beside the NER graph, or null when the folder has none (an older model folder). */
export function loadDateRanker(dir: string): DateRankerModel | null {
  const file = join(dir, DATE_RANKER_FILE);
  if (!existsSync(file)) return null;
  const model = JSON.parse(readFileSync(file, 'utf8')) as DateRankerModel;
  const wellFormed = (l: DateRankerLabel) => typeof l.threshold === 'number' && typeof l.weights === 'object'
    && (l.scoring === 'softmax' ? typeof l.none === 'number' : typeof l.bias === 'number');
  const problems = Object.entries(model.labels ?? {}).filter(([, l]) => !wellFormed(l));
  if (!model.labels || problems.length > 0) throw new Error(`${file}: every label needs weights, a threshold and its bias (sigmoid) or none score (softmax) (${problems.map(([k]) => k).join(', ') || 'no labels'})`);
  return model;
}
