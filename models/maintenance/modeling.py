"""Model families for FactoryGuard and how they are tuned, thresholded and scored.

Baselines: logistic regression (median imputation + missing indicators, scaling) and a random
forest (sklearn, NaN handled natively). Production: LightGBM with class weights
(``scale_pos_weight``, tuned); challenger: LightGBM on SMOTE-resampled data (imbalanced-learn;
SMOTE needs complete rows, so median imputation first). Both LightGBM variants are tuned with
Optuna (TPE, seeded, fixed trial count) on average precision (PR-AUC) of the time-ordered
validation fold, with early stopping on the same fold. Accuracy is never used.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import optuna
from imblearn.over_sampling import SMOTE
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, precision_recall_curve
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore", message="Overriding the parameters from Reference Dataset")
MIN_PRECISION = 0.8
MAX_ROUNDS = 300  # with num_leaves <= 15 keeps model-dump.json + model.txt + model.onnx near 2 MB
EARLY_STOPPING = 30
CV_ROUNDS = 300  # cross-validation: every fold runs this long; the round count is chosen on pooled out-of-fold PR-AUC
CV_CHECK_EVERY = 5
RF_MAX_ROWS = 80_000  # sklearn's forest still scans every row with max_samples; subsample instead


def logistic_regression(seed: int):
    return make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(class_weight="balanced", max_iter=3000, random_state=seed),
    )


def random_forest(seed: int):
    return RandomForestClassifier(
        n_estimators=150, min_samples_leaf=30, max_features="sqrt", class_weight="balanced_subsample",
        n_jobs=2, random_state=seed,
    )


def subsample_negatives(y: np.ndarray, w: np.ndarray, max_rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows kept, their weights): every positive, negatives at the rate that leaves ``max_rows``
    rows, reweighted by 1/rate so the weighted class balance is unchanged."""
    neg = int((~y).sum())
    if len(y) <= max_rows or neg == 0:
        return np.ones(len(y), dtype=bool), w
    rate = max(max_rows - int(y.sum()), 1) / neg
    keep = y | (np.random.default_rng(seed).random(len(y)) < rate)
    return keep, np.where(y, w, w / rate)[keep]


def out_of_fold(make, x, y, w, folds) -> np.ndarray:
    """Out-of-fold probabilities of an sklearn model (``make()`` builds a fresh one)."""
    p = np.empty(len(y))
    for a, b in folds:
        p[b] = fit_weighted(make(), x[a], y[a], w[a]).predict_proba(x[b])[:, 1]
    return p


def fit_weighted(model, x, y, w):
    if hasattr(model, "steps"):  # pipeline: weight goes to the final step
        return model.fit(x, y, **{f"{model.steps[-1][0]}__sample_weight": w})
    return model.fit(x, y, sample_weight=w)


@dataclass
class Tuned:
    """A tuned LightGBM: the booster, how it was found, and its validation (or out-of-fold)
    predictions."""
    booster: lgb.Booster
    params: dict
    best_iteration: int
    val_ap: float
    p_val: np.ndarray
    trials: int
    seconds: float
    imputer: SimpleImputer | None = None  # SMOTE variant: rows are imputed before predicting
    history: list = field(default_factory=list)

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self.imputer is not None:
            x = self.imputer.transform(x)
        return self.booster.predict(x, num_iteration=self.best_iteration)


def _base_params(trial: optuna.Trial, seed: int) -> dict:
    return {
        "objective": "binary", "metric": "average_precision", "verbosity": -1, "seed": seed,
        "deterministic": True, "force_row_wise": True, "num_threads": 2, "bagging_freq": 1,
        "learning_rate": trial.suggest_float("learning_rate", 0.03, 0.3, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 4, 15),
        "min_child_samples": trial.suggest_int("min_child_samples", 20, 2000, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.5, 1.0),
        "bagging_fraction": trial.suggest_float("bagging_fraction", 0.5, 1.0),
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 10.0, log=True),
    }


_DS = {"feature_pre_filter": False, "verbosity": -1}


def _train_set(x, y, w, smote_ratio: float | None, seed: int) -> lgb.Dataset:
    if smote_ratio is None:
        return lgb.Dataset(x, y, weight=w, params=_DS, free_raw_data=False)
    xs, ys = SMOTE(sampling_strategy=smote_ratio, k_neighbors=5, random_state=seed).fit_resample(x, y)
    return lgb.Dataset(xs, ys, params=_DS)


