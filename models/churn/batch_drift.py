"""Drift of one daily scoring batch (score.py) against the model version's reference.json, in Spark:
counts in the reference's bins over every scored user (one aggregation pass) and a random sample of
at most 1,000 values per feature for KS (the size of the streaming monitor's reservoir), judged by
drift.py's rule. The report is kept at ``<lake>/telecom/churn_drift/score_date=D/drift.json``; the
next scored date of the same model version continues its streaks from it (PSI needs 2 consecutive
days). Re-scoring a date reads the date before it, so a re-run gives the same alerts.
"""
from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from drift import PREDICTION, judge_batch

REFERENCE_FILE = "reference.json"
SAMPLE_SIZE = 1_000
# A batch smaller than this is not judged (drift-monitor.ts minRecords): the maintenance scorer's 500.
DEFAULT_MIN_RECORDS = 500


def drift_dir(lake: Path) -> Path:
    return lake / "telecom" / "churn_drift"


def read_reference(model_dir: Path) -> dict | None:
    path = model_dir / REFERENCE_FILE
    return json.loads(path.read_text()) if path.exists() else None


def previous_report(lake: Path, day: date, model_version: str) -> dict | None:
    """The latest report before ``day`` of the same model version (a new version starts afresh)."""
    reports = []
    for d in drift_dir(lake).glob("score_date=*/drift.json"):
        on = d.parent.name.split("=", 1)[1]
        if on < day.isoformat():
            reports.append((on, d))
    for _, path in sorted(reports, reverse=True):
        report = json.loads(path.read_text())
        if report.get("model_version") == model_version:
            return report
    return None


def _finite(c: Column) -> Column:
    return c.isNotNull() & ~F.isnan(c)


def _bin(c: Column, edges: list[float]) -> Column:
    """#(edges <= v): numpy.searchsorted(edges, v, side="right"), as reference.py and binIndex count."""
    return sum((F.when(c >= F.lit(e), 1).otherwise(0) for e in edges), F.lit(0))


def batch_drift(values: DataFrame, reference: dict, lake: Path, day: date, *, min_records: int = DEFAULT_MIN_RECORDS,
                seed: int = 1) -> dict:
    """``values``: one row per scored user with the reference's feature columns and ``prediction``."""
    refs = {**reference["features"], PREDICTION: reference[PREDICTION]}
    missing = [n for n in refs if n not in values.columns]
    if missing:
        raise ValueError(f"reference.json of {reference['model_version']} names features the batch lacks: {missing}")
    aggs = []
    for name, ref in refs.items():
        c = F.col(name).cast("double")
        b = F.when(_finite(c), _bin(c, ref["edges"]))
        aggs += [F.sum(F.when(b == i, 1).otherwise(0)).alias(f"{name}__{i}") for i in range(len(ref["proportions"]))]
    row = values.agg(*aggs, F.count(F.lit(1)).alias("__n")).first()
    counts = {name: [int(row[f"{name}__{i}"] or 0) for i in range(len(ref["proportions"]))] for name, ref in refs.items()}
    n = int(row["__n"])
    # Twice the size, then cut: Bernoulli sampling gives about, not exactly, the fraction.
    picked = values.select(*refs).sample(False, min(1.0, 2 * SAMPLE_SIZE / max(n, 1)), seed).limit(SAMPLE_SIZE).collect()
    samples = {}
    for name in refs:
        v = np.array([r[name] for r in picked if r[name] is not None], dtype=np.float64)
        samples[name] = np.sort(v[np.isfinite(v)])
    start = int(datetime.combine(day, datetime.min.time(), timezone.utc).timestamp() * 1000)
    window = (start, start + int(timedelta(days=1).total_seconds() * 1000) - 1)
    previous = previous_report(lake, day, reference["model_version"])
    report = judge_batch(reference, counts, samples, window, previous, int(time.time() * 1000), min_records)
    report.update(score_date=day.isoformat(), model_name=reference["model_name"], model_version=reference["model_version"],
                  records=n, continued_from=previous["score_date"] if previous else None)
    path = drift_dir(lake) / f"score_date={day.isoformat()}" / "drift.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    report["report"] = str(path)
    return report
