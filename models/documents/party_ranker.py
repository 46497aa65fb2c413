"""Party ranker (LexiScan #10): which candidate names are a contract's parties.

    documents extract --json --ocr never <validation .txt files> > val.jsonl
    node streams/documents/ner/party-ranker-data.ts models/documents/data/cuad-spans.jsonl val.jsonl > party-val.jsonl
    node streams/documents/ner/party-ranker-data.ts ... train.jsonl > party-train.jsonl   # the train split, the same way
    python models/documents/party_ranker.py party-val.jsonl --train party-train.jsonl   # fit, export
    node streams/documents/ner/party-ranker-data.ts ... test.jsonl > party-test.jsonl
    python models/documents/party_ranker.py party-val.jsonl --test party-test.jsonl   # once, at the end

Candidates and features come from TypeScript (streams/documents/ner/party-ranker.ts): the tagger's
PARTY entities, the terms the contract defines, legal names in its opening pages. A candidate is
positive when its normalised text is one of CUAD's party strings for the contract.

Fitted on the VALIDATION split's candidates, and (--train) on the train split's with what the tagger
says removed: on its own training contracts the tagger found the parties by rote, so there its
confidence is overconfident and a name only it proposed is right too often. A train candidate keeps
its other sources and features, and one only the tagger proposed is left out. The 286 train
contracts add 8,863 candidates to validation's 1,808 and teach the weights of everything but the
tagger. C and the threshold are chosen by 5-fold cross-validation grouped by contract within
validation: each fold is fitted on the other folds plus all of train and scored on its own
contracts (document-level F1 of the kept candidates, out of fold). The ranker is then refitted on
all of it. The out-of-fold F1 is what the report calls validation; the test split is scored once,
by the exported weights.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

HERE = Path(__file__).resolve().parent
C_GRID = [0.03, 0.1, 0.3, 1.0, 3.0]
THRESHOLD_GRID = [round(x, 2) for x in np.arange(0.1, 0.91, 0.05)]


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding='utf-8').split('\n') if line.strip()]


def rows(docs: list[dict]):
    X = [{f: 1 for f in c['features']} for d in docs for c in d['candidates']]
    y = np.array([c['gold'] for d in docs for c in d['candidates']], dtype=int)
    groups = np.array([n for n, d in enumerate(docs) for _ in d['candidates']])
    return X, y, groups


def document_f1(docs: list[dict], probs: np.ndarray, threshold: float) -> dict:
    """Kept candidates (p >= threshold) against each contract's set of party strings."""
    tp = n_pred = n_gold = at = 0
    for d in docs:
        k = len(d['candidates'])
        kept = [c for c, p in zip(d['candidates'], probs[at:at + k]) if p >= threshold]
        tp += sum(c['gold'] for c in kept)
        n_pred += len(kept)
        n_gold += d['gold']
        at += k
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return {'f1': round(2 * p * r / (p + r), 4) if p + r else 0.0, 'precision': round(p, 4), 'recall': round(r, 4),
            'tp': tp, 'pred': n_pred, 'gold': n_gold}


def review_threshold(pairs: list[tuple[float, bool]], precision: float = 0.9, at_least: int = 5) -> float:
    """The lowest confidence above which kept entities are right with >= `precision` (at least
    `at_least` of them): entities below it go to a person. 1.0 (always reviewed) when none is."""
    threshold, hits = 1.0, 0
    for n, (c, ok) in enumerate(sorted(pairs, reverse=True), 1):
        hits += ok
        if n >= at_least and hits / n >= precision:
            threshold = round(float(c), 4)
    return threshold


TAGGER_FEATURES = ('src:ner', 'nerc:', 'sources:')


def without_tagger(doc: dict) -> dict:
    """A train contract's candidates without what the tagger said (see the module docstring)."""
    kept = []
    for c in doc['candidates']:
        sources = sorted(f[4:] for f in c['features'] if f.startswith('src:') and f != 'src:ner')
        if not sources:
            continue
        features = [f for f in c['features'] if not f.startswith(TAGGER_FEATURES)] + ['nerc:none', 'sources:' + '+'.join(sources)]
        kept.append({**c, 'features': features})
    return {**doc, 'candidates': kept}


