// sklearn's TfidfVectorizer and a linear layer over it, without Python at run time: the contract-type
// classifier (contract-type.ts) and the clause-sentence classifier (ner/clause-classifier.ts) are
// both fitted in Python and exported as the same JSON parts, read and applied here with sklearn's
// exact rules: lower case -> NFKD -> drop non-ASCII -> /\b\w\w+\b/ tokens -> word 1..n grams joined by
// ' ' -> sublinear tf (1 + ln count) * idf -> l2 -> W x + b. On ASCII text JavaScript's \w and \b
// mean what Python's do, which is why the exports fold to ASCII.

export interface TfidfPreprocessing {
  lowercase: boolean; token_pattern: string; ngram_range: [number, number]; ngram_join: string; tf: string; norm: string; strip_accents: string;
}

/** The JSON parts of an export: rows are classes (contract types) or labels (clause kinds). */
export interface TfidfLinearExport {
  preprocessing: TfidfPreprocessing;
  vocabulary: string[];
  idf: number[];
  coef: { dtype: string; shape: [number, number]; base64: string };
  intercept: number[];
}

export interface TfidfLinear {
  ngramRange: [number, number];
  sublinearTf: boolean;
  /** Term -> column. */
  columns: Map<string, number>;
  idf: Float64Array;
  /** Row-major [rows x terms]. */
  coef: Float32Array;
  intercept: Float64Array;
}

/** Checks and decodes the parts; `fail` throws the caller's error with the reason. */
export function readTfidfLinear(raw: TfidfLinearExport, rows: number, fail: (why: string) => never): TfidfLinear {
  const p = raw.preprocessing;
  // The rules below are implemented in code; refuse an export that asks for others.
  if (!p || p.token_pattern !== '\\b\\w\\w+\\b' || !p.lowercase || p.norm !== 'l2' || p.ngram_join !== ' ' || !p.strip_accents.startsWith('ascii')) {
    fail(`unsupported preprocessing ${JSON.stringify(p)}`);
  }
  const [nRows, nTerms] = raw.coef.shape;
  if (raw.coef.dtype !== 'float32-le') fail(`coefficients are ${raw.coef.dtype}, expected float32-le`);
  if (nRows !== rows || raw.intercept.length !== rows) fail('classes, intercepts and coef rows disagree');
  if (raw.vocabulary.length !== nTerms || raw.idf.length !== nTerms) fail('vocabulary, idf and coef columns disagree');
  const bytes = Buffer.from(raw.coef.base64, 'base64');
  if (bytes.length !== nRows * nTerms * 4) fail(`coef has ${bytes.length} bytes, expected ${nRows * nTerms * 4}`);
  const coef = new Float32Array(nRows * nTerms);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < coef.length; i++) coef[i] = view.getFloat32(i * 4, true);
  const columns = new Map<string, number>();
  raw.vocabulary.forEach((term, column) => columns.set(term, column));
  if (columns.size !== nTerms) fail('vocabulary has duplicate terms');
  return { ngramRange: p.ngram_range, sublinearTf: p.tf.startsWith('sublinear'), columns, idf: Float64Array.from(raw.idf), coef, intercept: Float64Array.from(raw.intercept) };
}

/** sklearn: lowercase=True, strip_accents='ascii' (lower first, then NFKD, then drop non-ASCII), token_pattern. */
export function tfidfTokens(text: string): string[] {
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

/** W x + b for each row, x the text's l2-normalised tf-idf vector; `matchedTerms` 0 means x is empty (the logits are the intercepts). */
export function tfidfLogits(model: TfidfLinear, text: string): { logits: number[]; matchedTerms: number } {
  const counts = new Map<number, number>();
  for (const gram of wordNgrams(tfidfTokens(text), model.ngramRange)) {
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
  const logits = Array.from(model.intercept, (b, k) => {
    let z = b;
    for (const [column, value] of features) z += model.coef[k * nTerms + column] * (value / norm);
    return z;
  });
  return { logits, matchedTerms: counts.size };
}
