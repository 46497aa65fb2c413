import json

import pytest

np = pytest.importorskip('numpy')
pytest.importorskip('sklearn')

import clause_classifier as cc  # noqa: E402
from metrics import detection  # noqa: E402

TERMINATE = 'Either party may terminate this Agreement for convenience upon thirty days written notice.'
OTHER = ['The Supplier shall deliver the Products monthly.', 'This Agreement is governed by the laws of New York.',
         'The Buyer shall pay each invoice within thirty days.', 'Notices shall be given in writing to the addresses below.']


def contract(i: int, has_clause: bool) -> dict:
    sentences = [f'Contract {i} is made between Acme {i} and Beta {i}.', *OTHER] + ([TERMINATE] if has_clause else [])
    return {'id': f'c{i}', 'split': 'train', 'sentences': sentences,
            'labels': {'TERMINATION_FOR_CONVENIENCE': [len(sentences) - 1] if has_clause else [], 'POST_TERMINATION_SERVICES': []}}


def test_per_contract_takes_each_contracts_best_sentence():
    probs = np.array([0.1, 0.9, 0.3, 0.2, 0.8])
    y = np.array([False, False, True, False, True])
    groups = np.array([0, 0, 0, 1, 1])
    best, gold, right = cc.per_contract(probs, y, groups, 3)
    assert best.tolist() == [0.9, 0.8, -1.0]  # contract 2 has no sentence: never an answer
    assert gold.tolist() == [True, True, False] and right.tolist() == [False, True, False]
    assert cc.detection(best, gold, 0.85) == {'f1': 0.6667, 'precision': 1.0, 'recall': 0.5, 'tp': 1, 'pred': 1, 'gold': 2}


def test_the_export_gives_the_fitted_models_probabilities(tmp_path):
    docs = [contract(i, i % 2 == 0) for i in range(12)]
    chosen = {'TERMINATION_FOR_CONVENIENCE': {'C': 10.0, 'threshold': 0.5, 'review_threshold': 0.9}}
    vec, coefs, intercepts = cc.shared_fit(docs, ['TERMINATION_FOR_CONVENIENCE'], chosen)
    artifact = json.loads(json.dumps(cc.export(vec, coefs, intercepts, ['TERMINATION_FOR_CONVENIENCE'], chosen, 't')))
    texts = [TERMINATE, OTHER[0], '']
    got = cc.probabilities(artifact, texts)[:, 0]
    x = vec.transform(texts)
    expected = 1 / (1 + np.exp(-(x @ coefs[0].astype(np.float64) + intercepts[0])))
    assert np.allclose(got, expected, atol=1e-12)
    assert got[0] > 0.5 > got[1], 'the clause outranks an ordinary sentence'
    assert got[2] == pytest.approx(1 / (1 + np.exp(-intercepts[0]))), 'an empty text is the intercept alone'
    assert artifact['preprocessing']['token_pattern'] == r'\b\w\w+\b' and artifact['threshold'] == [0.5]


def test_detection_reads_gold_under_the_given_key():
    docs = [{'id': 'a', 'meta': {}, 'label': [(0, 5, 'TERMINATION_FOR_CONVENIENCE')]}, {'id': 'b', 'meta': {}, 'label': []}]
    m = detection(docs, {'a': [(0, 0, 'TERMINATION_FOR_CONVENIENCE')], 'b': [(0, 0, 'TERMINATION_FOR_CONVENIENCE')]},
                  ['TERMINATION_FOR_CONVENIENCE'], gold_key='label')
    assert (m['TERMINATION_FOR_CONVENIENCE']['tp'], m['TERMINATION_FOR_CONVENIENCE']['pred'], m['TERMINATION_FOR_CONVENIENCE']['gold']) == (1, 2, 1)
