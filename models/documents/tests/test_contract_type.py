"""contract_type.py: training and selection on a tiny synthetic corpus, and the JSON export re-applied
in plain numpy equals sklearn's predict_proba (the rules streams/documents/contract-type.ts ports).
Skipped where scikit-learn is not installed (CI's venv)."""
import base64
import json
import math
import re
import unicodedata

import pytest

pytest.importorskip('sklearn')
import numpy as np  # noqa: E402

import contract_type  # noqa: E402

TYPES = {
    'distributor': 'DISTRIBUTOR AGREEMENT This Distributor Agreement appoints the distributor to resell products',
    'franchise': 'FRANCHISE AGREEMENT The franchisor grants the franchisee a franchise and royalty',
    'sponsorship': 'SPONSORSHIP AGREEMENT The sponsor receives sponsorship rights at the event',
}


def corpus(tmp_path, per_type=(4, 2, 2)):
    docs, splits = [], {'train': [], 'validation': [], 'test': []}
    for label, base in TYPES.items():
        for split, n in zip(splits, per_type):
            for i in range(n):
                stem = f'{label}-{split}-{i}'
                docs.append({'id': stem, 'text': f'{base} party {i} Société {stem} ' + 'x' * 50,
                             'label': [], 'meta': {'split': split, 'contract_type': label}})
                splits[split].append(stem)
    data, split_file = tmp_path / 'spans.jsonl', tmp_path / 'splits.json'
    data.write_text(''.join(json.dumps(d) + '\n' for d in docs))
    split_file.write_text(json.dumps(splits))
    return data, split_file


def apply_export(artifact, text):
    """The export's documented rules, independent of sklearn (what the TypeScript port does)."""
    p = artifact['preprocessing']
    ascii_text = unicodedata.normalize('NFKD', text[:p['head_chars']].lower()).encode('ascii', 'ignore').decode()
    tokens = re.findall(p['token_pattern'], ascii_text)
    lo, hi = p['ngram_range']
    grams = [' '.join(tokens[i:i + n]) for n in range(lo, hi + 1) for i in range(len(tokens) - n + 1)]
    column = {t: j for j, t in enumerate(artifact['vocabulary'])}
    counts = {}
    for g in grams:
        if g in column:
            counts[column[g]] = counts.get(column[g], 0) + 1
    x = np.zeros(len(artifact['vocabulary']))
    for j, c in counts.items():
        x[j] = (1 + math.log(c)) * artifact['idf'][j]
    if np.linalg.norm(x) > 0:
        x /= np.linalg.norm(x)
    coef = np.frombuffer(base64.b64decode(artifact['coef']['base64']), dtype='<f4').reshape(artifact['coef']['shape'])
    z = coef.astype(np.float64) @ x + np.array(artifact['intercept'])
    e = np.exp(z - z.max())
    return e / e.sum()


def test_train_select_export_and_fixture_agree(tmp_path):
    data, splits = corpus(tmp_path)
    out = {k: tmp_path / f'{k}.json' for k in ('artifact', 'report', 'fixture')}
    assert contract_type.main(['--data', str(data), '--splits', str(splits), '--c-grid', '1', '10',
                               '--min-df-grid', '1', '--head-chars', '80', '--artifact', str(out['artifact']),
                               '--report', str(out['report']), '--fixture', str(out['fixture'])]) == 0
    report = json.loads(out['report'].read_text())
    assert [t['C'] for t in report['trials']] == [1, 10]
    assert report['validation']['accuracy'] == 1.0 and report['test']['accuracy'] == 1.0
    assert report['test']['top3_accuracy'] == 1.0 and report['test']['errors'] == []
    artifact = json.loads(out['artifact'].read_text())
    assert artifact['classes'] == sorted(TYPES)
    fixture = json.loads(out['fixture'].read_text())
    assert fixture['coef_sha256'] == contract_type.coef_fingerprint(artifact)
    for case in fixture['cases']:
        np.testing.assert_allclose(apply_export(artifact, case['text']), case['proba'], atol=1e-9, err_msg=case['name'])


def test_selection_prefers_accuracy_then_smaller_c(tmp_path):
    data, splits = corpus(tmp_path)
    load = lambda s: ([d['text'] for d in contract_type.load_split(s, data, splits)],  # noqa: E731
                      [d['meta']['contract_type'] for d in contract_type.load_split(s, data, splits)])
    best, trials = contract_type.select(load('train'), load('validation'), [5, 1], [1], seed=0)
    assert len(trials) == 2 and best['accuracy'] == max(t['accuracy'] for t in trials)
    assert best['C'] == 1   # tie on accuracy and macro-F1 -> the smaller C


def test_missing_contract_type_is_a_clear_error(tmp_path):
    data, splits = corpus(tmp_path)
    lines = data.read_text().splitlines()
    doc = json.loads(lines[0])
    del doc['meta']['contract_type']
    data.write_text('\n'.join([json.dumps(doc)] + lines[1:]) + '\n')
    with pytest.raises(ValueError, match='no meta.contract_type'):
        contract_type.main(['--data', str(data), '--splits', str(splits), '--artifact', str(tmp_path / 'a.json'),
                            '--report', str(tmp_path / 'r.json'), '--fixture', str(tmp_path / 'f.json')])


def test_head_counts_code_points():
    assert contract_type.head('a\U0001F680bc', 2) == 'a\U0001F680'
