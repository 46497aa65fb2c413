"""Build the TreeSHAP parity fixture for streams/maintenance/treeshap.test.ts.

Trains small but realistic binary LightGBM models on synthetic FactoryGuard-shaped data (the 42
feature names of docs/factoryguard-features.md; NaNs in ~5 % of cells, exact zeros in the stds,
trends and ratios, ~5 % positives with is_unbalance), then writes what LightGBM itself says:

  model.json     booster.dump_model() of the main model (200 trees x 31 leaves), minified, without
                 the fields prediction never reads (see slim())
  rows.json      1,000 scoring rows (null = NaN): fresh rows, NaNs in features that never had one in
                 training (missing_type 'None'), values exactly on / just above split thresholds,
                 and values above 1e300 (the dump's stand-in for an infinite threshold)
  expected.json  predict(raw_score=True), predict() and predict(pred_contrib=True) for those rows
  extra.json     two small cases, each with its model, rows and expectations: zero_as_missing=True
                 (missing_type 'Zero') and boosting='rf' (average_output; full, unslimmed dump)

Every float is written with Python's repr (shortest round trip), so the TypeScript side reads the
exact doubles LightGBM used. Deterministic: fixed seeds, one thread, deterministic=True, so
treeshap.test.ts can retrain the same models through live() when STREAMSCORE_PYTHON is set.

  python models/maintenance/make_treeshap_fixture.py [--out DIR] [--trees N]   (numpy + lightgbm 4.x)

The committed fixture was made with LightGBM 4.6.0; 4.7.0 (requirements-test.txt) retrains
byte-identical models and predictions. --trees 300 --out /tmp/x makes a bigger model for timing.
"""
import argparse
import json
import math
import os

import lightgbm as lgb
import numpy as np

SENSORS = ('vibration', 'temperature', 'pressure')
STATS = ('mean_1h', 'mean_6h', 'mean_12h', 'std_1h', 'std_6h', 'std_12h', 'ema_1h', 'ema_6h', 'ema_12h',
         'last', 'lag1', 'lag2', 'trend_1h_12h', 'std_ratio_1h_12h')
FEATURE_NAMES = [f'{s}_{t}' for s in SENSORS for t in STATS]
COL = {name: i for i, name in enumerate(FEATURE_NAMES)}
# Never NaN in training, so LightGBM gives their splits missing_type 'None' (scoring NaN -> 0.0).
NEVER_NAN_IN_TRAINING = [f'{s}_{t}' for s in SENSORS for t in ('mean_12h', 'ema_6h', 'ema_12h', 'std_12h')]
SENSOR_SCALE = {'vibration': (2.5, 0.6), 'temperature': (68.0, 4.0), 'pressure': (5.2, 0.35)}
SENSITIVITY = {'vibration': 1.6, 'temperature': 1.0, 'pressure': -0.7}
SEED = 20260601
DEFAULT_OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'streams', 'maintenance', 'fixtures', 'treeshap')


