"""Vectorised FactoryGuard features for training (the spec: docs/factoryguard-features.md).

Same definitions as the reference ``features.features_at_heads``, computed in bulk:

1. The lateness rule in one pass: an arm's head before a row is the running max of the buckets of
   its earlier rows (a rejected row is below the head, so it never moves the running max), so a
   row is accepted iff ``b >= that max - LATENESS`` (or it is the arm's first).
2. Per arm, a dense grid of buckets x channels holding n, Σ(x - ref), Σ(x - ref)², min and max of
   the accepted readings (``np.bincount``), with ``ref`` the first accepted value of the (arm,
   channel), as the stream does, to limit cancellation.
3. For each head H, the ring's buckets (the longest window, 720 for the simulator: ``H-719..H``)
   are one row of a sliding-window view; window sums and truncated-EMA sums are that row times
   fixed weight vectors (indicators of each window's last buckets; ``exp(-(H-b) * W / tau)``),
   i.e. direct sums of at most ring terms, no running totals. A window whose readings are all equal (rolling min == rolling max) has std exactly 0, as
   in exact arithmetic, so std_ratio is NaN there as in the reference.

Features are evaluated at head H with every accepted reading of buckets <= H counted: what the
stream sees after the last reading of bucket H. With readings in event-time order that is exactly
the reference evaluated after that reading (tests hold the two within 1e-9).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from features import DEFAULT_SPEC, FeatureSpec

_CELLS_PER_CHUNK = 512 * 3 * 720  # heads x channels x ring buckets per block: 8.8 MB per quantity


def _window_matrices(spec: FeatureSpec) -> tuple[np.ndarray, np.ndarray]:
    """(ring, windows) indicators and (ring, EMAs) weights; row j of a window is bucket H - ring + 1 + j."""
    ring = spec.ring_buckets
    age = np.arange(ring - 1, -1, -1)  # H - b for positions 0..ring-1
    ind = np.stack([(age < length).astype(float) for _, length in spec.windows], axis=1)
    ema = np.stack([np.exp(-age * spec.bucket_ms / tau) for _, tau in spec.ema], axis=1) if spec.ema else np.zeros((ring, 0))
    return ind, ema


def accepted_mask(arm: np.ndarray, bucket: np.ndarray, lateness_buckets: int = DEFAULT_SPEC.lateness_buckets) -> np.ndarray:
    """Per row (arrival order): accepted by the lateness rule. ``arm``: any hashable codes."""
    frame = pd.DataFrame({"arm": arm, "b": bucket})
    head_before = frame.groupby("arm", sort=False)["b"].cummax().groupby(frame["arm"], sort=False).shift(1)
    return (head_before.isna() | (frame["b"] >= head_before - lateness_buckets)).to_numpy()


def slot_heads_of(buckets: np.ndarray, slot_buckets: int = 10) -> np.ndarray:
    """The last bucket with data in each slot of ``slot_buckets`` buckets, ascending."""
    ub = np.unique(buckets)
    slot = ub // slot_buckets
    return ub[np.r_[slot[1:] != slot[:-1], True]] if len(ub) else ub


def _rolling_extreme(op: np.ufunc, grid: np.ndarray, length: int, identity: float) -> np.ndarray:
    """op (min or max) over rows t-length+1..t for every row t >= length-1 (van Herk/Gil-Werman:
    block prefix and suffix scans, O(rows))."""
    rows = grid.shape[0]
    padded = np.full((-(-rows // length) * length, grid.shape[1]), identity)
    padded[:rows] = grid
    blocks = padded.reshape(-1, length, grid.shape[1])
    prefix = op.accumulate(blocks, axis=1).reshape(padded.shape)
    suffix = op.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].reshape(padded.shape)
    out = np.full(grid.shape, identity)
    out[length - 1:] = op(suffix[:rows - length + 1], prefix[length - 1:rows])
    return out


def _arm_features(spec: FeatureSpec, b: np.ndarray, s: np.ndarray, x: np.ndarray, heads: np.ndarray) -> np.ndarray:
    """(len(heads), channels x per-channel features) of one arm from its accepted readings (arrival order)."""
    n_s, ring, n_w, n_e = len(spec.channels), spec.ring_buckets, len(spec.windows), len(spec.ema)
    refs = np.full(n_s, np.nan)
    first = np.unique(s, return_index=True)
    refs[first[0]] = x[first[1]]  # first accepted value per channel
    pad = max(ring - 1, 2)  # room before the first head for the ring and for lag2
    base = int(min(b.min(), heads.min())) - pad
    nb = int(max(b.max(), heads.max())) - base + 1
    cell = (b - base) * n_s + s
    d = x - refs[s]
    n = np.bincount(cell, minlength=nb * n_s).reshape(nb, n_s).astype(float)
    s1 = np.bincount(cell, d, minlength=nb * n_s).reshape(nb, n_s)
    s2 = np.bincount(cell, d * d, minlength=nb * n_s).reshape(nb, n_s)
    lo = np.full(nb * n_s, np.inf)
    hi = np.full(nb * n_s, -np.inf)
    np.minimum.at(lo, cell, x)
    np.maximum.at(hi, cell, x)
    constant = np.stack([_rolling_extreme(np.minimum, lo.reshape(nb, n_s), length, np.inf)
                         == _rolling_extreme(np.maximum, hi.reshape(nb, n_s), length, -np.inf)
                         for _, length in spec.windows], axis=-1)  # (nb, channels, windows)
    has = n > 0
    mean = np.divide(s1, n, out=np.zeros_like(s1), where=has)  # bucket means, shifted by ref
    ind, ema_w = _window_matrices(spec)
    views = {k: sliding_window_view(v, ring, axis=0) for k, v in
             (("n", n), ("s1", s1), ("s2", s2), ("mean", mean), ("has", has.astype(float)))}
    per = 2 * n_w + n_e + 5
    out = np.empty((len(heads), n_s, per))
    chunk = max(1, _CELLS_PER_CHUNK // (n_s * ring))
    e0, l0 = 2 * n_w, 2 * n_w + n_e  # first EMA column, the "last" column
    for start in range(0, len(heads), chunk):
        idx = heads[start:start + chunk] - base
        w = idx - (ring - 1)
        wn, ws1, ws2 = (views[k][w] @ ind for k in ("n", "s1", "s2"))  # (P, channels, windows)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = ws1 / wn
            std = np.sqrt(np.maximum(0.0, ws2 / wn - m * m))
            std[constant[idx]] = 0.0
            ref = refs[None, :, None]
            block = out[start:start + len(idx)]
            block[..., 0:n_w] = np.where(wn > 0, ref + m, np.nan)
            block[..., n_w:e0] = np.where(wn > 0, std, np.nan)
            if n_e:
                block[..., e0:l0] = ref + (views["mean"][w] @ ema_w) / (views["has"][w] @ ema_w)  # 0/0 -> NaN: empty ring
            for k in range(3):  # last, lag1, lag2
                block[..., l0 + k] = np.where(has[idx - k], refs[None, :] + mean[idx - k], np.nan)
            block[..., l0 + 3] = block[..., 0] - block[..., n_w - 1]
            block[..., l0 + 4] = np.where(block[..., e0 - 1] > 0, block[..., n_w] / block[..., e0 - 1], np.nan)
    return out.reshape(len(heads), n_s * per)


def channels_of(readings: pd.DataFrame) -> pd.Series:
    """Each reading's profile channel: ``channel`` where set, else ``sensor.lower()``."""
    legacy = readings["sensor"].astype(str).str.lower() if "sensor" in readings else None
    if "channel" not in readings:
        return legacy
    channel = readings["channel"].astype(object)
    return channel.where(channel.notna() & (channel != ""), legacy) if legacy is not None else channel


