"""ONNX export: float32-safe thresholds make onnxruntime (float32) decide exactly as LightGBM."""
import numpy as np
import pytest

pytest.importorskip("onnxmltools")
pytest.importorskip("onnxruntime")

import lightgbm as lgb  # noqa: E402

from export import float32_safe, to_onnx, verify_onnx  # noqa: E402


def test_thresholds_between_adjacent_float32_values():
    # Pairs of adjacent float32 values with opposite labels: LightGBM splits between them with a
    # double threshold that rounds (to nearest) onto the upper value about half the time.
    rng = np.random.default_rng(0)
    lows = np.sort(rng.uniform(1, 100, 40)).astype(np.float32)
    highs = np.nextafter(lows, np.float32(np.inf))
    x = np.zeros((4000, 42), dtype=np.float32)  # the model's input width; only column 0 matters
    x[:, 0] = np.concatenate([np.repeat(lows, 50), np.repeat(highs, 50)])
    y = np.concatenate([np.tile([0, 1], 20).repeat(50), np.tile([1, 0], 20).repeat(50)]).astype(bool)
    params = {"objective": "binary", "verbosity": -1, "num_leaves": 64, "min_child_samples": 5, "min_data_in_bin": 1,
              "max_bin": 255, "learning_rate": 0.5, "seed": 1}
    booster = lgb.train(params, lgb.Dataset(x, y, params={"min_data_in_bin": 1}), 20)
    plain = verify_onnx(to_onnx(booster).SerializeToString(), booster, x)
    assert plain["rows_over_tolerance"] > 0  # the converter's round-to-nearest thresholds disagree
    safe, changed = float32_safe(booster)
    assert changed > 0
    x64 = x.astype(np.float64)
    assert np.array_equal(safe.predict(x64), booster.predict(x64))  # same decisions on float32 inputs
    check = verify_onnx(to_onnx(safe).SerializeToString(), safe, x)
    assert check["rows_over_tolerance"] == 0 and check["max_abs_diff"] < 1e-6