def synth(rng, n):
    """Rows of the 42 features plus a 24 h failure label; ~5 % of cells NaN, some exact zeros."""
    d = rng.beta(0.7, 7.0, n)  # latent degradation in [0, 1]
    X = np.empty((n, len(FEATURE_NAMES)))
    logit = -4.6 + 9.0 * d
    for s in SENSORS:
        mu, sd = SENSOR_SCALE[s]
        a = SENSITIVITY[s]
        c = lambda t: COL[f'{s}_{t}']
        m12 = mu + sd * (0.3 * rng.normal(size=n) + 0.5 * a * d)
        m6 = m12 + sd * (0.8 * a * d + 0.2 * rng.normal(size=n))
        m1 = m6 + sd * (1.2 * a * d + 0.2 * rng.normal(size=n))
        s12 = sd * (0.5 + 0.3 * np.abs(rng.normal(size=n))) * (1 + d)
        s6 = s12 * np.exp(0.2 * rng.normal(size=n) + 0.3 * d)
        s1 = s6 * np.exp(0.3 * rng.normal(size=n) + 0.5 * d)
        stuck_12h = rng.random(n) < 0.02  # flat-lined sensor: every std exactly 0, ratio NaN
        stuck_1h = ~stuck_12h & (rng.random(n) < 0.03)  # flat for the last hour only: ratio exactly 0
        s12, s6, s1 = np.where(stuck_12h, 0.0, s12), np.where(stuck_12h, 0.0, s6), np.where(stuck_12h | stuck_1h, 0.0, s1)
        m6, m1 = np.where(stuck_12h, m12, m6), np.where(stuck_12h, m12, m1)
        X[:, c('mean_12h')], X[:, c('mean_6h')], X[:, c('mean_1h')] = m12, m6, m1
        X[:, c('std_12h')], X[:, c('std_6h')], X[:, c('std_1h')] = s12, s6, s1
        X[:, c('ema_12h')] = 0.7 * m12 + 0.3 * m6 + 0.05 * sd * rng.normal(size=n)
        X[:, c('ema_6h')] = 0.6 * m6 + 0.4 * m1 + 0.05 * sd * rng.normal(size=n)
        X[:, c('ema_1h')] = 0.8 * m1 + 0.2 * m6 + 0.05 * sd * rng.normal(size=n)
        for t in ('last', 'lag1', 'lag2'):
            X[:, c(t)] = m1 + s1 * rng.normal(size=n)
        X[:, [c(t) for t in STATS[:12]]] = np.round(X[:, [c(t) for t in STATS[:12]]], 4)
        X[:, c('trend_1h_12h')] = np.round(X[:, c('mean_1h')] - X[:, c('mean_12h')], 4)  # exact 0 when stuck
        with np.errstate(divide='ignore', invalid='ignore'):
            X[:, c('std_ratio_1h_12h')] = np.where(X[:, c('std_12h')] == 0, np.nan, np.round(X[:, c('std_1h')] / X[:, c('std_12h')], 4))
        # The head hour missing (sensor offline): every 1 h feature is NaN, as features.ts yields it.
        offline = rng.random(n) < 0.02
        for t in ('mean_1h', 'std_1h', 'ema_1h', 'last', 'lag1', 'lag2', 'trend_1h_12h', 'std_ratio_1h_12h'):
            X[offline, c(t)] = np.nan
        for t, p in (('last', 0.04), ('lag1', 0.03), ('lag2', 0.03)):  # empty buckets
            X[rng.random(n) < p, c(t)] = np.nan
        logit = logit + 0.6 * a * np.nan_to_num((X[:, c('std_ratio_1h_12h')] - 1.2).clip(0, 3))
    never = [COL[f] for f in NEVER_NAN_IN_TRAINING]
    sprinkle = rng.random(X.shape) < 0.037
    sprinkle[:, never] = False
    X[sprinkle] = np.nan
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int32)
    return X, y


def train(X, y, trees, **over):
    params = dict(objective='binary', num_leaves=31, learning_rate=0.05, min_data_in_leaf=40,
                  feature_fraction=0.8, bagging_fraction=0.8, bagging_freq=1, lambda_l2=1.0,
                  is_unbalance=True, seed=SEED, deterministic=True, force_row_wise=True,
                  num_threads=1, verbose=-1)
    params.update(over)
    return lgb.train(params, lgb.Dataset(X, y, feature_name=FEATURE_NAMES), num_boost_round=trees)


def thresholds_by_feature(dump):
    out = {}
    def walk(node):
        if 'split_index' in node:
            out.setdefault(node['split_feature'], []).append(node['threshold'])
            walk(node['left_child'])
            walk(node['right_child'])
    for tree in dump['tree_info']:
        walk(tree['tree_structure'])
    return out


