"""Labels per the spec: positive iff H_end < failure_time <= H_end + 24 h; rows while down dropped."""
import numpy as np
import pandas as pd

from data import label_rows

W = 60_000
DAY = 86_400_000


def rows(*heads, arm="a"):
    return pd.DataFrame({"arm_id": [arm] * len(heads), "head_bucket": list(heads)})


def test_label_window_is_open_at_h_end_and_closed_24h_later():
    ft = 10_000 * W  # failure exactly at the start of bucket 10 000
    failures = pd.DataFrame({"arm_id": ["a"], "failure_time": [ft], "repaired_at": [ft + 4 * 3_600_000]})
    # H_end = (H+1)W. H=8558: ft = H_end + 24 h + W -> negative; H=8559: ft = H_end + 24 h -> positive;
    # H=9998: H_end = ft - W -> positive; H=9999: H_end == ft -> not H_end < ft, and the arm is down
    # until H_end reaches repaired_at = ft + 240 W, i.e. H = 10 239
    heads = rows(8_558, 8_559, 9_998, 9_999, 10_000, 10_238, 10_239)
    label, scored = label_rows(heads, failures)
    assert label.tolist() == [False, True, True, False, False, False, False]
    assert scored.tolist() == [True, True, True, False, False, False, True]


def test_other_arms_and_no_repair():
    failures = pd.DataFrame({"arm_id": ["b", "a"], "failure_time": [5 * W, 100 * W], "repaired_at": [6 * W, np.nan]})
    label, scored = label_rows(rows(50, 200), failures)
    assert label.tolist() == [True, False] and scored.tolist() == [True, False]  # never repaired: down for good
    label, scored = label_rows(rows(3, arm="c"), failures)
    assert label.tolist() == [False] and scored.tolist() == [True]
