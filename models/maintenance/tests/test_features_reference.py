"""Hand-computed cases for the reference features (docs/factoryguard-features.md)."""
import math

import pytest

from features import FEATURE_NAMES, acceptance, features_at_heads

W = 60_000
T0 = 1_700_000_000_000 // W * W  # a bucket boundary
B0 = T0 // W


def r(arm, sensor, value, bucket, offset_ms=0):
    return (arm, sensor, value, (B0 + bucket) * W + offset_ms)


def at_end(readings, arm="a"):
    """Features of `arm` after the last reading."""
    return features_at_heads(readings, [(arm, len(readings) - 1)])[0]


def test_feature_names_follow_the_spec_order():
    per = ["mean_1h", "mean_6h", "mean_12h", "std_1h", "std_6h", "std_12h", "ema_1h", "ema_6h",
           "ema_12h", "last", "lag1", "lag2", "trend_1h_12h", "std_ratio_1h_12h"]
    assert list(FEATURE_NAMES) == [f"{s}_{f}" for s in ("vibration", "temperature", "pressure") for f in per]


def test_lateness_rejects_below_head_minus_5_and_accepts_at_it():
    readings = [r("a", "VIBRATION", 1.0, 100), r("a", "VIBRATION", 2.0, 110),
                r("a", "VIBRATION", 100.0, 104),  # 104 < 110 - 5: rejected, counted nowhere
                r("a", "VIBRATION", 4.0, 105),  # 105 == 110 - 5: accepted
                r("b", "VIBRATION", 9.0, 0)]  # another arm, its own head
    assert acceptance(readings) == [True, True, False, True, True]
    res = features_at_heads(readings, [("a", 2), ("a", 3)])
    assert res[0]["head_bucket"] == B0 + 110
    assert res[0]["features"]["vibration_mean_1h"] == pytest.approx(1.5)
    assert res[1]["features"]["vibration_mean_1h"] == pytest.approx(7 / 3)
    # the late reading does not move the head backwards; a later bucket moves it forwards
    assert features_at_heads(readings + [r("a", "PRESSURE", 1.0, 112)], [("a", 5)])[0]["head_bucket"] == B0 + 112


def test_first_reading_of_an_arm_is_always_accepted_and_rejection_uses_all_sensors():
    readings = [r("a", "TEMPERATURE", 50.0, 1000), r("a", "PRESSURE", 6.0, 990)]
    assert acceptance(readings) == [True, False]
    f = at_end(readings)["features"]
    assert math.isnan(f["pressure_mean_12h"]) and f["temperature_last"] == 50.0


def test_empty_lags_and_missing_sensors_are_nan():
    f = at_end([r("a", "VIBRATION", 3.0, 10, 5_000), r("a", "VIBRATION", 5.0, 10, 50_000)])["features"]
    assert f["vibration_last"] == 4.0
    assert math.isnan(f["vibration_lag1"]) and math.isnan(f["vibration_lag2"])
    assert all(math.isnan(f[n]) for n in FEATURE_NAMES if not n.startswith("vibration_"))
    f = at_end([r("a", "VIBRATION", 3.0, 8), r("a", "VIBRATION", 5.0, 10)])["features"]
    assert f["vibration_last"] == 5.0 and math.isnan(f["vibration_lag1"]) and f["vibration_lag2"] == 3.0


def test_head_bucket_empty_for_a_sensor_gives_nan_last():
    f = at_end([r("a", "VIBRATION", 3.0, 9), r("a", "TEMPERATURE", 60.0, 10)])["features"]
    assert math.isnan(f["vibration_last"]) and f["vibration_lag1"] == 3.0


