"""Words, word pieces, overlapping chunks and the merge back to entity spans: the half of LexiScan's
NER that streams/documents/ner/chunking.ts repeats line for line (a fixture test holds them equal).

Why words first: @huggingface/tokenizers (the TypeScript tokenizer) returns ids but no character
offsets. So both sides split the text into words themselves (runs of letters/digits, single
punctuation marks: the split BERT's pre-tokenizer makes), tokenize each word on its own, and map
every word piece back to its word's characters. Entity spans therefore start and end on word
boundaries. Offsets here are Python str indices (code points); the TypeScript side uses UTF-16.

Model output: one logit per tag whose sigmoid is the tag's probability under its label's softmax
over (O, B, I) (model.PerTagLogits; labels may overlap: CUAD's agreement and effective dates are
often the same words), tags = ["O", "B-<LABEL>", "I-<LABEL>", ...]; "O" is not used to decode.
"""
from __future__ import annotations

import bisect
import unicodedata
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np


def _is_separator(ch: str) -> bool:
    # Whitespace and control characters (BERT's normaliser drops or blanks them): Z* and Cc.
    cat = unicodedata.category(ch)
    return cat[0] == 'Z' or cat == 'Cc'


def _is_punctuation(ch: str) -> bool:
    # BERT's definition: ASCII non-alphanumerics (so $, +, ^ count) and Unicode punctuation (P*).
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch)[0] == 'P'


def split_words(text: str) -> list[tuple[int, int]]:
    """[start, end) code-point offsets of the words of `text`: maximal runs of non-separator,
    non-punctuation characters, and every punctuation character on its own."""
    words: list[tuple[int, int]] = []
    start = -1
    for i, ch in enumerate(text):
        if _is_separator(ch):
            if start >= 0:
                words.append((start, i))
                start = -1
        elif _is_punctuation(ch):
            if start >= 0:
                words.append((start, i))
                start = -1
            words.append((i, i + 1))
        elif start < 0:
            start = i
    if start >= 0:
        words.append((start, len(text)))
    return words


class WordPieces:
    """Tokenizes words one at a time (cached: contracts repeat their words) with the encoder's
    tokenizer.json, without special tokens."""

    def __init__(self, tokenizer_json: str):
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(tokenizer_json)
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.cls_id = self.tokenizer.token_to_id('[CLS]')
        self.sep_id = self.tokenizer.token_to_id('[SEP]')
        self.pad_id = self.tokenizer.token_to_id('[PAD]')
        self._cache: dict[str, list[int]] = {}

    def word_ids(self, words: Sequence[str]) -> list[list[int]]:
        missing = sorted({w for w in words if w not in self._cache})
        if missing:
            for w, enc in zip(missing, self.tokenizer.encode_batch(missing, add_special_tokens=False)):
                self._cache[w] = list(enc.ids)
        return [self._cache[w] for w in words]


@dataclass
class Tokenized:
    words: list[tuple[int, int]]   # word character spans
    ids: list[int]                 # word-piece ids of the whole text (no special tokens)
    piece_word: list[int]          # word index of every piece
    word_first_piece: list[int]    # first piece of every word, -1 if the word has no pieces


def tokenize(text: str, pieces: WordPieces) -> Tokenized:
    words = split_words(text)
    per_word = pieces.word_ids([text[s:e] for s, e in words])
    ids: list[int] = []
    piece_word: list[int] = []
    first: list[int] = []
    for w, wid in enumerate(per_word):
        first.append(len(ids) if wid else -1)
        ids.extend(wid)
        piece_word.extend([w] * len(wid))
    return Tokenized(words, ids, piece_word, first)