def scoring_rows(rng, n, dump):
    """Fresh rows, plus NaNs where training had none, plus values on and just above thresholds."""
    X, _ = synth(rng, n)
    never = [COL[f] for f in NEVER_NAN_IN_TRAINING]
    X[:, never] = np.where(rng.random((n, len(never))) < 0.05, np.nan, X[:, never])
    by_feature = thresholds_by_feature(dump)
    features = sorted(by_feature)
    for i in range(n - n // 10, n):  # the last 10 %: 4 features each on a split boundary
        for f in rng.choice(features, size=4, replace=False):
            t = by_feature[f][rng.integers(len(by_feature[f]))]
            X[i, f] = t if rng.random() < 0.5 else np.nextafter(t, math.inf)
    # A "NaN vs any value" split has threshold +inf, which the dump writes as 1e300: values above
    # 1e300 must still go left. (JSON has no infinity; treeshap.test.ts tests inf itself by hand.)
    unbounded = [f for f in features if max(by_feature[f]) >= 1e300]
    for i in range(n - n // 10, n - n // 10 + min(20, n // 10)):
        if unbounded:
            X[i, unbounded[rng.integers(len(unbounded))]] = (np.nextafter(1e300, math.inf), np.finfo(np.float64).max)[i % 2]
    return X


def lightgbm_says(booster, X):
    return {
        'raw': booster.predict(X, raw_score=True).tolist(),
        'prob': booster.predict(X).tolist(),
        'contrib': booster.predict(X, pred_contrib=True).tolist(),
    }


def slim(dump):
    """The dump without the fields prediction and TreeSHAP never read (gains, internal values, hessian
    weights): a third smaller, and still exactly what dump_model() returns for everything else."""
    unused = {'split_gain', 'internal_value', 'internal_weight', 'leaf_weight'}
    def node(n):
        return {k: node(v) if isinstance(v, dict) else v for k, v in n.items() if k not in unused}
    return {**dump, 'tree_info': [node(t) for t in dump['tree_info']]}


def train_models(trees=200):
    """The three fixture models, trained the same way every time."""
    X, y = synth(np.random.default_rng(SEED), 30_000)
    return X, y, {
        'main': train(X, y, trees),
        'zero_as_missing': train(X, y, 20, num_leaves=15, zero_as_missing=True),
        'random_forest': train(X, y, 20, num_leaves=15, boosting='rf', bagging_fraction=0.632, feature_fraction=0.7),
    }


def case_rows(models):
    """The scoring rows of each case (they depend on the model: some sit on its thresholds)."""
    sizes = {'main': 1_000, 'zero_as_missing': 100, 'random_forest': 60}
    return {name: scoring_rows(np.random.default_rng(SEED + 1 + i), sizes[name], models[name].dump_model())
            for i, name in enumerate(sizes)}


def rows_json(X):
    return [[None if math.isnan(v) else v for v in row] for row in X.tolist()]


def write(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, separators=(',', ':'), allow_nan=False)
        f.write('\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default=DEFAULT_OUT)
    ap.add_argument('--trees', type=int, default=200)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    X, y, models = train_models(args.trees)
    rows = case_rows(models)
    main_model = models['main']
    write(os.path.join(args.out, 'model.json'), slim(main_model.dump_model()))
    write(os.path.join(args.out, 'rows.json'), {'feature_names': FEATURE_NAMES, 'rows': rows_json(rows['main'])})
    write(os.path.join(args.out, 'expected.json'), {'lightgbm': lgb.__version__, **lightgbm_says(main_model, rows['main'])})
    extra = {'lightgbm': lgb.__version__}
    for name in ('zero_as_missing', 'random_forest'):
        dump = models[name].dump_model()  # the rf case keeps the full dump, so parsing sees every field
        extra[name] = {'model': slim(dump) if name != 'random_forest' else dump, 'rows': rows_json(rows[name]),
                       **lightgbm_says(models[name], rows[name])}
    write(os.path.join(args.out, 'extra.json'), extra)
    print(f'train rows {len(y)}, positives {y.mean():.3f}, NaN cells {float(np.isnan(X).mean()):.3f} '
          f'(scoring rows {float(np.isnan(rows["main"]).mean()):.3f}), '
          f'main trees {main_model.num_trees()}, LightGBM {lgb.__version__}')
    for name in ('model.json', 'rows.json', 'expected.json', 'extra.json'):
        print(f'{name:14s} {os.path.getsize(os.path.join(args.out, name)):>9,d} bytes')


def live(rows_by_case):
    """For treeshap.test.ts with STREAMSCORE_PYTHON: retrain the fixture models and say what this
    LightGBM predicts for the given rows ({case: rows}, null = NaN), with each model's slim dump."""
    _, _, models = train_models()
    out = {'lightgbm': lgb.__version__}
    for name, rows in rows_by_case.items():
        X = np.array([[np.nan if v is None else v for v in r] for r in rows], dtype=np.float64)
        out[name] = {'model': slim(models[name].dump_model()), **lightgbm_says(models[name], X)}
    return out


if __name__ == '__main__':
    main()
