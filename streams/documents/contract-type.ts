// Contract-type tagging (LexiScan #10) without Python at run time: the TF-IDF + multinomial logistic
// regression that models/documents/contract_type.py fits, read from its JSON export
// (models/documents/artifacts/contract-type.json) and applied here with sklearn's exact rules:
// head of the text (code points) -> lower case -> NFKD -> drop non-ASCII -> /\b\w\w+\b/ tokens ->
// word 1..n grams joined by ' ' -> sublinear tf (1 + ln count) * idf -> l2 -> softmax(W x + b).
// On ASCII text JavaScript's \w and \b mean what Python's do, which is why the export folds to ASCII.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_CONTRACT_TYPE_MODEL_DIR = new URL('../../models/documents/artifacts/', import.meta.url).pathname;
export const CONTRACT_TYPE_MODEL_FILE = 'contract-type.json';
const FORMAT = 'streamscore-contract-type-tfidf-logreg/1';

export interface ContractTypeScore { label: string; confidence: number }
export interface ContractTypeResult extends ContractTypeScore {
  /** Every class, most probable first. */
  top: ContractTypeScore[];
  /** How many distinct vocabulary terms the text had; 0 means the label is only the prior (no evidence). */
  matchedTerms: number;
}

export interface ContractTypeModel {
  modelName: string;
  classes: string[];
  headChars: number;
  ngramRange: [number, number];
  sublinearTf: boolean;
  /** Term -> column. */
  columns: Map<string, number>;
  idf: Float64Array;
  /** Row-major [classes x terms]. */
  coef: Float32Array;
  intercept: Float64Array;
}

export class ContractTypeModelError extends Error {
  override name = 'ContractTypeModelError';
}

interface ContractTypeExport {
  format: string;
  model_name: string;
  preprocessing: { head_chars: number; lowercase: boolean; token_pattern: string; ngram_range: [number, number];
    ngram_join: string; tf: string; norm: string; strip_accents: string };
  classes: string[];
  vocabulary: string[];
  idf: number[];
  coef: { dtype: string; shape: [number, number]; base64: string };
  intercept: number[];
}

/** Reads and checks the export; throws ContractTypeModelError saying what is wrong with the file. */
export function loadContractTypeModel(dir: string = DEFAULT_CONTRACT_TYPE_MODEL_DIR): ContractTypeModel {
  const file = join(dir, CONTRACT_TYPE_MODEL_FILE);
  let raw: ContractTypeExport;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as ContractTypeExport;
  } catch (err) {
    throw new ContractTypeModelError(`cannot read the contract-type model ${file}: ${(err as Error).message}`);
  }
  const fail = (why: string): never => { throw new ContractTypeModelError(`${file}: ${why}`); };
  if (raw.format !== FORMAT) fail(`format is ${JSON.stringify(raw.format)}, this code reads ${FORMAT}`);
  const p = raw.preprocessing;
  // The rules below are implemented in code; refuse an export that asks for others.
  if (p.token_pattern !== '\\b\\w\\w+\\b' || !p.lowercase || p.norm !== 'l2' || p.ngram_join !== ' ' ||
      !p.strip_accents.startsWith('ascii') || !Number.isInteger(p.head_chars) || p.head_chars <= 0) {
    fail(`unsupported preprocessing ${JSON.stringify(p)}`);
  }
  const [nClasses, nTerms] = raw.coef.shape;
  if (raw.coef.dtype !== 'float32-le') fail(`coefficients are ${raw.coef.dtype}, expected float32-le`);
  if (raw.classes.length !== nClasses || raw.intercept.length !== nClasses) fail('classes, intercepts and coef rows disagree');
  if (raw.vocabulary.length !== nTerms || raw.idf.length !== nTerms) fail('vocabulary, idf and coef columns disagree');
  const bytes = Buffer.from(raw.coef.base64, 'base64');
  if (bytes.length !== nClasses * nTerms * 4) fail(`coef has ${bytes.length} bytes, expected ${nClasses * nTerms * 4}`);
  const coef = new Float32Array(nClasses * nTerms);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < coef.length; i++) coef[i] = view.getFloat32(i * 4, true);
  const columns = new Map<string, number>();
  raw.vocabulary.forEach((term, column) => columns.set(term, column));
  if (columns.size !== nTerms) fail('vocabulary has duplicate terms');
  return {
    modelName: raw.model_name, classes: raw.classes, headChars: p.head_chars, ngramRange: p.ngram_range,
    sublinearTf: p.tf.startsWith('sublinear'), columns, idf: Float64Array.from(raw.idf), coef,
    intercept: Float64Array.from(raw.intercept),
  };
}

/** The first `n` Unicode code points (Python's text[:n]), not UTF-16 units. */
export function headCodePoints(text: string, n: number): string {
  let units = 0;
  let points = 0;
  while (units < text.length && points < n) {
    const code = text.codePointAt(units)!;
    units += code > 0xffff ? 2 : 1;
    points++;
  }
  return text.slice(0, units);
}

/** sklearn: lowercase=True, strip_accents='ascii' (lower first, then NFKD, then drop non-ASCII), token_pattern. */
export function contractTypeTokens(text: string): string[] {
  // eslint-disable-next-line no-control-regex
  const ascii = text.toLowerCase().normalize('NFKD').replace(/[^\x00-\x7f]/g, '');
  return ascii.match(/\b\w\w+\b/g) ?? [];
}

/** sklearn's _word_ngrams: all n-grams for n in [min, max], words joined by one space. */
export function wordNgrams(tokens: string[], [minN, maxN]: [number, number]): string[] {
  const grams: string[] = [];
  for (let n = minN; n <= maxN; n++) {
    for (let i = 0; i + n <= tokens.length; i++) grams.push(tokens.slice(i, i + n).join(' '));
  }
  return grams;
}

export function classifyContractType(model: ContractTypeModel, text: string): ContractTypeResult {
  if (typeof text !== 'string') throw new TypeError(`classifyContractType needs the contract text as a string, got ${typeof text}`);
  const counts = new Map<number, number>();
  for (const gram of wordNgrams(contractTypeTokens(headCodePoints(text, model.headChars)), model.ngramRange)) {
    const column = model.columns.get(gram);
    if (column !== undefined) counts.set(column, (counts.get(column) ?? 0) + 1);
  }
  const features: [number, number][] = [];
  let sumSquares = 0;
  for (const [column, count] of counts) {
    const value = (model.sublinearTf ? 1 + Math.log(count) : count) * model.idf[column];
    features.push([column, value]);
    sumSquares += value * value;
  }
  const norm = Math.sqrt(sumSquares);
  const nTerms = model.idf.length;
  const logits = model.classes.map((_, k) => {
    let z = model.intercept[k];
    for (const [column, value] of features) z += model.coef[k * nTerms + column] * (value / norm);
    return z;
  });
  const max = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - max));
  const total = exps.reduce((a, b) => a + b, 0);
  const top = model.classes
    .map((label, k) => ({ label, confidence: exps[k] / total }))
    .sort((a, b) => b.confidence - a.confidence);
  return { label: top[0].label, confidence: top[0].confidence, top, matchedTerms: counts.size };
}
