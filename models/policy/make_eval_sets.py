#!/usr/bin/env python3
"""Small fixed evaluation sets for the promotion policy's recomputed evaluation gate (policy.json).

    /work/fg-venv/bin/python models/policy/make_eval_sets.py --rows ROWS.pkl --meta models/maintenance/plants/cmapss-fd001/model-meta.json \
        --positives 60 --negatives 240 --out models/policy/eval/cmapss-fd001-test-300.jsonl.gz

For the simulator plant (arm-failure-lgbm), which has no test export, the rows come from a fresh simulation with a
fixed seed on arms that neither training nor the held-out set used:

    npx streamscore simulate --arms 40 --first-arm 400 --days 30 --seed 9 --mtbf-days 50 --out SIM
    /work/fg-venv/bin/python models/policy/make_eval_sets.py --simulation SIM --meta models/maintenance/artifacts/model-meta.json \
        --positives 60 --negatives 240 --out models/policy/eval/simulator-plant-01-300.jsonl.gz

Its features and labels are those of training (models/maintenance/data.py simulator_rows, parity-tested with the stream's
features); there is no recorded metric to reproduce, so the manifest records the champion's PR-AUC on all the rows and on
the sample instead, with the simulation's parameters and the readings' sha256.

ROWS.pkl is the plant trainer's labelled feature table of the plant's held-out test export (train_plant.py
caches it as .cache/factoryguard/plants/<plant>/rows-<hash>.pkl; columns arm_id, the model's features, label).
The script refuses a table on which the meta's model does not reproduce its recorded test_pr_auc, so the
set provably comes from the data the model was evaluated on. It keeps a seeded random sample of positive rows and
of negative rows, half of them near misses (remaining life within 3x the horizon), at 6 significant digits: small
enough to commit and to score in well under a second.
"""
from __future__ import annotations

import argparse
import gzip
import json
import pickle
import sys
from pathlib import Path

import lightgbm as lgb
import numpy as np
from sklearn.metrics import average_precision_score


def main() -> None:
    ap = argparse.ArgumentParser()
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--rows", type=Path, help="a plant's labelled test rows (train_plant.py cache)")
    source.add_argument("--simulation", type=Path, help="a `streamscore simulate --out` directory (the simulator plant)")
    ap.add_argument("--meta", type=Path, required=True)
    ap.add_argument("--positives", type=int, default=60)
    ap.add_argument("--negatives", type=int, default=240)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    meta = json.loads(args.meta.read_text())
    rows, simulation = simulation_rows(args.simulation) if args.simulation else (pickle.loads(args.rows.read_bytes()), None)
    x = rows[meta["feature_names"]].to_numpy(np.float32)
    y = rows["label"].to_numpy().astype(int)
    booster = lgb.Booster(model_file=str(args.meta.parent / "model.txt"))
    full = average_precision_score(y, booster.predict(x.astype(np.float64)))
    if simulation is None:
        recorded = meta["metrics"]["test_pr_auc"]
        if abs(full - recorded) > 1e-9:
            raise SystemExit(f"{args.rows}: the model scores PR-AUC {full} here, its meta records {recorded}: not its test rows")
    rng = np.random.default_rng(args.seed)
    # Half the negatives are "near misses" (remaining life within 3x the horizon): random negatives alone are
    # so far from failure that every sane model ranks them last, and the set could not tell models apart.
    rul = rows["rul"].to_numpy()
    near = np.flatnonzero((y == 0) & (rul <= 3 * rul[y == 0].min()))
    far = np.setdiff1d(np.flatnonzero(y == 0), near)
    pick = np.concatenate([rng.choice(np.flatnonzero(y == 1), args.positives, replace=False),
                           rng.choice(near, args.negatives // 2, replace=False), rng.choice(far, args.negatives - args.negatives // 2, replace=False)])
    pick.sort()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(args.out, "wt") as f:
        for i in pick:
            # A feature the stream cannot compute yet (a lag at the start of a history) is NaN: null in JSON.
            f.write(json.dumps({"features": [None if np.isnan(v) else float(f"{v:.6g}") for v in x[i]], "label": int(y[i])}, allow_nan=False) + "\n")
    xs = np.array([[float(f"{v:.6g}") for v in x[i]] for i in pick], dtype=np.float32)
    sample = average_precision_score(y[pick], booster.predict(xs.astype(np.float64)))
    entry = {"file": args.out.name, "model": meta["model_name"], "model_version": meta["model_version"], "rows": int(len(pick)),
             "positives": args.positives, "seed": args.seed, "full_test_pr_auc": full, "sample_pr_auc_lightgbm": sample}
    if simulation is None:
        entry.update({"source": f"{args.rows.name}: the labelled feature rows of {meta['evaluation_data'].get('source', 'the test export')}",
                      "test_readings_sha256": meta["evaluation_data"]["readings_sha256"]})
    else:
        entry.update({"source": f"simulator rows (models/maintenance/data.py simulator_rows) of {simulation['meta']}",
                      "test_readings_sha256": simulation["sha256"], "all_rows": int(len(y)), "all_positives": int(y.sum())})
    # The manifest keeps LightGBM's score of each set, so the TypeScript gate can be held to it (cli/model-kinds.test.ts).
    manifest_file = args.out.parent / "manifest.json"
    manifest = json.loads(manifest_file.read_text()) if manifest_file.exists() else {}
    manifest[args.out.name] = entry
    manifest_file.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    print(json.dumps(entry))


def simulation_rows(directory: Path):
    """The simulator's labelled rows with `rul` (ms to the arm's next failure; inf when none follows), as training makes them."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "maintenance"))
    from data import load_simulation, simulator_rows  # noqa: E402  (models/maintenance is not a package)

    sim = load_simulation(directory)
    rows = simulator_rows(sim)
    failures = sim.failures.sort_values("failure_time")
    rul = np.full(len(rows), np.inf)
    for arm, at in rows.groupby("arm_id", observed=True).indices.items():
        times = failures.loc[failures["arm_id"] == str(arm), "failure_time"].to_numpy()
        ends = rows["t_end"].to_numpy()[at]
        nxt = np.searchsorted(times, ends, side="left")
        if len(times):
            rul[at] = np.where(nxt < len(times), times[np.minimum(nxt, len(times) - 1)] - ends, np.inf)
    rows["rul"] = rul
    options = sim.meta.get("options", sim.meta)
    keep = {k: options[k] for k in ("arms", "firstArm", "days", "seed", "mtbfDays", "plantId", "startIso") if k in options}
    return rows, {"meta": json.dumps(keep, sort_keys=True), "sha256": sim.sha256}


if __name__ == "__main__":
    main()
