import pytest

np = pytest.importorskip('numpy')
pytest.importorskip('sklearn')

from date_ranker import document_f1  # noqa: E402
from evaluate_pipeline import score_values  # noqa: E402


def test_document_f1_takes_each_contracts_top_candidate_above_the_threshold():
    docs = [
        {'gold': {'AGREEMENT_DATE': ['2019-03-03']}, 'candidates': [{'iso': '2019-03-03'}, {'iso': '2021-12-31'}]},
        {'gold': {'AGREEMENT_DATE': ['2020-01-01']}, 'candidates': [{'iso': '2020-02-02'}]},  # wrong top candidate
        {'gold': {'AGREEMENT_DATE': []}, 'candidates': [{'iso': '2018-05-05'}]},  # blank date: should abstain
        {'gold': {'AGREEMENT_DATE': ['2017-01-01']}, 'candidates': []},  # no calendar candidate at all
    ]
    probs = np.array([0.9, 0.2, 0.6, 0.3])
    m = document_f1(docs, probs, 'AGREEMENT_DATE', 0.5)
    assert (m['tp'], m['pred'], m['gold']) == (1, 2, 3)  # the 0.3 of contract 3 is below the threshold
    assert m['precision'] == 0.5 and m['recall'] == round(1 / 3, 4)
    m = document_f1(docs, probs, 'AGREEMENT_DATE', 0.25)
    assert (m['tp'], m['pred']) == (1, 3)


def test_value_metric_counts_a_role_and_its_name_once_and_a_clause_by_its_jurisdiction():
    gold_docs = [{'id': 'a', 'meta': {}}]
    gold_values = {'a': [
        {'label': 'PARTY', 'text': 'Acme Corp.', 'normalized': 'Acme Corp.'},
        {'label': 'PARTY', 'text': 'Company', 'normalized': 'Acme Corp.'},
        {'label': 'GOVERNING_LAW', 'text': 'This Agreement is governed by the laws of New York.', 'normalized': 'US-NY'},
    ]}
    predicted = {'a': [
        {'label': 'PARTY', 'text': 'the Company', 'normalized': 'Acme Corp.'},
        {'label': 'GOVERNING_LAW', 'text': 'governed by the laws of the State of New York', 'normalized': 'US-NY'},
        {'label': 'PARTY', 'text': 'KPMG', 'normalized': None},
    ]}
    out = score_values(gold_values, gold_docs, predicted, ['PARTY', 'GOVERNING_LAW'])
    assert (out['PARTY']['tp'], out['PARTY']['pred'], out['PARTY']['gold']) == (1, 2, 1)
    assert out['GOVERNING_LAW']['f1'] == 1.0


def test_party_f1_counts_every_kept_candidate_against_the_contracts_party_strings():
    from party_ranker import document_f1 as party_f1, review_threshold

    docs = [
        {'gold': 3, 'candidates': [{'gold': True}, {'gold': True}, {'gold': False}]},
        {'gold': 1, 'candidates': [{'gold': False}]},
    ]
    m = party_f1(docs, np.array([0.9, 0.3, 0.6, 0.7]), 0.5)
    assert (m['tp'], m['pred'], m['gold']) == (1, 3, 4)
    # review: the lowest confidence above which precision stays >= 0.9 over at least 5 entities
    pairs = [(0.99, True), (0.95, True), (0.9, True), (0.85, True), (0.8, True), (0.7, False), (0.6, True), (0.5, False)]
    assert review_threshold(pairs) == 0.8
    assert review_threshold([(0.9, False)] * 6) == 1.0


def test_a_train_contract_loses_what_the_tagger_said_and_the_names_only_the_tagger_proposed():
    from party_ranker import without_tagger
    doc = {'id': 'x', 'gold': 2, 'candidates': [
        {'text': 'Acme Corp.', 'gold': True, 'features': ['src:defined', 'src:ner', 'sources:defined+ner', 'nerc:9', 'legal_form', 'pos:0']},
        {'text': 'KPMG', 'gold': False, 'features': ['src:ner', 'sources:ner', 'nerc:8', 'acronym']},
        {'text': 'Beta LLC', 'gold': True, 'features': ['src:legal', 'src:preamble', 'sources:legal+preamble', 'nerc:none', 'legal_form']},
    ]}
    out = without_tagger(doc)
    assert [c['text'] for c in out['candidates']] == ['Acme Corp.', 'Beta LLC']
    assert sorted(out['candidates'][0]['features']) == sorted(['src:defined', 'legal_form', 'pos:0', 'nerc:none', 'sources:defined'])
    assert sorted(out['candidates'][1]['features']) == sorted(['src:legal', 'src:preamble', 'legal_form', 'nerc:none', 'sources:legal+preamble'])
    assert doc['candidates'][1]['text'] == 'KPMG'  # the input is left as it was


