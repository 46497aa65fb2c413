#!/usr/bin/env python3
"""Writes streams/runtime/drift/fixtures/drift-stats.json: the numbers drift-stats.test.ts holds the
TypeScript PSI and KS to, computed here by scipy.stats.ks_2samp (method="asymp" and "exact" D) and
numpy (PSI through reference.py). Deterministic (seeded); rerun after changing a case:

    .venv/bin/python models/common/make_drift_fixtures.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference import feature_reference, psi  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "streams" / "runtime" / "drift" / "fixtures" / "drift-stats.json"


def cases(rng: np.random.Generator):
    normal = lambda loc, n, scale=1.0: rng.normal(loc, scale, n)
    yield "same normal, 1000 vs 1000", normal(0, 1000), normal(0, 1000)
    yield "shift 0.1 sd, 1000 vs 1000", normal(0, 1000), normal(0.1, 1000)
    yield "shift 0.3 sd, 1000 vs 500", normal(0, 1000), normal(0.3, 500)
    yield "scale 1.5, 1000 vs 800", normal(0, 1000), normal(0, 800, 1.5)
    yield "shift 1 sd, 1000 vs 1000 (tiny p)", normal(0, 1000), normal(1, 1000)
    yield "small samples 30 vs 40", normal(0, 30), normal(0.5, 40)
    yield "ties: integers 0..4", rng.integers(0, 5, 1000).astype(float), rng.integers(0, 6, 700).astype(float)
    yield "mostly zeros (merged cut points)", np.where(rng.random(1000) < 0.8, 0.0, rng.exponential(1, 1000)), np.where(rng.random(900) < 0.6, 0.0, rng.exponential(1, 900))
    yield "lognormal vs shifted", rng.lognormal(0, 1, 1000), rng.lognormal(0.2, 1, 1000)


def main() -> int:
    rng = np.random.default_rng(20261206)
    out = []
    for name, reference, observed in cases(rng):
        # 6 significant digits: a smaller file, and both sides compute on exactly these numbers
        reference, observed = (np.array([float(f"{x:.6g}") for x in a]) for a in (reference, observed))
        ks = stats.ks_2samp(reference, observed, method="asymp")
        ref = feature_reference(reference, seed=1)
        out.append({"name": name, "reference": np.sort(reference).tolist(), "observed": np.sort(observed).tolist(),
                    "ks_d": float(ks.statistic), "ks_p_asymp": float(ks.pvalue),
                    "edges": ref["edges"], "proportions": ref["proportions"], "psi": psi(ref, observed)})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"made_by": "models/common/make_drift_fixtures.py", "scipy": __import__("scipy").__version__,
                               "numpy": np.__version__, "cases": out}) + "\n")
    print(f"wrote {OUT} ({len(out)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
