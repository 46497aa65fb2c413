// The LexiScan NER model as the runtime sees it: a ModelSpec (name, version, ONNX file, signature)
// built from models/documents/artifacts/model-meta.json, which models/documents/export.py writes and
// evaluate.py completes with thresholds chosen on validation. Tags, window, stride, labels, contract
// types and thresholds come from the meta, never from code.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { readModelMeta, type ModelSpec, type TensorSignature } from '../../runtime/models.ts';
import { WordPieces } from './chunking.ts';

export const DEFAULT_NER_MODEL_DIR = new URL('../../../models/documents/artifacts/', import.meta.url).pathname;
export const NER_MODEL_FILE = 'legal-ner.onnx';
export const NER_META_FILE = 'model-meta.json';
export const NER_TOKENIZER_FILE = 'tokenizer.json';

export interface LegalNerMeta {
  model_name: string;
  model_version: string;
  /** ["O", "B-PARTY", "I-PARTY", ...]: the last axis of `logits`; the sigmoid of each is that tag's probability (export.py turns the per-label softmax into these). */
  tags: string[];
  labels: string[];
  contract_types: string[];
  max_length: number;
  /** Overlap of consecutive chunks, in word pieces. */
  stride: number;
  activation: 'sigmoid';
  /** Per label: an entity needs a word whose max(P(B), P(I)) reaches it (chosen on validation). */
  decision_threshold: Record<string, number>;
  /** Per label: the entity extends over neighbouring words down to this (hysteresis; default: the decision threshold). */
  extend_threshold?: Record<string, number>;
  /** Per label: keep only the N most confident entities of a document (labels without a cap keep all). */
  max_per_document?: Record<string, number>;
  /** Per label: keep only entities first mentioned before this character offset or quoted somewhere (a defined party). */
  defined_within?: Record<string, number>;
  /** Per label: entities below this confidence go to review (chosen on validation). */
  review_threshold: Record<string, number>;
  [key: string]: unknown;
}

export interface NerModelSpec extends ModelSpec {
  meta: LegalNerMeta;
  /** Absolute path of the tokenizer.json trained with the model. */
  tokenizerFile: string;
}

export const NER_OUTPUTS = { logits: 'logits', typeLogits: 'type_logits' } as const;

const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const isProbability = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= 1;
const isNameList = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && x !== '');

/** Every problem of a parsed model-meta.json, as readable lines (empty when it is usable). */
export function nerMetaProblems(meta: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const key of ['model_name', 'model_version'] as const) {
    if (typeof meta[key] !== 'string' || meta[key] === '') problems.push(`${key} must be a non-empty string`);
  }
  if (!isNameList(meta.tags) || meta.tags[0] !== 'O') problems.push('tags must be a list of tag names starting with "O"');
  if (!isNameList(meta.labels)) problems.push('labels must be a non-empty list of names');
  if (!isNameList(meta.contract_types)) problems.push('contract_types must be a non-empty list of names');
  if (meta.activation !== 'sigmoid') problems.push(`activation is ${JSON.stringify(meta.activation)}; this decoder reads one sigmoid per tag`);
  if (!isPositiveInt(meta.max_length) || meta.max_length < 3) problems.push('max_length must be an integer >= 3');
  else if (!Number.isInteger(meta.stride) || (meta.stride as number) < 0 || (meta.stride as number) >= meta.max_length - 2) problems.push(`stride must be an integer in [0, max_length - 2)`);
  if (isNameList(meta.labels) && isNameList(meta.tags)) {
    for (const label of meta.labels) {
      if (!meta.tags.includes(`B-${label}`) || !meta.tags.includes(`I-${label}`)) problems.push(`label ${label} has no B-/I- tags`);
      // extend_threshold is optional (a meta without it decodes with one threshold per label).
      for (const key of ['decision_threshold', 'review_threshold', 'extend_threshold'] as const) {
        const table = meta[key] as Record<string, unknown> | undefined;
        if (key === 'extend_threshold' && table === undefined) continue;
        if (typeof table !== 'object' || table === null || !isProbability(table[label])) problems.push(`${key}.${label} must be a number in [0, 1]`);
      }
    }
    for (const key of ['max_per_document', 'defined_within'] as const) {
      const table = meta[key] as Record<string, unknown> | undefined;
      if (table === undefined) continue;
      if (typeof table !== 'object' || table === null) problems.push(`${key} must be an object of label -> positive integer`);
      else for (const [label, n] of Object.entries(table)) if (!meta.labels.includes(label) || !isPositiveInt(n)) problems.push(`${key}.${label} must be a positive integer for a label of the model`);
    }
  }
  return problems;
}

/** Reads and checks model-meta.json in `dir`; a bad or missing file is one clear error naming every problem. */
export function loadNerMeta(dir = DEFAULT_NER_MODEL_DIR): LegalNerMeta {
  return readModelMeta<LegalNerMeta>(dir, NER_META_FILE, 'NER model', 'models/documents/export.py', nerMetaProblems);
}

/** The ModelSpec of the NER model in `dir` (default: the committed artifact). */
export function nerModelSpec(dir = DEFAULT_NER_MODEL_DIR): NerModelSpec {
  const meta = loadNerMeta(dir);
  const file = resolve(dir, NER_MODEL_FILE);
  const tokenizerFile = resolve(dir, NER_TOKENIZER_FILE);
  for (const f of [file, tokenizerFile]) if (!existsSync(f)) throw new Error(`no NER model in ${resolve(dir)}: ${f} is missing`);
  const i64 = (...shape: (number | string)[]): TensorSignature => ({ type: 'int64', shape });
  const f32 = (...shape: (number | string)[]): TensorSignature => ({ type: 'float32', shape });
  return {
    name: meta.model_name,
    version: meta.model_version,
    file,
    meta,
    tokenizerFile,
    signature: {
      inputs: { input_ids: i64('N', 'L'), attention_mask: i64('N', 'L') },
      outputs: { [NER_OUTPUTS.logits]: f32('N', 'L', meta.tags.length), [NER_OUTPUTS.typeLogits]: f32('N', meta.contract_types.length) },
    },
  };
}

const tokenizers = new Map<string, WordPieces>();

/** The word-piece tokenizer of a spec, loaded once per file (offline: a local tokenizer.json). */
export function nerWordPieces(spec: Pick<NerModelSpec, 'tokenizerFile'>): WordPieces {
  let pieces = tokenizers.get(spec.tokenizerFile);
  if (!pieces) {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(readFileSync(spec.tokenizerFile, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`cannot read the NER tokenizer ${spec.tokenizerFile}: ${(err as Error).message}`);
    }
    // The second argument is tokenizer_config.json; nothing in it changes how a BERT tokenizer encodes.
    pieces = new WordPieces(new Tokenizer(json, {}));
    tokenizers.set(spec.tokenizerFile, pieces);
  }
  return pieces;
}
