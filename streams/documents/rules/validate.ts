// validateDocument: every rule over one document's entities. Each entity gets its normalized
// value (ISO date, '1250.00 EUR', 'US-NY', the party's legal name, 'P90D') or null, and the
// problems a reviewer should look at; the document gets the problems no single entity shows
// (no parties, dates in the wrong order, two governing laws).
import type { CheckedEntity, NerEntity } from './types.ts';
import type { DateOrder } from './dates.ts';
import { normalizeDate } from './normalize-date.ts';
import { durationToIso8601, findDuration, type DateAnchor } from './date-terms.ts';
import { normalizeAmount } from './amounts.ts';
import { normalizeGoverningLaw } from './governing-law.ts';
import { linkParties, type PartyGroup } from './parties.ts';
import { inferDateOrder } from './date-order.ts';

export interface ValidateOptions {
  /** Per label: entities below this confidence get a problem (the model meta's review_threshold). */
  reviewThresholds?: Record<string, number>;
  /** Day/month order of numeric dates when the document's locale is known; otherwise inferred. */
  dateOrder?: DateOrder;
}
export interface DocumentValidation {
  entities: CheckedEntity[]; // same order as the input
  documentProblems: string[];
  parties: PartyGroup[];
  dateOrder: { order: DateOrder; source: string };
}

const DATE_LABELS = ['AGREEMENT_DATE', 'EFFECTIVE_DATE', 'EXPIRATION_DATE'];

function offsetProblem(e: NerEntity, text: string): string | null {
  if (!Number.isInteger(e.start) || !Number.isInteger(e.end) || e.start < 0 || e.end > text.length || e.start >= e.end) {
    return `offsets ${e.start}-${e.end} are outside the text (length ${text.length})`;
  }
  return text.slice(e.start, e.end) === e.text ? null : `offsets ${e.start}-${e.end} do not hold the entity text`;
}

/** The anchor value of a label: its most confident entity with a full date. */
function anchorOf(checked: CheckedEntity[], label: string): string | undefined {
  return checked.filter((c) => c.label === label && c.normalized !== null && /^\d{4}-\d{2}-\d{2}$/.test(c.normalized))
    .sort((a, b) => b.confidence - a.confidence)[0]?.normalized ?? undefined;
}

