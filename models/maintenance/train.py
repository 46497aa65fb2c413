#!/usr/bin/env python3
"""Train FactoryGuard's failure model: failure of a robot arm within the next 24 h.

    .venv/bin/python models/maintenance/train.py            # everything, ~10 min on 2 cores

Simulator data (train: 200 arms x 60 days, seed 7; held out: 200 other arms x 45 days, seed 8) is
generated with ``npx streamscore simulate`` into .cache/factoryguard/ when missing. Rows: one per
arm and 10-minute slot, features per docs/factoryguard-features.md, label per the spec, rows while
an arm is down dropped. Split by arm (held-out arms are another simulation) and by time (the last
25 % of the training period validates; training rows whose 24 h label horizon reaches into it are
purged). Negatives of the fitting fold are subsampled (weight 1/rate) to fit the time budget.
Models: logistic regression, random forest, LightGBM with class weights (production) and LightGBM
on SMOTE data, the LightGBMs tuned with Optuna on validation PR-AUC (training.py). Writes
models/maintenance/artifacts/ (see export.py) plus metrics.json and the PR-curve PNG. Other plants
(C-MAPSS engines included) are trained from their own history by profile: train_plant.py.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from data import HORIZON_MS, load_simulation, simulator_rows
from report import CLEAR_AFTER, COOLDOWN_MS, event_metrics, plot_pr_curves
from training import CLEAR_FACTOR, NAMES, add_tuning_options, balance, fit_all, lgbm_beats_baselines, log, summary, uncertainty, x_of

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CACHE = REPO / ".cache" / "factoryguard"
TRAIN_SIM = {"arms": 200, "first_arm": 0, "days": 60, "seed": 7}
HELDOUT_SIM = {"arms": 200, "first_arm": 200, "days": 45, "seed": 8}
_t0 = time.perf_counter()


def ensure_simulation(spec: dict) -> Path:
    d = CACHE / f"sim-a{spec['arms']}-f{spec['first_arm']}-d{spec['days']}-s{spec['seed']}"
    if not (d / "readings.csv.gz").exists():
        cmd = ["npx", "streamscore", "simulate", "--arms", str(spec["arms"]), "--first-arm", str(spec["first_arm"]),
               "--days", str(spec["days"]), "--interval-ms", "60000", "--seed", str(spec["seed"]), "--out", str(d)]
        log(f"simulating: {' '.join(cmd)}")
        subprocess.run(cmd, cwd=REPO, check=True)
    return d


def rows_of(directory: Path, use_cache: bool) -> tuple[pd.DataFrame, object]:
    sim = load_simulation(directory)
    code = hashlib.sha256(b"".join((HERE / f).read_bytes() for f in ("features.py", "fast_features.py", "data.py"))).hexdigest()
    cached = CACHE / f"rows-{sim.sha256[:16]}-{code[:8]}.pkl"
    if use_cache and cached.exists():
        log(f"rows of {directory.name}: cached {cached.name}")
        return pd.read_pickle(cached), sim
    log(f"features for {directory.name} ({len(sim.readings):,} readings)")
    rows = simulator_rows(sim, progress=lambda i, n: i % 50 == 0 and log(f"  features: {i}/{n} arms"))
    if use_cache:
        CACHE.mkdir(parents=True, exist_ok=True)
        rows.to_pickle(cached)
    return rows, sim


def simulator_split(train_rows: pd.DataFrame, heldout_rows: pd.DataFrame, val_fraction: float, neg_rate: float, seed: int):
    t0, t1 = train_rows["t_end"].min(), train_rows["t_end"].max()
    cut = t1 - val_fraction * (t1 - t0)
    fit = train_rows[train_rows["t_end"] <= cut - HORIZON_MS]  # purge: labels must not see the validation period
    val = train_rows[train_rows["t_end"] > cut]
    y_fit = fit["label"].to_numpy()
    keep = y_fit | (np.random.default_rng(seed).random(len(fit)) < neg_rate)
    log("class balance (simulator):")
    bal = {"fit": balance("fit (before subsample)", fit, y_fit), "val": balance("validation", val, val["label"].to_numpy()),
           "heldout": balance("held-out arms", heldout_rows, heldout_rows["label"].to_numpy())}
    fit = fit[keep]
    bal["fit_subsampled"] = balance(f"fit (negatives x{neg_rate:g})", fit, fit["label"].to_numpy())
    split = {"x_fit": x_of(fit), "y_fit": fit["label"].to_numpy(), "w_fit": np.where(fit["label"], 1.0, 1.0 / neg_rate),
             "x_val": x_of(val), "y_val": val["label"].to_numpy(), "x_test": x_of(heldout_rows), "y_test": heldout_rows["label"].to_numpy(),
             "groups_test": heldout_rows["arm_id"].to_numpy()}
    return split, bal, int(cut)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Train the FactoryGuard failure model (see the module docstring).")
    ap.add_argument("--train-sim", type=Path, help="simulator output dir (default: generate 200 arms x 60 days, seed 7)")
    ap.add_argument("--heldout-sim", type=Path, help="held-out simulator dir, other arms (default: 200 arms from #201 x 45 days, seed 8)")
    ap.add_argument("--out", type=Path, default=HERE / "artifacts")
    add_tuning_options(ap)
    ap.add_argument("--neg-rate", type=float, default=0.2, help="share of fitting-fold negatives kept (weighted 1/rate)")
    ap.add_argument("--val-fraction", type=float, default=0.25)
    ap.add_argument("--no-cache", action="store_true", help="recompute features (cache: .cache/factoryguard/rows-*.pkl)")
    args = ap.parse_args(argv)

    train_dir = args.train_sim or ensure_simulation(TRAIN_SIM)
    heldout_dir = args.heldout_sim or ensure_simulation(HELDOUT_SIM)
    train_rows, train_sim = rows_of(train_dir, not args.no_cache)
    heldout_rows, heldout_sim = rows_of(heldout_dir, not args.no_cache)
    if set(train_rows["arm_id"]) & set(heldout_rows["arm_id"]):
        raise SystemExit("the held-out simulation shares arms with the training one: use other arms (--first-arm)")
    split, bal, cut = simulator_split(train_rows, heldout_rows, args.val_fraction, args.neg_rate, args.seed)
    sim_results = fit_all(split, seed=args.seed, trials=args.trials, smote_trials=args.smote_trials)
    del split["x_fit"]

    def data_info(d: Path, sim) -> dict:
        return {"dir": str(d.resolve().relative_to(REPO) if d.resolve().is_relative_to(REPO) else d), "readings_sha256": sim.sha256,
                "options": sim.meta.get("options", {}), "failures": int(len(sim.failures))}

    metrics = {"simulator": {"train_data": data_info(train_dir, train_sim), "heldout_data": data_info(heldout_dir, heldout_sim),
                             "validation_starts_ms": cut, "class_balance": bal, "models": summary(sim_results),
                             "lgbm_beats_baselines": lgbm_beats_baselines(sim_results),
                             "bootstrap": uncertainty(split, sim_results, args.seed)}}
    prod = sim_results["lgbm"]
    clear = CLEAR_FACTOR * prod["threshold"]
    metrics["simulator"]["alerts_heldout"] = {
        k: event_metrics(heldout_rows, heldout_sim.failures, r["p_test"], r["threshold"], CLEAR_FACTOR * r["threshold"])
        for k, r in sim_results.items()}
    metrics["simulator"]["alerts_heldout_raise_after_3"] = {  # what a persistence rule would change
        k: event_metrics(heldout_rows, heldout_sim.failures, r["p_test"], r["threshold"], CLEAR_FACTOR * r["threshold"], raise_after=3)
        for k, r in sim_results.items()}
    log(f"held-out alerts (clear at {CLEAR_FACTOR} x threshold after {CLEAR_AFTER} scores, cooldown {COOLDOWN_MS // 60_000} min): " + "; ".join(
        f"{NAMES[k]} caught {v['caught']}/{v['failures']} (median lead {v['median_lead_hours']:.1f} h), {v['false_raises']}/{v['raises']} raises false"
        f" ({v['false_raises_per_100_arm_days']:.2f} per 100 arm-days)"
        for k, v in metrics["simulator"]["alerts_heldout"].items()))
    v = metrics["simulator"]["alerts_heldout_raise_after_3"]["lgbm"]
    log(f"  {NAMES['lgbm']}, raising only after 3 scores >= threshold: caught {v['caught']}/{v['failures']},"
        f" {v['false_raises']}/{v['raises']} raises false ({v['false_raises_per_100_arm_days']:.2f} per 100 arm-days)")
    args.out.mkdir(parents=True, exist_ok=True)
    plot_pr_curves(split["y_test"], {r["name"]: r["p_test"] for r in sim_results.values()},
                   {r["name"]: r["threshold"] for r in sim_results.values()}, args.out / "pr-curve.png",
                   f"Held-out simulator arms ({bal['heldout']['arms']} arms, {bal['heldout']['rows']:,} rows)")

    from export import trimmed, write_artifacts

    booster = trimmed(prod["model"].booster, prod["best_iteration"])
    meta = write_artifacts(args.out, booster, split["x_test"], {
        "threshold": prod["threshold"], "threshold_rule": prod["threshold_rule"], "clear_threshold": clear,
        "clear_threshold_rule": f"{CLEAR_FACTOR} x threshold: an alert raised at p >= threshold clears only once p falls well below it, "
                                "so 10-minute scores hovering around the threshold do not raise and clear alerts over and over",
        "clear_after": CLEAR_AFTER, "cooldown_ms": COOLDOWN_MS,
        "label": "failure within the next 24 h of the end of the head bucket (docs/factoryguard-features.md)",
        "scoring": "one row per arm per 10 minutes (head = last bucket with data in the slot)",
        "training_data": {"readings_sha256": train_sim.sha256, "simulator": train_sim.meta.get("options", {})},
        "heldout_data": {"readings_sha256": heldout_sim.sha256, "simulator": heldout_sim.meta.get("options", {})},
        "params": prod["params"], "best_iteration": prod["best_iteration"],
        "metrics": {"heldout_pr_auc": prod["test_pr_auc"], "heldout_at_threshold": prod["test_at_threshold"]},
    }, REPO)
    from features import FEATURE_NAMES
    from make_references import write_model_reference

    # the drift monitor's reference (docs/models.md, Drift): the training arms' rows and their predictions
    write_model_reference(args.out, train_rows, FEATURE_NAMES, booster, "training simulation (train.py: all rows of the training arms)")
    metrics["production"] = {"model_version": meta["model_version"], "onnx_check": meta["onnx"]["check"],
                             "artifact_bytes": {p.name: p.stat().st_size for p in sorted(args.out.iterdir()) if p.is_file()}}
    metrics["code_version"], metrics["created"] = meta["code_version"], meta["created"]
    metrics["seconds_total"] = time.perf_counter() - _t0
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=float) + "\n")
    log(f"ONNX vs LightGBM on {meta['onnx']['check']['rows']:,} held-out rows: max |diff| {meta['onnx']['check']['max_abs_diff']:.2e}")
    log(f"wrote {args.out} ({sum(metrics['production']['artifact_bytes'].values()) / 1e6:.2f} MB): {meta['model_name']} {meta['model_version']}")
    log(f"LightGBM beats both baselines on PR-AUC (held-out arms): {metrics['simulator']['lgbm_beats_baselines']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
