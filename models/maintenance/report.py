"""What the model would do as alerts (hysteresis, per failure) and the PR-curve figures."""
from __future__ import annotations

import numpy as np
import pandas as pd

from data import HORIZON_MS


CLEAR_AFTER = 3  # consecutive scores below the clear threshold (streams/maintenance/alert-hysteresis.ts)
COOLDOWN_MS = 30 * 60_000  # after a clear, no new raise for this long


def alert_episodes(rows: pd.DataFrame, p: np.ndarray, threshold: float, clear: float,
                   clear_after: int = CLEAR_AFTER, cooldown_ms: int = COOLDOWN_MS, raise_after: int = 1) -> pd.DataFrame:
    """The stream's alert state machine on 10-minute rows, per arm in time order: RAISE at
    p >= threshold (unless within ``cooldown_ms`` of the last CLEAR), CLEAR after ``clear_after``
    consecutive scores below ``clear``. ``raise_after`` > 1 is a variant the stream does not have
    (yet): RAISE only after that many consecutive scores >= threshold. Returns arm_id, raised_at
    (t_end of the raising row, ms)."""
    raised = []
    frame = pd.DataFrame({"arm_id": rows["arm_id"].to_numpy(), "t": rows["t_end"].to_numpy(), "p": p})
    for arm_id, g in frame.sort_values(["arm_id", "t"], kind="stable").groupby("arm_id", sort=False):
        active, below, above, cleared_at = False, 0, 0, None
        for t, q in zip(g["t"].to_numpy(), g["p"].to_numpy()):
            if not active:
                above = above + 1 if q >= threshold else 0
                if above >= raise_after and (cleared_at is None or t - cleared_at >= cooldown_ms):
                    active, below, above = True, 0, 0
                    raised.append((arm_id, t))
            else:
                below = below + 1 if q < clear else 0
                if below >= clear_after:
                    active, cleared_at = False, t
    return pd.DataFrame(raised, columns=["arm_id", "raised_at"])


def event_metrics(rows: pd.DataFrame, failures: pd.DataFrame, p: np.ndarray, threshold: float, clear: float,
                  raise_after: int = 1) -> dict:
    """Failures caught (a RAISE in the 24 h before), lead time of the first such RAISE, and RAISEs
    not followed by a failure within 24 h (false alarms) per 100 arm-days. Only failures whose
    24 h before lie inside the scored period of the rows count."""
    episodes = alert_episodes(rows, p, threshold, clear, raise_after=raise_after)
    t_min, t_max = rows["t_end"].min(), rows["t_end"].max()
    fails = failures[(failures["failure_time"] - HORIZON_MS >= t_min) & (failures["failure_time"] <= t_max)]
    fails = fails[fails["arm_id"].astype(str).isin(set(rows["arm_id"].astype(str)))]
    caught, leads, by_mode = 0, [], {}
    modes = fails["mode"].astype(str) if "mode" in fails else pd.Series("all", index=fails.index)
    for arm_id, ft, mode in zip(fails["arm_id"].astype(str), fails["failure_time"], modes):
        r = episodes.loc[(episodes["arm_id"] == arm_id) & (episodes["raised_at"] < ft) & (episodes["raised_at"] >= ft - HORIZON_MS), "raised_at"]
        m = by_mode.setdefault(mode, {"failures": 0, "caught": 0})
        m["failures"] += 1
        if len(r):
            caught += 1
            m["caught"] += 1
            leads.append((ft - r.min()) / 3_600_000)
    false = 0
    for arm_id, t in zip(episodes["arm_id"], episodes["raised_at"]):
        f = failures.loc[failures["arm_id"].astype(str) == arm_id, "failure_time"]
        if not ((f > t) & (f <= t + HORIZON_MS)).any():
            false += 1
    arm_days = rows.groupby("arm_id")["t_end"].agg(lambda t: (t.max() - t.min()) / 86_400_000).sum()
    return {
        "failures": int(len(fails)), "caught": caught, "caught_by_mode": by_mode,
        "caught_share": caught / len(fails) if len(fails) else float("nan"),
        "median_lead_hours": float(np.median(leads)) if leads else float("nan"),
        "raises": int(len(episodes)), "false_raises": false,
        "raise_precision": (len(episodes) - false) / len(episodes) if len(episodes) else float("nan"),
        "false_raises_per_100_arm_days": 100 * false / arm_days if arm_days else float("nan"),
    }