export function validateDocument(entities: NerEntity[], text: string, opts: ValidateOptions = {}): DocumentValidation {
  const dateOrder = opts.dateOrder ? { order: opts.dateOrder, source: 'given', settled: true } : inferDateOrder(text);
  const checked: CheckedEntity[] = entities.map((e) => ({
    label: e.label, text: e.text, normalized: null, confidence: e.confidence, start: e.start, end: e.end, problems: [], notes: [],
  }));
  const add = (c: CheckedEntity, problems: string[], notes: string[] = []) => { c.problems.push(...problems); c.notes?.push(...notes); };
  checked.forEach((c, i) => {
    const offsets = offsetProblem(entities[i], text);
    if (offsets) add(c, [offsets]);
  });

  // Dates in dependency order: an effective date may refer to the agreement date, an expiry to both.
  const anchors: Partial<Record<DateAnchor, string>> = {};
  for (const label of DATE_LABELS) {
    for (const c of checked.filter((x) => x.label === label)) {
      const result = normalizeDate(c.text, { dateOrder: dateOrder.order, label, anchors });
      if ('iso' in result) {
        c.normalized = result.iso;
        add(c, [], result.notes);
        const reading = result.notes.find((n) => n.includes('could be')) ?? c.text;
        if (result.ambiguous && !dateOrder.settled) add(c, [`ambiguous date: ${reading}`]);
        if (result.ambiguous && dateOrder.settled) add(c, [], [`day/month order ${dateOrder.order}: ${dateOrder.source}`]);
        if (result.precision === 'month') add(c, [`partial date: month ${result.iso} without a day`]);
      } else if (result.openEnded && label === 'EXPIRATION_DATE') {
        add(c, [], result.notes); // a term "until terminated" is a valid answer: no date exists
      } else {
        add(c, [result.problem], result.notes);
      }
    }
    if (label === 'AGREEMENT_DATE') anchors.AGREEMENT_DATE = anchorOf(checked, label);
    if (label === 'EFFECTIVE_DATE') anchors.EFFECTIVE_DATE = anchorOf(checked, label) ?? anchors.AGREEMENT_DATE;
  }

  for (const c of checked) {
    if (c.label === 'AMOUNT') {
      const r = normalizeAmount(c.text);
      if ('value' in r) { c.normalized = r.value; add(c, [], r.notes); } else add(c, [r.problem], r.notes);
    } else if (c.label === 'GOVERNING_LAW') {
      const r = normalizeGoverningLaw(c.text);
      if ('jurisdiction' in r) { c.normalized = r.jurisdiction; add(c, [], [r.name, ...r.notes]); } else add(c, [r.problem], r.notes);
    } else if (c.label === 'TERMINATION_NOTICE_PERIOD') {
      const r = findDuration(c.text);
      if (r === null) add(c, [`no notice period found in '${c.text.slice(0, 80)}'`]);
      else if ('problem' in r) add(c, [r.problem]);
      else { c.normalized = durationToIso8601(r.duration); add(c, [], r.duration.businessDays ? [`${r.text}: counted in business days`] : []); }
    }
  }

  const { links, parties } = linkParties(entities, text);
  for (const link of links) {
    const c = checked[link.index];
    c.normalized = link.normalized;
    add(c, link.problems, [...(link.role ? [`role: ${link.role}`] : []), ...link.notes]);
  }

  checked.forEach((c) => {
    const threshold = opts.reviewThresholds?.[c.label];
    if (typeof threshold === 'number' && c.confidence < threshold) {
      add(c, [`low confidence ${c.confidence.toFixed(2)} < ${threshold.toFixed(2)}`]);
    }
  });
  return { entities: checked, documentProblems: documentProblems(checked, parties), parties, dateOrder: { order: dateOrder.order, source: dateOrder.source } };
}

function distinctNormalized(checked: CheckedEntity[], label: string): string[] {
  return [...new Set(checked.filter((c) => c.label === label && c.normalized !== null).map((c) => c.normalized as string))];
}

function documentProblems(checked: CheckedEntity[], parties: PartyGroup[]): string[] {
  const problems: string[] = [];
  const has = (label: string) => checked.some((c) => c.label === label);
  const named = parties.filter((p) => /[\p{L}\p{N}]/u.test(p.name));
  if (!has('PARTY')) problems.push('no PARTY found');
  else if (named.length < 2) problems.push(`fewer than two parties: ${named.length === 0 ? 'none named' : named.map((p) => p.name).join('; ')}`);
  if (!has('EFFECTIVE_DATE') && !has('AGREEMENT_DATE')) problems.push('EFFECTIVE_DATE missing (and no AGREEMENT_DATE to take it from)');
  for (const label of DATE_LABELS) {
    const values = distinctNormalized(checked, label);
    if (values.length > 1) problems.push(`${label} entities disagree: ${values.join(', ')}`);
  }
  const effective = distinctNormalized(checked, 'EFFECTIVE_DATE');
  const start = effective.length > 0 ? { label: 'EFFECTIVE_DATE', values: effective } : { label: 'AGREEMENT_DATE', values: distinctNormalized(checked, 'AGREEMENT_DATE') };
  for (const end of distinctNormalized(checked, 'EXPIRATION_DATE')) {
    // ISO strings compare in date order; a month-precision date compares by its month.
    const before = start.values.filter((s) => end.slice(0, Math.min(end.length, s.length)) < s.slice(0, Math.min(end.length, s.length)));
    if (before.length > 0) problems.push(`EXPIRATION_DATE ${end} before ${start.label} ${before[0]}`);
  }
  const laws = distinctNormalized(checked, 'GOVERNING_LAW');
  if (laws.length > 1) problems.push(`two different GOVERNING_LAW jurisdictions: ${laws.join(', ')}`);
  return problems;
}
