#!/usr/bin/env python3
"""Train a plant's failure model from its own history, by its profile (issue #11).

    python models/maintenance/train_plant.py --profile connectors/plants/P.json --train EXPORT_DIR \\
        [--test EXPORT_DIR] [--trials 16] [--smote-trials 8] [--out DIR]

Input: export directories (``streamscore plant export``; plant_data.py describes them) and the
plant's profile (channels, operating settings, label and feature spec). Steps, each logged:
1. Regimes (profile ``features.regimes``): fitted on the training readings only.
2. Feature rows per arm and sample, labelled by the profile's label (plant_data.py); cached under
   .cache/factoryguard/plants/<plant>/ by readings, spec, regimes and code.
3. Split: with ``--test``, that history is used only for evaluation; without it, a fixed share of
   arms (by hash of the arm id) is held out. Tuning, early stopping and thresholds use grouped
   cross-validation by arm over the training arms only (out-of-fold predictions).
4. Logistic regression, random forest, LightGBM (class weights; the served model) and LightGBM on
   SMOTE data (training.py); each finished model's results are kept under the cache, so a rerun
   after a crash starts at the first unfinished model.
5. The LightGBM model is exported (export.py) as ``<plant_id>-failure-lgbm`` into the profile's
   ``model.artifacts`` (or --out), with model-meta.json, regimes.json, metrics.json, pr-curve.png, MODEL_CARD.md.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from features import FeatureSpec
from plant_data import PlantHistory, labelled_rows, load_history, load_profile
from regimes import Regimes
from training import CLEAR_FACTOR, add_tuning_options, balance, fit_all, lgbm_beats_baselines, log, summary, uncertainty, x_of

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CODE_FILES = ("features.py", "fast_features.py", "regimes.py", "plant_data.py", "data.py")


def digest(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else json.dumps(p, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def where(path: Path) -> str:
    """A path for metrics and model-meta: relative to the repository, else its last two parts."""
    p = Path(path).resolve()
    return str(p.relative_to(REPO)) if p.is_relative_to(REPO) else "/".join(p.parts[-2:])


def export_info(history: PlantHistory) -> dict:
    """Where the training or evaluation data came from: the export's own record, with file paths
    cut to their names (no machine's folders in committed metrics)."""
    info = {"dir": where(history.path), "readings_sha256": history.sha256}
    for key in ("plant_id", "profile_sha256", "exported_at", "counts", "rows", "arms"):
        if key in history.meta:
            info[key] = history.meta[key]
    if "source" in history.meta:
        info["source"] = " ".join(Path(w).name if "/" in w else w for w in str(history.meta["source"]).split(" "))
    return info


def held_out_arms(arms, share: float) -> set[str]:
    """A fixed share of arms, by a hash of the arm id (stable across runs and machines)."""
    return {a for a in arms if int(hashlib.sha256(str(a).encode()).hexdigest()[:8], 16) / 16 ** 8 < share}


def fit_regimes(profile: dict, history: PlantHistory, arms: set[str], seed: int, cache: Path, use_cache: bool) -> Regimes | None:
    k = profile["features"].get("regimes", {}).get("k")
    if not k:
        return None
    if history.settings is None:
        raise SystemExit(f"{history.path}: profile {profile['plant_id']} normalises by regime but its readings carry no settings")
    cached = cache / f"regimes-{digest(history.sha256, sorted(arms), k, seed, (HERE / 'regimes.py').read_bytes())}.json"
    if use_cache and cached.exists():
        log(f"regimes: cached {cached.name}")
        return Regimes.load(str(cached))
    from regimes import fit

    rows = history.readings["arm_id"].astype(str).isin(arms).to_numpy()
    log(f"regimes: KMeans k={k} on the settings of {int(rows.sum()):,} training readings")
    regimes = fit([s["name"] for s in profile["operating_settings"]], history.settings[rows], history.readings["channel"][rows],
                  history.readings["value"][rows], k, seed)
    if use_cache:
        cache.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(regimes.as_json()))
    return regimes


