#!/usr/bin/env python3
"""Scored feature rows of a simulation, for the drift false-alarm and detection measurement
(loadtest/drift-false-alarms.ts): the trainer's rows (one per arm and 10-minute slot) of a
``streamscore simulate`` directory, with the model's predicted probability, in event-time order.

    .venv/bin/python models/maintenance/drift_rows.py --sim DIR --out ROWS [--model-dir models/maintenance/artifacts]

Writes ROWS.json (names, rows, model) and ROWS.f32 (float32, row-major: t_end, the features, prediction).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    import lightgbm as lgb
    from data import load_simulation, simulator_rows
    from features import FEATURE_NAMES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sim", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--model-dir", type=Path, default=HERE / "artifacts")
    args = ap.parse_args(argv)
    meta = json.loads((args.model_dir / "model-meta.json").read_text())
    rows = simulator_rows(load_simulation(args.sim)).sort_values("t_end", kind="stable")
    x = rows[list(FEATURE_NAMES)].to_numpy(dtype=np.float32)
    p = lgb.Booster(model_file=str(args.model_dir / "model.txt")).predict(x)
    # t_end as seconds keeps float32 exact to the second for the windows (epoch ms would not be)
    t = (rows["t_end"].to_numpy(dtype=np.float64) / 1000).astype(np.float64)
    t0 = float(t.min())
    table = np.column_stack([t - t0, x, p]).astype(np.float32)
    table.tofile(args.out.with_suffix(".f32"))
    args.out.with_suffix(".json").write_text(json.dumps({"names": list(FEATURE_NAMES), "rows": int(len(table)), "t0_ms": t0 * 1000,
                                                         "model_name": meta["model_name"], "model_version": meta["model_version"], "sim": str(args.sim)}))
    print(f"wrote {len(table):,} rows to {args.out.with_suffix('.f32')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
