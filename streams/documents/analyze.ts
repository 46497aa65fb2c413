// Pages -> the document's validated entities: text clean-up, the legal NER model over the joined
// pages (chunked with overlap inside runNer), one entity per repeated mention, validation rules,
// and each entity mapped back to its page. The same function runs on a pool thread for the
// documents processor and in-process for `documents extract`, so both give the same JSON for the
// same file.
import { dirname } from 'node:path';
import type { Entity, PageSource as PageSourceRecord } from '../../schemas/generated/types.ts';
import type { LoadedModel } from '../runtime/models.ts';
import { classifyContractType, loadContractTypeModel, type ContractTypeModel } from './contract-type.ts';
import { joinPages, toPageSpan } from './document-text.ts';
import type { NerModelSpec } from './ner/model.ts';
import { loadDateRanker, rankDates, type DateRankerModel } from './ner/date-ranker.ts';
import { snapClauses } from './ner/clause-bounds.ts';
import { classifyClauses, loadClauseClassifier, withClassifiedClauses, type ClauseClassifierModel } from './ner/clause-classifier.ts';
import { mergeMentions } from './ner/mentions.ts';
import { loadPartyRanker, rankParties, type PartyRankerModel } from './ner/party-ranker.ts';
import { runNer, type NerEntity } from './ner/ner.ts';
import { cleanPageTexts, type PageText } from './pages/index.ts';
import { findDatesInText } from './rules/dates.ts';
import { validateDocument } from './rules/index.ts';

/** Below this mean word confidence an OCR'd page is flagged for review: its entities rest on shaky text. */
export const MIN_PAGE_OCR_CONFIDENCE = 0.7;
/** Below this probability the contract type is flagged for review (the classifier is calibrated on validation). */
export const MIN_CONTRACT_TYPE_CONFIDENCE = 0.5;

/** A companion model of the NER graph, read from the graph's artifacts folder once per thread and folder. */
function besideGraph<T>(load: (dir: string) => T): (spec: NerModelSpec) => T {
  const byFolder = new Map<string, T>();
  return (spec) => {
    const dir = dirname(spec.file);
    if (!byFolder.has(dir)) byFolder.set(dir, load(dir));
    return byFolder.get(dir)!;
  };
}

// The contract-type classifier (TF-IDF + logistic regression, models/documents/contract_type.py)
// sits beside the NER graph in the same artifacts folder; it replaced the NER graph's own type head,
// which reached 0.21 validation accuracy against its 0.70.
const contractTypeModelBeside = besideGraph<ContractTypeModel>(loadContractTypeModel);

// The date ranker (ner/date-ranker.ts) beside the graph decides the agreement and effective dates
// among the calendar dates of the text, the dates a form left blank ("____ day of ______, 2013",
// CUAD's answer for unsigned contracts) and the sentences that make a contract effective without a
// date (validation value F1 0.91 / 0.83 on its candidates against the tagger's 0.58 / 0.50). Where
// it finds none, the tagger's entities of that label stay if they hold no calendar date. A folder
// without a ranker (older models) keeps the tagger's dates.
const dateRankerBeside = besideGraph<DateRankerModel | null>(loadDateRanker);

// The party ranker (ner/party-ranker.ts) beside the graph decides which of the tagger's PARTY
// entities, the defined terms and the legal names of the opening pages are the parties (validation,
// out of fold: document F1 0.78 against the tagger's 0.66). A folder without one keeps the tagger's.
const partyRankerBeside = besideGraph<PartyRankerModel | null>(loadPartyRanker);

// The clause-sentence classifier (ner/clause-classifier.ts) beside the graph decides termination for
// convenience and post-termination services: per label the contract's most probable sentence
// (contract-level detection F1 out of fold 0.79 / 0.74 over train and validation, against the
// tagger's 0.64 / 0.66 on validation). A folder without one keeps the tagger's clauses.
const clauseClassifierBeside = besideGraph<ClauseClassifierModel | null>(loadClauseClassifier);

export function withRankedDates(tagged: readonly NerEntity[], ranked: readonly NerEntity[], rankedLabels: readonly string[]): NerEntity[] {
  const kept = tagged.filter((e) => !rankedLabels.includes(e.label)
    || (!ranked.some((r) => r.label === e.label) && findDatesInText(e.text).length === 0));
  return [...kept, ...ranked].sort((a, b) => a.start - b.start || a.end - b.end);
}

