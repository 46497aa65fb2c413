"""Alert episodes (the stream's hysteresis) and the weighted PR-AUC used by the bootstrap."""
import numpy as np
import pandas as pd
import pytest

from report import _sorted_for_ap, alert_episodes, event_metrics, weighted_ap

MIN = 60_000


def test_alert_raises_once_clears_after_three_low_scores_and_respects_the_cooldown():
    p = [0.1, 0.9, 0.5, 0.3, 0.9, 0.3, 0.3, 0.3, 0.9, 0.1, 0.1, 0.1, 0.1, 0.9]
    rows = pd.DataFrame({"arm_id": "a", "t_end": np.arange(len(p)) * 10 * MIN})
    raised = alert_episodes(rows, np.array(p), threshold=0.8, clear=0.4)
    # raise at 1; 0.9 at 4 resets the low count; clear at 7 (3 lows); 8 within 30 min of the
    # clear: no raise; clear stays; 13 is 60 min after the clear: raise
    assert raised["raised_at"].tolist() == [1 * 10 * MIN, 13 * 10 * MIN]
    failures = pd.DataFrame({"arm_id": ["a"], "failure_time": [14 * 10 * MIN]})
    m = event_metrics(rows, failures, np.array(p), 0.8, 0.4)
    assert m["raises"] == 2 and m["false_raises"] == 0
    # persistence variant: 3 scores in a row >= threshold before raising
    p2 = [0.9, 0.9, 0.1, 0.9, 0.9, 0.9, 0.9]
    rows2 = pd.DataFrame({"arm_id": "b", "t_end": np.arange(len(p2)) * 10 * MIN})
    assert alert_episodes(rows2, np.array(p2), 0.8, 0.4, raise_after=3)["raised_at"].tolist() == [5 * 10 * MIN]


def test_weighted_ap_equals_sklearn_with_ties_and_weights():
    average_precision_score = pytest.importorskip("sklearn.metrics").average_precision_score
    rng = np.random.default_rng(0)
    y = rng.random(3000) < 0.1
    p = np.round(rng.random(3000) + 0.3 * y, 2)  # many ties
    w = rng.integers(0, 3, 3000).astype(float)
    order, end = _sorted_for_ap(y, p)
    assert np.isclose(weighted_ap(y[order].astype(float), w[order], end), average_precision_score(y, p, sample_weight=w), rtol=1e-12)
