// Which names are a contract's parties: a ranker over candidates from three sources, because none
// finds them alone (validation, share of CUAD's party strings each one proposes): the tagger's PARTY
// entities 64 %, the terms the contract defines in parentheses ("the Company", "Licensee") 44 %, legal
// names ending in a legal form in the opening pages 33 %, together 85 %. The tagger also marks
// regulators, auditors and acronyms defined deep in the text (OTS, JDC); a linear model over where
// and how each candidate appears keeps the parties. Weights: models/documents/party_ranker.py
// (fitted on the validation split's tagger outputs and the train split's without what the tagger
// said, chosen by cross-validation within validation: the tagger's confidences on its own training
// contracts would be overconfident); features are computed
// here only (party-ranker-data.ts writes them for training), so serving and training cannot drift.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findDefinitions } from '../rules/parties.ts';
import { hasLegalForm } from '../rules/party-names.ts';
import { mentionKey } from './mentions.ts';
import type { NerEntity } from './ner.ts';

export const PARTY_RANKER_FILE = 'party-ranker.json';
/** Legal names are looked for in the opening characters: the preamble and the recitals. */
const LEGAL_NAME_REACH = 8_000;
// Each form as written and in capitals ("YOU ON DEMAND HOLDINGS, INC."): the name regex cannot be
// case-insensitive, since it tells names from other words by their capitals.
const LEGAL_FORMS = String.raw`Inc|Incorporated|LLC|L\.L\.C|Ltd|Limited|Corporation|Corp|Company|Co|GmbH|AG|S\.A|SA|N\.V|B\.V|L\.P|LP|LLP|plc|PLC|N\.A|Trust|Bank|Partners|Holdings|S\.p\.A|SRL|S\.R\.L|Pty|AB|A/S|KK|S\.A\.S|SARL|Association|University|Fund`.split('|');
const LEGAL_FORM = `(?:${[...new Set([...LEGAL_FORMS, ...LEGAL_FORMS.map((f) => f.toUpperCase())])].join('|')})\\b\\.?`;
// A form may follow another ("PARTNERS, L.P.", "HOLDINGS, INC."): the name takes both.
// Words of a name are separated by spaces and at most one line break: a blank line ends a name
// (a date line above a letterhead name is not part of it).
const GAP = String.raw`(?:[ \t\u00a0]+\n?[ \t\u00a0]*|\n[ \t\u00a0]*)`;
const LEGAL_NAME = new RegExp(String.raw`\b((?:[A-Z0-9][\w&'’.\-/]*,?${GAP}(?:(?:of|and|&)${GAP})?){0,7}?${LEGAL_FORM}(?:,?[ \t]*${LEGAL_FORM})?)`, 'g');
const DESCRIBED_AFTER = /^\s*,?\s*(?:a|an)\s+(?:[\w.-]+\s+){0,5}?(?:corporation|company|partnership|association|limited|individual|entity|bank|banking|organi[sz]ation|city|chartered|citizen|resident|person)\b/iu;
const POSITION_BUCKETS = [500, 1500, 3000, 8000, 30000];

export interface PartyRankerModel {
  model_version: string;
  bias: number;
  weights: Record<string, number>;
  threshold: number;
  /** Below this probability a party goes to review: out-of-fold validation precision above it is >= 0.9. */
  review_threshold?: number;
}

export interface PartyCandidate {
  key: string; // the mention key (mentions.ts): one candidate per normalised text
  text: string;
  start: number;
  end: number;
  features: string[];
}

interface Draft { text: string; start: number; end: number; sources: Set<string>; nerConfidence: number; trimmed: number; defAt: number; slot: number; halves: Set<NamePart> }

/** Index of the first edge above `value`; edges.length beyond the last. */
const bucket = (value: number, edges: number[]) => {
  const i = edges.findIndex((e) => value < e);
  return i < 0 ? edges.length : i;
};

function occurrences(text: string, name: string): number {
  if (!name.trim()) return 0;
  const re = new RegExp(`(?<![\\p{L}\\p{N}])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}])`, 'gu');
  return [...text.matchAll(re)].length;
}