/** The meta's review thresholds, with the rankers' own for the labels they decide (their confidences are their probabilities). */
function reviewThresholds(spec: NerModelSpec, dates: DateRankerModel | null, parties: PartyRankerModel | null, clauses: ClauseClassifierModel | null): Record<string, number> {
  const out = { ...spec.meta.review_threshold };
  clauses?.labels.forEach((label, k) => { out[label] = clauses.reviewThresholds[k]; });
  for (const [label, m] of Object.entries(dates?.labels ?? {})) if (m.review_threshold !== undefined) out[label] = m.review_threshold;
  if (parties?.review_threshold !== undefined) out.PARTY = parties.review_threshold;
  return out;
}

export interface DocumentAnalysis {
  /** Cleaned page texts; entity offsets index these. */
  pageTexts: string[];
  pageSources: PageSourceRecord[];
  entities: Entity[];
  contractType: string | null;
  contractTypeConfidence: number | null;
  validationErrors: string[];
  needsReview: boolean;
  nerTokens: number;
  nerChunks: number;
}

export async function analyzePages(pages: PageText[], model: Pick<LoadedModel, 'run'>, spec: NerModelSpec): Promise<DocumentAnalysis> {
  const cleaned = cleanPageTexts(pages);
  const joined = joinPages(cleaned.map((p) => p.text));
  const ner = await runNer(model, spec, joined.text);
  // Clause labels (expiry, governing law, two termination types) are snapped to their sentences
  // (ner/clause-bounds.ts) before anything reads them: the expiry's value is computed from the
  // sentence, and one without a date counts by its text.
  const snapped = snapClauses(ner.entities, joined.text);
  const clauseClassifier = clauseClassifierBeside(spec);
  const clauses = clauseClassifier ? withClassifiedClauses(snapped, classifyClauses(joined.text, clauseClassifier), clauseClassifier.labels) : snapped;
  const ranker = dateRankerBeside(spec);
  const tagged = ranker ? withRankedDates(clauses, rankDates(joined.text, ranker), Object.keys(ranker.labels)) : clauses;
  const merged = mergeMentions(tagged, { text: joined.text, definedWithin: spec.meta.defined_within, maxPerDocument: spec.meta.max_per_document });
  const partyRanker = partyRankerBeside(spec);
  const ranked = partyRanker ? rankParties(joined.text, merged, partyRanker) : merged;
  const checked = validateDocument(ranked, joined.text, { reviewThresholds: reviewThresholds(spec, ranker, partyRanker, clauseClassifier) });
  const entities: Entity[] = checked.entities.map((e) => {
    const span = toPageSpan(joined, e.start, e.end);
    return {
      label: e.label,
      text: e.text,
      normalized: e.normalized,
      confidence: e.confidence,
      page: span.page,
      start_offset: span.start,
      end_offset: span.end,
      problems: e.problems,
    };
  });
  const validationErrors = [...checked.documentProblems];
  for (const p of cleaned) {
    if (p.ocrConfidence !== null && p.ocrConfidence < MIN_PAGE_OCR_CONFIDENCE) {
      validationErrors.push(`page ${p.page}: OCR confidence ${p.ocrConfidence.toFixed(2)} < ${MIN_PAGE_OCR_CONFIDENCE}`);
    }
  }
  const contractType = joined.text.trim() ? classifyContractType(contractTypeModelBeside(spec), joined.text) : null;
  if (contractType && contractType.confidence < MIN_CONTRACT_TYPE_CONFIDENCE) {
    validationErrors.push(`contract type ${contractType.label}: low confidence ${contractType.confidence.toFixed(2)} < ${MIN_CONTRACT_TYPE_CONFIDENCE}`);
  }
  return {
    pageTexts: cleaned.map((p) => p.text),
    pageSources: cleaned.map((p) => ({ page: p.page, source: p.source, ocr_confidence: p.ocrConfidence })),
    entities,
    contractType: contractType?.label ?? null,
    contractTypeConfidence: contractType?.confidence ?? null,
    validationErrors,
    needsReview: validationErrors.length > 0 || entities.some((e) => e.problems.length > 0),
    nerTokens: ner.tokens,
    nerChunks: ner.chunks,
  };
}