def test_means_stds_and_whole_bucket_windows():
    # bucket H: 1, 2, 3; H-59 (inside 1 h): 6; H-60 (outside 1 h, inside 6 h): 10; H-719: 20; H-720: dropped
    readings = [r("a", "PRESSURE", 99.0, 0), r("a", "PRESSURE", 20.0, 1), r("a", "PRESSURE", 10.0, 660),
                r("a", "PRESSURE", 6.0, 661), r("a", "PRESSURE", 1.0, 720), r("a", "PRESSURE", 2.0, 720, 59_999),
                r("a", "PRESSURE", 3.0, 720, 30_000)]
    f = at_end(readings)["features"]
    one_h = [1, 2, 3, 6]
    six_h = one_h + [10]
    twelve_h = six_h + [20]
    for label, xs in (("1h", one_h), ("6h", six_h), ("12h", twelve_h)):
        mean = sum(xs) / len(xs)
        assert f[f"pressure_mean_{label}"] == pytest.approx(mean, rel=1e-15)
        assert f[f"pressure_std_{label}"] == pytest.approx(math.sqrt(sum((x - mean) ** 2 for x in xs) / len(xs)), rel=1e-15)
    assert f["pressure_trend_1h_12h"] == pytest.approx(3.0 - 7.0)
    assert f["pressure_std_ratio_1h_12h"] == pytest.approx(f["pressure_std_1h"] / f["pressure_std_12h"])
    assert f["pressure_last"] == 2.0


def test_std_is_exactly_zero_for_equal_values_and_the_ratio_is_then_nan():
    readings = [r("a", "TEMPERATURE", 0.1, b) for b in range(0, 700, 7)]
    f = at_end(readings)["features"]
    assert f["temperature_std_12h"] == 0.0 and f["temperature_std_1h"] == 0.0
    assert math.isnan(f["temperature_std_ratio_1h_12h"])
    # zero std in 1 h only: ratio 0
    f = at_end([r("a", "TEMPERATURE", 5.0, 0)] + readings)["features"]
    assert f["temperature_std_1h"] == 0.0 and f["temperature_std_12h"] > 0
    assert f["temperature_std_ratio_1h_12h"] == 0.0


def test_std_is_exact_despite_a_large_offset():
    xs = [1e9 + 0.5, 1e9 + 1.5]  # sums of squares near 2e18: naive doubles lose the variance
    f = at_end([r("a", "VIBRATION", x, 0) for x in xs])["features"]
    assert f["vibration_std_1h"] == 0.5


def test_ema_weights_per_tau_over_bucket_means():
    # H: readings 1 and 3 (bucket mean 2); H-60: 1; H-360: 4
    readings = [r("a", "VIBRATION", 4.0, 0), r("a", "VIBRATION", 1.0, 300),
                r("a", "VIBRATION", 1.0, 360), r("a", "VIBRATION", 3.0, 360)]
    f = at_end(readings)["features"]
    for label, tau_buckets in (("1h", 60), ("6h", 360), ("12h", 720)):
        w = [1.0, math.exp(-60 / tau_buckets), math.exp(-360 / tau_buckets)]
        expected = (w[0] * 2 + w[1] * 1 + w[2] * 4) / sum(w)
        assert f[f"vibration_ema_{label}"] == pytest.approx(expected, rel=1e-14)
    assert f["vibration_ema_1h"] == pytest.approx((2 + math.exp(-1) + 4 * math.exp(-6)) / (1 + math.exp(-1) + math.exp(-6)))


def test_ema_ring_is_truncated_at_12h():
    f = at_end([r("a", "VIBRATION", 100.0, 0), r("a", "VIBRATION", 1.0, 720)])["features"]
    assert f["vibration_ema_12h"] == 1.0 and f["vibration_mean_12h"] == 1.0
    f = at_end([r("a", "VIBRATION", 100.0, 1), r("a", "VIBRATION", 1.0, 720)])["features"]
    w = math.exp(-719 / 720)
    assert f["vibration_ema_12h"] == pytest.approx((1 + 100 * w) / (1 + w))


def test_points_before_an_arms_first_reading_and_out_of_range():
    res = features_at_heads([r("a", "VIBRATION", 1.0, 0), r("b", "VIBRATION", 2.0, 0)], [("b", 0), ("b", 1), ("a", 0)])
    assert res[0]["head_bucket"] is None and all(math.isnan(v) for v in res[0]["features"].values())
    assert res[1]["features"]["vibration_last"] == 2.0 and res[2]["features"]["vibration_last"] == 1.0
    with pytest.raises(ValueError):
        features_at_heads([r("a", "VIBRATION", 1.0, 0)], [("a", 1)])


def test_invalid_readings_are_refused():
    with pytest.raises(ValueError, match="sensor"):
        acceptance([("a", "HUMIDITY", 1.0, T0)])
    with pytest.raises(ValueError, match="finite"):
        acceptance([("a", "VIBRATION", float("nan"), T0)])