def chunk_starts(n_pieces: int, max_length: int, stride: int) -> list[int]:
    """Start piece of every chunk. A chunk holds max_length - 2 pieces ([CLS] and [SEP] around
    them); consecutive chunks overlap by `stride` pieces; the last one ends at the text's end."""
    content = max_length - 2
    if stride < 0 or stride >= content:
        raise ValueError(f'stride {stride} must be in [0, {content})')
    if n_pieces == 0:
        return []
    starts = [0]
    while starts[-1] + content < n_pieces:
        starts.append(starts[-1] + content - stride)
    return starts


def chunk_inputs(ids: list[int], starts: list[int], max_length: int, pieces: WordPieces) -> tuple[np.ndarray, np.ndarray]:
    """input_ids and attention_mask [N, L] (int64), L = the longest chunk + 2, right-padded."""
    content = max_length - 2
    rows = [[pieces.cls_id, *ids[s:s + content], pieces.sep_id] for s in starts]
    width = max((len(r) for r in rows), default=2)
    input_ids = np.full((len(rows), width), pieces.pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        input_ids[i, :len(r)] = r
        mask[i, :len(r)] = 1
    return input_ids, mask


def best_chunk(n_pieces: int, starts: list[int], max_length: int) -> list[int]:
    """For every piece, the chunk in which it is most central (largest distance to the nearer chunk
    edge; the earlier chunk on a tie)."""
    content = max_length - 2
    best = [-1] * n_pieces
    score = [-1] * n_pieces
    for k, s in enumerate(starts):
        end = min(s + content, n_pieces)
        for p in range(s, end):
            c = min(p - s, end - 1 - p)
            if c > score[p]:
                score[p] = c
                best[p] = k
    return best


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x.astype(np.float64)))


def word_probabilities(tok: Tokenized, starts: list[int], logits: np.ndarray, max_length: int) -> tuple[list[int], np.ndarray]:
    """(the words that have pieces, their tag probabilities [n, T]): each word takes the sigmoid of
    its first piece's logits in the chunk where that piece is most central."""
    best = best_chunk(len(tok.ids), starts, max_length)
    words = [w for w, p in enumerate(tok.word_first_piece) if p >= 0]
    firsts = [tok.word_first_piece[w] for w in words]
    rows = np.array([best[p] for p in firsts], dtype=np.int64)
    cols = np.array([p - starts[best[p]] + 1 for p in firsts], dtype=np.int64)
    probs = sigmoid(logits[rows, cols]) if words else np.zeros((0, logits.shape[-1]))
    return words, probs


def spans_from_probabilities(text: str, tok: Tokenized, words: list[int], probs: np.ndarray, labels: list[str],
                             tags: list[str], thresholds: dict[str, float], extend: dict[str, float] | None = None) -> list[dict]:
    """Per label, with hysteresis: a word is a candidate when max(P(B), P(I)) >= the label's extend
    threshold (default: its decision threshold), and starts a new span when P(B) > P(I) or the word
    before is not a candidate; a span is kept when one of its words reaches the decision threshold
    (a name's "," or "Inc" may be less sure than its head word). Confidence is the mean of
    max(P(B), P(I)) over the span's words. Sorted by (start, label, end)."""
    entities: list[dict] = []
    for label in labels:
        b, i = tags.index(f'B-{label}'), tags.index(f'I-{label}')
        thr = thresholds[label]
        low = min(thr, (extend or {}).get(label, thr))
        spans: list[list[tuple[int, float]]] = []
        inside_before = False
        for j, w in enumerate(words):
            pb, pi = float(probs[j, b]), float(probs[j, i])
            p = max(pb, pi)
            if p < low:
                inside_before = False
                continue
            if not inside_before or pb > pi:
                spans.append([])
            spans[-1].append((w, p))
            inside_before = True
        for span in spans:
            if max(p for _, p in span) < thr:
                continue
            s, e = tok.words[span[0][0]][0], tok.words[span[-1][0]][1]
            entities.append({'label': label, 'start': s, 'end': e, 'text': text[s:e],
                             'confidence': float(sum(p for _, p in span) / len(span))})
    entities.sort(key=lambda x: (x['start'], x['label'], x['end']))
    return entities


