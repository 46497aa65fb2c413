// Contract-type tagging (LexiScan #10) without Python at run time: the TF-IDF + multinomial logistic
// regression that models/documents/contract_type.py fits, read from its JSON export
// (models/documents/artifacts/contract-type.json): the head of the text (code points) -> sklearn's
// TF-IDF (tfidf.ts) -> softmax(W x + b).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTfidfLinear, tfidfLogits, type TfidfLinear, type TfidfLinearExport } from './tfidf.ts';

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

export interface ContractTypeModel extends TfidfLinear {
  modelName: string;
  classes: string[];
  headChars: number;
}

export class ContractTypeModelError extends Error {
  override name = 'ContractTypeModelError';
}

interface ContractTypeExport extends TfidfLinearExport {
  format: string;
  model_name: string;
  preprocessing: TfidfLinearExport['preprocessing'] & { head_chars: number };
  classes: string[];
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
  const headChars = raw.preprocessing?.head_chars;
  if (!Number.isInteger(headChars) || headChars <= 0) fail(`unsupported preprocessing ${JSON.stringify(raw.preprocessing)}`);
  if (!Array.isArray(raw.classes)) fail('classes is missing');
  return { modelName: raw.model_name, classes: raw.classes, headChars, ...readTfidfLinear(raw, raw.classes.length, fail) };
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

export function classifyContractType(model: ContractTypeModel, text: string): ContractTypeResult {
  if (typeof text !== 'string') throw new TypeError(`classifyContractType needs the contract text as a string, got ${typeof text}`);
  const { logits, matchedTerms } = tfidfLogits(model, headCodePoints(text, model.headChars));
  const max = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - max));
  const total = exps.reduce((a, b) => a + b, 0);
  const top = model.classes
    .map((label, k) => ({ label, confidence: exps[k] / total }))
    .sort((a, b) => b.confidence - a.confidence);
  return { label: top[0].label, confidence: top[0].confidence, top, matchedTerms };
}
