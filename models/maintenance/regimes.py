"""Per-regime normalisation of a plant's channels (issue #11; streams/maintenance/regimes.ts is its twin).

A plant whose operating settings change (altitude, Mach, throttle...) moves every sensor with
them, and features of the raw values then measure the regime rather than wear. The trainer fits
regimes on training data only: the settings are standardised, clustered into k regimes (KMeans),
and each channel gets a mean and std per regime. Serving and training then replace every value
by its z-score within the regime of the reading's settings, before bucketing.

regimes.json (written next to the model, and into model-meta.json under "regimes")::

    {"settings": [names], "center": [m numbers], "scale": [m numbers],
     "centroids": [[m numbers] x k], "channels": {"<channel>": {"mean": [k], "std": [k]}}}

``Regimes.apply`` is the one definition, in a fixed order of floating-point operations that the
TypeScript twin repeats: z_j = (s_j - center_j) / (scale_j > 0 ? scale_j : 1); the regime is the
nearest centroid (squared distance summed in j order, ties to the lowest index); a channel without
an entry is returned unchanged; else (value - mean[r]) / (std[r] if std[r] > 0 and finite else 1).
The module's top level is standard library only (the parity CLI imports it on a bare python3);
``fit`` and ``normalise`` use numpy (and sklearn for ``fit``) when called.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Mapping, Sequence


@dataclass(frozen=True)
class Regimes:
    settings: tuple[str, ...]
    center: tuple[float, ...]
    scale: tuple[float, ...]
    centroids: tuple[tuple[float, ...], ...]
    channels: Mapping[str, Mapping[str, Sequence[float]]]  # channel -> {"mean": [k], "std": [k]}

    @classmethod
    def from_json(cls, raw: Mapping) -> "Regimes":
        m = len(raw["settings"])
        centroids = tuple(tuple(float(v) for v in row) for row in raw["centroids"])
        if len(raw["center"]) != m or len(raw["scale"]) != m or not centroids or any(len(c) != m for c in centroids):
            raise ValueError(f"regimes: center, scale and every centroid need {m} numbers (one per setting)")
        for ch, stats in raw["channels"].items():
            if len(stats["mean"]) != len(centroids) or len(stats["std"]) != len(centroids):
                raise ValueError(f"regimes: channel {ch} needs a mean and a std for each of the {len(centroids)} regimes")
        return cls(tuple(raw["settings"]), tuple(map(float, raw["center"])), tuple(map(float, raw["scale"])), centroids,
                   {ch: {"mean": [float(v) for v in s["mean"]], "std": [float(v) for v in s["std"]]} for ch, s in raw["channels"].items()})

    @classmethod
    def load(cls, path: str) -> "Regimes":
        with open(path, encoding="utf-8") as fh:
            return cls.from_json(json.load(fh))

    def as_json(self) -> dict:
        return {"settings": list(self.settings), "center": list(self.center), "scale": list(self.scale),
                "centroids": [list(c) for c in self.centroids],
                "channels": {ch: {"mean": list(s["mean"]), "std": list(s["std"])} for ch, s in self.channels.items()}}

    @property
    def k(self) -> int:
        return len(self.centroids)

    def regime_of(self, settings: Sequence[float] | None) -> int:
        if settings is None or len(settings) != len(self.settings):
            got = "none" if settings is None else f"{len(settings)}"
            raise ValueError(f"normalising by regime needs the {len(self.settings)} operating settings {list(self.settings)}; the reading has {got}")
        z = [(float(s) - c) / (sc if sc > 0 else 1.0) for s, c, sc in zip(settings, self.center, self.scale)]
        best, best_d = 0, math.inf
        for i, centroid in enumerate(self.centroids):
            d = 0.0
            for zj, cj in zip(z, centroid):
                t = zj - cj
                d += t * t
            if d < best_d:  # strict: ties keep the lowest index
                best, best_d = i, d
        return best

    def apply(self, channel: str, value: float, settings: Sequence[float] | None) -> float:
        """``value`` of ``channel`` as a z-score within the regime of ``settings``."""
        r = self.regime_of(settings)
        stats = self.channels.get(channel)
        if stats is None:
            return value
        sd = stats["std"][r]
        return (value - stats["mean"][r]) / (sd if sd > 0 and math.isfinite(sd) else 1.0)


def parse_settings(text) -> list[float] | None:
    """The export's ``settings`` cell ("a;b;c", empty for none) as numbers."""
    if text is None or text != text or text == "":
        return None
    return [float(v) for v in str(text).split(";")]


def regimes_of(regimes: Regimes, settings):
    """Vectorised ``regime_of``: (n, m) settings -> (n,) regime indices, same arithmetic."""
    import numpy as np

    s = np.asarray(settings, dtype=float)
    if s.ndim != 2 or s.shape[1] != len(regimes.settings) or np.isnan(s).any():
        raise ValueError(f"normalising by regime needs the {len(regimes.settings)} operating settings {list(regimes.settings)} on every reading")
    scale = np.array([sc if sc > 0 else 1.0 for sc in regimes.scale])
    z = (s - np.array(regimes.center)) / scale
    cen = np.array(regimes.centroids)
    d = np.zeros((len(s), regimes.k))
    for j in range(s.shape[1]):  # summed in j order, as regime_of does
        t = z[:, j, None] - cen[None, :, j]
        d += t * t
    return np.argmin(d, axis=1)  # first minimum: ties to the lowest index


def normalise(regimes: Regimes, channels, values, settings):
    """Vectorised ``apply`` over readings: channel names (n,), values (n,), settings (n, m)."""
    import numpy as np

    r = regimes_of(regimes, settings)
    channels = np.asarray(channels).astype(str)
    out = np.asarray(values, dtype=float).copy()
    for ch, stats in regimes.channels.items():
        rows = channels == ch
        sd = np.array([v if v > 0 and math.isfinite(v) else 1.0 for v in stats["std"]])
        out[rows] = (out[rows] - np.array(stats["mean"])[r[rows]]) / sd[r[rows]]
    return out


def fit(setting_names: Sequence[str], settings, channels, values, k: int, seed: int = 0) -> Regimes:
    """Regimes from training readings: center/scale = mean/std of each setting over the readings,
    KMeans(k, n_init=10, random_state=seed) on the standardised settings, then per channel and
    regime the mean and std (ddof=0) of the raw values."""
    import numpy as np
    from sklearn.cluster import KMeans

    s = np.asarray(settings, dtype=float)
    center, scale = s.mean(axis=0), s.std(axis=0)
    z = (s - center) / np.where(scale > 0, scale, 1.0)
    km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(z)
    partial = Regimes(tuple(setting_names), tuple(center.tolist()), tuple(scale.tolist()),
                      tuple(tuple(c) for c in km.cluster_centers_.tolist()), {})
    r = regimes_of(partial, s)  # the regimes apply() will give, not KMeans' own labels
    channels = np.asarray(channels).astype(str)
    x = np.asarray(values, dtype=float)
    stats = {}
    for ch in dict.fromkeys(channels.tolist()):
        rows = channels == ch
        n = np.bincount(r[rows], minlength=k)
        s1 = np.bincount(r[rows], x[rows], minlength=k)
        mean = np.divide(s1, n, out=np.zeros(k), where=n > 0)
        dev = x[rows] - mean[r[rows]]
        var = np.divide(np.bincount(r[rows], dev * dev, minlength=k), n, out=np.zeros(k), where=n > 0)
        stats[ch] = {"mean": mean.tolist(), "std": np.sqrt(var).tolist()}
    return Regimes(partial.settings, partial.center, partial.scale, partial.centroids, stats)
