"""A plant's history by its profile: run-to-failure labels (C-MAPSS's RUL <= 24 rule) and
failure-event labels (the simulator's rule, through the same loader)."""
import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd

from data import label_rows, load_simulation, simulator_rows
from features import FeatureSpec
from plant_data import labelled_rows, load_history
from synthetic import ENGINE_PROFILE, write_cmapss, write_plant

HOUR = 3_600_000
SIMULATOR_PROFILE = Path(__file__).resolve().parents[3] / "connectors" / "plants" / "plant-simulator.json"
CMAPSS_LIKE = {**ENGINE_PROFILE, "plant_id": "engines", "operating_settings": [],
               "channels": [{"name": "t50", "code": "a", "unit": "degR", "min": 0, "max": 5000},
                            {"name": "p30", "code": "b", "unit": "psia", "min": 0, "max": 5000}],
               "features": {k: v for k, v in ENGINE_PROFILE["features"].items() if k != "regimes"}}


def cmapss_rule(directory, split):
    """The rows and labels models/maintenance/data.py gave C-MAPSS files before profiles: RUL =
    last cycle - cycle (+ the RUL file's value for test units), positive iff RUL <= 24."""
    cols = ["unit", "cycle", "op1", "op2", "op3"] + [f"s{i}" for i in range(1, 22)]
    frame = pd.read_csv(directory / f"{split}_FD001.txt.gz", sep=r"\s+", header=None).iloc[:, :26].set_axis(cols, axis=1)
    rul = frame.groupby("unit")["cycle"].transform("max") - frame["cycle"]
    if split == "test":
        rul += pd.read_csv(directory / "RUL_FD001.txt.gz", header=None).iloc[:, 0].to_numpy()[frame["unit"] - 1]
    return frame, rul.to_numpy(), (rul <= 24).to_numpy()


def as_export(frame, directory, end_rul=None):
    """The C-MAPSS-layout frame as a plant export: arm = unit, one cycle = one hour, two channels."""
    directory.mkdir(parents=True)
    lines = ["arm_id,sensor,channel,value,unit,event_time,gateway_id,plant_id,sequence,settings"]
    for u, c, s4, s7 in frame.sort_values(["cycle", "unit"])[["unit", "cycle", "s4", "s7"]].itertuples(index=False):
        lines += [f"u{u:03d},OTHER,t50,{s4},degR,{c * HOUR},g,engines,0,", f"u{u:03d},OTHER,p30,{s7},psia,{c * HOUR},g,engines,0,"]
    with gzip.open(directory / "readings.csv.gz", "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    if end_rul is not None:
        (directory / "end_rul.csv").write_text("arm_id,rul_samples\n" + "".join(f"u{i + 1:03d},{r}\n" for i, r in enumerate(end_rul)))
    return directory


def test_run_to_failure_labels_equal_the_cmapss_rule(tmp_path):
    raw = write_cmapss(tmp_path / "raw", units=6, seed=3)
    spec = FeatureSpec.from_profile(CMAPSS_LIKE)
    for split in ("train", "test"):
        frame, rul, label = cmapss_rule(raw, split)
        end = pd.read_csv(raw / "RUL_FD001.txt.gz", header=None).iloc[:, 0].tolist() if split == "test" else None
        rows = labelled_rows(load_history(as_export(frame, tmp_path / split, end), CMAPSS_LIKE), CMAPSS_LIKE, spec, None)
        want = pd.DataFrame({"arm_id": frame["unit"].map("u{:03d}".format), "head_bucket": frame["cycle"], "rul": rul, "label": label})
        got = rows[["arm_id", "head_bucket", "rul", "label"]].sort_values(["arm_id", "head_bucket"]).reset_index(drop=True)
        want = want.sort_values(["arm_id", "head_bucket"]).reset_index(drop=True)
        assert len(got) == len(frame)  # every row of the file is a row
        pd.testing.assert_frame_equal(got, want, check_dtype=False)
        assert got["label"].sum() == (rul <= 24).sum() and (got["rul"][got["label"]] <= 24).all()


def test_failure_events_through_the_plant_loader_equal_the_simulator_rows(tmp_path):
    d = write_plant(tmp_path / "sim", arms=3, days=2.5, seed=4)
    profile = json.loads(SIMULATOR_PROFILE.read_text())
    rows = labelled_rows(load_history(d, profile), profile, FeatureSpec.from_profile(profile), None)
    want = simulator_rows(load_simulation(d))
    pd.testing.assert_frame_equal(rows[want.columns].reset_index(drop=True), want, check_dtype=False, check_categorical=False)
    # a shorter horizon in the profile gives fewer positives, by data.label_rows
    short = {**profile, "label": {**profile["label"], "horizon_ms": 6 * HOUR}}
    rows6 = labelled_rows(load_history(d, short), short, FeatureSpec.from_profile(short), None)
    assert 0 < rows6["label"].sum() < rows["label"].sum()
    assert np.array_equal(rows6["label"], label_rows(rows6, load_simulation(d).failures, horizon_ms=6 * HOUR)[0])