def rows_of(history: PlantHistory, profile: dict, spec: FeatureSpec, regimes: Regimes | None, cache: Path, use_cache: bool) -> pd.DataFrame:
    code = b"".join((HERE / f).read_bytes() for f in CODE_FILES)
    cached = cache / f"rows-{digest(history.sha256, spec.as_json(), profile['label'], profile['sample_interval_ms'], regimes and regimes.as_json(), code)}.pkl"
    if use_cache and cached.exists():
        log(f"rows of {where(history.path)}: cached {cached.name}")
        return pd.read_pickle(cached)
    log(f"features of {where(history.path)}: {len(history.readings):,} readings, {len(spec.channels)} channels, {len(spec.feature_names)} features")
    step = max(1, history.readings["arm_id"].nunique() // 10)
    rows = labelled_rows(history, profile, spec, regimes, progress=lambda i, n: (i % step == 0 or i == n) and log(f"  features: {i}/{n} arms"))
    if use_cache:
        cache.mkdir(parents=True, exist_ok=True)
        rows.to_pickle(cached)
    return rows


def plant_split(fit: pd.DataFrame, test: pd.DataFrame, names, n_folds: int, neg_rate: float, seed: int) -> dict:
    from sklearn.model_selection import GroupKFold

    y_fit = fit["label"].to_numpy()
    keep = y_fit | (np.random.default_rng(seed).random(len(fit)) < neg_rate)  # negatives subsampled, weighted 1/rate
    fit = fit[keep].reset_index(drop=True)
    folds = list(GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(fit, groups=fit["arm_id"]))
    return {"x_fit": x_of(fit, names), "y_fit": fit["label"].to_numpy(), "w_fit": np.where(fit["label"], 1.0, 1.0 / neg_rate),
            "folds": folds, "x_test": x_of(test, names), "y_test": test["label"].to_numpy(), "groups_test": test["arm_id"].to_numpy()}


def environment() -> dict:
    import lightgbm
    import sklearn

    return {"python": platform.python_version(), "lightgbm": lightgbm.__version__, "scikit-learn": sklearn.__version__,
            "numpy": np.__version__, "pandas": pd.__version__}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Train a plant's failure model from its own history (see the module docstring).")
    ap.add_argument("--profile", type=Path, required=True, help="plant profile (connectors/plants/*.json)")
    ap.add_argument("--train", type=Path, required=True, help="export directory of the training history")
    ap.add_argument("--test", type=Path, help="export directory used only for evaluation (default: hold out arms of --train)")
    ap.add_argument("--out", type=Path, help="artifacts directory (default: the profile's model.artifacts)")
    ap.add_argument("--model-name", help="registered model name (default <plant_id>-failure-lgbm; the simulator plant's is arm-failure-lgbm)")
    add_tuning_options(ap)
    ap.add_argument("--folds", type=int, default=5, help="grouped cross-validation folds over training arms")
    ap.add_argument("--holdout-share", type=float, default=0.2, help="share of arms held out for evaluation without --test")
    ap.add_argument("--neg-rate", type=float, default=1.0, help="share of training negatives kept (weighted 1/rate)")
    ap.add_argument("--no-cache", action="store_true", help="recompute regimes, features and models")
    args = ap.parse_args(argv)
    started = time.perf_counter()

    profile, profile_sha = load_profile(args.profile)
    plant = profile["plant_id"]
    spec = FeatureSpec.from_profile(profile)
    names = list(spec.feature_names)
    cache = REPO / ".cache" / "factoryguard" / "plants" / plant
    log(f"plant {plant}: {len(spec.channels)} channels, windows {[w for w, _ in spec.windows]}, label {profile['label']}")
    train = load_history(args.train, profile)
    test = load_history(args.test, profile) if args.test else None
    arms = set(train.readings["arm_id"].astype(str).unique())
    holdout = set() if test is not None else held_out_arms(arms, args.holdout_share)
    regimes = fit_regimes(profile, train, arms - holdout, args.seed, cache, not args.no_cache)
    rows = rows_of(train, profile, spec, regimes, cache, not args.no_cache)
    if test is not None:
        fit, evaluation = rows, rows_of(test, profile, spec, regimes, cache, not args.no_cache)
    else:
        out_of = rows["arm_id"].astype(str).isin(holdout)
        fit, evaluation = rows[~out_of].reset_index(drop=True), rows[out_of].reset_index(drop=True)
    log(f"class balance (label: {profile['label']['source']}, horizon {profile['label']['horizon_ms']} ms;"
        f" {args.folds}-fold CV by arm over training arms):")
    bal = {"train": balance("train", fit, fit["label"].to_numpy()), "test": balance("test" if test is not None else "held-out arms",
                                                                                   evaluation, evaluation["label"].to_numpy())}
    split = plant_split(fit, evaluation, names, args.folds, args.neg_rate, args.seed)
    # keyed by the split's content, not the files: an identical history exported again reuses the models
    key = digest(*(np.ascontiguousarray(split[k]).tobytes() for k in ("x_fit", "y_fit", "w_fit", "x_test", "y_test")),
                 [b.tolist() for _, b in split["folds"]], args.trials, args.smote_trials, args.seed,
                 b"".join((HERE / f).read_bytes() for f in ("training.py", "modeling.py")))
    results = fit_all(split, seed=args.seed, trials=args.trials, smote_trials=args.smote_trials,
                      partial=None if args.no_cache else cache / f"partial-{key}")

    out = args.out or REPO / profile["model"]["artifacts"]
    out.mkdir(parents=True, exist_ok=True)
    data = {"train": export_info(train)}
    data["evaluation"] = ({"kind": "test_export", **export_info(test)} if test
                          else {"kind": "held_out_arms", "share": args.holdout_share, "arms": sorted(holdout)})
    metrics = {"plant_id": plant, "profile": where(args.profile), "profile_sha256": profile_sha, "label": profile["label"],
               "feature_spec": spec.as_json(), "regimes_k": regimes.k if regimes else None, "data": data, "class_balance": bal,
               "validation": f"{args.folds}-fold grouped cross-validation by arm over the training arms (out-of-fold predictions)",
               "trials": {"lgbm": args.trials, "lgbm_smote": args.smote_trials}, "models": summary(results),
               "lgbm_beats_baselines": lgbm_beats_baselines(results), "bootstrap": uncertainty(split, results, args.seed),
               "environment": environment()}
    from report import plot_pr_curves

    plot_pr_curves(split["y_test"], {r["name"]: r["p_test"] for r in results.values()}, {r["name"]: r["threshold"] for r in results.values()},
                   out / "pr-curve.png", f"{plant}: evaluation ({bal['test']['arms']} arms, {bal['test']['rows']:,} rows)")
    if regimes:
        (out / "regimes.json").write_text(json.dumps(regimes.as_json(), indent=1) + "\n")

    from export import trimmed, write_artifacts

    prod = results["lgbm"]
    horizon = profile["label"]["horizon_ms"]
    meta = write_artifacts(out, trimmed(prod["model"].booster, prod["best_iteration"]), split["x_test"], {
        "plant_id": plant, "profile": where(args.profile), "profile_sha256": profile_sha, "horizon_ms": horizon,
        "label": profile["label"], "feature_spec": spec.as_json(), "regimes": regimes.as_json() if regimes else None,
        "threshold": prod["threshold"], "threshold_rule": prod["threshold_rule"], "clear_threshold": CLEAR_FACTOR * prod["threshold"],
        "clear_threshold_rule": f"{CLEAR_FACTOR} x threshold (as the simulator's model)", "clear_after": 3, "cooldown_ms": 30 * 60_000,
        "training_data": data["train"], "evaluation_data": data["evaluation"], "params": prod["params"], "best_iteration": prod["best_iteration"],
        "metrics": {"test_pr_auc": prod["test_pr_auc"], "test_at_threshold": prod["test_at_threshold"], "cv_pr_auc": prod["val_pr_auc"]},
    }, REPO, model_name=args.model_name or f"{plant}-failure-lgbm", feature_names=names, spec=spec)
    from make_references import write_model_reference

    # the drift monitor's reference (docs/models.md, Drift): the training arms' rows and their predictions
    write_model_reference(out, fit, names, trimmed(prod["model"].booster, prod["best_iteration"]), f"training export of {plant} (train_plant.py: training arms)")
    metrics["production"] = {"model_name": meta["model_name"], "model_version": meta["model_version"], "onnx_check": meta["onnx"]["check"],
                             "artifact_bytes": {p.name: p.stat().st_size for p in sorted(out.iterdir()) if p.is_file() and p.name != "metrics.json"}}
    metrics["code_version"], metrics["created"] = meta["code_version"], meta["created"]
    metrics["seconds_total"] = time.perf_counter() - started
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=float) + "\n")
    from plant_card import write_plant_card

    write_plant_card(out)  # a card naming this version: `models promote` refuses a version without one
    log(f"wrote {where(out)}: {meta['model_name']} {meta['model_version']}; LightGBM test PR-AUC {prod['test_pr_auc']:.4f}"
        f" (CV {prod['val_pr_auc']:.4f}); beats both baselines: {metrics['lgbm_beats_baselines']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
