"""The four models on one split, as both trainers run them (train.py: the simulator; train_plant.py:
any plant by its profile): logistic regression, random forest, LightGBM with class weights
(production) and LightGBM on SMOTE data; thresholds chosen on validation (or out-of-fold)
predictions only; test PR-AUC with a cluster bootstrap over arms.

``fit_all(..., partial=DIR)`` writes each finished model's results to ``DIR/<model>.pkl`` and
reuses them, so a crash (or Ctrl-C) in a later model or step does not refit the earlier ones.
The caller keys DIR by everything the results depend on.
"""
from __future__ import annotations

import pickle
import time
from pathlib import Path

import numpy as np
import pandas as pd

from features import FEATURE_NAMES

CLEAR_FACTOR = 0.6  # an alert clears once p falls below this share of the threshold (hysteresis)
NAMES = {"lr": "LogisticRegression", "rf": "RandomForest", "lgbm": "LightGBM class weights", "lgbm_smote": "LightGBM SMOTE"}
_t0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - _t0:6.0f} s] {msg}", flush=True)


def add_tuning_options(ap) -> None:
    """The options both trainers share: seed and Optuna trials."""
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--trials", type=int, default=16, help="Optuna trials, LightGBM class weights")
    ap.add_argument("--smote-trials", type=int, default=8, help="Optuna trials, LightGBM SMOTE")


def balance(name: str, rows: pd.DataFrame, y: np.ndarray) -> dict:
    b = {"rows": int(len(y)), "positives": int(y.sum()), "positive_rate": float(y.mean()), "arms": int(rows["arm_id"].nunique())}
    log(f"  {name:<22} {b['rows']:>9,} rows  {b['positives']:>7,} positive ({100 * b['positive_rate']:.2f} %)  {b['arms']} arms")
    return b


def x_of(rows: pd.DataFrame, names=FEATURE_NAMES) -> np.ndarray:
    """float32, as the stream feeds the ONNX model."""
    return rows[list(names)].to_numpy(dtype=np.float32)


def _fit_one(key: str, split: dict, *, seed: int, trials: int) -> dict:
    from modeling import (RF_MAX_ROWS, choose_threshold, fit_weighted, logistic_regression, out_of_fold, pr_auc, random_forest,
                          scores_at, subsample_negatives, tune_lightgbm)

    xf, yf, wf, xt, yt = (split[k] for k in ("x_fit", "y_fit", "w_fit", "x_test", "y_test"))
    folds = split.get("folds")
    yv = yf if folds else split["y_val"]
    started = time.perf_counter()
    log(f"{NAMES[key]}: fitting on {len(yf):,} rows" + (f" ({len(folds)}-fold grouped CV)" if folds else ""))
    extra = {}
    if key in ("lr", "rf"):
        make = (lambda: logistic_regression(seed)) if key == "lr" else (lambda: random_forest(seed))
        keep, w_keep = (np.ones(len(yf), dtype=bool), wf) if key == "lr" or folds else subsample_negatives(yf, wf, RF_MAX_ROWS, seed)
        if not keep.all():
            log(f"  {NAMES[key]}: negatives subsampled again to {int(keep.sum()):,} rows (reweighted)")
        model = fit_weighted(make(), xf[keep], yf[keep], w_keep)
        predict = lambda x, m=model: m.predict_proba(x)[:, 1]
        pv = out_of_fold(make, xf, yf, wf, folds) if folds else predict(split["x_val"])
    else:
        model = tune_lightgbm(xf, yf, wf, val=None if folds else (split["x_val"], split["y_val"]), folds=folds,
                              smote=key == "lgbm_smote", trials=trials, seed=seed, log=log)
        predict, pv = model.predict, model.p_val
        extra = {"params": model.params, "best_iteration": model.best_iteration, "trials": model.trials, "optuna": model.history}
    pt = predict(xt)
    threshold, rule = choose_threshold(yv, pv)
    r = {"name": NAMES[key], "model": model, "p_val": pv, "p_test": pt, "threshold": threshold, "threshold_rule": rule,
         "val_pr_auc": pr_auc(yv, pv), "test_pr_auc": pr_auc(yt, pt), "val_at_threshold": scores_at(yv, pv, threshold),
         "test_at_threshold": scores_at(yt, pt, threshold), "seconds": time.perf_counter() - started, **extra}
    log(f"{NAMES[key]}: {'out-of-fold' if folds else 'val'} PR-AUC {r['val_pr_auc']:.4f}, test PR-AUC {r['test_pr_auc']:.4f};"
        f" threshold {threshold:.4f} -> test precision {r['test_at_threshold']['precision']:.3f}"
        f" recall {r['test_at_threshold']['recall']:.3f} ({r['seconds']:.0f} s)")
    return r


def fit_all(split: dict, *, seed: int, trials: int, smote_trials: int, partial: Path | None = None) -> dict:
    """All four models on one split: x/y/w fit, x/y test, and either x/y val (one validation fold)
    or ``folds`` (grouped cross-validation over the fitting rows: out-of-fold predictions stand in
    for validation, final models are refit on all fitting rows). Per model: validation and test
    predictions, PR-AUC, the threshold chosen on validation and test precision/recall at it.
    ``partial``: a directory for each finished model's results (reused when present)."""
    out = {}
    for key in ("lr", "rf", "lgbm", "lgbm_smote"):
        saved = partial / f"{key}.pkl" if partial else None
        if saved is not None and saved.exists():
            out[key] = pickle.loads(saved.read_bytes())
            log(f"{NAMES[key]}: reused {saved} (test PR-AUC {out[key]['test_pr_auc']:.4f})")
            continue
        out[key] = _fit_one(key, split, seed=seed, trials=trials if key == "lgbm" else smote_trials)
        if saved is not None:
            saved.parent.mkdir(parents=True, exist_ok=True)
            tmp = saved.with_suffix(".tmp")
            tmp.write_bytes(pickle.dumps(out[key]))
            tmp.replace(saved)  # complete or absent, never half-written
    return out


def summary(results: dict) -> dict:
    keep = ("name", "val_pr_auc", "test_pr_auc", "threshold", "threshold_rule", "val_at_threshold", "test_at_threshold",
            "seconds", "params", "best_iteration", "trials", "optuna")
    return {k: {f: v[f] for f in keep if f in v} for k, v in results.items()}


def uncertainty(split: dict, results: dict, seed: int) -> dict:
    from report import bootstrap_pr_auc

    b = bootstrap_pr_auc(split["y_test"], {k: r["p_test"] for k, r in results.items()}, split["groups_test"], n=200, seed=seed)
    log("  test PR-AUC, 95 % cluster-bootstrap interval over arms/units: " + ", ".join(
        f"{NAMES[k]} [{lo:.3f}, {hi:.3f}]" for k, (lo, hi) in b["pr_auc_95"].items()))
    log("  LightGBM class weights minus: " + ", ".join(
        f"{NAMES[k]} [{v['diff_95'][0]:+.3f}, {v['diff_95'][1]:+.3f}] (ahead in {100 * v['share_ahead']:.0f} %)" for k, v in b["lgbm_minus"].items()))
    return b


def lgbm_beats_baselines(results: dict) -> bool:
    return results["lgbm"]["test_pr_auc"] > max(results["lr"]["test_pr_auc"], results["rf"]["test_pr_auc"])
