"""Contract-type classifier (LexiScan #10): TF-IDF over the head of the contract + logistic regression.

    python models/documents/contract_type.py            # train, choose C on validation, test once, export

The title and the recitals name the agreement type ("DISTRIBUTOR AGREEMENT", "This Joint Venture
Agreement ..."), so the first --head-chars characters (Python code points) of the text are enough.
Features: word 1-2 grams (sklearn's default token pattern) of the lower-cased, ASCII-folded head
(strip_accents='ascii': NFKD, then every non-ASCII character dropped, so the TypeScript port
matches Python exactly: on ASCII text `\\w` and `\\b` mean the same in both), sublinear tf, idf, l2.
Classifier: multinomial LogisticRegression; C (and the vocabulary's min_df) chosen by validation
accuracy (then macro-F1, then the smaller C); the test split is scored once, by the chosen model.
Confidence: one temperature T fitted on validation (NLL) and folded into the exported coefficients
and intercepts (softmax(z / T) is the same linear model divided by T): an l2-regularised 25-class
model is otherwise much less confident than it is accurate. T does not change any prediction.

Writes artifacts/contract-type.json (everything streams/documents/contract-type.ts needs: the rules,
vocabulary, idf, classes, float32 coefficients, intercepts; the exported numbers ARE the model: the
coefficients are rounded to float32 before the fixture and the reports are computed),
reports/contract-type.json and the TypeScript fixture (streams/documents/fixtures/contract-type-fixture.json).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.pipeline import Pipeline
from scipy.optimize import minimize_scalar

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
from corpus import DEFAULT_DATA, DEFAULT_SPLITS, load_split  # noqa: E402

FORMAT = 'streamscore-contract-type-tfidf-logreg/1'
TOKEN_PATTERN = r'(?u)\b\w\w+\b'   # sklearn's default; the export writes it without the (?u) flag
DEFAULT_C_GRID = [0.5, 1, 2, 5, 10, 20, 50, 100, 200]
DEFAULT_MIN_DF_GRID = [1, 2]
FIXTURE_TEXTS = {
    'distributor-title': 'EXCLUSIVE DISTRIBUTOR AGREEMENT\n\nThis Distributor Agreement is made between Acme Corp. '
                         '("Supplier") and Beta Ltd. ("Distributor"). Supplier appoints Distributor as its '
                         'exclusive distributor of the Products in the Territory.',
    'joint-venture-title': 'JOINT VENTURE AGREEMENT\n\nThis Joint Venture Agreement is entered into by Alpha Inc. and '
                           'Gamma LLC to form a joint venture company and share its profits and losses.',
    'non-ascii': 'CONTRAT DE LICENCE — “Licence Agreement” between Société Générale S.A. (“Licensor”) and Müller '
                 '& Söhne GmbH (“Licensee”) 🚀 for €250.000,00; 東京 office.\u200b ﬁnance ＡＢＣ İstanbul naïve.',
    'empty': '',
    'no-tokens': '— … 🚀 ! ?',
}


def head(text: str, head_chars: int) -> str:
    return text[:head_chars]


def build_pipeline(c: float, min_df: int, seed: int = 0) -> Pipeline:
    return Pipeline([
        ('tfidf', TfidfVectorizer(lowercase=True, strip_accents='ascii', token_pattern=TOKEN_PATTERN,
                                  ngram_range=(1, 2), sublinear_tf=True, min_df=min_df, norm='l2',
                                  dtype=np.float64)),
        ('clf', LogisticRegression(C=c, max_iter=5000, random_state=seed)),
    ])


def round_coefficients_to_float32(pipe: Pipeline) -> None:
    """The artifact stores float32 coefficients; make the fitted model use exactly those numbers."""
    clf = pipe.named_steps['clf']
    clf.coef_ = clf.coef_.astype(np.float32).astype(np.float64)
    clf.intercept_ = clf.intercept_.astype(np.float32).astype(np.float64)


def fit_temperature(pipe: Pipeline, texts: list[str], labels: list[str]) -> float:
    """Temperature T minimising validation NLL of softmax(z / T) (Guo et al. 2017). One scalar, so it
    cannot change the ranking (accuracy, top-3), only how far the confidence can be trusted."""
    z = pipe.decision_function(texts)
    gold = np.array([list(pipe.classes_).index(y) for y in labels])

    def nll(log_t: float) -> float:
        s = z / np.exp(log_t)
        s = s - s.max(axis=1, keepdims=True)
        return float(-(s[np.arange(len(gold)), gold] - np.log(np.exp(s).sum(axis=1))).mean())
    return float(np.exp(minimize_scalar(nll, bounds=(-4, 4), method='bounded').x))


def apply_temperature(pipe: Pipeline, temperature: float) -> None:
    """softmax(z / T) of a linear model is the same model with coef and intercept divided by T."""
    clf = pipe.named_steps['clf']
    clf.coef_ = clf.coef_ / temperature
    clf.intercept_ = clf.intercept_ / temperature


def calibration(pipe: Pipeline, texts: list[str], labels: list[str], bins: int = 10) -> dict:
    proba = pipe.predict_proba(texts)
    classes = list(pipe.classes_)
    gold = np.array([classes.index(y) for y in labels])
    conf, correct = proba.max(axis=1), proba.argmax(axis=1) == gold
    edges = np.linspace(0, 1, bins + 1)
    ece = sum(abs(conf[m].mean() - correct[m].mean()) * m.mean()
              for lo, hi in zip(edges[:-1], edges[1:]) if (m := (conf > lo) & (conf <= hi)).any())
    return {'nll': round(float(-np.log(proba[np.arange(len(gold)), gold]).mean()), 4),
            'ece_10_bins': round(float(ece), 4), 'mean_confidence': round(float(conf.mean()), 4)}


def scores(pipe: Pipeline, texts: list[str], labels: list[str]) -> dict:
    proba = pipe.predict_proba(texts)
    classes = list(pipe.classes_)
    pred = [classes[i] for i in proba.argmax(axis=1)]
    top3 = np.argsort(-proba, axis=1)[:, :3]
    gold_idx = [classes.index(y) if y in classes else -1 for y in labels]
    return {
        'contracts': len(labels),
        'accuracy': round(float(accuracy_score(labels, pred)), 4),
        'macro_f1': round(float(f1_score(labels, pred, average='macro', labels=sorted(set(labels)),
                                         zero_division=0)), 4),
        'top3_accuracy': round(float(np.mean([g in row for g, row in zip(gold_idx, top3)])), 4),
        'mean_confidence': round(float(proba.max(axis=1).mean()), 4),
        'predictions': pred,
    }


def confusions(labels: list[str], pred: list[str]) -> list[dict]:
    pairs = Counter((g, p) for g, p in zip(labels, pred) if g != p)
    return [{'gold': g, 'predicted': p, 'count': n} for (g, p), n in pairs.most_common()]


def select(train: tuple[list[str], list[str]], val: tuple[list[str], list[str]], c_grid, min_df_grid, seed: int):
    trials = []
    for min_df in min_df_grid:
        for c in c_grid:
            pipe = build_pipeline(c, min_df, seed).fit(*train)
            s = scores(pipe, *val)
            trials.append({'C': c, 'min_df': min_df, 'features': len(pipe.named_steps['tfidf'].vocabulary_),
                           **{k: s[k] for k in ('accuracy', 'macro_f1', 'top3_accuracy', 'mean_confidence')}})
            print(f"C={c:<6} min_df={min_df} features={trials[-1]['features']:>6} "
                  f"val acc={s['accuracy']:.4f} macro-F1={s['macro_f1']:.4f} top3={s['top3_accuracy']:.4f}",
                  flush=True)
    best = max(trials, key=lambda t: (t['accuracy'], t['macro_f1'], -t['C'], -t['min_df']))
    return best, trials


def export_model(pipe: Pipeline, head_chars: int, meta: dict) -> dict:
    tfidf: TfidfVectorizer = pipe.named_steps['tfidf']
    clf: LogisticRegression = pipe.named_steps['clf']
    vocabulary = [''] * len(tfidf.vocabulary_)
    for term, column in tfidf.vocabulary_.items():
        vocabulary[column] = term
    coef = np.ascontiguousarray(clf.coef_, dtype='<f4')
    return {
        'format': FORMAT,
        **meta,
        'preprocessing': {
            'head_chars': head_chars,
            'head_unit': 'unicode code points (Python str slicing)',
            'lowercase': True,
            'strip_accents': 'ascii: lower-case first, then NFKD, then every non-ASCII character dropped',
            'token_pattern': TOKEN_PATTERN.replace('(?u)', ''),
            'ngram_range': list(tfidf.ngram_range),
            'ngram_join': ' ',
            'tf': 'sublinear: 1 + ln(count)',
            'norm': tfidf.norm,
        },
        'classes': [str(c) for c in clf.classes_],
        'vocabulary': vocabulary,
        'idf': [float(x) for x in tfidf.idf_],
        'coef': {'dtype': 'float32-le', 'shape': list(coef.shape), 'base64': base64.b64encode(coef.tobytes()).decode()},
        'intercept': [float(x) for x in clf.intercept_],
        'probability': 'softmax(coef . x + intercept) (multinomial logistic regression)',
    }


def coef_fingerprint(artifact: dict) -> str:
    """Ties a fixture to the export it was computed with (the TypeScript test recomputes it)."""
    return hashlib.sha256(artifact['coef']['base64'].encode()).hexdigest()


def fixture(pipe: Pipeline, head_chars: int, extra: dict[str, str]) -> dict:
    texts = {**FIXTURE_TEXTS, **extra}
    heads = [head(t, head_chars) for t in texts.values()]
    proba = pipe.predict_proba(heads)
    analyzer = pipe.named_steps['tfidf'].build_analyzer()
    classes = [str(c) for c in pipe.classes_]
    return {'classes': classes, 'cases': [
        {'name': name, 'text': text, 'terms': analyzer(h)[:60], 'proba': [float(p) for p in row],
         'label': classes[int(row.argmax())]}
        for (name, text), h, row in zip(texts.items(), heads, proba)]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--data', default=str(DEFAULT_DATA), help='Doccano JSONL with meta.contract_type (annotate.py)')
    ap.add_argument('--splits', default=str(DEFAULT_SPLITS))
    ap.add_argument('--head-chars', type=int, default=4000)
    ap.add_argument('--c-grid', type=float, nargs='+', default=DEFAULT_C_GRID)
    ap.add_argument('--min-df-grid', type=int, nargs='+', default=DEFAULT_MIN_DF_GRID)
    ap.add_argument('--no-calibrate', dest='calibrate', action='store_false',
                    help='skip the temperature fitted on validation (folded into coef and intercept)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--artifact', default=str(HERE / 'artifacts' / 'contract-type.json'))
    ap.add_argument('--report', default=str(HERE / 'reports' / 'contract-type.json'))
    ap.add_argument('--fixture', default=str(REPO_ROOT / 'streams' / 'documents' / 'fixtures' /
                                             'contract-type-fixture.json'))
    args = ap.parse_args(argv)

    def xy(split: str) -> tuple[list[str], list[str], list[str]]:
        docs = load_split(split, args.data, args.splits)
        missing = [d['id'] for d in docs if not d['meta'].get('contract_type')]
        if missing:
            raise ValueError(f'{args.data}: {len(missing)} {split} contracts have no meta.contract_type, e.g. {missing[:3]}')
        return [head(d['text'], args.head_chars) for d in docs], [d['meta']['contract_type'] for d in docs], \
               [d['id'] for d in docs]

    train_x, train_y, _ = xy('train')
    val_x, val_y, val_ids = xy('validation')
    best, trials = select((train_x, train_y), (val_x, val_y), args.c_grid, args.min_df_grid, args.seed)
    print(f"chosen on validation: C={best['C']} min_df={best['min_df']}", flush=True)

    pipe = build_pipeline(best['C'], best['min_df'], args.seed).fit(train_x, train_y)
    test_x, test_y, test_ids = xy('test')   # read once, scored by the chosen model only
    uncalibrated = {'validation': calibration(pipe, val_x, val_y), 'test': calibration(pipe, test_x, test_y)}
    temperature = fit_temperature(pipe, val_x, val_y) if args.calibrate else 1.0
    apply_temperature(pipe, temperature)
    round_coefficients_to_float32(pipe)
    val = scores(pipe, val_x, val_y)
    test = scores(pipe, test_x, test_y)
    calibrated = {'validation': calibration(pipe, val_x, val_y), 'test': calibration(pipe, test_x, test_y)}
    print(f'temperature {temperature:.4f} (fitted on validation); calibration before {uncalibrated}, '
          f'after {calibrated}', flush=True)
    print(f"validation acc={val['accuracy']} macro-F1={val['macro_f1']} top3={val['top3_accuracy']}; "
          f"test acc={test['accuracy']} macro-F1={test['macro_f1']} top3={test['top3_accuracy']}", flush=True)

    meta = {'model_name': 'contract-type-tfidf-logreg', 'sklearn_version': sklearn.__version__,
            'trained_on': f'CUAD train split ({len(train_y)} contracts)', 'C': best['C'], 'min_df': best['min_df'],
            'temperature': temperature, 'validation_accuracy': val['accuracy'], 'test_accuracy': test['accuracy']}
    artifact = export_model(pipe, args.head_chars, meta)
    Path(args.artifact).parent.mkdir(parents=True, exist_ok=True)
    Path(args.artifact).write_text(json.dumps(artifact, separators=(',', ':')) + '\n')

    report = {'method': {'features': 'tf-idf word 1-2 grams, sublinear tf, l2, of the first '
                                     f'{args.head_chars} characters', 'classifier': 'multinomial LogisticRegression',
                         'selection': 'validation accuracy, then macro-F1, then smaller C; test scored once'},
              'chosen': {'C': best['C'], 'min_df': best['min_df'], 'features': len(artifact['vocabulary'])},
              'baseline': {'model': 'legal-ner-minilm contract-type head (linear on mean-pooled MiniLM)',
                           'validation_accuracy': 0.21, 'source': 'LexiScan issue #10 brief (the number to beat)'},
              'calibration': {'temperature': temperature, 'fitted_on': 'validation (NLL)' if args.calibrate else None,
                              'before': uncalibrated, 'after': calibrated},
              'trials': trials}
    for name, ids, gold, s in (('validation', val_ids, val_y, val), ('test', test_ids, test_y, test)):
        pred = s.pop('predictions')
        s['confusions'] = confusions(gold, pred)
        s['errors'] = [{'id': i, 'gold': g, 'predicted': p} for i, g, p in zip(ids, gold, pred) if g != p]
        report[name] = s
    classes = sorted(set(test_y) | set(val_y))
    report['test']['confusion_matrix'] = {'labels': classes, 'matrix': confusion_matrix(
        test_y, list(pipe.predict(test_x)), labels=classes).tolist()}
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(json.dumps(report, indent=1) + '\n')

    first_val = load_split('validation', args.data, args.splits)[0]
    fx = fixture(pipe, args.head_chars, {'cuad-validation-head': first_val['text'][:args.head_chars + 500]})
    fx['coef_sha256'] = coef_fingerprint(artifact)
    fx['source'] = f"contract_type.py; cuad-validation-head is {first_val['id']} (CUAD, CC BY 4.0)"
    Path(args.fixture).parent.mkdir(parents=True, exist_ok=True)
    Path(args.fixture).write_text(json.dumps(fx, indent=1, ensure_ascii=False) + '\n')
    size = Path(args.artifact).stat().st_size
    print(f'wrote {args.artifact} ({size / 1e6:.2f} MB), {args.report}, {args.fixture}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
