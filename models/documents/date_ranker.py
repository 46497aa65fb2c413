"""Date ranker (LexiScan #10): which of a contract's dates is its agreement date, which its effective date.

    node streams/documents/ner/date-ranker-data.ts models/documents/data/cuad-spans.jsonl \\
        models/documents/splits.json > date-candidates.jsonl
    python models/documents/date_ranker.py date-candidates.jsonl          # fit, choose on validation, export
    python models/documents/date_ranker.py date-candidates.jsonl --test   # once, at the end: the test split

Candidates are the calendar dates the rules read (streams/documents/rules/dates.ts), since `.5` also
the dates a signed form left blank ("____, 2013", "this ___ day of ______, 20__": findBlankDates) and
the sentences that define when a contract takes effect without a date ("shall become effective upon
approval ...": effectiveSentences). Their features (place in the document, the words before and
after, cue words nearby, how the contract defines its effective date) are computed in TypeScript
only (streams/documents/ner/date-ranker.ts), so serving and training share one implementation. A
candidate is positive for a label when its value is one of the values the rules give that label's
gold spans (gold-values.ts): the ISO date for a calendar date (CUAD highlights one mention, but the
same date written again is the same answer), the folded text for a blank or a sentence (the rules
give those no date; the evaluation compares their texts).

Per label: L2 logistic regression on the train split's candidates (binary features); C and the
decision threshold chosen on validation by document-level value F1 (the top candidate of a
contract is its answer when its probability reaches the threshold; an answer no candidate can be,
such as a clause the rules resolve to no date and no sentence cue finds, counts as missed). Writes
artifacts/date-ranker.json (bias, weights, threshold per label) and reports/date-ranker.json.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from party_ranker import review_threshold

HERE = Path(__file__).resolve().parent
LABELS = ['AGREEMENT_DATE', 'EFFECTIVE_DATE']
C_GRID = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
THRESHOLD_GRID = [0.01, 0.02, 0.03] + [round(x, 2) for x in np.arange(0.05, 0.96, 0.05)]


def load(path: Path) -> dict[str, list[dict]]:
    by_split: dict[str, list[dict]] = {}
    for line in path.read_text(encoding='utf-8').split('\n'):
        if line.strip():
            doc = json.loads(line)
            by_split.setdefault(doc['split'], []).append(doc)
    return by_split


def design(docs: list[dict], label: str, vec: DictVectorizer, fit: bool = False):
    rows = [{f: 1 for f in c['features']} for d in docs for c in d['candidates']]
    y = np.array([label in c['gold'] for d in docs for c in d['candidates']], dtype=int)
    return (vec.fit_transform(rows) if fit else vec.transform(rows)), y


def document_f1(docs: list[dict], probs: np.ndarray, label: str, threshold: float) -> dict:
    """Top candidate per contract as its answer when p >= threshold; F1 over the gold value sets."""
    tp = n_pred = n_gold = 0
    at = 0
    for d in docs:
        k = len(d['candidates'])
        n_gold += len(d['gold'][label])
        if k:
            best = int(np.argmax(probs[at:at + k]))
            if probs[at + best] >= threshold:
                n_pred += 1
                tp += d['candidates'][best]['iso'] in d['gold'][label]
        at += k
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return {'f1': round(2 * p * r / (p + r), 4) if p + r else 0.0, 'precision': round(p, 4), 'recall': round(r, 4),
            'tp': tp, 'pred': n_pred, 'gold': n_gold}


def top_candidates(docs: list[dict], probs: np.ndarray, label: str, threshold: float) -> list[tuple[float, bool]]:
    """(probability, right) of each contract's answer."""
    out, at = [], 0
    for d in docs:
        k = len(d['candidates'])
        if k:
            best = int(np.argmax(probs[at:at + k]))
            if probs[at + best] >= threshold:
                out.append((float(probs[at + best]), d['candidates'][best]['iso'] in d['gold'][label]))
        at += k
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('candidates', type=Path)
    ap.add_argument('--test', action='store_true', help='score the exported ranker on the test split (once, at the end)')
    ap.add_argument('--out', type=Path, default=HERE / 'artifacts' / 'date-ranker.json')
    ap.add_argument('--report', type=Path, default=HERE / 'reports' / 'date-ranker.json')
    a = ap.parse_args()
    splits = load(a.candidates)
    if a.test:
        model = json.loads(a.out.read_text())
        report = json.loads(a.report.read_text())
        report['test'] = {}
        for label, m in model['labels'].items():
            probs = np.array([1 / (1 + np.exp(-(m['bias'] + sum(m['weights'].get(f, 0.0) for f in c['features']))))
                              for d in splits['test'] for c in d['candidates']])
            report['test'][label] = document_f1(splits['test'], probs, label, m['threshold'])
            print(f"{label:16s} test document value F1 {report['test'][label]}")
        a.report.write_text(json.dumps(report, indent=1) + '\n')
        return
    exported, report = {'model_version': '', 'labels': {}}, {'candidates': {s: sum(len(d['candidates']) for d in v) for s, v in splits.items()}, 'validation': {}}
    for label in LABELS:
        best = None
        for C in C_GRID:
            vec = DictVectorizer()
            X, y = design(splits['train'], label, vec, fit=True)
            clf = LogisticRegression(C=C, max_iter=2000).fit(X, y)
            Xv, _ = design(splits['validation'], label, vec)
            probs = clf.predict_proba(Xv)[:, 1]
            for t in THRESHOLD_GRID:
                m = document_f1(splits['validation'], probs, label, t)
                if best is None or m['f1'] > best[0]['f1'] + 1e-9:
                    best = (m, C, t, vec, clf, probs)
        m, C, t, vec, clf, probs = best
        review = review_threshold(top_candidates(splits['validation'], probs, label, t))
        print(f'{label:16s} C {C} threshold {t}: validation document value F1 {m}; review below {review}')
        names = vec.get_feature_names_out()
        weights = {str(n): round(float(w), 6) for n, w in zip(names, clf.coef_[0]) if abs(w) >= 1e-6}
        exported['labels'][label] = {'bias': round(float(clf.intercept_[0]), 6), 'weights': weights, 'threshold': t, 'review_threshold': review}
        report['validation'][label] = {**m, 'C': C, 'threshold': t, 'features': len(weights),
                                       'top_features': sorted(weights.items(), key=lambda kv: -kv[1])[:15]}
    # The ranker ships with the tagger it completes: outputs name one version for both.
    exported['model_version'] = json.loads((HERE / 'artifacts' / 'model-meta.json').read_text())['model_version']
    a.out.write_text(json.dumps(exported, indent=1, sort_keys=True) + '\n')
    a.report.parent.mkdir(parents=True, exist_ok=True)
    a.report.write_text(json.dumps(report, indent=1) + '\n')


if __name__ == '__main__':
    main()