def out_of_fold(docs: list[dict], C: float, extra: list[dict]) -> np.ndarray:
    X, y, groups = rows(docs)
    Xe, ye, _ = rows(extra)
    probs = np.zeros(len(y))
    for train, held in GroupKFold(n_splits=5).split(X, y, groups):
        vec = DictVectorizer()
        clf = LogisticRegression(C=C, max_iter=5000).fit(vec.fit_transform([X[i] for i in train] + Xe), np.concatenate([y[train], ye]))
        probs[held] = clf.predict_proba(vec.transform([X[i] for i in held]))[:, 1]
    return probs


def score(model: dict, docs: list[dict]) -> np.ndarray:
    z = [model['bias'] + sum(model['weights'].get(f, 0.0) for f in c['features']) for d in docs for c in d['candidates']]
    return 1 / (1 + np.exp(-np.array(z)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('validation', type=Path, help='party-ranker-data.ts output for the validation split')
    ap.add_argument('--train', type=Path, help='party-ranker-data.ts output for the train split: fitted on too, without the tagger features')
    ap.add_argument('--test', type=Path, help='the same for the test split: score the exported ranker on it (once, at the end)')
    ap.add_argument('--out', type=Path, default=HERE / 'artifacts' / 'party-ranker.json')
    ap.add_argument('--report', type=Path, default=HERE / 'reports' / 'party-ranker.json')
    a = ap.parse_args()
    if a.test:
        report = json.loads(a.report.read_text())
        docs = load(a.test)
        report['test'] = document_f1(docs, score(json.loads(a.out.read_text()), docs), json.loads(a.out.read_text())['threshold'])
        print('test document F1 of the candidates kept', report['test'])
        a.report.write_text(json.dumps(report, indent=1) + '\n')
        return
    docs = load(a.validation)
    extra = [without_tagger(d) for d in load(a.train)] if a.train else []
    best = None
    for C in C_GRID:
        probs = out_of_fold(docs, C, extra)
        for t in THRESHOLD_GRID:
            m = document_f1(docs, probs, t)
            if best is None or m['f1'] > best[0]['f1'] + 1e-9:
                best = (m, C, t)
    m, C, t = best
    probs = out_of_fold(docs, C, extra)
    kept = [(p, c['gold']) for p, c in zip(probs, (c for d in docs for c in d['candidates'])) if p >= t]
    review = review_threshold(kept)
    print(f'C {C} threshold {t}: out-of-fold validation document F1 {m}; review below {review}')
    X, y, _ = rows(docs)
    Xe, ye, _ = rows(extra)
    vec = DictVectorizer()
    clf = LogisticRegression(C=C, max_iter=5000).fit(vec.fit_transform(X + Xe), np.concatenate([y, ye]))
    weights = {str(n): round(float(w), 6) for n, w in zip(vec.get_feature_names_out(), clf.coef_[0]) if abs(w) >= 1e-6}
    meta = json.loads((HERE / 'artifacts' / 'model-meta.json').read_text())
    model = {'model_version': meta['model_version'], 'bias': round(float(clf.intercept_[0]), 6), 'weights': weights, 'threshold': t, 'review_threshold': review}
    a.out.write_text(json.dumps(model, indent=1, sort_keys=True) + '\n')
    a.report.parent.mkdir(parents=True, exist_ok=True)
    a.report.write_text(json.dumps({'fitted_on': 'validation' + (' + train without the tagger features' if extra else ''), 'contracts': len(docs), 'candidates': len(y),
                                    'train_contracts': len(extra), 'train_candidates': len(ye),
                                    'candidate_recall': round(int(y.sum()) / sum(d['gold'] for d in docs), 4),
                                    'validation_out_of_fold': {**m, 'C': C, 'threshold': t},
                                    'top_features': sorted(weights.items(), key=lambda kv: -abs(kv[1]))[:25]}, indent=1) + '\n')


if __name__ == '__main__':
    main()
