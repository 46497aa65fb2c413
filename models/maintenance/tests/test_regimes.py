"""Regime normalisation: the stdlib definition, its vectorised twin, and the fit."""
import math

import numpy as np
import pytest

from plant_fixtures import REGIMES
from regimes import Regimes, fit, normalise, parse_settings, regimes_of


def test_apply_by_hand():
    # z = ((5-20)/15, (0.2-0.5)/0.3, (80-80)/1) = (-1, -1, 0): regime 0
    assert REGIMES.regime_of([5.0, 0.2, 80.0]) == 0
    assert REGIMES.apply("p30", 558.0, [5.0, 0.2, 80.0]) == 2.0
    assert REGIMES.apply("t24", 603.0, [35.0, 0.8, 80.0]) == 3.0  # std 0: divided by 1
    assert REGIMES.apply("w31", 23.5, [35.0, 0.8, 80.0]) == 23.5  # no entry: unchanged
    assert REGIMES.regime_of([20.0, 0.5, 80.0]) == 0  # equidistant: the lowest index
    with pytest.raises(ValueError, match="operating settings"):
        REGIMES.apply("p30", 1.0, None)
    with pytest.raises(ValueError, match="operating settings"):
        REGIMES.apply("p30", 1.0, [1.0, 2.0])
    assert Regimes.from_json(REGIMES.as_json()) == REGIMES
    assert parse_settings("1.5;-2;3e2") == [1.5, -2.0, 300.0] and parse_settings("") is None


def test_vectorised_normalise_is_bit_identical():
    rng = np.random.default_rng(0)
    settings = np.column_stack([rng.uniform(0, 40, 500), rng.uniform(0, 1, 500), np.full(500, 80.0)])
    settings[:3] = [[20.0, 0.5, 80.0]] * 3  # ties
    channels = rng.choice(["t24", "oil_temp", "p30", "nf", "w31"], 500)
    values = rng.normal(500, 100, 500)
    got = normalise(REGIMES, channels, values, settings)
    want = [REGIMES.apply(c, v, s.tolist()) for c, v, s in zip(channels, values, settings)]
    assert got.tolist() == want
    assert regimes_of(REGIMES, settings).tolist() == [REGIMES.regime_of(s.tolist()) for s in settings]


def test_fit_finds_the_regimes_and_their_baselines():
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(1)
    regime = rng.integers(0, 3, 3000)
    settings = np.column_stack([np.array([0.0, 20.0, 40.0])[regime] + rng.normal(0, 0.1, 3000),
                                np.array([0.0, 0.5, 0.8])[regime] + rng.normal(0, 0.001, 3000), np.full(3000, 100.0)])
    channels = np.where(np.arange(3000) % 2 == 0, "a", "b")
    values = np.array([10.0, 50.0, 90.0])[regime] + (channels == "b") * 1000 + rng.normal(0, 2, 3000)
    r = fit(["alt", "mach", "tra"], settings, channels, values, k=3, seed=0)
    assert r.k == 3 and r.scale[2] == 0.0
    z = normalise(r, channels, values, settings)
    for ch in ("a", "b"):
        assert abs(z[channels == ch].mean()) < 1e-9 and math.isclose(z[channels == ch].std(), 1.0, rel_tol=1e-9)
    assert sorted(round(m) for m in r.channels["a"]["mean"]) == [10, 50, 90]
    assert all(1.5 < s < 2.5 for s in r.channels["b"]["std"])
