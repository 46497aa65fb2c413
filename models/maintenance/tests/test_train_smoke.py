"""train.py end to end on a tiny synthetic plant, in seconds."""
import json

import pytest

from synthetic import write_plant

pytest.importorskip("optuna")
pytest.importorskip("imblearn")
pytest.importorskip("onnxmltools")
pytest.importorskip("onnxruntime")
pytest.importorskip("matplotlib")


def test_train_runs_end_to_end(tmp_path):
    import train

    train_dir = write_plant(tmp_path / "train", arms=6, days=4, seed=1)
    heldout_dir = write_plant(tmp_path / "heldout", arms=3, days=4, seed=2, first_arm=100)
    out = tmp_path / "artifacts"
    assert train.main(["--train-sim", str(train_dir), "--heldout-sim", str(heldout_dir), "--out", str(out),
                       "--trials", "2", "--smote-trials", "1", "--neg-rate", "0.5", "--no-cache"]) == 0
    meta = json.loads((out / "model-meta.json").read_text())
    assert meta["model_name"] == "arm-failure-lgbm" and len(meta["feature_names"]) == 42
    assert 0 < meta["clear_threshold"] < meta["threshold"] <= 1
    assert meta["onnx"]["check"]["rows_over_tolerance"] == 0
    reference = json.loads((out / "reference.json").read_text())  # the drift monitor's (models/common/reference.py)
    assert reference["model_version"] == meta["model_version"] and list(reference["features"]) == meta["feature_names"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["simulator"]["models"]) == {"lr", "rf", "lgbm", "lgbm_smote"}
    for name in ("model.onnx", "model.txt", "model-dump.json", "pr-curve.png"):
        assert (out / name).stat().st_size > 0
