// Words, word pieces, overlapping chunks and the merge back to entity spans: the TypeScript twin of
// models/documents/chunking.py, line for line (fixtures/*.json, written by Python, hold them equal).
//
// @huggingface/tokenizers returns ids without character offsets, so both sides split the text into
// words themselves (runs of letters/digits; every punctuation mark alone: the split BERT's
// pre-tokenizer makes), tokenize each word alone, and map every piece back to its word. Offsets
// here are UTF-16 code units (JS string indices); Python's are code points.
import type { Tokenizer } from '@huggingface/tokenizers';

const SEPARATOR = /[\p{Z}\p{Cc}]/u;
const UNICODE_PUNCTUATION = /\p{P}/u;

function isPunctuation(ch: string, cp: number): boolean {
  // BERT's definition: ASCII non-alphanumerics (so $, +, ^ count) and Unicode punctuation (P*).
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return UNICODE_PUNCTUATION.test(ch);
}

/** [start, end) UTF-16 offsets of the words of `text` (same words as Python's split_words). */
export function splitWords(text: string): [number, number][] {
  const words: [number, number][] = [];
  let start = -1;
  let i = 0;
  while (i < text.length) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const ch = text.slice(i, i + width);
    if (SEPARATOR.test(ch)) {
      if (start >= 0) words.push([start, i]);
      start = -1;
    } else if (isPunctuation(ch, cp)) {
      if (start >= 0) words.push([start, i]);
      start = -1;
      words.push([i, i + width]);
    } else if (start < 0) {
      start = i;
    }
    i += width;
  }
  if (start >= 0) words.push([start, text.length]);
  return words;
}

/** Tokenizes words one at a time without special tokens, cached (contracts repeat their words). */
export class WordPieces {
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  private readonly cache = new Map<string, number[]>();
  private readonly tokenizer: Tokenizer;

  constructor(tokenizer: Tokenizer) {
    this.tokenizer = tokenizer;
    const id = (t: string) => {
      const v = tokenizer.token_to_id(t);
      if (v === undefined) throw new Error(`the tokenizer has no ${t} token; is it the encoder's tokenizer.json?`);
      return v;
    };
    this.clsId = id('[CLS]');
    this.sepId = id('[SEP]');
    this.padId = id('[PAD]');
  }

  ids(word: string): number[] {
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached;
    const ids = this.tokenizer.encode(word, { add_special_tokens: false }).ids;
    if (this.cache.size > 200_000) this.cache.clear(); // bound memory on adversarial input
    this.cache.set(word, ids);
    return ids;
  }
}

export interface Tokenized {
  words: [number, number][];
  ids: number[];
  /** First piece of every word, -1 when the word has no pieces (e.g. only a zero-width space). */
  wordFirstPiece: number[];
}

export function tokenize(text: string, pieces: WordPieces): Tokenized {
  const words = splitWords(text);
  const ids: number[] = [];
  const wordFirstPiece: number[] = [];
  for (const [s, e] of words) {
    const wid = pieces.ids(text.slice(s, e));
    wordFirstPiece.push(wid.length ? ids.length : -1);
    for (const v of wid) ids.push(v);
  }
  return { words, ids, wordFirstPiece };
}

/** Start piece of every chunk: max_length - 2 pieces between [CLS] and [SEP], `stride` pieces of overlap. */
export function chunkStarts(nPieces: number, maxLength: number, stride: number): number[] {
  const content = maxLength - 2;
  if (!Number.isInteger(stride) || stride < 0 || stride >= content) throw new Error(`stride ${stride} must be in [0, ${content})`);
  if (nPieces === 0) return [];
  const starts = [0];
  while (starts[starts.length - 1] + content < nPieces) starts.push(starts[starts.length - 1] + content - stride);
  return starts;
}

