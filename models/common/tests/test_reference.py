import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reference import FORMAT, feature_reference, psi, write_reference  # noqa: E402


def test_deciles_shares_and_sorted_sample():
    v = np.random.default_rng(1).normal(size=20_000)
    ref = feature_reference(v)
    assert len(ref["edges"]) == 9 and ref["edges"] == sorted(ref["edges"])
    assert ref["proportions"] == pytest.approx([0.1] * 10, abs=1e-3)
    assert ref["count"] == 20_000
    assert len(ref["sample"]) == 1_000 and ref["sample"] == sorted(ref["sample"])
    assert set(ref["sample"]) <= set(v.tolist())


def test_ties_merge_cut_points_and_shares_stay_exact():
    v = np.concatenate([np.zeros(800), np.arange(1, 201, dtype=float)])
    ref = feature_reference(v)
    assert ref["edges"][0] == 0.0 and len(ref["edges"]) < 9
    counts = np.bincount(np.searchsorted(ref["edges"], v, side="right"), minlength=len(ref["proportions"]))
    assert ref["proportions"] == pytest.approx((counts / v.size).tolist())
    assert ref["proportions"][0] == 0.0  # nothing below the first cut (0): PSI smooths this bin


def test_non_finite_values_are_left_out_and_empty_data_refused():
    assert feature_reference([1.0, np.nan, np.inf, 2.0])["count"] == 2
    with pytest.raises(ValueError, match="no finite values"):
        feature_reference([np.nan])


def test_psi_near_zero_on_the_same_distribution_and_large_on_a_shift():
    rng = np.random.default_rng(2)
    ref = feature_reference(rng.normal(size=50_000))
    assert psi(ref, rng.normal(size=5_000)) < 0.01
    assert psi(ref, rng.normal(0.75, 1, size=5_000)) > 0.2


def test_write_reference_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    path = write_reference(tmp_path, "m", "1", {"a": rng.normal(size=500), "b": rng.random(500)}, rng.random(500), source="unit test")
    ref = json.loads(path.read_text())
    assert ref["format"] == FORMAT and ref["model_name"] == "m" and ref["model_version"] == "1"
    assert set(ref["features"]) == {"a", "b"} and len(ref["prediction"]["sample"]) == 500
    with pytest.raises(ValueError, match="prediction"):
        write_reference(tmp_path, "m", "1", {"prediction": [1.0]}, [0.5], source="x")
