"""train.py's targets: every mention of a party is learned, other mentions of a date carry no loss,
and the per-label classes follow the BIO tags. Needs torch (train.py imports it); skipped without."""

import numpy as np
import pytest

pytest.importorskip('torch')
import train  # noqa: E402

TEXT = ('This Agreement is made on June 1, 2020 between Acme Corp. ("Acme") and Beta LLC. '
        'Acme shall pay Beta. Signed June 1, 2020 by Acme and the Acmeville office.')


def doc():
    party = TEXT.index('Acme Corp.')
    quoted = TEXT.index('"Acme"') + 1
    date = TEXT.index('June 1, 2020')
    return {'id': 'd', 'text': TEXT, 'meta': {}, 'spans': [
        (party, party + len('Acme Corp.'), 'PARTY'), (quoted, quoted + 4, 'PARTY'),
        (date, date + len('June 1, 2020'), 'AGREEMENT_DATE')]}


def test_every_party_mention_is_learned_and_other_date_mentions_are_ignored():
    learn, ignore = train.training_spans(doc())
    learned_party = sorted(TEXT[s:e] for s, e, lab in learn if lab == 'PARTY')
    # "Acme" four times: the quoted definition (gold) and three more; not inside "Acme Corp." or "Acmeville".
    assert learned_party == ['Acme', 'Acme', 'Acme', 'Acme Corp.']
    assert [(TEXT[s:e], lab) for s, e, lab in ignore] == [('June 1, 2020', 'AGREEMENT_DATE')]
    assert ignore[0][0] == TEXT.rindex('June 1, 2020')


def test_label_classes_from_bio_columns():
    tags = ['O', 'B-PARTY', 'I-PARTY', 'B-AGREEMENT_DATE', 'I-AGREEMENT_DATE']
    y = np.array([[1, 0, 0, 0, 0], [0, 1, 0, 1, 0], [0, 0, 1, 0, 1], [0, 0, 0, 0, 1]], dtype=np.float32)
    assert train.label_classes(y, tags, ['PARTY', 'AGREEMENT_DATE']).tolist() == [[0, 0], [1, 1], [2, 2], [0, 2]]
