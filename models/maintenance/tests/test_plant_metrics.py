"""The committed plant models meet the issue's targets on the C-MAPSS test files (#11): LightGBM
PR-AUC >= 0.9 on FD001 (one operating condition) and >= 0.8 on FD002 (six), label RUL <= 24
cycles, every row of the test files, evaluated on the test export only."""
import json
from pathlib import Path

import pytest

PLANTS = Path(__file__).resolve().parents[1] / "plants"
# plant, target, rows and units of the C-MAPSS test file
CASES = [("cmapss-fd001", 0.9, 13_096, 100), ("cmapss-fd002", 0.8, 33_991, 259)]


@pytest.mark.parametrize("plant,target,rows,units", CASES)
def test_lightgbm_meets_the_target_on_the_test_files(plant, target, rows, units):
    metrics = json.loads((PLANTS / plant / "metrics.json").read_text())
    assert metrics["plant_id"] == plant
    evaluation = metrics["data"]["evaluation"]
    assert evaluation["kind"] == "test_export" and evaluation["readings_sha256"] != metrics["data"]["train"]["readings_sha256"]
    assert metrics["class_balance"]["test"]["rows"] == rows and metrics["class_balance"]["test"]["arms"] == units
    assert metrics["label"] == {"source": "run_to_failure", "horizon_ms": 24 * 3_600_000}
    assert metrics["models"]["lgbm"]["test_pr_auc"] >= target
    assert set(metrics["models"]) == {"lr", "rf", "lgbm", "lgbm_smote"}
    meta = json.loads((PLANTS / plant / "model-meta.json").read_text())
    assert meta["model_name"] == f"{plant}-failure-lgbm" and meta["metrics"]["test_pr_auc"] == metrics["models"]["lgbm"]["test_pr_auc"]
    assert meta["onnx"]["check"]["rows_over_tolerance"] == 0
