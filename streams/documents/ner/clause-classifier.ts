// Termination clauses found by their sentence, not by the tagger's tokens. CUAD's answers for
// termination for convenience and post-termination services are whole sentences; the tagger found a
// contract's clause of either kind in about two contracts of three (validation detection F1 0.64 /
// 0.66, model card), while a TF-IDF logistic regression over each sentence, fitted in Python
// (models/documents/clause_classifier.py) on the train and validation contracts' sentences, finds it
// better out of fold. Per label the contract's most probable sentence is its answer when its
// probability reaches the label's threshold (chosen out of fold for contract-level F1); a folder
// without the classifier keeps the tagger's entities.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTfidfLinear, tfidfLogits, type TfidfLinear, type TfidfLinearExport } from '../tfidf.ts';
import { startsSentence } from './clause-bounds.ts';
import type { NerEntity } from './ner.ts';

export const CLAUSE_CLASSIFIER_FILE = 'clause-classifier.json';
const FORMAT = 'streamscore-clause-sentence-tfidf-logreg/1';
/** A "sentence" longer than this (a run-on list, a table) is cut at the last space before it. */
export const MAX_SENTENCE_CHARS = 1500;

export interface ClauseClassifierModel extends TfidfLinear {
  modelVersion: string;
  /** One coef row per label. */
  labels: string[];
  thresholds: number[];
  reviewThresholds: number[];
}

interface ClauseClassifierExport extends TfidfLinearExport {
  format: string;
  model_version: string;
  labels: string[];
  threshold: number[];
  review_threshold: number[];
}

export class ClauseClassifierError extends Error {
  override name = 'ClauseClassifierError';
}

/** The classifier of the artifacts folder `dir`, or null when it has none (older models keep the tagger's clauses). */
export function loadClauseClassifier(dir: string): ClauseClassifierModel | null {
  const file = join(dir, CLAUSE_CLASSIFIER_FILE);
  if (!existsSync(file)) return null;
  const fail = (why: string): never => { throw new ClauseClassifierError(`${file}: ${why}`); };
  let raw: ClauseClassifierExport;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as ClauseClassifierExport;
  } catch (err) {
    return fail(`cannot read it: ${(err as Error).message}`);
  }
  if (raw.format !== FORMAT) fail(`format is ${JSON.stringify(raw.format)}, this code reads ${FORMAT}`);
  const labels = raw.labels;
  if (!Array.isArray(labels) || labels.length === 0) fail('labels is missing or empty');
  const probability = (x: unknown) => typeof x === 'number' && x >= 0 && x <= 1;
  for (const key of ['threshold', 'review_threshold'] as const) {
    if (!Array.isArray(raw[key]) || raw[key].length !== labels.length || !raw[key].every(probability)) fail(`${key} needs one probability per label`);
  }
  return { modelVersion: raw.model_version, labels, thresholds: raw.threshold, reviewThresholds: raw.review_threshold, ...readTfidfLinear(raw, labels.length, fail) };
}

/** Every sentence of `text` (clause-bounds.ts decides where one starts), trimmed, none longer than MAX_SENTENCE_CHARS. */
export function sentenceSpans(text: string): { start: number; end: number }[] {
  const starts: number[] = [];
  for (let i = 0; i < text.length; i++) if (/\S/.test(text[i]) && startsSentence(text, i)) starts.push(i);
  const out: { start: number; end: number }[] = [];
  starts.forEach((from, k) => {
    const to = k + 1 < starts.length ? starts[k + 1] : text.length;
    let start = from;
    while (start < to) {
      let end = to;
      if (end - start > MAX_SENTENCE_CHARS) {
        const cut = text.lastIndexOf(' ', start + MAX_SENTENCE_CHARS);
        end = cut > start ? cut : start + MAX_SENTENCE_CHARS;
      }
      let trimmed = end;
      while (trimmed > start && /\s/.test(text[trimmed - 1])) trimmed--;
      if (trimmed > start) out.push({ start, end: trimmed });
      start = end;
      while (start < to && /\s/.test(text[start])) start++;
    }
  });
  return out;
}

/** Each sentence's probability per label, rows in the model's label order. */
export function sentenceProbabilities(model: ClauseClassifierModel, text: string, sentences = sentenceSpans(text)): number[][] {
  const rows = model.labels.map(() => new Array<number>(sentences.length));
  sentences.forEach((s, j) => {
    const { logits } = tfidfLogits(model, text.slice(s.start, s.end));
    logits.forEach((z, k) => { rows[k][j] = 1 / (1 + Math.exp(-z)); });
  });
  return rows;
}

/** Per label, the most probable sentence (the first on a tie) when it reaches the label's threshold. */
export function classifyClauses(text: string, model: ClauseClassifierModel): NerEntity[] {
  const sentences = sentenceSpans(text);
  const probabilities = sentenceProbabilities(model, text, sentences);
  const found: NerEntity[] = [];
  model.labels.forEach((label, k) => {
    let best = -1;
    for (let j = 0; j < sentences.length; j++) if (best < 0 || probabilities[k][j] > probabilities[k][best]) best = j;
    if (best < 0 || probabilities[k][best] < model.thresholds[k]) return;
    const { start, end } = sentences[best];
    found.push({ label, start, end, text: text.slice(start, end), confidence: probabilities[k][best] });
  });
  return found;
}

/** The tagger's entities with the classifier's labels replaced by what the classifier found. */
export function withClassifiedClauses(tagged: readonly NerEntity[], classified: readonly NerEntity[], labels: readonly string[]): NerEntity[] {
  return [...tagged.filter((e) => !labels.includes(e.label)), ...classified].sort((a, b) => a.start - b.start || a.end - b.end);
}
