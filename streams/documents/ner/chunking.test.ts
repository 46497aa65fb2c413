// Pure logic of the NER chunking and decoding (no model): word split, chunk windows, the merge rule,
// span decoding and the code-point -> UTF-16 conversion.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bestChunk, chunkStarts, codePointToUtf16, spansFromProbabilities, splitWords, type Tokenized } from './chunking.ts';

const wordsOf = (text: string) => splitWords(text).map(([s, e]) => text.slice(s, e));

test('splitWords: letter/digit runs, each punctuation mark alone, separators dropped', () => {
  assert.deepEqual(wordsOf('Acme, Inc. ("Acme")\tpays $1,250.00'), ['Acme', ',', 'Inc', '.', '(', '"', 'Acme', '"', ')', 'pays', '$', '1', ',', '250', '.', '00']);
  assert.deepEqual(wordsOf(''), []);
  assert.deepEqual(wordsOf(' \n\u00a0\u2028 '), []);
  // € is a currency symbol (Sc), not punctuation: it stays in its word, as in BERT's pre-tokenizer.
  assert.deepEqual(wordsOf('€250 “Licensor”—GmbH'), ['€250', '“', 'Licensor', '”', '—', 'GmbH']);
});

test('splitWords: offsets are UTF-16 and keep surrogate pairs whole', () => {
  const text = 'a 🚀b c';
  assert.deepEqual(splitWords(text), [[0, 1], [2, 5], [6, 7]]);
  assert.equal(text.slice(2, 5), '🚀b');
});

test('codePointToUtf16 maps Python offsets onto JS ones', () => {
  const text = 'x🚀y';
  assert.deepEqual(codePointToUtf16(text), [0, 1, 3, 4]);
  assert.deepEqual(codePointToUtf16(''), [0]);
});

test('chunkStarts: windows of max_length - 2 pieces overlapping by stride; the last reaches the end', () => {
  assert.deepEqual(chunkStarts(0, 10, 2), []);
  assert.deepEqual(chunkStarts(8, 10, 2), [0]);
  assert.deepEqual(chunkStarts(9, 10, 2), [0, 6]);
  assert.deepEqual(chunkStarts(20, 10, 2), [0, 6, 12]);
  assert.throws(() => chunkStarts(20, 10, 8), /stride 8 must be in \[0, 8\)/);
  assert.throws(() => chunkStarts(20, 10, -1), /stride/);
});

test('bestChunk: every piece comes from the chunk where it is farthest from an edge', () => {
  // max_length 10 -> 8 pieces per chunk; chunks [0,8) and [6,14) overlap on pieces 6 and 7.
  // Piece 6: distance 1 in chunk 0 (edge at 7), 0 in chunk 1 -> chunk 0; piece 7: 0 vs 1 -> chunk 1.
  assert.deepEqual(Array.from(bestChunk(14, [0, 6], 10)), [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1]);
  // Wider overlap, chunks [0,8) and [4,12): pieces 4..7 score 3,2,1,0 in chunk 0 and 0,1,2,3 in chunk 1.
  const overlap = Array.from(bestChunk(14, [0, 4], 10));
  assert.deepEqual(overlap.slice(4, 8), [0, 0, 1, 1]);
  assert.equal(overlap[12], -1); // in no chunk
});

test('spansFromProbabilities: threshold, B starts a span, I continues, outside closes', () => {
  const tags = ['O', 'B-PARTY', 'I-PARTY', 'B-GOVERNING_LAW', 'I-GOVERNING_LAW'];
  const words: [number, number][] = [[0, 4], [5, 9], [10, 13], [14, 17], [18, 20], [21, 24]];
  const tok: Tokenized = { words, ids: [1, 2, 3, 4, 5, 6], wordFirstPiece: [0, 1, 2, 3, 4, 5] };
  // per word: [O, B-P, I-P, B-G, I-G]
  const rows = [
    [0, 0.9, 0.1, 0, 0],
    [0, 0.2, 0.8, 0, 0],
    [0, 0.7, 0.3, 0, 0.6], // B > I: a new PARTY span starts here
    [0, 0.1, 0.2, 0, 0.7],
    [0, 0.1, 0.9, 0, 0], // I after an outside word: starts a span anyway
    [0, 0, 0, 0, 0],
  ];
  const probs = Float64Array.from(rows.flat());
  const spans = spansFromProbabilities(tok, [0, 1, 2, 3, 4, 5], probs, ['PARTY', 'GOVERNING_LAW'], tags, { PARTY: 0.5, GOVERNING_LAW: 0.5 });
  assert.deepEqual(spans.map((s) => [s.label, s.start, s.end]), [['PARTY', 0, 9], ['GOVERNING_LAW', 10, 17], ['PARTY', 10, 13], ['PARTY', 18, 20]]);
  assert.ok(Math.abs(spans[0].confidence - 0.85) < 1e-12);
  assert.ok(Math.abs(spans[1].confidence - 0.65) < 1e-12);
});

test('spansFromProbabilities with hysteresis: weak words extend a sure span, a weak span alone is dropped', () => {
  const tags = ['O', 'B-PARTY', 'I-PARTY'];
  const words: [number, number][] = [[0, 4], [4, 5], [6, 9], [10, 14], [15, 19], [20, 23]];
  const tok: Tokenized = { words, ids: [1, 2, 3, 4, 5, 6], wordFirstPiece: [0, 1, 2, 3, 4, 5] };
  // "Acme" sure, "," and "Inc" weak: one span; "Beta" weak and alone: dropped at decision 0.8.
  const rows = [[0, 0.95, 0], [0, 0, 0.4], [0, 0, 0.5], [0, 0, 0.1], [0, 0.45, 0], [0, 0, 0]];
  const probs = Float64Array.from(rows.flat());
  const withExtend = spansFromProbabilities(tok, [0, 1, 2, 3, 4, 5], probs, ['PARTY'], tags, { PARTY: 0.8 }, { PARTY: 0.3 });
  assert.deepEqual(withExtend.map((s) => [s.start, s.end]), [[0, 9]]);
  assert.ok(Math.abs(withExtend[0].confidence - (0.95 + 0.4 + 0.5) / 3) < 1e-12);
  const without = spansFromProbabilities(tok, [0, 1, 2, 3, 4, 5], probs, ['PARTY'], tags, { PARTY: 0.8 });
  assert.deepEqual(without.map((s) => [s.start, s.end]), [[0, 4]]);
});
