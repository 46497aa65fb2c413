"""Drift of a daily churn scoring batch against the model version's reference.json: the Python twin
of streams/runtime/drift/drift-stats.ts (PSI, two-sample KS with Stephens' p-value) and of the
DriftMonitor's rule (drift-monitor.ts), with one batch (one score date) as one window.

Both twins are checked against the same fixture, streams/runtime/drift/fixtures/drift-stats.json
(scipy numbers, models/common/make_drift_fixtures.py), by models/churn/tests/test_churn_drift.py
and drift-stats.test.ts. The rule and its thresholds are the runtime's DEFAULT_DRIFT_RULE: PSI > 0.2
in 2 consecutive batches, or KS D > 0.17 with p < 0.001 / #features (the probability counted as a
feature). Streaks carry from one score date to the next through the previous date's drift report
(``previous``), so "2 consecutive windows" means two consecutive scored days.
"""
from __future__ import annotations

import math

import numpy as np

PSI_EPSILON = 1e-4
RULE = {"psi_threshold": 0.2, "psi_consecutive": 2, "ks_alpha": 0.001, "ks_min_d": 0.17, "ks_consecutive": 1}
PREDICTION = "prediction"
PROCESSOR = "churn-score"


def bin_counts(edges, values) -> np.ndarray:
    """Counts per reference bin: bin i holds v with i = #(edges <= v) (drift-stats.ts binIndex)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return np.bincount(np.searchsorted(np.asarray(edges, dtype=np.float64), v, side="right"), minlength=len(edges) + 1)


def psi(reference_proportions, observed_counts, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index of observed bin counts against the reference's bin shares."""
    counts = np.asarray(observed_counts, dtype=np.float64)
    expected = np.asarray(reference_proportions, dtype=np.float64)
    if counts.shape != expected.shape:
        raise ValueError(f"psi: {expected.size} reference bins but {counts.size} observed")
    total = counts.sum()
    if total == 0:
        return math.nan
    actual = np.maximum(counts / total, epsilon)
    expected = np.maximum(expected, epsilon)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def ks_statistic(sorted_a, sorted_b) -> float:
    """D = sup |F_a - F_b| of two samples, ties as scipy.stats.ks_2samp handles them."""
    a, b = np.sort(np.asarray(sorted_a, dtype=np.float64)), np.sort(np.asarray(sorted_b, dtype=np.float64))
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / a.size
    fb = np.searchsorted(b, grid, side="right") / b.size
    return float(np.max(np.abs(fa - fb)))


def kolmogorov_sf(lam: float) -> float:
    """P(K > lam), 2 sum_k (-1)^(k-1) exp(-2 k^2 lam^2) (scipy.stats.kstwobign.sf); 1 below 0.2."""
    if not lam > 0.2:
        return 1.0
    total = 0.0
    for k in range(1, 101):
        term = math.exp(-2 * k * k * lam * lam)
        total += term if k % 2 == 1 else -term
        if term < 1e-17 * max(total, 1e-300):
            break
    return min(1.0, max(0.0, 2 * total))


def ks_two_sample(a, b) -> tuple[float, float]:
    """(D, asymptotic p) with Stephens' correction, as drift-stats.ts ksTwoSample."""
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return math.nan, math.nan
    d = ks_statistic(a, b)
    root = math.sqrt(n * m / (n + m))
    return d, kolmogorov_sf((root + 0.12 + 0.11 / root) * d)


def _step(episode: dict, holds: bool, needed: int, window_start: str):
    """drift-monitor.ts step(): RAISED after ``needed`` windows in a row, CLEARED at the first without."""
    if not holds:
        episode["streak"] = 0
        if episode["raised_at"] is None:
            return None
        start, episode["raised_at"] = episode["raised_at"], None
        return "CLEARED", start
    episode["streak"] += 1
    if episode["raised_at"] is not None or episode["streak"] < needed:
        return None
    episode["raised_at"] = window_start
    return "RAISED", window_start


def judge_batch(reference: dict, counts: dict, samples: dict, window: tuple[int, int], previous: dict | None,
                detected_at: int, min_records: int) -> dict:
    """The drift report of one batch.

    ``counts``: per monitored name (the reference's features and ``prediction``) the batch's counts in
    the reference bins; ``samples``: a random sample (<= 1,000, as the runtime's reservoir) of its values;
    ``window``: (first, last) event time of the batch in epoch ms; ``previous``: the last report (its
    ``episodes`` carry streaks). Returns {"features": [...], "alerts": [DriftAlert dicts], "episodes": ...}.
    A batch with fewer than ``min_records`` values of a name is not judged for it (episode unchanged).
    """
    refs = {**reference["features"], PREDICTION: reference[PREDICTION]}
    episodes = {k: dict(v) for k, v in ((previous or {}).get("episodes") or {}).items()}
    p_threshold = RULE["ks_alpha"] / len(refs)
    stats, alerts = [], []
    for name, ref in refs.items():
        c = np.asarray(counts[name])
        records = int(c.sum())
        if records < min_records:
            continue
        value_psi = psi(ref["proportions"], c)
        d, p = ks_two_sample(ref["sample"], samples[name])
        stats.append({"feature": name, "records": records, "psi": value_psi, "ks_d": d, "ks_p": p})
        for statistic, holds, needed, value, threshold, pv, pt in (
                ("PSI", value_psi > RULE["psi_threshold"], RULE["psi_consecutive"], value_psi, RULE["psi_threshold"], None, None),
                ("KS", d > RULE["ks_min_d"] and p < p_threshold, RULE["ks_consecutive"], d, RULE["ks_min_d"], p, p_threshold)):
            episode = episodes.setdefault(f"{name}/{statistic}", {"streak": 0, "raised_at": None})
            found = _step(episode, holds, needed, window[0])
            if found:
                state, start = found
                alerts.append({
                    "alert_id": "/".join([PROCESSOR, reference["model_name"], reference["model_version"], name, statistic, str(start)]),
                    "processor": PROCESSOR, "model_name": reference["model_name"], "model_version": reference["model_version"],
                    "feature": name, "statistic": statistic, "state": state, "value": float(value), "threshold": threshold,
                    "p_value": pv, "p_threshold": pt, "consecutive_windows": episode["streak"],
                    "window_start": window[0], "window_end": window[1], "window_records": records,
                    "reference_records": int(ref["count"]), "detected_at": detected_at})
    return {"rule": RULE, "min_records": min_records, "features": stats, "alerts": alerts, "episodes": episodes}
