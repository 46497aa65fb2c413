"""A plant's history as the trainer reads it: an export directory (``streamscore plant export``,
docs/plant-profiles.md) plus the plant's profile, turned into readings, feature rows and labels.

Export directory: ``readings.csv.gz`` (arm_id, sensor, channel, value, unit, event_time, gateway_id,
plant_id, sequence, settings; event-time order; ``channel`` empty or absent means
``sensor.lower()``, ``settings`` the operating settings joined with ";"), ``failures.csv`` (arm_id,
failure_time, mode, repaired_at) for ``label.source = failure_events``, ``end_rul.csv`` (arm_id,
rul_samples) for truncated run-to-failure histories, ``meta.json`` and ``profile.json``. A
simulator directory (``streamscore simulate``) is one too: no channel column, no settings.

Labels:
- ``failure_events``: per docs/factoryguard-features.md (data.label_rows) with the profile's
  horizon: positive iff a failure falls in (H_end, H_end + horizon]; rows while an arm is down
  are dropped.
- ``run_to_failure``: every arm's history ends in its failure, or, with end_rul.csv, ends that
  many samples before it. A row's remaining life in samples is
  ``(last bucket - H) * bucket_ms / sample_interval_ms + end_rul``; positive iff
  ``0 <= RUL <= horizon_ms / sample_interval_ms`` (C-MAPSS's "RUL <= 24 cycles": 25 cycles).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from data import label_rows, load_failures, sha256_of
from fast_features import channels_of, features_fast
from features import FeatureSpec
from regimes import Regimes, normalise

SCORE_EVERY_MS = 600_000


@dataclass
class PlantHistory:
    path: Path
    readings: pd.DataFrame  # arm_id, channel, value, event_time (arrival = event-time order)
    settings: np.ndarray | None  # (readings, settings) or None when the export has none
    failures: pd.DataFrame | None  # failure_events plants
    end_rul: pd.Series | None  # run_to_failure, truncated histories: arm_id -> remaining samples
    meta: dict
    sha256: str  # of readings.csv.gz


def load_profile(path: str | Path) -> tuple[dict, str]:
    """(profile, sha256 of the file). The profile is checked by the TypeScript loader
    (schemas/factory/plant-profile.ts, ``streamscore plant check``); here only what training needs."""
    raw = Path(path).read_bytes()
    profile = json.loads(raw)
    for key in ("plant_id", "sample_interval_ms", "channels", "label", "features", "model"):
        if key not in profile:
            raise ValueError(f"{path}: not a plant profile (no {key!r})")
    return profile, hashlib.sha256(raw).hexdigest()


def load_history(directory: str | Path, profile: dict) -> PlantHistory:
    d = Path(directory)
    header = pd.read_csv(d / "readings.csv.gz", nrows=0).columns
    cols = [c for c in ("arm_id", "sensor", "channel", "value", "event_time", "settings") if c in header]
    frame = pd.read_csv(d / "readings.csv.gz", usecols=cols, dtype={"arm_id": str, "sensor": str, "channel": str, "value": "float64",
                                                                     "event_time": "int64", "settings": str}, keep_default_na=False)
    names = [s["name"] for s in profile.get("operating_settings", [])]
    settings = None
    if names and "settings" in frame and (frame["settings"] != "").any():
        settings = frame["settings"].str.split(";", expand=True).replace("", np.nan).astype(float).to_numpy()
        if settings.shape[1] != len(names):
            raise ValueError(f"{d}: readings carry {settings.shape[1]} settings, the profile declares {len(names)} {names}")
    readings = pd.DataFrame({"arm_id": frame["arm_id"].astype("category"), "channel": channels_of(frame),
                             "value": frame["value"], "event_time": frame["event_time"]})
    unknown = set(readings["channel"].unique()) - {c["name"] for c in profile["channels"]}
    if unknown:
        raise ValueError(f"{d}: readings of channel(s) {sorted(unknown)} that profile {profile['plant_id']} does not declare")
    failures = load_failures(d / "failures.csv") if (d / "failures.csv").exists() else None
    end_rul = None
    if (d / "end_rul.csv").exists():
        e = pd.read_csv(d / "end_rul.csv", dtype={"arm_id": str})
        end_rul = e.set_index("arm_id")["rul_samples"].astype(float)
    if profile["label"]["source"] == "failure_events" and failures is None:
        raise ValueError(f"{d}: profile {profile['plant_id']} labels by failure events and the export has no failures.csv")
    meta = json.loads((d / "meta.json").read_text()) if (d / "meta.json").exists() else {}
    return PlantHistory(d, readings, settings, failures, end_rul, meta, sha256_of(d / "readings.csv.gz"))


def normalised_readings(history: PlantHistory, regimes: Regimes | None) -> pd.DataFrame:
    """The readings with each value normalised within its regime (when the plant has regimes)."""
    if regimes is None:
        return history.readings
    if history.settings is None:
        raise ValueError(f"{history.path}: the plant normalises by regime and the readings have no operating settings")
    return history.readings.assign(value=normalise(regimes, history.readings["channel"], history.readings["value"], history.settings))


def run_to_failure_labels(rows: pd.DataFrame, spec: FeatureSpec, profile: dict, end_rul: pd.Series | None) -> tuple[np.ndarray, np.ndarray]:
    """(rul in samples, label) per row (arm_id, head_bucket); see the module docstring."""
    interval = profile["sample_interval_ms"]
    last = rows.groupby("arm_id", sort=False)["head_bucket"].transform("max").to_numpy()
    rul = (last - rows["head_bucket"].to_numpy()) * spec.bucket_ms / interval
    if end_rul is not None:
        extra = rows["arm_id"].astype(str).map(end_rul)
        if extra.isna().any():
            raise ValueError(f"end_rul.csv has no remaining life for arm(s) {sorted(set(rows['arm_id'][extra.isna()]))[:5]}")
        rul = rul + extra.to_numpy(dtype=float)
    horizon = profile["label"]["horizon_ms"] / interval
    return rul, (rul >= 0) & (rul <= horizon)


def labelled_rows(history: PlantHistory, profile: dict, spec: FeatureSpec, regimes: Regimes | None, progress=None) -> pd.DataFrame:
    """Feature rows with ``label`` and ``t_end`` (and ``rul`` for run-to-failure plants): one row
    per arm and slot (head = the slot's last bucket with data), a slot being 10 minutes as the
    simulator's model is scored, or one bucket where buckets are longer."""
    readings = normalised_readings(history, regimes)
    slot = max(1, SCORE_EVERY_MS // spec.bucket_ms)
    rows = features_fast(readings, slot_buckets=slot, spec=spec, progress=progress)
    rows["t_end"] = (rows["head_bucket"] + 1) * spec.bucket_ms
    if profile["label"]["source"] == "run_to_failure":
        rows["rul"], rows["label"] = run_to_failure_labels(rows, spec, profile, history.end_rul)
        return rows
    label, scored = label_rows(rows, history.failures, horizon_ms=profile["label"]["horizon_ms"], bucket_ms=spec.bucket_ms)
    rows["label"] = label
    return rows[scored].reset_index(drop=True)