/** Every party candidate of `text`, given the tagger's PARTY entities (offsets into `text`). */
export function partyCandidates(text: string, tagged: readonly NerEntity[]): PartyCandidate[] {
  const drafts = new Map<string, Draft>();
  const add = (source: string, s: number, e: number, extra: Partial<Draft> = {}) => {
    const raw = text.slice(s, e);
    const lead = raw.length - raw.trimStart().length, tail = raw.length - raw.trimEnd().length;
    const start = s + lead, end = e - tail;
    const key = mentionKey('PARTY', text.slice(start, end));
    if (key.endsWith('\u0000')) return; // nothing but punctuation
    const d = drafts.get(key) ?? { text: text.slice(start, end), start, end, sources: new Set<string>(), nerConfidence: 0, trimmed: 99, defAt: -1, slot: 99, halves: new Set<NamePart>() };
    d.sources.add(source);
    if (start < d.start) Object.assign(d, { text: text.slice(start, end), start, end });
    if (extra.nerConfidence !== undefined) d.nerConfidence = Math.max(d.nerConfidence, extra.nerConfidence);
    if (extra.trimmed !== undefined) d.trimmed = Math.min(d.trimmed, extra.trimmed);
    if (extra.defAt !== undefined && (d.defAt < 0 || extra.defAt < d.defAt)) d.defAt = extra.defAt;
    if (extra.slot !== undefined) d.slot = Math.min(d.slot, extra.slot);
    for (const part of extra.halves ?? []) d.halves.add(part);
    drafts.set(key, d);
  };
  for (const e of tagged) if (e.label === 'PARTY') add('ner', e.start, e.end, { nerConfidence: e.confidence });
  const definitions = findDefinitions(text);
  for (const d of definitions) {
    const inside = text.slice(d.at, d.end);
    for (const role of d.roles) {
      const i = inside.indexOf(role);
      if (i >= 0) add('def', d.at + i, d.at + i + role.length, { defAt: d.at });
    }
  }
  for (const m of text.slice(0, LEGAL_NAME_REACH).matchAll(LEGAL_NAME)) {
    // "ACME Widgets Holdings, Inc." and its shorter tails: where the name starts is not always clear.
    const words = [...m[1].matchAll(/\S+/g)];
    for (let k = 0; k < Math.min(words.length - 1, 6) + (words.length === 1 ? 1 : 0); k++) {
      add('legal', m.index + words[k].index, m.index + m[1].length, { trimmed: k });
    }
  }
  for (const c of preambleNames(text)) add('preamble', c.start, c.end, { slot: c.slot, halves: new Set([c.part]) });
  for (const c of signatureNames(text)) add('signature', c.start, c.end, { halves: new Set([c.part]) });
  // A definition belongs to a name when it follows within 300 characters of the same sentence.
  const defines = (nameEnd: number, defAt: number) => defAt >= nameEnd && defAt - nameEnd <= 300 && !/[.;]\s+[A-Z]/.test(text.slice(nameEnd, defAt));
  const firstDefinition = (start: number, end: number) => definitions.find((d) => defines(end, d.at));
  // A role's definition that follows a name the preamble or a legal form proposes ("Acme, Inc.
  // ("Licensor")"): the mirror of defined_after, so a role is kept with its party's name.
  const namers = [...drafts.values()].filter((n) => n.sources.has('preamble') || n.sources.has('legal'));
  const namedBy = (defAt: number) => namers.filter((n) => defines(n.end, defAt)).sort((a, b) => b.end - a.end)[0];
  return [...drafts].map(([key, d]) => {
    const words = d.text.split(/\s+/);
    const letters = d.text.replace(/[^\p{L}]/gu, '');
    const before = text.slice(Math.max(0, d.start - 40), d.start).toLowerCase().match(/[\p{L}]+/gu) ?? [];
    const definedAfter = firstDefinition(d.start, d.end);
    const described = DESCRIBED_AFTER.exec(text.slice(d.end, d.end + 80));
    const namer = d.defAt >= 0 && d.sources.has('def') ? namedBy(d.defAt) : undefined;
    const features = [
      ...[...d.sources].sort().map((s) => `src:${s}`),
      `sources:${[...d.sources].sort().join('+')}`,
      d.sources.has('ner') ? `nerc:${Math.min(9, Math.floor(d.nerConfidence * 10))}` : 'nerc:none',
      `pos:${bucket(d.start, POSITION_BUCKETS)}`,
      `occ:${bucket(occurrences(text, d.text), [2, 4, 11, 31])}`,
      `nw:${Math.min(words.length, 6)}`,
      ...(hasLegalForm(d.text) ? ['legal_form'] : []),
      ...(letters.length > 1 && letters === letters.toUpperCase() ? [letters.length <= 6 ? 'acronym' : 'caps'] : []),
      ...(words.length === 1 ? [`term:${d.text.toLowerCase()}`] : []),
      ...(d.trimmed < 99 ? [`trimmed:${Math.min(d.trimmed, 3)}`] : []),
      ...(d.defAt >= 0 ? [`def_pos:${bucket(d.defAt, POSITION_BUCKETS)}`] : []),
      ...(definedAfter ? ['defined_after'] : []),
      // ", a Delaware corporation", ", an individual residing in": how a contract introduces a party.
      ...(described ? ['described_after', /individual|citizen|resident|person/i.test(described[0]) ? 'described:person' : 'described:org'] : []),
      // The preamble names its parties first: the k-th "between X and Y" slot (a later "and" is often a third party or a regulator).
      ...(d.slot < 99 ? [`slot:${Math.min(d.slot, 3)}`] : []),
      ...(namer ? ['role_of_name', ...(namer.slot < 99 ? [`role_of_slot:${Math.min(namer.slot, 3)}`] : []), ...(hasLegalForm(namer.text) ? ['role_of_legal'] : [])] : []),
      // "X d/b/a Y": CUAD answers with the whole string or with a half, and says which by how it is written.
      ...[...d.halves].filter((h) => h !== 'name').sort().map((h) => `split:${h}`),
      ...(before.length ? [`prev:${before[before.length - 1]}`] : ['prev:none']),
      ...(/^[a-z]/.test(d.text) ? ['lower_start'] : []),
      ...(/[,(]$|\b(?:a|an|and|the|of)$/i.test(d.text) ? ['ragged_end'] : []),
    ];
    return { key, text: d.text, start: d.start, end: d.end, features };
  }).sort((a, b) => a.start - b.start);
}

/** The preamble's "between/among/and/by" slots reach this far: the recitals start soon after. */
const PREAMBLE_REACH = 3_000;
const CAPITALISED = /^(?:[A-Z0-9][\w&'’.\-/*™]*|[A-Z]\.)$/u;
const CONNECTOR = /^(?:of|and|&|de|du|la|del|der|von|van|for|the)$/;
/** Where a name is split in two ("X d/b/a Y", "X / Y", "X, a/k/a Y"): both halves are candidates too. */
const NAME_SPLIT = /\s+(?:d\/b\/a|dba|DBA|a\/k\/a|aka|f\/k\/a|\/)\s+/gu;

const LEGAL_FORM_WORD = new RegExp(`^${LEGAL_FORM}$`);
const LEGAL_FORM_END = new RegExp(`${LEGAL_FORM}$`);
/** A date heading a signature line ("Date: April 7, 2020 BANK OF AMERICA CORPORATION"). */
const LEADING_DATE = /^(?:Dated?:?\s*)?(?:[A-Z][a-z]+\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4})\s+/u;

interface Span { start: number; end: number }
/** A name as found ('name'), a name holding a split ("X d/b/a Y": 'whole'), or one side of it ('half'). */
type NamePart = 'name' | 'whole' | 'half';
interface NameSpan extends Span { part: NamePart }

/** The capitalised words starting at `at` (connectors inside, none at the end), up to `maxWords`. */
function capitalisedRun(text: string, at: number, maxWords = 9): Span | null {
  const words = [...text.slice(at, at + 160).matchAll(/[^\s,;:()"“”]+/gu)];
  let end = -1, count = 0;
  for (const w of words) {
    const gap = text.slice(at + (end < 0 ? 0 : end - at), at + w.index);
    // A comma ends the name unless a legal form follows ("RMF Empire, Inc. DBA West Coast Customs").
    if (end >= 0 && (/[;:()"“”]|\n\s*\n/.test(gap) || (gap.includes(',') && !LEGAL_FORM_WORD.test(w[0])))) break;
    if (CAPITALISED.test(w[0]) || /^(?:d\/b\/a|dba|a\/k\/a|\/)$/i.test(w[0])) end = at + w.index + w[0].length;
    // "and" after a complete legal name starts the next party ("X, Inc. and Y LLC").
    else if (!CONNECTOR.test(w[0]) || end < 0 || (w[0] === 'and' && LEGAL_FORM_END.test(text.slice(at, end)))) break;
    // A run still going after maxWords is a heading or a list, not a name.
    if (++count > maxWords) return null;
  }
  return end < 0 ? null : { start: at, end };
}

function withHalves(text: string, span: Span): NameSpan[] {
  const halves: NameSpan[] = [];
  const inside = text.slice(span.start, span.end);
  let from = 0;
  for (const m of inside.matchAll(NAME_SPLIT)) {
    halves.push({ start: span.start + from, end: span.start + m.index, part: 'half' });
    from = m.index + m[0].length;
  }
  if (from > 0) halves.push({ start: span.start + from, end: span.end, part: 'half' });
  return [{ ...span, part: halves.length ? 'whole' : 'name' }, ...halves];
}

/** Names in the preamble's party slots: "between X", "and Y", "among Z", "by W" (persons, cities and firms without a legal form that the other sources miss). */
export function preambleNames(text: string): (NameSpan & { slot: number })[] {
  const head = text.slice(0, PREAMBLE_REACH);
  const out: (NameSpan & { slot: number })[] = [];
  // Slots count from the first "between"/"among": a title's "and" ("SUPPLY AND DISTRIBUTION AGREEMENT") is none.
  const opening = /\b(?:between|among|amongst)\b/.exec(head)?.index ?? 0;
  let slot = 0;
  for (const m of head.matchAll(/\b(?:between|among|amongst|and|by|with)[,:]?\s+(?:the\s+)?(?=[A-Z0-9])/gu)) {
    const run = capitalisedRun(text, m.index + m[0].length);
    if (!run) continue;
    const at = m.index < opening ? 99 : slot++;
    out.push(...withHalves(text, run).map((s) => ({ ...s, slot: at })));
  }
  return out;
}

/** Names that head a signature block: the line before "By:" (and its part before a comma: "ABC Company, Broker Dealer"). */
export function signatureNames(text: string): NameSpan[] {
  const out: NameSpan[] = [];
  for (const m of text.matchAll(/\bBy:/gu)) {
    const before = text.slice(Math.max(0, m.index - 120), m.index);
    // The block's name starts after the previous line break, run of spaces, or sentence end.
    const cut = Math.max(before.lastIndexOf('\n', before.trimEnd().length - 1), ...[...before.matchAll(/ {2,}|\.\s|:\s/gu)].filter((x) => x.index + x[0].length < before.trimEnd().length).map((x) => x.index + x[0].length - 1));
    const from = m.index - before.length + cut + 1;
    const segment = text.slice(from, m.index);
    const lead = segment.length - segment.trimStart().length;
    const date = LEADING_DATE.exec(segment.slice(lead));
    const run = capitalisedRun(text, from + lead + (date?.[0].length ?? 0));
    if (!run) continue;
    // A date line or a heading such as "IN WITNESS WHEREOF" is no name.
    if (/^(?:IN WITNESS|WITNESS|Date|Dated|Signature|Accepted|Agreed|ACCEPTED|AGREED)\b/u.test(text.slice(run.start, run.end))) continue;
    out.push(...withHalves(text, run));
  }
  return out;
}

export function scoreParty(model: PartyRankerModel, features: readonly string[]): number {
  let z = model.bias;
  for (const f of features) z += model.weights[f] ?? 0;
  return 1 / (1 + Math.exp(-z));
}

/** The tagger's PARTY entities replaced by the candidates the ranker keeps (at their first mention). */
export function rankParties(text: string, entities: readonly NerEntity[], model: PartyRankerModel): NerEntity[] {
  const kept = partyCandidates(text, entities)
    .map((c) => ({ c, p: scoreParty(model, c.features) }))
    .filter(({ p }) => p >= model.threshold)
    .map(({ c, p }) => ({ label: 'PARTY', start: c.start, end: c.end, text: c.text, confidence: p }));
  return [...entities.filter((e) => e.label !== 'PARTY'), ...kept].sort((a, b) => a.start - b.start || a.end - b.end);
}

export function loadPartyRanker(dir: string): PartyRankerModel | null {
  const file = join(dir, PARTY_RANKER_FILE);
  if (!existsSync(file)) return null;
  const model = JSON.parse(readFileSync(file, 'utf8')) as PartyRankerModel;
  if (typeof model.bias !== 'number' || typeof model.threshold !== 'number' || typeof model.weights !== 'object' || model.weights === null) {
    throw new Error(`${file}: needs bias, weights and threshold`);
  }
  return model;
}
