#!/usr/bin/env python3
"""Delayed-label evaluation of the churn model: the predictions of ``D - 30`` against the cancellations
that followed them.

    .venv/bin/python models/churn/evaluate.py --date 2026-07-30 [--lake DIR] [--model-dir DIR] [--threshold T]

The model predicts a CANCELLATION in the 30 days after its score date (the training label,
features.py), so on ``D`` the scores of ``D - 30`` (``<lake>/telecom/churn_predictions/score_date=D-30/``,
written by score.py) can be judged: a user scored at or above the threshold of the model meta is a
true positive when the lake has a CANCELLATION of theirs with event time in (end of D-30, end of D],
else a false positive; a user scored below it who cancelled in that window is a false negative.
Cancellations of users the day did not score (they joined later) are counted apart, not as misses.
The lake must hold events up to ``D`` (as score.py checks), else the labels are incomplete.
Prints one summary JSON line last (and writes it to ``--summary-out``): the counts, precision and
recall that ``streamscore churn evaluate`` publishes to models.performance.v1.

A day scored with a challenger (score.py --challenger-dir) holds two versions (a canary) or has a
shadow partition beside it (``<lake>/shadow/...``): each version is judged on its own users at its own
threshold (the rows' ``threshold`` column), and the summary is ``{"evaluations": [one per version]}``,
so the rollout's delayed-label precision rule can compare the challenger with the champion.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from features import LABEL_HORIZON_DAYS, event_counts, lake_root, read_billing_events
from spark_session import HERE, log, spark_job, stage


class EvaluationError(RuntimeError):
    """The day cannot be evaluated: no predictions for D-30, an incomplete lake, or an unknown threshold."""


def predictions_dir(lake: Path, day: date) -> Path:
    # The layout of score.py's predictions_dir (not imported: score.py loads the ML pipeline).
    return lake / "telecom" / "churn_predictions" / f"score_date={day.isoformat()}"


def cancellations_between(events: DataFrame, after: date, through: date) -> DataFrame:
    """Distinct user_id with a CANCELLATION in (end of ``after``, end of ``through``] (UTC days)."""
    start = F.lit(after + timedelta(days=1)).cast("timestamp")
    end = F.lit(through + timedelta(days=1)).cast("timestamp")
    t = F.col("event_time")
    return events.where((F.col("event_type") == "CANCELLATION") & (t >= start) & (t < end)).select("user_id").distinct()


def join_outcomes(predictions: DataFrame, cancelled: DataFrame, threshold: float) -> dict:
    """TP/FP/FN of ``predictions`` (user_id, churn_probability) against the ``cancelled`` users: one
    small aggregate job. Precision and recall are None when their denominator is 0."""
    labelled = (predictions.select("user_id", (F.col("churn_probability") >= F.lit(threshold)).alias("positive"))
                .join(cancelled.select("user_id", F.lit(True).alias("cancelled")), "user_id", "left")
                .select("positive", F.coalesce(F.col("cancelled"), F.lit(False)).alias("cancelled")))
    row = labelled.agg(
        F.sum((F.col("positive") & F.col("cancelled")).cast("long")).alias("tp"),
        F.sum((F.col("positive") & ~F.col("cancelled")).cast("long")).alias("fp"),
        F.sum((~F.col("positive") & F.col("cancelled")).cast("long")).alias("fn"),
        F.count(F.lit(1)).alias("scored")).first()
    tp, fp, fn = (int(row[k] or 0) for k in ("tp", "fp", "fn"))
    unscored = cancelled.join(predictions.select("user_id"), "user_id", "left_anti").count()
    return {"scored": int(row["scored"]), "true_positives": tp, "false_positives": fp, "false_negatives": fn,
            "labels_caught": tp, "cancelled_unscored": unscored,
            "precision": tp / (tp + fp) if tp + fp else None, "recall": tp / (tp + fn) if tp + fn else None}


def evaluate_day(spark: SparkSession, lake: Path, day: date, model_dir: Path, threshold: float | None = None) -> dict:
    started, timings = time.perf_counter(), {}
    predicted_on = day - timedelta(days=LABEL_HORIZON_DAYS)
    path = predictions_dir(lake, predicted_on)
    if not path.is_dir():
        raise EvaluationError(f"{path}: no predictions of {predicted_on} (D-{LABEL_HORIZON_DAYS}) to evaluate: "
                              f"streamscore churn score --date {predicted_on}")
    shadow = predictions_dir(lake / "shadow", predicted_on)
    with stage("read predictions", timings):
        frames = [spark.read.parquet(str(p)) for p in (path, shadow) if p.is_dir()]
        versions = [(r["model_name"], r["model_version"]) for f in frames for r in f.select("model_name", "model_version").distinct().collect()]
    if len(frames) > 1 or (len(versions) > 1 and "threshold" in frames[0].columns):
        cancelled = _cancelled(spark, lake, day, predicted_on).cache()
        return {"evaluations": [_evaluate_version(day, predicted_on, f.where(F.col("model_version") == v), cancelled, threshold, timings)
                                for f in frames for v in sorted({r["model_version"] for r in f.select("model_version").distinct().collect()})]}
    predictions = frames[0].select("user_id", "churn_probability", "model_name", "model_version")
    if len(versions) != 1:
        raise EvaluationError(f"{path}: expected the scores of one model version, found {versions or 'none'}")
    model_name, model_version = versions[0]
    meta = json.loads((model_dir / "model-meta.json").read_text())
    if threshold is None:
        if meta.get("model_version") != model_version:
            raise EvaluationError(f"{path} was scored by {model_name} {model_version}, {model_dir} holds {meta.get('model_version')}: "
                                  "give --model-dir of that version or --threshold")
        threshold = float(meta["threshold"])
    with stage("read and check lake", timings):
        events = read_billing_events(spark, lake)
        last = event_counts(events.where(F.col("event_date") <= F.lit(day)))["last_event_date"]
    if (last or "") < day.isoformat():
        raise EvaluationError(f"the lake's last event date is {last}, before {day}: the cancellations up to {day} are not all in yet")
    with stage("join", timings):
        outcome = join_outcomes(predictions, cancellations_between(events, predicted_on, day), threshold)
    log(f"{model_name} {model_version} scored {predicted_on}: precision {outcome['precision']}, recall {outcome['recall']} at {threshold}")
    return {"model_name": model_name, "model_version": model_version, "day": predicted_on.isoformat(), "evaluated_on": day.isoformat(),
            "horizon_days": LABEL_HORIZON_DAYS, "threshold": threshold, **outcome, "timings_s": timings,
            "seconds": round(time.perf_counter() - started, 3)}


def _cancelled(spark: SparkSession, lake: Path, day: date, predicted_on: date) -> DataFrame:
    """The users who cancelled in (predicted_on, day], once the lake is known to hold events up to ``day``."""
    events = read_billing_events(spark, lake)
    last = event_counts(events.where(F.col("event_date") <= F.lit(day)))["last_event_date"]
    if (last or "") < day.isoformat():
        raise EvaluationError(f"the lake's last event date is {last}, before {day}: the cancellations up to {day} are not all in yet")
    return cancellations_between(events, predicted_on, day)


def _evaluate_version(day: date, predicted_on: date, rows: DataFrame, cancelled: DataFrame, threshold: float | None, timings: dict) -> dict:
    """One version's rows of a rollout day, at --threshold or the rows' own ``threshold`` column."""
    started = time.perf_counter()
    first = rows.select("model_name", "model_version", *(["threshold"] if "threshold" in rows.columns else [])).first()
    if threshold is None and (first is None or "threshold" not in rows.columns or first["threshold"] is None):
        raise EvaluationError(f"the predictions of {predicted_on} by {first and first['model_version']} have no threshold column: give --threshold")
    at = threshold if threshold is not None else float(first["threshold"])
    outcome = join_outcomes(rows.select("user_id", "churn_probability"), cancelled, at)
    log(f"{first['model_name']} {first['model_version']} scored {predicted_on}: precision {outcome['precision']}, recall {outcome['recall']} at {at}")
    return {"model_name": first["model_name"], "model_version": first["model_version"], "day": predicted_on.isoformat(), "evaluated_on": day.isoformat(),
            "horizon_days": LABEL_HORIZON_DAYS, "threshold": at, **outcome, "timings_s": timings, "seconds": round(time.perf_counter() - started, 3)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Evaluate the predictions of --date minus 30 days (see the module docstring).")
    ap.add_argument("--date", type=date.fromisoformat, required=True, help="evaluation date D, YYYY-MM-DD (UTC)")
    ap.add_argument("--lake", help="lake root (default: $STREAMSCORE_LAKE_DIR, else <repo>/.data/lake)")
    ap.add_argument("--model-dir", type=Path, default=HERE / "artifacts", help="model-meta.json with the threshold")
    ap.add_argument("--threshold", type=float, help="instead of the model meta's threshold")
    ap.add_argument("--master", help="Spark master (default: $SPARK_MASTER_URL, else spark://127.0.0.1:7077)")
    ap.add_argument("--no-ui", action="store_true", help="no Spark UI (tests)")
    ap.add_argument("--summary-out", type=Path, help="also write the summary JSON to this file")
    args = ap.parse_args(argv)
    try:
        with spark_job("churn-evaluate", args.master, ui=not args.no_ui) as spark:
            summary = evaluate_day(spark, lake_root(args.lake), args.date, args.model_dir, args.threshold)
    except EvaluationError as err:
        print(f"churn evaluate: {err}", file=sys.stderr)
        return 2
    if args.summary_out:
        args.summary_out.write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
