"""Reference distributions of a model version (``reference.json``), written by its trainer from the
training data and read by the runtime's drift monitor (streams/runtime/drift/reference.ts).

Per feature and for the prediction: quantile cut points (deciles of the training values, ties
merged, so at most 9 cuts and 10 bins), the training share in each bin, and a sorted sample of at
most 1,000 values for the two-sample KS test. A value v falls in bin ``searchsorted(edges, v,
side="right")`` here and in TypeScript (binIndex), so both count the same way.

    from reference import write_reference
    write_reference(out_dir, model_name, model_version, {"f1": x[:, 0], ...}, predictions, source="...")
"""
from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

FORMAT = "streamscore-reference/1"
QUANTILES = np.linspace(0.1, 0.9, 9)  # deciles: 9 cuts, 10 bins
SAMPLE_SIZE = 1_000
PREDICTION = "prediction"


def feature_reference(values, seed: int = 0, sample_size: int = SAMPLE_SIZE) -> dict:
    """Cut points, bin shares, count and a sorted sample of one feature's finite training values."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ValueError("no finite values: a reference needs training data")
    edges = np.unique(np.quantile(v, QUANTILES))  # ties (e.g. a feature mostly 0) merge cut points
    counts = np.bincount(np.searchsorted(edges, v, side="right"), minlength=edges.size + 1)
    rng = np.random.default_rng(seed)
    sample = v if v.size <= sample_size else rng.choice(v, size=sample_size, replace=False)
    return {"edges": [float(e) for e in edges], "proportions": [float(c) for c in counts / v.size],
            "count": int(v.size), "sample": [float(x) for x in np.sort(sample)]}


def reference_of(model_name: str, model_version: str, features: dict, predictions, source: str, seed: int = 0) -> dict:
    if PREDICTION in features:
        raise ValueError(f"a feature may not be named {PREDICTION!r}: that name is the prediction's")
    return {"format": FORMAT, "model_name": model_name, "model_version": model_version,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "source": source,
            "features": {name: feature_reference(values, seed + i) for i, (name, values) in enumerate(features.items())},
            PREDICTION: feature_reference(predictions, seed + len(features))}


def write_reference(out_dir, model_name: str, model_version: str, features: dict, predictions, source: str, seed: int = 0) -> Path:
    """Writes ``out_dir/reference.json``; values are rounded to 6 significant digits to keep it small."""
    ref = reference_of(model_name, model_version, features, predictions, source, seed)
    path = Path(out_dir) / "reference.json"
    path.write_text(json.dumps(_rounded(ref), separators=(",", ":")) + "\n")
    return path


def _rounded(x):
    if isinstance(x, float):
        return float(f"{x:.6g}") if math.isfinite(x) else x
    if isinstance(x, dict):
        return {k: _rounded(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_rounded(v) for v in x]
    return x


def psi(reference: dict, values, epsilon: float = 1e-4) -> float:
    """PSI of ``values`` against one feature's reference (the fixture twin of drift-stats.ts psi)."""
    v = np.asarray(values, dtype=np.float64)
    counts = np.bincount(np.searchsorted(reference["edges"], v, side="right"), minlength=len(reference["proportions"]))
    actual = np.maximum(counts / v.size, epsilon)
    expected = np.maximum(np.asarray(reference["proportions"]), epsilon)
    return float(np.sum((actual - expected) * np.log(actual / expected)))
