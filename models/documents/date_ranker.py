"""Date ranker (LexiScan #10): which of a contract's dates is its agreement date, which its effective date.

    node streams/documents/ner/date-ranker-data.ts models/documents/data/cuad-spans.jsonl \\
        models/documents/splits.json > date-candidates.jsonl
    python models/documents/date_ranker.py date-candidates.jsonl          # choose by cross-validation, fit, export
    python models/documents/date_ranker.py date-candidates.jsonl --test   # once, at the end: the test split
    python models/documents/date_ranker.py date-candidates.jsonl --cross-fit DIR --files-from LIST...
        # fold model folders for the drift reference (make_reference.py)

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

Per label, a softmax over each contract's candidates and one more option, "none of them" (a
conditional logit: one weight per feature, L2-penalised, fitted with L-BFGS on the train and
validation splits' candidates). The probability of a candidate is its share of its own contract,
so the candidates compete: exactly one date of a contract is its agreement date, and "none" takes
the mass where no candidate is the answer (no date in CUAD's column, or one the candidates cannot
be). The target of a contract is every candidate with a gold value (the same date written twice is
one answer), or "none" when no candidate has one. Until `.5` each candidate was scored alone by a
logistic regression; out of fold the softmax reads the agreement date better (0.855 -> 0.874 value
F1) and the effective date alike (0.717 -> 0.715).

The penalty and the decision threshold are chosen by 5-fold cross-validation over the 349 train
and validation contracts, repeated with three shuffles: each fold is fitted on the other four and
scored on its own contracts by document-level value F1 (a contract's top candidate is its answer
when its probability reaches the threshold; an answer no candidate can be counts as missed); the
pair with the best mean wins. Until `.5` they were chosen on validation's 63 contracts alone, and
the agreement threshold that won there (0.2) let low-probability answers through on test. The
review threshold is read from the out-of-fold answers too, and the ranker is refitted on all 349.
Writes artifacts/date-ranker.json (weights, the score of "none" and the thresholds per label) and
reports/date-ranker.json.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.sparse import csr_matrix
from sklearn.feature_extraction import DictVectorizer
from sklearn.model_selection import KFold

from party_ranker import review_threshold

HERE = Path(__file__).resolve().parent
LABELS = ['AGREEMENT_DATE', 'EFFECTIVE_DATE']
PENALTY_GRID = [0.03, 0.1, 0.3, 1.0, 3.0]
THRESHOLD_GRID = [0.01, 0.02, 0.03] + [round(x, 2) for x in np.arange(0.05, 0.96, 0.05)]
FOLDS, SHUFFLES = 5, (0, 1, 2)
# Features a label's weights leave out: how a contract uses "effective" tells whether CUAD gives it an
# effective date; for the agreement date it only adds noise (out of fold 0.874 -> 0.871 with it).
IGNORED = {'AGREEMENT_DATE': ('eff_use:',)}
NONE = '__none__'  # the feature of the "none of them" option; no candidate feature has this name


def load(path: Path) -> dict[str, list[dict]]:
    by_split: dict[str, list[dict]] = {}
    for line in path.read_text(encoding='utf-8').split('\n'):
        if line.strip():
            doc = json.loads(line)
            by_split.setdefault(doc['split'], []).append(doc)
    return by_split


def options(docs: list[dict], label: str) -> tuple[list[dict], np.ndarray, np.ndarray]:
    """Rows of every contract's options ("none" first, then its candidates), the contract of each
    row, and whether it is a target."""
    rows, contract, target = [], [], []
    for n, d in enumerate(docs):
        hits = [label in c['gold'] for c in d['candidates']]
        rows.append({NONE: 1})
        target.append(not any(hits))
        rows += [{f: 1 for f in c['features'] if not f.startswith(IGNORED.get(label, ()))} for c in d['candidates']]
        target += hits
        contract += [n] * (1 + len(hits))
    return rows, np.array(contract), np.array(target, dtype=bool)


def _log_sum_exp(z: np.ndarray, contract: np.ndarray, n: int) -> np.ndarray:
    top = np.full(n, -np.inf)
    np.maximum.at(top, contract, z)
    total = np.zeros(n)
    np.add.at(total, contract, np.exp(z - top[contract]))
    return top + np.log(total)


def fit(X: csr_matrix, contract: np.ndarray, target: np.ndarray, n: int, penalty: float) -> np.ndarray:
    """Weights minimising -sum log P(a contract's targets) + penalty * |w|^2."""
    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = X @ w
        every, hit = _log_sum_exp(z, contract, n), _log_sum_exp(np.where(target, z, -np.inf), contract, n)
        p = np.exp(z - every[contract])
        q = np.where(target, np.exp(z - hit[contract]), 0.0)
        return float(-(hit - every).sum() + penalty * w @ w), X.T @ (p - q) + 2 * penalty * w
    return minimize(loss, np.zeros(X.shape[1]), jac=True, method='L-BFGS-B', options={'maxiter': 1000}).x


def probabilities(docs: list[dict], label_model: dict) -> np.ndarray:
    """Each candidate's share of its contract, "none" included (the same arithmetic as date-ranker.ts)."""
    out = []
    for d in docs:
        z = np.array([label_model['none']] + [sum(label_model['weights'].get(f, 0.0) for f in c['features']) for c in d['candidates']])
        e = np.exp(z - z.max())
        out.append((e / e.sum())[1:])
    return np.concatenate(out) if out else np.zeros(0)


def fitted_model(docs: list[dict], label: str, penalty: float) -> dict:
    rows, contract, target = options(docs, label)
    vec = DictVectorizer()
    w = fit(vec.fit_transform(rows).tocsr(), contract, target, len(docs), penalty)
    weights = {str(name): round(float(x), 6) for name, x in zip(vec.get_feature_names_out(), w) if abs(x) >= 1e-6}
    return {'none': weights.pop(NONE, 0.0), 'weights': weights}


def out_of_fold(docs: list[dict], label: str, penalty: float, seed: int) -> np.ndarray:
    """Each contract's candidate probabilities from a ranker fitted without its fold."""
    per_doc: list[np.ndarray] = [np.zeros(0)] * len(docs)
    for fit_on, held in KFold(FOLDS, shuffle=True, random_state=seed).split(docs):
        model = fitted_model([docs[i] for i in fit_on], label, penalty)
        for i in held:
            per_doc[i] = probabilities([docs[i]], model)
    return np.concatenate(per_doc)


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


def cross_fit(docs: list[dict], report: dict, out: Path, file_lists: list[Path]) -> None:
    """Model folders for contracts the shipped ranker has seen: fold k's ranker is fitted without fold
    k's contracts (the folds of the first shuffle), beside links to the other artifacts; and per list
    of `file_lists`, a list of the same name of its files that are fold k's contracts. The drift
    reference's date confidences come from them, since live uploads are unseen too: on its own
    contracts the ranker is surer (KS D 0.22 against the test split's agreement-date confidences)."""
    from cuad_text import normalised_stem
    lists = {path.name: [(f.strip(), normalised_stem(Path(f.strip()).name)) for f in path.read_text().splitlines() if f.strip()] for path in file_lists}
    for k, (fit_on, held) in enumerate(KFold(FOLDS, shuffle=True, random_state=SHUFFLES[0]).split(docs)):
        folder = out / f'fold-{k}'
        folder.mkdir(parents=True, exist_ok=True)
        for artifact in (HERE / 'artifacts').iterdir():
            if artifact.name != 'date-ranker.json' and not (folder / artifact.name).exists():
                (folder / artifact.name).symlink_to(artifact.resolve())
        model = json.loads((HERE / 'artifacts' / 'date-ranker.json').read_text())
        for label, chosen in report['cross_validation'].items():
            model['labels'][label].update(fitted_model([docs[i] for i in fit_on], label, chosen['penalty']))
        (folder / 'date-ranker.json').write_text(json.dumps(model, indent=1, sort_keys=True) + '\n')
        ids = {docs[i]['id'] for i in held}
        for name, files in lists.items():
            mine = [f for f, stem in files if stem in ids]
            (folder / name).write_text(''.join(f + '\n' for f in mine))
            print(f'{folder / name}: {len(mine)} files of fold {k} ({len(held)} contracts)')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('candidates', type=Path)
    ap.add_argument('--test', action='store_true', help='score the exported ranker on the test split (once, at the end)')
    ap.add_argument('--out', type=Path, default=HERE / 'artifacts' / 'date-ranker.json')
    ap.add_argument('--report', type=Path, default=HERE / 'reports' / 'date-ranker.json')
    ap.add_argument('--cross-fit', type=Path, metavar='DIR', help='write fold model folders for the drift reference (after fitting)')
    ap.add_argument('--files-from', type=Path, nargs='*', default=[], help='with --cross-fit: lists of train/validation files to share out among the folds')
    a = ap.parse_args()
    splits = load(a.candidates)
    if a.cross_fit:
        cross_fit(splits['train'] + splits['validation'], json.loads(a.report.read_text()), a.cross_fit, a.files_from)
        return
    if a.test:
        model = json.loads(a.out.read_text())
        report = json.loads(a.report.read_text())
        report['test'] = {}
        for label, m in model['labels'].items():
            report['test'][label] = document_f1(splits['test'], probabilities(splits['test'], m), label, m['threshold'])
            print(f"{label:16s} test document value F1 {report['test'][label]}")
        a.report.write_text(json.dumps(report, indent=1) + '\n')
        return
    docs = splits['train'] + splits['validation']
    exported = {'model_version': '', 'labels': {}}
    report = {'candidates': {s: sum(len(d['candidates']) for d in v) for s, v in splits.items()},
              'fitted_on': 'train + validation', 'contracts': len(docs),
              'chosen_by': f'{FOLDS}-fold cross-validation over train + validation, shuffles {list(SHUFFLES)}', 'cross_validation': {}}
    for label in LABELS:
        scores: dict[tuple[float, float], list[float]] = {}
        first_shuffle: dict[float, np.ndarray] = {}  # per penalty, for the review threshold and the report
        for penalty in PENALTY_GRID:
            for seed in SHUFFLES:
                probs = out_of_fold(docs, label, penalty, seed)
                first_shuffle.setdefault(penalty, probs)
                for t in THRESHOLD_GRID:
                    scores.setdefault((penalty, t), []).append(document_f1(docs, probs, label, t)['f1'])
            print(f'{label:16s} penalty {penalty}: best mean out-of-fold F1 {max(np.mean(v) for (p, _), v in scores.items() if p == penalty):.4f}', flush=True)
        (penalty, t), f1s = max(scores.items(), key=lambda kv: (np.mean(kv[1]), kv[0][0]))
        probs = first_shuffle[penalty]
        review = review_threshold(top_candidates(docs, probs, label, t))
        print(f'{label:16s} penalty {penalty} threshold {t}: out-of-fold document value F1 {np.mean(f1s):.4f} {[round(f, 4) for f in f1s]}; review below {review}')
        model = fitted_model(docs, label, penalty)
        exported['labels'][label] = {'scoring': 'softmax', **model, 'threshold': t, 'review_threshold': review}
        report['cross_validation'][label] = {'f1_mean': round(float(np.mean(f1s)), 4), 'f1_per_shuffle': [round(f, 4) for f in f1s],
                                             'first_shuffle': document_f1(docs, probs, label, t), 'penalty': penalty, 'threshold': t,
                                             'features': len(model['weights']), 'none': model['none'],
                                             'top_features': sorted(model['weights'].items(), key=lambda kv: -kv[1])[:15]}
    # The ranker ships with the tagger it completes: outputs name one version for both.
    exported['model_version'] = json.loads((HERE / 'artifacts' / 'model-meta.json').read_text())['model_version']
    a.out.write_text(json.dumps(exported, indent=1, sort_keys=True) + '\n')
    a.report.parent.mkdir(parents=True, exist_ok=True)
    a.report.write_text(json.dumps(report, indent=1) + '\n')


if __name__ == '__main__':
    main()
