// One entity per label and text: the tagger marks a party's name at every mention (it is trained
// that way: models/documents/train.py training_spans), and a contract names its parties dozens of
// times. Lawyers, the review topic and the index want each name once, so repeated mentions merge
// into the first, which keeps its page and offsets and takes the most confident mention's score.
// A label in the meta's defined_within (PARTY) keeps only names the contract defines: in its
// opening characters (the preamble) or in quotes somewhere ("Licensee"); the tagger also marks
// auditors, regulators and acronyms that are no party. A label capped by max_per_document (a
// contract has one governing-law clause) keeps only its most confident entities. Both are chosen
// on validation by models/documents/evaluate.py, whose merge_mentions is the Python twin.
import { escapeRegExp } from '../document-text.ts';
import type { NerEntity } from './ner.ts';

const EDGE = /^[\s"'“”‘’.,;:()[\]]+|[\s"'“”‘’.,;:()[\]]+$/gu;

/** Casefolded, whitespace runs to one space, edge quotes and punctuation off: the normalisation of
 * models/documents/metrics.py normalise_entity_text, so texts compare here as the evaluation compares them. */
export function normaliseEntityText(text: string): string {
  return text.toLowerCase().replace(/\s+/gu, ' ').replace(EDGE, '');
}

/** The key two mentions share: the label and the normalised text. */
export function mentionKey(label: string, text: string): string {
  return `${label}\u0000${normaliseEntityText(text)}`;
}

export interface MergeOptions {
  /** The text the entities' offsets index (needed for definedWithin). */
  text?: string;
  /** Per label: keep only entities whose first mention starts before this offset or that stand in quotes somewhere. */
  definedWithin?: Record<string, number>;
  /** Per label: keep only this many, the most confident. */
  maxPerDocument?: Record<string, number>;
}

/** True when the contract defines `name`: its first mention is in the opening `window` characters, or it is quoted. */
export function isDefined(text: string, name: string, firstStart: number, window: number): boolean {
  return firstStart < window || new RegExp(`["“]\\s*${escapeRegExp(name)}\\s*["”]`, 'u').test(text);
}

/** Entities in text order, one per (label, normalised text); an empty normalised text is dropped;
 * then the definedWithin filter and the per-label caps (the most confident, the earlier on a tie). */
export function mergeMentions(entities: readonly NerEntity[], options: MergeOptions = {}): NerEntity[] {
  const first = new Map<string, NerEntity>();
  const ordered = [...entities].sort((a, b) => a.start - b.start || a.end - b.end || a.label.localeCompare(b.label));
  for (const e of ordered) {
    const key = mentionKey(e.label, e.text);
    if (key.endsWith('\u0000')) continue;
    const seen = first.get(key);
    if (!seen) first.set(key, { ...e });
    else seen.confidence = Math.max(seen.confidence, e.confidence);
  }
  let kept = [...first.values()];
  for (const [label, window] of Object.entries(options.definedWithin ?? {})) {
    if (options.text === undefined) throw new Error('mergeMentions: definedWithin needs the text');
    const text = options.text;
    kept = kept.filter((e) => e.label !== label || isDefined(text, e.text, e.start, window));
  }
  for (const [label, cap] of Object.entries(options.maxPerDocument ?? {})) {
    const mine = kept.filter((e) => e.label === label);
    if (mine.length <= cap) continue;
    const keep = new Set(mine.sort((a, b) => b.confidence - a.confidence || a.start - b.start).slice(0, cap));
    kept = kept.filter((e) => e.label !== label || keep.has(e));
  }
  return kept;
}