def softmax(x: np.ndarray) -> np.ndarray:
    z = x.astype(np.float64) - np.max(x)
    e = np.exp(z)
    return e / e.sum()


RunFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def run_chunks(text: str, run: RunFn, pieces: WordPieces, max_length: int, stride: int, batch_size: int = 16) -> dict:
    """Tokenize, chunk, run the graph (`run(input_ids, attention_mask) -> (logits, type_logits)`) in
    batches and merge: {tok, starts, chunk_ids, words, word_probs, type_probs} (type from chunk 0)."""
    tok = tokenize(text, pieces)
    starts = chunk_starts(len(tok.ids), max_length, stride)
    if not starts:
        return {'tok': tok, 'starts': [], 'chunk_ids': [], 'words': [], 'word_probs': None, 'type_probs': None}
    input_ids, mask = chunk_inputs(tok.ids, starts, max_length, pieces)
    logits_parts, type_logits = [], None
    for b in range(0, len(starts), batch_size):
        lg, tl = run(input_ids[b:b + batch_size], mask[b:b + batch_size])
        logits_parts.append(lg)
        if type_logits is None:
            type_logits = tl[0]
    words, word_probs = word_probabilities(tok, starts, np.concatenate(logits_parts, axis=0), max_length)
    return {'tok': tok, 'starts': starts, 'words': words, 'word_probs': word_probs, 'type_probs': softmax(type_logits),
            'chunk_ids': [[int(v) for v, m in zip(r, mr) if m] for r, mr in zip(input_ids, mask)]}


def predict(text: str, run: RunFn, pieces: WordPieces, meta: dict, batch_size: int = 16) -> dict:
    """The whole inference path (what runNer does in TypeScript), with the thresholds of the meta."""
    raw = run_chunks(text, run, pieces, meta['max_length'], meta['stride'], batch_size)
    if not raw['starts']:
        return {'entities': [], 'contract_type': None, 'tokens': 0, 'chunks': 0, 'chunk_ids': []}
    entities = spans_from_probabilities(text, raw['tok'], raw['words'], raw['word_probs'], meta['labels'], meta['tags'],
                                        meta['decision_threshold'], meta.get('extend_threshold'))
    k = int(np.argmax(raw['type_probs']))
    return {'entities': entities, 'contract_type': {'label': meta['contract_types'][k], 'confidence': float(raw['type_probs'][k])},
            'tokens': len(raw['tok'].ids), 'chunks': len(raw['starts']), 'chunk_ids': raw['chunk_ids']}


def bio_targets(tok: Tokenized, spans: Sequence[tuple[int, int, str]], tags: list[str]) -> np.ndarray:
    """Multi-label BIO targets per piece [n_pieces, T] (float32): a word is inside a span when their
    characters overlap; its pieces all carry the span's B (first word) or I tag; "O" = no label."""
    y = np.zeros((len(tok.ids), len(tags)), dtype=np.float32)
    starts = [w[0] for w in tok.words]
    for s, e, label in spans:
        if f'B-{label}' not in tags:
            continue
        b, i = tags.index(f'B-{label}'), tags.index(f'I-{label}')
        w0 = max(0, bisect.bisect_right(starts, s) - 1)
        first = True
        for w in range(w0, len(tok.words)):
            ws, we = tok.words[w]
            if ws >= e:
                break
            if we <= s or tok.word_first_piece[w] < 0:
                continue
            p0 = tok.word_first_piece[w]
            p1 = p0 + 1
            while p1 < len(tok.piece_word) and tok.piece_word[p1] == w:
                p1 += 1
            y[p0, b if first else i] = 1.0
            y[p0 + 1:p1, i] = 1.0  # later pieces of a word continue it
            first = False
    y[:, 0] = (y[:, 1:].max(axis=1) == 0).astype(np.float32) if len(tags) > 1 else 1.0
    return y
