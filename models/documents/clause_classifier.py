"""Clause-sentence classifier (LexiScan #10): which sentence of a contract is its termination-for-
convenience clause, and which its post-termination-services clause.

    node streams/documents/ner/clause-classifier-data.ts data/cuad-spans.jsonl splits.json > clause-sentences.jsonl
    python models/documents/clause_classifier.py clause-sentences.jsonl     # choose out of fold, fit, export
    python models/documents/clause_classifier.py clause-sentences.jsonl --test   # once, at the end

The sentences and their labels come from TypeScript (streams/documents/ner/clause-classifier.ts cuts
them; a sentence is positive for a label when a CUAD clause of it overlaps it). Each label is a
binary logistic regression over the sentence's TF-IDF (word 1-2 grams of the lower-cased,
ASCII-folded text, sublinear tf, l2: the rules of contract_type.py, which the TypeScript port
tfidf.ts applies exactly), class-weighted because about one sentence in 500 is a clause.

A contract's answer for a label is its most probable sentence, kept when its probability reaches the
label's threshold. C and the threshold are chosen per label by 5-fold cross-validation grouped by
contract over the train and validation contracts (contract-level detection F1, out of fold: did the
contract get an answer exactly when it has such a clause); the model is then refitted on all of
them. The review threshold is read from the out-of-fold answers (party_ranker.review_threshold).
The test split is scored once, by the exported model (--test).

Writes artifacts/clause-classifier.json, reports/clause-classifier.json and the TypeScript fixture
(streams/documents/fixtures/clause-classifier-fixture.json: per-sentence probabilities of a few texts).
"""
from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
from metrics import _prf  # noqa: E402
from party_ranker import review_threshold  # noqa: E402

FORMAT = 'streamscore-clause-sentence-tfidf-logreg/1'
TOKEN_PATTERN = r'(?u)\b\w\w+\b'
LABELS = ['TERMINATION_FOR_CONVENIENCE', 'POST_TERMINATION_SERVICES']
C_GRID = [1.0, 3.0, 10.0, 30.0, 100.0]
THRESHOLD_GRID = [round(x, 2) for x in np.arange(0.3, 0.99, 0.02)]
MIN_DF = 3
MAX_FEATURES = 40_000
FIXTURE_TEXTS = [
    'Either party may terminate this Agreement for any reason upon thirty (30) days prior written notice to the other party.',
    'Upon termination, Distributor shall continue to provide support services to existing customers for six (6) months.',
    'This Agreement shall be governed by the laws of the State of Delaware.',
    'Société Générale — “Licensee” may terminate at will; 東京 ﬁnance naïve.',
    '',
]


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open()]


