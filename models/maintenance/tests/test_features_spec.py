"""A plant's own feature spec (a profile's channels and features block) in both paths and the CLI."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from fast_features import features_fast
from features import DEFAULT_SPEC, FEATURE_NAMES, FeatureSpec, features_at_heads
from plant_fixtures import PROFILE, REGIMES, SPEC, plant_readings, write_jsonl
from regimes import normalise
from test_features_fast import assert_close

SCRIPT = Path(__file__).resolve().parents[1] / "features.py"
REPO = Path(__file__).resolve().parents[3]


def test_names_follow_the_profile_and_the_simulator_profile_is_the_default():
    assert SPEC.feature_names[:14] == (*(f"t24_{f}" for f in (
        "mean_3c", "mean_8c", "mean_20c", "std_3c", "std_8c", "std_20c", "ema_5c", "ema_15c", "last", "lag1", "lag2",
        "trend_3c_20c", "std_ratio_3c_20c")), "oil_temp_mean_3c")
    assert len(SPEC.feature_names) == 5 * 13 and SPEC.ring_buckets == 20
    simulator = json.loads((REPO / "connectors/plants/plant-simulator.json").read_text())
    assert FeatureSpec.from_profile(simulator) == DEFAULT_SPEC and DEFAULT_SPEC.feature_names == FEATURE_NAMES


def reference_at_fast_heads(readings, fast, regimes=None):
    b = readings["event_time"] // SPEC.bucket_ms
    last_row = readings.assign(b=b).reset_index().groupby(["arm_id", "b"])["index"].max()
    # a head is evaluated after the last reading of its bucket in event order; late rows come later
    # in arrival order, so evaluate after the arm's last reading with a bucket <= head
    points = []
    for arm, h in zip(fast["arm_id"], fast["head_bucket"]):
        points.append((arm, int(last_row[(arm, h)])))
    ref = features_at_heads(readings, points, SPEC, regimes)
    return np.array([[r["features"][n] for n in SPEC.feature_names] for r in ref]), ref


def test_fast_equals_reference_on_a_non_default_spec_with_regimes():
    readings = plant_readings(1)
    readings = readings.sort_values("event_time", kind="stable").reset_index(drop=True)  # event order: fast == reference
    settings = np.array(readings["settings"].tolist())
    normalised = readings.assign(value=normalise(REGIMES, readings["channel"], readings["value"], settings))
    fast = features_fast(normalised.drop(columns="settings"), slot_buckets=1, spec=SPEC)
    ref_values, ref = reference_at_fast_heads(readings, fast, REGIMES)
    assert [r["head_bucket"] for r in ref] == fast["head_bucket"].tolist()
    assert_close(fast[list(SPEC.feature_names)].to_numpy(), ref_values)
    assert fast["w31_mean_3c"].abs().max() > 10  # not normalised (no regime entry)
    assert fast["p30_mean_20c"].abs().max() < 50  # normalised (raw values are near 500)
    assert fast.loc[fast["arm_id"] == "eng-2", [n for n in SPEC.feature_names if n.startswith("nf_")]].isna().all().all()


def test_fast_equals_reference_without_regimes_and_channel_from_sensor():
    readings = plant_readings(2, arms=2).drop(columns="settings")
    fast = features_fast(readings, slot_buckets=4, spec=SPEC)
    ref_values, _ = reference_at_fast_heads(readings, fast)
    assert_close(fast[list(SPEC.feature_names)].to_numpy(), ref_values)
    legacy = pd.DataFrame({"arm_id": ["a"] * 2, "sensor": ["VIBRATION", "PRESSURE"], "channel": [None, ""], "value": [1.0, 2.0],
                           "event_time": [0, 1]})
    out = features_fast(legacy)  # null or empty channel: the sensor's legacy channel
    assert out.loc[0, "vibration_last"] == 1.0 and out.loc[0, "pressure_last"] == 2.0


def run_cli(tmp_path, readings, *extra):
    write_jsonl(tmp_path / "r.jsonl", readings)
    proc = subprocess.run([sys.executable, "-S", "-I", str(SCRIPT), "--readings", str(tmp_path / "r.jsonl"), "--out", str(tmp_path / "o.json"),
                           *extra], capture_output=True, text=True)
    return proc, (json.loads((tmp_path / "o.json").read_text()) if proc.returncode == 0 else None)


def test_cli_takes_a_profile_and_regimes(tmp_path):
    readings = plant_readings(3, arms=2, samples=40)
    (tmp_path / "profile.json").write_text(json.dumps(PROFILE))
    (tmp_path / "regimes.json").write_text(json.dumps(REGIMES.as_json()))
    proc, out = run_cli(tmp_path, readings, "--spec", str(tmp_path / "profile.json"), "--regimes", str(tmp_path / "regimes.json"))
    assert proc.returncode == 0, proc.stderr
    ref = features_at_heads(readings.to_dict("records"), [(r["arm_id"], i) for i, r in enumerate(readings.to_dict("records"))], SPEC, REGIMES)
    assert list(out[-1]["features"]) == list(SPEC.feature_names)
    for o, r in zip(out, ref):
        assert o["features"] == {k: (None if v != v else v) for k, v in r["features"].items()}
    proc, _ = run_cli(tmp_path, readings.drop(columns="settings"), "--spec", str(tmp_path / "profile.json"),
                      "--regimes", str(tmp_path / "regimes.json"))
    assert proc.returncode == 2 and "operating settings" in proc.stderr
    proc, _ = run_cli(tmp_path, readings.assign(channel="humidity"), "--spec", str(tmp_path / "profile.json"))
    assert proc.returncode == 2 and "humidity" in proc.stderr
