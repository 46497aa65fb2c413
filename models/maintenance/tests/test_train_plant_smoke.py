"""train_plant.py end to end on tiny synthetic plants, in seconds: a run-to-failure plant with
regimes and a test export, and the simulator's format with held-out arms."""
import json
from pathlib import Path

import pytest

from synthetic import ENGINE_PROFILE, write_engine_export, write_plant

for module in ("sklearn", "optuna", "imblearn", "onnxmltools", "onnxruntime", "matplotlib"):
    pytest.importorskip(module)

SIMULATOR_PROFILE = Path(__file__).resolve().parents[3] / "connectors" / "plants" / "plant-simulator.json"


def test_run_to_failure_plant_with_regimes_and_a_test_export(tmp_path, capsys, monkeypatch):
    import train_plant

    monkeypatch.setattr(train_plant, "REPO", tmp_path)  # cache under tmp_path/.cache
    train = write_engine_export(tmp_path / "train", units=12, seed=1)
    test = write_engine_export(tmp_path / "test", units=6, seed=2, truncated=True)
    out = tmp_path / "artifacts"
    args = ["--profile", str(train / "profile.json"), "--train", str(train), "--test", str(test), "--out", str(out),
            "--trials", "2", "--smote-trials", "1", "--folds", "3"]
    assert train_plant.main(args) == 0
    meta = json.loads((out / "model-meta.json").read_text())
    assert meta["model_name"] == "test-engines-failure-lgbm" and meta["plant_id"] == "test-engines"
    reference = json.loads((out / "reference.json").read_text())  # the drift monitor's (models/common/reference.py)
    assert reference["model_version"] == meta["model_version"] and list(reference["features"]) == meta["feature_names"]
    assert meta["feature_names"][0] == "t50_mean_5c" and len(meta["feature_names"]) == 3 * 10
    assert meta["horizon_ms"] == 24 * 3_600_000 and len(meta["profile_sha256"]) == 64
    assert meta["regimes"]["settings"] == ["altitude", "mach"] and len(meta["regimes"]["centroids"]) == 2
    assert json.loads((out / "regimes.json").read_text()) == meta["regimes"]
    assert meta["feature_spec"]["windows"][1] == {"label": "15c", "buckets": 15}
    assert meta["onnx"]["check"]["rows_over_tolerance"] == 0 and meta["onnx"]["input_type"] == "float32[N,30]"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["data"]["evaluation"]["kind"] == "test_export" and set(metrics["models"]) == {"lr", "rf", "lgbm", "lgbm_smote"}
    assert metrics["class_balance"]["test"]["arms"] == 6
    for name in ("model.onnx", "model.txt", "model-dump.json", "pr-curve.png"):
        assert (out / name).stat().st_size > 0
    assert meta["model_version"] in (out / "MODEL_CARD.md").read_text()
    capsys.readouterr()
    assert train_plant.main(args) == 0  # a rerun reuses the cached features and every finished model
    log = capsys.readouterr().out
    assert "rows of" in log and "cached" in log and log.count("reused") == 4


def test_simulator_format_with_held_out_arms(tmp_path, monkeypatch):
    import train_plant

    monkeypatch.setattr(train_plant, "REPO", tmp_path)
    d = write_plant(tmp_path / "sim", arms=10, days=3, seed=5)
    out = tmp_path / "artifacts"
    assert train_plant.main(["--profile", str(SIMULATOR_PROFILE), "--train", str(d), "--out", str(out), "--trials", "1",
                             "--smote-trials", "1", "--folds", "2", "--holdout-share", "0.3", "--no-cache"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    held = set(metrics["data"]["evaluation"]["arms"])
    assert metrics["data"]["evaluation"]["kind"] == "held_out_arms" and 0 < len(held) < 10
    assert metrics["class_balance"]["test"]["arms"] == len(held) and metrics["class_balance"]["train"]["arms"] == 10 - len(held)
    assert json.loads((out / "model-meta.json").read_text())["model_name"] == "plant-01-failure-lgbm"
    assert not (tmp_path / ".cache").exists()