def features_fast(readings: pd.DataFrame, heads: pd.DataFrame | None = None, slot_buckets: int = 10,
                  progress=None, spec: FeatureSpec = DEFAULT_SPEC) -> pd.DataFrame:
    """Features for every (arm_id, head_bucket) in ``heads`` (default: per arm, the last bucket
    with data in each slot of ``slot_buckets`` buckets).

    ``readings``: columns arm_id, sensor and/or channel, value, event_time (ms), arrival order
    (event-time order for training); values already regime-normalised where the plant has regimes
    (regimes.normalise). Returns arm_id, head_bucket and the spec's feature columns (float64), in
    the order of ``heads`` (default: by arm, then head). ``progress(done, total)`` is called per arm."""
    names = list(spec.feature_names)
    channel = pd.Categorical(channels_of(readings), categories=list(spec.channels))
    if channel.isna().any():
        raise ValueError(f"unknown channel(s): {set(channels_of(readings)[channel.isna()])} (the spec has {spec.channels})")
    x = readings["value"].to_numpy(dtype=float)
    if not np.isfinite(x).all():
        raise ValueError("non-finite value(s) in readings")
    arm_cat = pd.Categorical(readings["arm_id"].astype(str) if readings["arm_id"].dtype != "category" else readings["arm_id"])
    arm = arm_cat.codes.astype(np.int64)
    b = np.floor_divide(readings["event_time"].to_numpy(dtype=np.int64), spec.bucket_ms)
    keep = accepted_mask(arm, b, spec.lateness_buckets)
    order = np.argsort(arm[keep], kind="stable")  # per arm, arrival order kept
    arm, b, s, x = arm[keep][order], b[keep][order], channel.codes[keep][order].astype(np.int64), x[keep][order]
    bounds = np.searchsorted(arm, np.arange(len(arm_cat.categories) + 1))
    arm_names = [str(c) for c in arm_cat.categories]
    if heads is None:
        per_arm = {i: slot_heads_of(b[bounds[i]:bounds[i + 1]], slot_buckets) for i in range(len(arm_names))}
        heads = pd.DataFrame({"arm_id": np.repeat(arm_names, [len(h) for h in per_arm.values()]),
                              "head_bucket": np.concatenate(list(per_arm.values()) or [np.empty(0, np.int64)])})
    heads = pd.DataFrame({"arm_id": heads["arm_id"].astype(str).to_numpy(),
                          "head_bucket": heads["head_bucket"].to_numpy(dtype=np.int64)})
    values = np.full((len(heads), len(names)), np.nan)
    code_of = {name: i for i, name in enumerate(arm_names)}
    groups = heads.groupby("arm_id", sort=False).indices
    for done, (arm_id, positions) in enumerate(groups.items(), 1):
        i = code_of.get(arm_id)
        if i is not None and bounds[i + 1] > bounds[i]:  # else no accepted reading: all NaN
            lo, hi = bounds[i], bounds[i + 1]
            values[positions] = _arm_features(spec, b[lo:hi], s[lo:hi], x[lo:hi], heads["head_bucket"].to_numpy()[positions])
        if progress:
            progress(done, len(groups))
    return pd.concat([heads, pd.DataFrame(values, columns=names)], axis=1)
