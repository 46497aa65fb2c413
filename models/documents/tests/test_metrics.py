"""metrics.py: span F1 (exact, IoU overlap) and document-level set F1 per label."""

import metrics

TEXT = 'ACME INC. ("Supplier") and Beta LLC. Governed by the laws of Delaware. Fee $5.'
GOLD = [{'id': 'a', 'text': TEXT, 'meta': {'amount_labelled': False},
         'label': [[0, 9, 'PARTY'], [27, 35, 'PARTY'], [37, 70, 'GOVERNING_LAW']]}]


def test_exact_overlap_and_document_scores_differ_as_defined():
    predictions = {'a': [[0, 9, 'PARTY', 0.9],     # exact (a trailing confidence is ignored)
                         [27, 36, 'PARTY'],        # 'Beta LLC.' overlaps 8/9, text normalises to 'beta llc'
                         [12, 20, 'PARTY'],        # 'Supplier': a false positive
                         [37, 50, 'GOVERNING_LAW'],  # IoU 13/33 < 0.5
                         [76, 78, 'AMOUNT']]}      # AMOUNT not labelled in this contract: not scored
    result = metrics.evaluate(GOLD, predictions, ['PARTY', 'GOVERNING_LAW', 'AMOUNT'])
    party = result['per_label']['PARTY']
    assert (party['span_exact']['tp'], party['span_exact']['pred'], party['span_exact']['gold']) == (1, 3, 2)
    assert party['span_overlap']['tp'] == 2
    assert party['document']['tp'] == 2 and party['document']['f1'] == round(2 * (2 / 3) * 1 / (2 / 3 + 1), 4)
    assert result['per_label']['GOVERNING_LAW']['span_overlap']['tp'] == 0
    assert result['per_label']['AMOUNT']['documents_scored'] == 0
    assert result['micro']['span_exact']['tp'] == 1


def test_overlap_matching_is_one_to_one():
    gold = [{'id': 'a', 'text': TEXT, 'meta': {}, 'label': [[0, 9, 'PARTY']]}]
    result = metrics.evaluate(gold, {'a': [[0, 9, 'PARTY'], [0, 8, 'PARTY']]}, ['PARTY'])
    assert result['per_label']['PARTY']['span_overlap']['tp'] == 1


def test_entity_text_normalisation():
    assert metrics.normalise_entity_text(' "Beta\n  LLC." ') == 'beta llc'
    assert metrics.normalise_entity_text('(“Supplier”)') == 'supplier'
