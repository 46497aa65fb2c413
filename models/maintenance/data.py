"""Training data for FactoryGuard's simulator model: readings, failures, labels, rows.

Simulator directory (``streamscore simulate --out DIR``): ``readings.csv.gz`` (arm_id, sensor,
value, unit, event_time, gateway_id, plant_id, sequence; event-time order), ``failures.csv``
(arm_id, failure_time, mode, repaired_at; epoch ms or ISO 8601), ``meta.json``. Any other plant's
history (a profile and an export, run-to-failure labels too) is read by plant_data.py.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features import BUCKET_MS, SENSORS

HORIZON_MS = 24 * 3_600_000


@dataclass
class Simulation:
    path: Path
    readings: pd.DataFrame  # arm_id (category), sensor (category), value, event_time
    failures: pd.DataFrame  # arm_id, failure_time, mode, repaired_at (ms; repaired_at NaN = never)
    meta: dict
    sha256: str  # of readings.csv.gz


def sha256_of(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _to_ms(col: pd.Series) -> pd.Series:
    """Epoch ms from epoch-ms numbers or ISO 8601 strings; empty stays NaN."""
    numeric = pd.to_numeric(col, errors="coerce")
    if numeric.notna().sum() == col.notna().sum():
        return numeric.astype(float)
    return (pd.to_datetime(col, utc=True).astype("int64") // 1_000_000).where(col.notna()).astype(float)


def load_failures(path: Path) -> pd.DataFrame:
    f = pd.read_csv(path, dtype={"arm_id": str})
    f["failure_time"] = _to_ms(f["failure_time"])
    f["repaired_at"] = _to_ms(f["repaired_at"]) if "repaired_at" in f else np.nan
    return f


def load_simulation(directory: str | Path) -> Simulation:
    d = Path(directory)
    readings = pd.read_csv(
        d / "readings.csv.gz", usecols=["arm_id", "sensor", "value", "event_time"],
        dtype={"arm_id": "category", "sensor": pd.CategoricalDtype(SENSORS), "value": "float64", "event_time": "int64"},
    )
    meta = json.loads((d / "meta.json").read_text()) if (d / "meta.json").exists() else {}
    return Simulation(d, readings, load_failures(d / "failures.csv"), meta, sha256_of(d / "readings.csv.gz"))


def label_rows(heads: pd.DataFrame, failures: pd.DataFrame, horizon_ms: int = HORIZON_MS,
               bucket_ms: int = BUCKET_MS) -> tuple[np.ndarray, np.ndarray]:
    """(label, scored) per row (arm_id, head_bucket), per the spec: with H_end = (H + 1) * W,
    positive iff a failure has H_end < failure_time <= H_end + horizon (24 h); not scored while the
    arm is down: a failure with failure_time <= H_end < repaired_at (no repaired_at: down for good)."""
    label = np.zeros(len(heads), dtype=bool)
    scored = np.ones(len(heads), dtype=bool)
    h_end = (heads["head_bucket"].to_numpy(dtype=np.int64) + 1) * bucket_ms
    arms = heads["arm_id"].astype(str).to_numpy()
    for arm_id, f in failures.groupby(failures["arm_id"].astype(str)):
        rows = np.flatnonzero(arms == arm_id)
        if len(rows) == 0:
            continue
        f = f.sort_values("failure_time")
        ft = f["failure_time"].to_numpy(dtype=float)
        back = np.maximum.accumulate(f["repaired_at"].fillna(np.inf).to_numpy(dtype=float))
        t = h_end[rows].astype(float)
        nxt = np.searchsorted(ft, t, side="right")  # first failure strictly after H_end
        has_next = nxt < len(ft)
        label[rows] = has_next & (ft[np.minimum(nxt, len(ft) - 1)] <= t + horizon_ms)
        prev = nxt - 1  # last failure at or before H_end; down until the latest repair so far
        scored[rows] = ~((prev >= 0) & (t < back[np.maximum(prev, 0)]))
    return label, scored


def simulator_rows(sim: Simulation, slot_buckets: int = 10, progress=None) -> pd.DataFrame:
    """Scored rows of a simulation: one per arm and 10-minute slot (head = the slot's last bucket
    with data), the 42 features, ``label``, and ``t_end`` (H_end, ms); rows while an arm is down
    are dropped."""
    from fast_features import features_fast

    rows = features_fast(sim.readings, slot_buckets=slot_buckets, progress=progress)
    label, scored = label_rows(rows, sim.failures)
    rows["label"] = label
    rows["t_end"] = (rows["head_bucket"] + 1) * BUCKET_MS
    return rows[scored].reset_index(drop=True)