def tune_lightgbm(x, y, w, *, val=None, folds=None, smote: bool, trials: int, seed: int, log=print) -> Tuned:
    """Optuna (TPE, seeded) over LightGBM, plus the SMOTE ratio for the SMOTE variant, maximising
    PR-AUC on held-out rows, either
    - ``val=(x_val, y_val)``: one validation fold (the simulator's time-ordered fold), with early
      stopping on it, or
    - ``folds=[(fit_idx, val_idx), ...]``: grouped cross-validation (C-MAPSS units): every fold
      runs CV_ROUNDS and one round count (checked every CV_CHECK_EVERY) is chosen on the PR-AUC of
      the pooled out-of-fold predictions — no per-fold early stopping on the rows it is scored
      on; the final model is refit on all rows for that many rounds.
    ``w``: row weights (negative subsampling); the SMOTE variant ignores them (SMOTE does the
    rebalancing, and imbalanced-learn takes no weights). Missing values are median-imputed (fit on
    each fitting part) for SMOTE, which needs complete rows."""
    started = time.perf_counter()
    parts = [(x, y, w, *val)] if val is not None else [(x[a], y[a], w[a], x[b], y[b]) for a, b in folds]
    prepared = []
    for xf, yf, wf, xv, yv in parts:
        imp = SimpleImputer(strategy="median", keep_empty_features=True).fit(xf) if smote else None
        if imp is not None:
            xf, xv = imp.transform(xf), imp.transform(xv)
        prepared.append({"x": xf, "y": yf, "w": wf, "xv": xv, "yv": yv, "imputer": imp,
                         "data": None if smote else _train_set(xf, yf, wf, None, seed)})
    pos = max(int(y.sum()), 1)
    neg_per_pos = (len(y) - pos) / pos  # in the rows given (for the SMOTE ratio range)
    weighted_neg_per_pos = float(w[~y].sum() / max(w[y].sum(), 1e-12))  # the true imbalance
    best: dict = {}

    def objective(trial: optuna.Trial) -> float:
        params = _base_params(trial, seed)
        ratio = None
        if smote:
            low = max(0.05, 1.2 / neg_per_pos)  # SMOTE only adds minority rows: start above today's ratio
            ratio = trial.suggest_float("smote_ratio", low, min(1.0, max(0.5, 2 * low)))
        else:
            params["scale_pos_weight"] = trial.suggest_float("scale_pos_weight", 1.0, max(weighted_neg_per_pos, 1.0), log=True)
        if folds is None:  # one validation fold: early stopping on it
            part = prepared[0]
            data = part["data"] or _train_set(part["x"], part["y"], None, ratio, seed)
            booster = lgb.train(params, data, num_boost_round=MAX_ROUNDS, valid_sets=[lgb.Dataset(part["xv"], part["yv"], reference=data)],
                                callbacks=[lgb.early_stopping(EARLY_STOPPING, verbose=False)])
            rounds, p_val = booster.best_iteration, booster.predict(part["xv"], num_iteration=booster.best_iteration)
            ap, y_val, boosters = average_precision_score(val[1], p_val), val[1], [booster]
        else:  # every fold runs CV_ROUNDS; one round count for all, chosen on the pooled out-of-fold PR-AUC
            checks = list(range(CV_CHECK_EVERY, CV_ROUNDS + 1, CV_CHECK_EVERY))
            oof = np.empty((len(checks), len(y)))  # raw scores (log-odds) after each checkpoint
            for (_, idx), part in zip(folds, prepared):
                booster = lgb.train({**params, "metric": "none"}, part["data"] or _train_set(part["x"], part["y"], None, ratio, seed),
                                    num_boost_round=CV_ROUNDS)
                raw = np.zeros(len(idx))
                for c, n in enumerate(checks):  # add each block of trees once: linear, not quadratic
                    raw += booster.predict(part["xv"], start_iteration=n - CV_CHECK_EVERY, num_iteration=CV_CHECK_EVERY, raw_score=True)
                    oof[c, idx] = raw
            aps = [average_precision_score(y, o) for o in oof]  # ranks: raw score or probability alike
            c = int(np.argmax(aps))
            rounds, p_val, ap, boosters = checks[c], 1 / (1 + np.exp(-oof[c])), aps[c], None
        log(f"    trial {trial.number + 1:>2}/{trials}: {'out-of-fold' if folds else 'val'} PR-AUC {ap:.4f}"
            f" ({rounds} rounds, {time.perf_counter() - started:5.0f} s)")
        if ap > best.get("ap", -1):
            best.update(ap=ap, params={**params, **trial.params}, rounds=rounds, boosters=boosters, p_val=p_val, ratio=ratio)
        return ap

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    history = [{"number": t.number, "value": t.value, "params": t.params} for t in study.trials]
    if folds is None:
        booster, iteration, imputer = best["boosters"][0], best["rounds"], prepared[0]["imputer"]
    else:  # refit on every row, for the round count chosen out of fold
        iteration = best["rounds"]
        imputer = SimpleImputer(strategy="median", keep_empty_features=True).fit(x) if smote else None
        xa = imputer.transform(x) if imputer is not None else x
        params = {k: v for k, v in best["params"].items() if k != "smote_ratio"}
        booster = lgb.train(params, _train_set(xa, y, None if smote else w, best["ratio"], seed), num_boost_round=iteration)
    return Tuned(booster, best["params"], iteration, best["ap"], best["p_val"], trials, time.perf_counter() - started, imputer, history)


def choose_threshold(y: np.ndarray, p: np.ndarray, min_precision: float = MIN_PRECISION) -> tuple[float, str]:
    """The lowest threshold whose validation precision is >= min_precision (the most recall at
    that precision); if no threshold reaches it, the one maximising F0.5."""
    precision, recall, thresholds = precision_recall_curve(y, p)
    ok = np.flatnonzero(precision[:-1] >= min_precision)  # thresholds ascend
    if ok.size:
        return float(thresholds[ok[0]]), f"lowest threshold with validation precision >= {min_precision}"
    beta2 = 0.25
    f05 = (1 + beta2) * precision * recall / np.maximum(beta2 * precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f05[:-1]))]), f"max F0.5 on validation (precision {min_precision} unreachable)"


def scores_at(y: np.ndarray, p: np.ndarray, threshold: float) -> dict:
    alert = p >= threshold
    tp = int((alert & y).sum())
    precision = tp / alert.sum() if alert.sum() else float("nan")
    recall = tp / y.sum() if y.sum() else float("nan")
    return {"threshold": threshold, "precision": precision, "recall": recall, "alerts": int(alert.sum()), "true_alerts": tp}


def pr_auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(average_precision_score(y, p))