def plot_pr_curves(y: np.ndarray, predictions: dict[str, np.ndarray], thresholds: dict[str, float], path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=100)
    for name, p in predictions.items():
        precision, recall, thr = precision_recall_curve(y, p)
        line, = ax.plot(recall, precision, lw=1.5, label=f"{name} (PR-AUC {average_precision_score(y, p):.3f})")
        if name in thresholds:
            alert = p >= thresholds[name]
            if alert.any():
                ax.plot([(alert & y).sum() / y.sum()], [(alert & y).sum() / alert.sum()], "o", color=line.get_color(), ms=5)
    ax.axhline(y.mean(), color="grey", lw=0.8, ls=":", label=f"no skill (positive rate {y.mean():.4f})")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02), title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.text(0.99, 0.01, "dots: each model's alert threshold (chosen on validation)", ha="right", fontsize=7, color="grey")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _sorted_for_ap(y: np.ndarray, p: np.ndarray):
    order = np.argsort(-p, kind="stable")
    ps = p[order]
    return order, np.r_[ps[1:] != ps[:-1], True]  # last row of each group of tied scores


def weighted_ap(y_sorted: np.ndarray, w_sorted: np.ndarray, group_end: np.ndarray) -> float:
    """Average precision (sklearn's step-wise definition, ties grouped) with row weights, on rows
    already sorted by descending score."""
    tp = np.cumsum(w_sorted * y_sorted)[group_end]
    seen = np.cumsum(w_sorted)[group_end]
    if tp[-1] <= 0:
        return float("nan")
    precision = np.divide(tp, seen, out=np.zeros_like(tp), where=seen > 0)
    return float(np.sum(np.diff(np.r_[0.0, tp]) * precision) / tp[-1])


def bootstrap_pr_auc(y: np.ndarray, predictions: dict[str, np.ndarray], groups: np.ndarray, *, n: int = 200,
                     seed: int = 0, reference: str = "lgbm") -> dict:
    """Cluster bootstrap over arms/units (resample whole arms with replacement): 95 % intervals of
    each model's PR-AUC and of ``reference`` minus each other model, with the share of resamples
    where the reference is ahead."""
    codes, _ = pd.factorize(pd.Series(groups))
    rng = np.random.default_rng(seed)
    prepared = {k: (y[o].astype(float), o, end) for k, (o, end) in ((k, _sorted_for_ap(y, p)) for k, p in predictions.items())}
    samples = {k: [] for k in predictions}
    for _ in range(n):
        mult = np.bincount(rng.integers(0, codes.max() + 1, codes.max() + 1), minlength=codes.max() + 1)[codes].astype(float)
        for k, (ys, order, end) in prepared.items():
            samples[k].append(weighted_ap(ys, mult[order], end))
    out = {"resamples": n, "by": "arm/unit", "pr_auc_95": {k: [float(np.nanpercentile(v, 2.5)), float(np.nanpercentile(v, 97.5))] for k, v in samples.items()}}
    ref = np.array(samples[reference])
    out[f"{reference}_minus"] = {
        k: {"diff_95": [float(np.nanpercentile(ref - np.array(v), 2.5)), float(np.nanpercentile(ref - np.array(v), 97.5))],
            "share_ahead": float(np.mean(ref > np.array(v)))}
        for k, v in samples.items() if k != reference}
    return out