/** The token ids of every chunk, [CLS] ... [SEP], unpadded. */
export function chunkIds(ids: number[], starts: number[], maxLength: number, pieces: WordPieces): number[][] {
  const content = maxLength - 2;
  return starts.map((s) => [pieces.clsId, ...ids.slice(s, s + content), pieces.sepId]);
}

/** For every piece, the chunk where it is most central (farthest from the nearer edge; earlier chunk on a tie). */
export function bestChunk(nPieces: number, starts: number[], maxLength: number): Int32Array {
  const content = maxLength - 2;
  const best = new Int32Array(nPieces).fill(-1);
  const score = new Int32Array(nPieces).fill(-1);
  starts.forEach((s, k) => {
    const end = Math.min(s + content, nPieces);
    for (let p = s; p < end; p++) {
      const c = Math.min(p - s, end - 1 - p);
      if (c > score[p]) {
        score[p] = c;
        best[p] = k;
      }
    }
  });
  return best;
}

/** Tag probabilities of the words that have pieces: sigmoid of the first piece's logits in its best chunk. */
export function wordProbabilities(tok: Tokenized, starts: number[], maxLength: number, logits: Float32Array, width: number, nTags: number): { words: number[]; probs: Float64Array } {
  const best = bestChunk(tok.ids.length, starts, maxLength);
  const words: number[] = [];
  tok.wordFirstPiece.forEach((p, w) => {
    if (p >= 0) words.push(w);
  });
  const probs = new Float64Array(words.length * nTags);
  words.forEach((w, j) => {
    const p = tok.wordFirstPiece[w];
    const k = best[p];
    const base = (k * width + (p - starts[k] + 1)) * nTags;
    for (let t = 0; t < nTags; t++) probs[j * nTags + t] = 1 / (1 + Math.exp(-logits[base + t]));
  });
  return { words, probs };
}

export interface Span {
  label: string;
  start: number;
  end: number;
  confidence: number;
}

/**
 * Per label, with hysteresis: a word is a candidate when max(P(B), P(I)) >= the label's extend
 * threshold (default: its decision threshold) and starts a new span when P(B) > P(I) or the word
 * before is not a candidate; a span is kept when one of its words reaches the decision threshold.
 * Confidence = mean max(P(B), P(I)) of its words.
 */
export function spansFromProbabilities(tok: Tokenized, words: number[], probs: Float64Array, labels: string[], tags: string[], thresholds: Record<string, number>, extend?: Record<string, number>): Span[] {
  const nTags = tags.length;
  const spans: Span[] = [];
  for (const label of labels) {
    const b = tags.indexOf(`B-${label}`);
    const i = tags.indexOf(`I-${label}`);
    const thr = thresholds[label];
    const low = Math.min(thr, extend?.[label] ?? thr);
    let open: { first: number; last: number; sum: number; n: number; max: number } | null = null;
    const close = () => {
      if (open && open.max >= thr) spans.push({ label, start: tok.words[open.first][0], end: tok.words[open.last][1], confidence: open.sum / open.n });
      open = null;
    };
    words.forEach((w, j) => {
      const pb = probs[j * nTags + b];
      const pi = probs[j * nTags + i];
      const p = Math.max(pb, pi);
      if (p < low) return close();
      if (open === null || pb > pi) {
        close();
        open = { first: w, last: w, sum: p, n: 1, max: p };
      } else {
        open.last = w;
        open.sum += p;
        open.n += 1;
        open.max = Math.max(open.max, p);
      }
    });
    close();
  }
  return spans.sort((x, y) => x.start - y.start || (x.label < y.label ? -1 : x.label > y.label ? 1 : 0) || x.end - y.end);
}

/** UTF-16 offset of every code-point offset of `text` (index = code points, length + 1 entries). */
export function codePointToUtf16(text: string): number[] {
  const map: number[] = [];
  let i = 0;
  while (i < text.length) {
    map.push(i);
    i += text.codePointAt(i)! > 0xffff ? 2 : 1;
  }
  map.push(text.length);
  return map;
}