def test_the_softmax_ranker_learns_which_candidate_wins_and_when_none_does():
    from date_ranker import fitted_model, probabilities
    right = {'iso': '2019-03-03', 'features': ['b:dated'], 'gold': ['AGREEMENT_DATE']}
    wrong = {'iso': '2021-12-31', 'features': ['b:expire'], 'gold': []}
    blank = {'iso': '2018-05-05', 'features': ['b:invoice'], 'gold': []}
    docs = [{'candidates': [dict(right), dict(wrong)]} for _ in range(20)] + [{'candidates': [dict(blank)]} for _ in range(20)]
    model = fitted_model(docs, 'AGREEMENT_DATE', 0.1)
    p = probabilities(docs[:1], model)
    assert p[0] > 0.8 and p[1] < 0.1 and p.sum() < 1  # "none" keeps the rest
    assert probabilities(docs[-1:], model)[0] < 0.2  # a contract of only unlikely dates: "none" wins
    z = np.array([model['none'], model['weights'].get('b:dated', 0.0), model['weights'].get('b:expire', 0.0)])
    assert np.allclose(p, np.exp(z[1:]) / np.exp(z).sum())


def test_a_label_leaves_out_the_features_it_ignores():
    from date_ranker import IGNORED, fitted_model
    assert IGNORED['AGREEMENT_DATE'] == ('eff_use:',)
    right = {'iso': '2019-03-03', 'features': ['b:dated', 'eff_use:preamble'], 'gold': ['AGREEMENT_DATE', 'EFFECTIVE_DATE']}
    wrong = {'iso': '2021-12-31', 'features': ['b:expire', 'eff_use:preamble'], 'gold': []}
    docs = [{'candidates': [dict(right), dict(wrong)]} for _ in range(10)]
    assert not any(f.startswith('eff_use:') for f in fitted_model(docs, 'AGREEMENT_DATE', 0.1)['weights'])
    assert 'eff_use:preamble' in fitted_model(docs, 'EFFECTIVE_DATE', 0.1)['weights']


def test_cross_fit_writes_a_ranker_per_fold_fitted_without_it_and_shares_out_the_files(tmp_path):
    import json
    from date_ranker import FOLDS, cross_fit
    docs = [{'id': f'contract-{n}', 'gold': {'AGREEMENT_DATE': ['2019-03-03']},
             'candidates': [{'iso': '2019-03-03', 'features': ['b:dated', f'only:{n}'], 'gold': ['AGREEMENT_DATE']},
                            {'iso': '2021-12-31', 'features': ['b:expire'], 'gold': []}]} for n in range(10)]
    files = tmp_path / 'train.list'
    files.write_text(''.join(f'/data/Contract {n}.txt\n' for n in range(10)) + '/data/Not in the splits.txt\n')
    report = {'cross_validation': {'AGREEMENT_DATE': {'penalty': 0.1}, 'EFFECTIVE_DATE': {'penalty': 0.1}}}
    cross_fit(docs, report, tmp_path / 'folds', [files])
    shared = []
    for k in range(FOLDS):
        folder = tmp_path / 'folds' / f'fold-{k}'
        mine = folder.joinpath('train.list').read_text().split('\n')[:-1]
        shared += mine
        held = {f'only:{m.split()[-1][:-4]}' for m in mine}
        weights = json.loads(folder.joinpath('date-ranker.json').read_text())['labels']['AGREEMENT_DATE']['weights']
        assert held and not held & set(weights), 'a fold ranker never saw its own contracts'
        assert folder.joinpath('legal-ner.onnx').is_symlink() and not folder.joinpath('date-ranker.json').is_symlink()
    assert sorted(shared) == sorted(f'/data/Contract {n}.txt' for n in range(10))
