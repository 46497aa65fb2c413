// Legal NER on one document's text: tokenize, chunk with overlap, run the ONNX graph through the
// runtime's model handle, merge (each word from the chunk where it is most central), decode spans.
// Same steps and numbers as models/documents/chunking.py `predict` (fixtures hold them equal).
import * as ort from 'onnxruntime-node';
import type { LoadedModel } from '../../runtime/models.ts';
import { chunkIds, chunkStarts, spansFromProbabilities, tokenize, wordProbabilities } from './chunking.ts';
import { NER_OUTPUTS, nerWordPieces, type NerModelSpec } from './model.ts';

export interface NerEntity {
  label: string;
  /** UTF-16 offsets (JS string indices) into the text given to runNer. */
  start: number;
  end: number;
  text: string;
  confidence: number;
}

export interface NerResult {
  entities: NerEntity[];
  /** Contract type from the first chunk; null for a text without tokens. */
  contractType: { label: string; confidence: number } | null;
  /** Word pieces of the whole text, and chunks run through the model. */
  tokens: number;
  chunks: number;
}

export interface RunNerOptions {
  /** Chunks per model call (memory vs. call overhead). */
  batchSize?: number;
}

/** The model's inputs for a batch of chunks (word-piece ids with [CLS]/[SEP]), padded to `width`. */
export function chunkFeeds(batch: number[][], width: number, padId: number): Record<string, ort.Tensor> {
  const ids = new BigInt64Array(batch.length * width).fill(BigInt(padId));
  const mask = new BigInt64Array(batch.length * width);
  batch.forEach((r, n) => {
    r.forEach((v, j) => {
      ids[n * width + j] = BigInt(v);
      mask[n * width + j] = 1n;
    });
  });
  return { input_ids: new ort.Tensor('int64', ids, [batch.length, width]), attention_mask: new ort.Tensor('int64', mask, [batch.length, width]) };
}

/** Entities and contract type of `text` (any length; empty text gives no entities and no type). */
export async function runNer(model: Pick<LoadedModel, 'run'>, spec: NerModelSpec, text: string, options: RunNerOptions = {}): Promise<NerResult> {
  if (typeof text !== 'string') throw new TypeError(`runNer needs the document text as a string, got ${typeof text}`);
  const { meta } = spec;
  const batchSize = options.batchSize ?? 8;
  const pieces = nerWordPieces(spec);
  const tok = tokenize(text, pieces);
  const starts = chunkStarts(tok.ids.length, meta.max_length, meta.stride);
  if (starts.length === 0) return { entities: [], contractType: null, tokens: 0, chunks: 0 };
  const rows = chunkIds(tok.ids, starts, meta.max_length, pieces);
  const width = Math.max(...rows.map((r) => r.length));
  const nTags = meta.tags.length;
  const logits = new Float32Array(rows.length * width * nTags);
  let typeLogits: Float32Array | null = null;
  for (let b = 0; b < rows.length; b += batchSize) {
    const batch = rows.slice(b, b + batchSize);
    const out = await model.run(chunkFeeds(batch, width, pieces.padId));
    const lg = out[NER_OUTPUTS.logits];
    const tl = out[NER_OUTPUTS.typeLogits];
    if (!lg || !tl) throw new Error(`model ${spec.name}@${spec.version} returned no ${!lg ? NER_OUTPUTS.logits : NER_OUTPUTS.typeLogits} output`);
    const dims = lg.dims;
    if (dims.length !== 3 || dims[0] !== batch.length || dims[1] !== width || dims[2] !== nTags) {
      throw new Error(`model ${spec.name}@${spec.version}: logits have shape [${dims.join(', ')}], expected [${batch.length}, ${width}, ${nTags}]`);
    }
    logits.set(lg.data as Float32Array, b * width * nTags);
    if (typeLogits === null) typeLogits = (tl.data as Float32Array).slice(0, meta.contract_types.length);
  }
  const { words, probs } = wordProbabilities(tok, starts, meta.max_length, logits, width, nTags);
  const spans = spansFromProbabilities(tok, words, probs, meta.labels, meta.tags, meta.decision_threshold, meta.extend_threshold);
  return {
    entities: spans.map((s) => ({ label: s.label, start: s.start, end: s.end, text: text.slice(s.start, s.end), confidence: s.confidence })),
    contractType: contractType(typeLogits!, meta.contract_types),
    tokens: tok.ids.length,
    chunks: starts.length,
  };
}

function contractType(logits: Float32Array, types: string[]): { label: string; confidence: number } {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  let best = 0;
  logits.forEach((v, k) => {
    sum += Math.exp(v - max);
    if (v > logits[best]) best = k;
  });
  return { label: types[best], confidence: Math.exp(logits[best] - max) / sum };
}
