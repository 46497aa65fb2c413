"""baseline_spacy.py: windows over long contracts and the overlap rule (no training here)."""

import pytest

spacy = pytest.importorskip('spacy')
import baseline_spacy  # noqa: E402

TEXT = ('SUPPLY AGREEMENT\n\nThis Agreement is made on May 8, 2014. ' + 'Filler sentence here. ' * 30
        + '\nThis Agreement shall be governed by the laws of the State of Nevada, without regard to conflicts. '
        + 'More words follow; and more. ' * 20)


def test_windows_cover_the_text_and_never_cut_a_training_span():
    law = TEXT.index('This Agreement shall')
    spans = [(law, TEXT.index('conflicts.') + 10, 'GOVERNING_LAW')]
    parts = baseline_spacy.windows(TEXT, 200, spans)
    assert parts[0][0] == 0 and parts[-1][1] == len(TEXT)
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
    assert any(s <= spans[0][0] and spans[0][1] <= e for s, e in parts)
    assert all(e - s <= 200 for s, e in parts if not (s <= law < e))


def test_windows_hard_split_a_line_without_cuts():
    text = 'word ' * 1000
    parts = baseline_spacy.windows(text, 300)
    # a window may run to the next natural cut up to twice the size, never further
    assert max(e - s for s, e in parts) <= 600 and len(parts) >= 8 and parts[-1][1] == len(text)


def test_overlaps_keep_the_entity_like_label():
    kept = baseline_spacy.resolve_overlaps([(10, 20, 'EFFECTIVE_DATE'), (10, 20, 'AGREEMENT_DATE'),
                                            (0, 200, 'EXPIRATION_DATE'), (300, 310, 'PARTY')])
    assert kept == [(10, 20, 'AGREEMENT_DATE'), (300, 310, 'PARTY')]


def test_effective_date_rule_only_fills_a_missing_effective_date():
    predictions = {'a': [[0, 10, 'AGREEMENT_DATE']], 'b': [[0, 10, 'AGREEMENT_DATE'], [20, 30, 'EFFECTIVE_DATE']]}
    out = baseline_spacy.effective_from_agreement(predictions)
    assert out['a'] == [[0, 10, 'AGREEMENT_DATE'], [0, 10, 'EFFECTIVE_DATE']]
    assert out['b'] == predictions['b']
