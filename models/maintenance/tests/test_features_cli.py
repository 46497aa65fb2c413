"""The parity CLI: bare python3 (standard library only), JSON in, JSON out, null for NaN."""
import json
import subprocess
import sys
from pathlib import Path

from features import FEATURE_NAMES

SCRIPT = Path(__file__).resolve().parents[1] / "features.py"


def run_cli(tmp_path, readings, points=None):
    (tmp_path / "r.jsonl").write_text("".join(json.dumps(r) + "\n" for r in readings) + "\n")
    args = [sys.executable, "-S", "-I", str(SCRIPT), "--readings", str(tmp_path / "r.jsonl"), "--out", str(tmp_path / "o.json")]
    if points is not None:
        (tmp_path / "p.json").write_text(json.dumps(points))
        args += ["--points", str(tmp_path / "p.json")]
    proc = subprocess.run(args, capture_output=True, text=True)  # -S -I: no site-packages, no numpy
    return proc, (json.loads((tmp_path / "o.json").read_text()) if proc.returncode == 0 else None)


def test_cli_writes_features_with_null_for_nan(tmp_path):
    readings = [
        {"arm_id": "arm-001", "sensor": "VIBRATION", "value": 2.5, "event_time": 1_700_000_000_000, "unit": "mm/s"},
        {"arm_id": "arm-001", "sensor": "VIBRATION", "value": 3.5, "event_time": 1_700_000_030_000},
        {"arm_id": "arm-002", "sensor": "PRESSURE", "value": 6.0, "event_time": 1_700_000_000_000},
    ]
    proc, out = run_cli(tmp_path, readings, [{"arm_id": "arm-001", "after": 2}, {"arm_id": "arm-002", "after": 0}])
    assert proc.returncode == 0, proc.stderr
    assert out[0]["arm_id"] == "arm-001" and out[0]["after"] == 2 and out[0]["head_bucket"] == 1_700_000_000_000 // 60_000
    assert list(out[0]["features"]) == list(FEATURE_NAMES)
    assert out[0]["features"]["vibration_mean_1h"] == 3.0 and out[0]["features"]["vibration_std_1h"] == 0.5
    assert out[0]["features"]["vibration_lag1"] is None and out[0]["features"]["pressure_last"] is None
    assert out[1] == {"arm_id": "arm-002", "after": 0, "head_bucket": None, "features": dict.fromkeys(FEATURE_NAMES)}


def test_cli_defaults_to_a_point_per_reading_and_reports_bad_input(tmp_path):
    readings = [{"arm_id": "a", "sensor": "TEMPERATURE", "value": 50 + i, "event_time": i * 60_000} for i in range(3)]
    proc, out = run_cli(tmp_path, readings)
    assert proc.returncode == 0, proc.stderr
    assert [o["features"]["temperature_last"] for o in out] == [50, 51, 52]
    proc, _ = run_cli(tmp_path, readings + [{"arm_id": "a", "sensor": "TEMPERATURE"}])
    assert proc.returncode == 2 and "r.jsonl:4" in proc.stderr
