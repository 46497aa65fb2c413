"""The churn batch's drift check: drift.py (the Python twin of streams/runtime/drift/drift-stats.ts)
against the same scipy fixture drift-stats.test.ts checks, the alert rule over consecutive score
dates, and batch_drift's Spark counting against numpy on the same rows."""
import json
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from churn_modules import batch_drift, drift

FIXTURE = Path(__file__).resolve().parents[3] / "streams" / "runtime" / "drift" / "fixtures" / "drift-stats.json"
CASES = json.loads(FIXTURE.read_text())["cases"]
sys.path.insert(0, str(FIXTURE.parents[4] / "models" / "common"))
from reference import reference_of  # noqa: E402  (models/common: the trainers' reference writer)


def test_ks_d_equals_scipy_on_every_fixture_case():
    assert len(CASES) >= 9
    for c in CASES:
        assert abs(drift.ks_statistic(c["reference"], c["observed"]) - c["ks_d"]) < 1e-12, c["name"]


def test_ks_p_within_6_percent_of_scipy_and_same_decision_at_every_bonferroni_level():
    for c in CASES:
        _, p = drift.ks_two_sample(c["reference"], c["observed"])
        if c["ks_p_asymp"] >= 1e-8:
            assert abs(p - c["ks_p_asymp"]) / c["ks_p_asymp"] < 0.06, (c["name"], p, c["ks_p_asymp"])
        else:
            assert p < 1e-8, (c["name"], p)
        for features in (1, 10, 17, 200):
            assert (p < 0.001 / features) == (c["ks_p_asymp"] < 0.001 / features), (c["name"], features)


def test_psi_equals_numpy_over_the_reference_bins():
    for c in CASES:
        value = drift.psi(c["proportions"], drift.bin_counts(c["edges"], c["observed"]))
        assert abs(value - c["psi"]) < 1e-9, c["name"]
    assert np.isnan(drift.psi([0.5, 0.5], [0, 0]))
    with pytest.raises(ValueError, match="2 reference bins but 1 observed"):
        drift.psi([0.5, 0.5], [1])


def _reference(rng):
    train = {"tenure_days": rng.normal(400, 100, 4000)}
    return reference_of("churn-test", "v1", train, rng.beta(2, 5, 4000), source="test")


def _judge(ref, values, previous, day):
    counts = {k: drift.bin_counts((ref["features"].get(k) or ref["prediction"])["edges"], v) for k, v in values.items()}
    samples = {k: np.sort(v[:1000]) for k, v in values.items()}
    return drift.judge_batch(ref, counts, samples, (day, day + 1), previous, detected_at=day, min_records=500)


def test_rule_psi_needs_two_consecutive_days_ks_one_and_a_stable_day_clears():
    rng = np.random.default_rng(5)
    ref = _reference(rng)
    stable = lambda: {"tenure_days": rng.normal(400, 100, 3000), "prediction": rng.beta(2, 5, 3000)}  # noqa: E731
    shifted = lambda: {"tenure_days": rng.normal(400, 100, 3000), "prediction": rng.beta(2, 5, 3000) + 0.02}  # noqa: E731
    day1 = _judge(ref, stable(), None, 1)
    assert day1["alerts"] == [] and {f["feature"] for f in day1["features"]} == {"tenure_days", "prediction"}
    # +0.02 on the probability: PSI ~0.04, D ~0.07 (p ~0.01): below both thresholds, nothing raised
    small = _judge(ref, shifted(), day1, 2)
    assert small["alerts"] == [], small["features"]
    # tenure +150 days: KS raises on the first day, PSI only on the second in a row
    moved = lambda: {"tenure_days": rng.normal(550, 100, 3000), "prediction": rng.beta(2, 5, 3000)}  # noqa: E731
    day3 = _judge(ref, moved(), small, 3)
    assert [(a["feature"], a["statistic"], a["state"]) for a in day3["alerts"]] == [("tenure_days", "KS", "RAISED")]
    day4 = _judge(ref, moved(), day3, 4)
    assert [(a["feature"], a["statistic"], a["state"], a["consecutive_windows"]) for a in day4["alerts"]] == [("tenure_days", "PSI", "RAISED", 2)]
    day5 = _judge(ref, stable(), day4, 5)
    cleared = sorted((a["statistic"], a["state"], a["alert_id"].split("/")[-1]) for a in day5["alerts"])
    assert cleared == [("KS", "CLEARED", "3"), ("PSI", "CLEARED", "4")]  # each names its RAISED's window
    a = day3["alerts"][0]
    assert a["processor"] == "churn-score" and a["p_value"] < a["p_threshold"] == pytest.approx(0.001 / 2)
    # a batch thinner than min_records is not judged: no stats, the episode unchanged
    thin = _judge(ref, {"tenure_days": rng.normal(900, 1, 100), "prediction": rng.beta(2, 5, 100)}, day4, 6)
    assert thin["features"] == [] and thin["alerts"] == [] and thin["episodes"] == day4["episodes"]


def test_batch_drift_counts_in_spark_as_numpy_does_and_continues_from_the_previous_date(spark, tmp_path):
    rng = np.random.default_rng(9)
    ref = _reference(rng)
    tenure = rng.normal(560, 100, 1500)
    tenure[:7] = np.nan  # an unknown value is skipped, as the runtime skips non-finite values
    rows = [(float(t), float(p)) for t, p in zip(tenure, rng.beta(2, 5, 1500))]
    df = spark.createDataFrame(rows, ["tenure_days", "prediction"])
    first = batch_drift.batch_drift(df, ref, tmp_path, date(2026, 7, 1))
    by = {f["feature"]: f for f in first["features"]}
    finite = tenure[np.isfinite(tenure)]
    assert by["tenure_days"]["records"] == finite.size == 1493
    assert by["tenure_days"]["psi"] == pytest.approx(drift.psi(ref["features"]["tenure_days"]["proportions"],
                                                               drift.bin_counts(ref["features"]["tenure_days"]["edges"], finite)), abs=1e-12)
    assert [(a["feature"], a["statistic"]) for a in first["alerts"]] == [("tenure_days", "KS")]
    assert first["alerts"][0]["window_start"] == 1782864000000  # 2026-07-01T00:00Z: the score date is the window
    second = batch_drift.batch_drift(df, ref, tmp_path, date(2026, 7, 2))
    assert second["continued_from"] == "2026-07-01"
    assert [(a["statistic"], a["state"]) for a in second["alerts"]] == [("PSI", "RAISED")]
    # re-scoring the first date reads the date before it (none): the same alerts as the first time
    again = batch_drift.batch_drift(df, ref, tmp_path, date(2026, 7, 1))
    assert [(a["alert_id"], a["state"]) for a in again["alerts"]] == [(a["alert_id"], a["state"]) for a in first["alerts"]]
