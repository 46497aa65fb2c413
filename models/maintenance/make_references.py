#!/usr/bin/env python3
"""reference.json (models/common/reference.py) for FactoryGuard models: the feature rows the model was
trained on and its predicted probability on them. The trainers call ``write_model_reference`` after
exporting; run as a script it writes the references of the committed models, which predate it:

    .venv/bin/python models/maintenance/make_references.py --sim .cache/factoryguard/sim-a200-f0-d60-s7 \\
        --plant-export cmapss-fd001=/path/to/exports/cmapss-fd001/train --plant-export cmapss-fd002=...

The training data is rebuilt from its source, and its readings' sha256 must equal the one in the
model's model-meta.json (training_data.readings_sha256), so the reference is of exactly that data:
- the simulator model: ``streamscore simulate`` with the options in model-meta (200 arms x 60 days,
  seed 7; ~2 min) -> the trainer's rows (data.simulator_rows: one per arm and 10-minute slot);
- a plant: its training export (``streamscore plant export``) -> the trainer's labelled rows with the
  model's own regimes, less the held-out arms when the model held some out.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "common"))
from reference import write_reference  # noqa: E402


def write_model_reference(out_dir: Path, rows, names, booster, source: str) -> Path:
    """reference.json next to a model's artifacts, from its training rows and their predictions."""
    meta = json.loads((Path(out_dir) / "model-meta.json").read_text())
    x = rows[list(names)].to_numpy(dtype=np.float32)  # float32, as the stream feeds the ONNX model
    predictions = booster.predict(x)
    return write_reference(out_dir, meta["model_name"], meta["model_version"], {n: x[:, i] for i, n in enumerate(names)},
                           predictions, source=f"{source}; {len(x):,} rows")


def _check_sha(meta: dict, sha: str, what: str) -> None:
    want = meta["training_data"]["readings_sha256"]
    if sha != want:
        raise SystemExit(f"{what}: readings sha256 {sha[:12]}... is not the model's training data ({want[:12]}...)")


def simulator_reference(artifacts: Path, sim_dir: Path) -> Path:
    import lightgbm as lgb
    from data import load_simulation, simulator_rows
    from features import FEATURE_NAMES

    meta = json.loads((artifacts / "model-meta.json").read_text())
    sim = load_simulation(sim_dir)
    _check_sha(meta, sim.sha256, str(sim_dir))
    rows = simulator_rows(sim)
    booster = lgb.Booster(model_file=str(artifacts / "model.txt"))
    return write_model_reference(artifacts, rows, FEATURE_NAMES, booster, "training simulation (train.py: all rows of the training arms)")


def plant_reference(artifacts: Path, export_dir: Path) -> Path:
    import lightgbm as lgb
    from features import FeatureSpec
    from plant_data import labelled_rows, load_history, load_profile
    from regimes import Regimes

    meta = json.loads((artifacts / "model-meta.json").read_text())
    profile, _ = load_profile(HERE.parents[1] / meta["profile"])
    history = load_history(export_dir, profile)
    _check_sha(meta, history.sha256, str(export_dir))
    spec = FeatureSpec.from_profile(profile)
    regimes = Regimes.from_json(meta["regimes"]) if meta.get("regimes") else None
    rows = labelled_rows(history, profile, spec, regimes)
    evaluation = meta.get("evaluation_data", {})
    if evaluation.get("kind") == "held_out_arms":
        rows = rows[~rows["arm_id"].astype(str).isin(set(evaluation["arms"]))]
    booster = lgb.Booster(model_file=str(artifacts / "model.txt"))
    return write_model_reference(artifacts, rows, spec.feature_names, booster, f"training export of {meta['plant_id']} (train_plant.py: training arms)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Write reference.json for the committed FactoryGuard models (module docstring).")
    ap.add_argument("--sim", type=Path, help="the simulator model's training simulation (re-simulated; sha256 checked)")
    ap.add_argument("--plant-export", action="append", default=[], metavar="PLANT=DIR", help="a plant's training export")
    args = ap.parse_args(argv)
    if args.sim:
        print(f"wrote {simulator_reference(HERE / 'artifacts', args.sim)}")
    for item in args.plant_export:
        plant, _, directory = item.partition("=")
        print(f"wrote {plant_reference(HERE / 'plants' / plant, Path(directory))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