def flatten(docs: list[dict], label: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    texts, ys, groups = [], [], []
    for g, d in enumerate(docs):
        hits = set(d['labels'].get(label, []))
        texts += d['sentences']
        ys += [j in hits for j in range(len(d['sentences']))]
        groups += [g] * len(d['sentences'])
    return texts, np.array(ys), np.array(groups)


def vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(lowercase=True, strip_accents='ascii', token_pattern=TOKEN_PATTERN, ngram_range=(1, 2),
                           sublinear_tf=True, min_df=MIN_DF, max_features=MAX_FEATURES, norm='l2', dtype=np.float64)


def fit(texts: list[str], y: np.ndarray, c: float) -> tuple[TfidfVectorizer, LogisticRegression]:
    vec = vectorizer()
    x = vec.fit_transform(texts)
    clf = LogisticRegression(C=c, class_weight='balanced', max_iter=5000).fit(x, y)
    # The artifact stores float32 coefficients: make the fitted model use exactly those numbers.
    clf.coef_ = clf.coef_.astype(np.float32).astype(np.float64)
    clf.intercept_ = clf.intercept_.astype(np.float32).astype(np.float64)
    return vec, clf


def detection(best: np.ndarray, gold: np.ndarray, t: float) -> dict:
    """Contract-level detection at threshold t: a contract is flagged when its best sentence reaches t."""
    kept = best >= t
    return _prf(int((kept & gold).sum()), int(kept.sum()), int(gold.sum()))


def per_contract(probs: np.ndarray, y: np.ndarray, groups: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each contract's best probability, whether it has a clause, and whether its best sentence is one."""
    best, gold, right = np.full(n, -1.0), np.zeros(n, bool), np.zeros(n, bool)
    for g in range(n):
        rows = np.flatnonzero(groups == g)
        if len(rows) == 0:
            continue
        top = rows[np.argmax(probs[rows])]
        best[g], gold[g], right[g] = probs[top], y[rows].any(), y[top]
    return best, gold, right


def choose(docs: list[dict], label: str, folds: int = 5) -> dict:
    texts, y, groups = flatten(docs, label)
    arr = np.array(texts, dtype=object)
    trials = []
    for c in C_GRID:
        oof = np.zeros(len(texts))
        for train, held in GroupKFold(folds).split(arr, y, groups):
            vec, clf = fit(list(arr[train]), y[train], c)
            oof[held] = clf.predict_proba(vec.transform(list(arr[held])))[:, 1]
        best, gold, right = per_contract(oof, y, groups, len(docs))
        for t in THRESHOLD_GRID:
            trials.append({'C': c, 'threshold': t, **detection(best, gold, t), '_best': best, '_right': right, '_gold': gold})
        top = max((x for x in trials if x['C'] == c), key=lambda x: x['f1'])
        print(f'{label}: C {c}: out-of-fold detection F1 {top["f1"]} at threshold {top["threshold"]}', file=sys.stderr)
    chosen = max(trials, key=lambda x: (x['f1'], -x['C']))
    kept = chosen['_best'] >= chosen['threshold']
    # Review: an answer is right when its sentence is a clause of the label.
    review = review_threshold([(float(b), bool(r)) for b, r, k in zip(chosen['_best'], chosen['_right'], kept) if k])
    sentence_hits = int((chosen['_right'] & kept).sum())
    # The tagger's detection F1 was measured on the validation split: the same contracts, out of fold.
    in_validation = np.array([d['split'] == 'validation' for d in docs])
    validation = detection(chosen['_best'][in_validation], chosen['_gold'][in_validation], chosen['threshold'])
    return {'C': chosen['C'], 'threshold': chosen['threshold'], 'review_threshold': review,
            'out_of_fold': {k: v for k, v in chosen.items() if not k.startswith('_') and k not in ('C', 'threshold')},
            'out_of_fold_validation_contracts': validation,
            'out_of_fold_answer_is_a_clause': round(sentence_hits / max(1, int(kept.sum())), 4)}


def export(vec: TfidfVectorizer, coefs: list[np.ndarray], intercepts: list[float], labels: list[str], chosen: dict, version: str) -> dict:
    vocabulary = [''] * len(vec.vocabulary_)
    for term, column in vec.vocabulary_.items():
        vocabulary[column] = term
    coef = np.ascontiguousarray(np.vstack(coefs), dtype='<f4')
    return {
        'format': FORMAT, 'model_version': version, 'labels': labels,
        'threshold': [chosen[lab]['threshold'] for lab in labels],
        'review_threshold': [chosen[lab]['review_threshold'] for lab in labels],
        'preprocessing': {
            'lowercase': True, 'strip_accents': 'ascii: lower-case first, then NFKD, then every non-ASCII character dropped',
            'token_pattern': TOKEN_PATTERN.replace('(?u)', ''), 'ngram_range': list(vec.ngram_range), 'ngram_join': ' ',
            'tf': 'sublinear: 1 + ln(count)', 'norm': vec.norm,
        },
        'vocabulary': vocabulary, 'idf': [float(x) for x in vec.idf_],
        'coef': {'dtype': 'float32-le', 'shape': list(coef.shape), 'base64': base64.b64encode(coef.tobytes()).decode()},
        'intercept': intercepts,
        'probability': 'per label: sigmoid(coef . x + intercept) for each sentence; the contract answer is its most probable sentence at or above threshold',
    }


def shared_fit(docs: list[dict], labels: list[str], chosen: dict) -> tuple[TfidfVectorizer, list[np.ndarray], list[float]]:
    """One vocabulary for all labels (fitted on every sentence), one regression per label on it."""
    texts, _, _ = flatten(docs, labels[0])
    vec = vectorizer()
    x = vec.fit_transform(texts)
    coefs, intercepts = [], []
    for lab in labels:
        _, y, _ = flatten(docs, lab)
        clf = LogisticRegression(C=chosen[lab]['C'], class_weight='balanced', max_iter=5000).fit(x, y)
        coefs.append(clf.coef_[0].astype(np.float32))
        intercepts.append(float(np.float32(clf.intercept_[0])))
    return vec, coefs, intercepts


def probabilities(artifact: dict, texts: list[str]) -> np.ndarray:
    """What the exported numbers give (float32 coefficients), per text and label."""
    vec = vectorizer()
    vec.vocabulary_ = {t: i for i, t in enumerate(artifact['vocabulary'])}
    vec.fixed_vocabulary_ = True
    vec.idf_ = np.array(artifact['idf'])
    x = vec.transform(texts)
    coef = np.frombuffer(base64.b64decode(artifact['coef']['base64']), dtype='<f4').reshape(artifact['coef']['shape']).astype(np.float64)
    return 1 / (1 + np.exp(-(x @ coef.T + np.array(artifact['intercept']))))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('data', type=Path, help='clause-classifier-data.ts output')
    ap.add_argument('--labels', nargs='+', default=LABELS)
    ap.add_argument('--version', help='model_version to write (default: model-meta.json\'s)')
    ap.add_argument('--out', type=Path, default=HERE / 'artifacts' / 'clause-classifier.json')
    ap.add_argument('--report', type=Path, default=HERE / 'reports' / 'clause-classifier.json')
    ap.add_argument('--fixture', type=Path, default=REPO_ROOT / 'streams/documents/fixtures/clause-classifier-fixture.json')
    ap.add_argument('--test', action='store_true', help='score the test split with the exported model and add it to the report')
    args = ap.parse_args(argv)
    docs = load(args.data)
    fit_docs = [d for d in docs if d['split'] in ('train', 'validation')]
    if args.test:
        artifact = json.loads(args.out.read_text())
        report = json.loads(args.report.read_text())
        test = [d for d in docs if d['split'] == 'test']
        report['test'] = {}
        for k, lab in enumerate(artifact['labels']):
            _, y, groups = flatten(test, lab)
            probs = probabilities(artifact, [s for d in test for s in d['sentences']])[:, k]
            best, gold, right = per_contract(probs, y, groups, len(test))
            report['test'][lab] = {**detection(best, gold, artifact['threshold'][k]), 'contracts': len(test)}
            print(f'{lab}: test detection {report["test"][lab]}', file=sys.stderr)
        args.report.write_text(json.dumps(report, indent=2) + '\n')
        return 0
    print(f'{len(fit_docs)} contracts, {sum(len(d["sentences"]) for d in fit_docs)} sentences', file=sys.stderr)
    chosen = {lab: choose(fit_docs, lab) for lab in args.labels}
    version = args.version or json.loads((args.out.parent / 'model-meta.json').read_text())['model_version']
    vec, coefs, intercepts = shared_fit(fit_docs, args.labels, chosen)
    artifact = export(vec, coefs, intercepts, args.labels, chosen, version)
    args.out.write_text(json.dumps(artifact) + '\n')
    probs = probabilities(artifact, FIXTURE_TEXTS)
    args.fixture.write_text(json.dumps({'model_version': version, 'labels': args.labels, 'cases': [
        {'text': t, 'probabilities': [float(p) for p in row]} for t, row in zip(FIXTURE_TEXTS, probs)]}, indent=2) + '\n')
    report = {'fitted_on': 'train + validation', 'contracts': len(fit_docs), 'vocabulary': len(artifact['vocabulary']),
              'min_df': MIN_DF, 'max_features': MAX_FEATURES, 'labels': chosen}
    args.report.write_text(json.dumps(report, indent=2) + '\n')
    print(json.dumps(chosen, indent=2), file=sys.stderr)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
