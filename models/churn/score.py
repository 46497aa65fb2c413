#!/usr/bin/env python3
"""Daily batch scoring: every active subscriber as of ``--date``, with the saved PipelineModel.

    .venv/bin/python models/churn/score.py --date 2026-07-15 [--lake DIR] [--master spark://127.0.0.1:7077]

Features as of the end of the date (features.py, same code as training), scored by
models/churn/artifacts/pipeline-model, with segment, high_value and top_reasons (reasons.py), are
written to ``<lake>/telecom/churn_predictions/score_date=YYYY-MM-DD/`` in the columns of
docs/sparkscale.md. The job overwrites only that partition directory, so re-running a date replaces
its scores and leaves other dates alone. Every user of the lake is scored or reported: those it does
not score (``cancelled_by_cutoff``: cancelled on or before the date; ``joined_after_date``: no event
by the end of the date) go to ``<lake>/telecom/churn_unscored/score_date=YYYY-MM-DD/`` (user_id,
reason) and are counted by reason in the summary. Prints one summary JSON line last (and writes it
to ``--summary-out`` when given).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from batch_drift import DEFAULT_MIN_RECORDS, batch_drift, read_reference
from drift import PREDICTION
from features import CATEGORICAL_FEATURES, NUMERIC_FEATURES, event_counts, features_as_of, lake_root, read_billing_events
from modeling import churn_probability
from reasons import HIGH_VALUE_SHARE, high_value, segment, top_reasons
from spark_session import HERE, log, spark_job, stage

OUTPUT_COLUMNS = ("user_id", "churn_probability", "model_name", "model_version", "scored_at", "segment", "high_value", "top_reasons")


class ModelMismatchError(RuntimeError):
    """The saved model was trained on other feature columns than this code computes."""


def predictions_dir(lake: Path, day: date) -> Path:
    return lake / "telecom" / "churn_predictions" / f"score_date={day.isoformat()}"


def unscored_dir(lake: Path, day: date) -> Path:
    return lake / "telecom" / "churn_unscored" / f"score_date={day.isoformat()}"


def unscored_users(events: DataFrame, table: DataFrame) -> DataFrame:
    """(user_id, reason) of every user in ``events`` that the day's feature ``table`` (features_as_of
    at the date) does not leave active: no row = no event by the end of the date."""
    everyone = events.select("user_id").distinct()
    state = everyone.join(table.select("user_id", "cancelled_by_cutoff"), "user_id", "left")
    reason = (F.when(F.col("cancelled_by_cutoff").isNull(), F.lit("joined_after_date"))
              .when(F.col("cancelled_by_cutoff"), F.lit("cancelled_by_cutoff")))
    return state.select("user_id", reason.alias("reason")).where(F.col("reason").isNotNull())


def load_model(model_dir: Path) -> tuple[PipelineModel, dict]:
    meta = json.loads((model_dir / "model-meta.json").read_text())
    trained_on = (tuple(meta["numeric_features"]), tuple(meta["categorical_features"]))
    if trained_on != (NUMERIC_FEATURES, CATEGORICAL_FEATURES):
        raise ModelMismatchError(f"{model_dir} was trained on features {trained_on}, features.py computes "
                                 f"{(NUMERIC_FEATURES, CATEGORICAL_FEATURES)}: retrain with train.py")
    return PipelineModel.load(str(model_dir / "pipeline-model")), meta


def score_day(spark: SparkSession, lake: Path, day: date, model_dir: Path, *, allow_stale_lake: bool = False,
              predictions_lake: Path | None = None, drift_min_records: int = DEFAULT_MIN_RECORDS) -> dict:
    """Scores ``day`` and writes its partition under ``predictions_lake`` (default: ``lake``; the
    benchmark writes elsewhere). Returns the summary."""
    started, timings = time.perf_counter(), {}
    with stage("load model", timings):
        model, meta = load_model(model_dir)
    log(f"model {meta['model_name']} {meta['model_version']}, score date {day}, lake {lake}")
    with stage("read and check lake", timings):
        events = read_billing_events(spark, lake)
        counts = event_counts(events.where(F.col("event_date") <= F.lit(day)))
    if (counts["last_event_date"] or "") < day.isoformat() and not allow_stale_lake:
        raise SystemExit(f"the lake's last event date is {counts['last_event_date']}, before {day}: the sink has not caught up "
                         "(--allow-stale-lake scores anyway)")
    with stage("features", timings):
        table = features_as_of(events, day, with_label=False).coalesce(spark.sparkContext.defaultParallelism).cache()
        active = table.where(~F.col("cancelled_by_cutoff"))
        quantile = active.approxQuantile("avg_bill_amount_last3", [1 - HIGH_VALUE_SHARE], 0.001)
    scored_at = datetime.now(timezone.utc).replace(microsecond=0)  # milliseconds in the file; whole seconds are enough
    scored = model.transform(active)
    out = scored.select(
        "user_id", churn_probability(scored).alias("churn_probability"),
        F.lit(meta["model_name"]).alias("model_name"), F.lit(meta["model_version"]).alias("model_version"),
        F.lit(scored_at).alias("scored_at"), segment().alias("segment"),
        high_value(quantile[0] if quantile else None).alias("high_value"), top_reasons().alias("top_reasons"))
    path = predictions_dir(predictions_lake or lake, day)
    with stage("score and write", timings):
        # one file per day: the scores of a few thousand (or hundred thousand) users are a few MB
        out.coalesce(1).write.mode("overwrite").parquet(str(path))
    written = spark.read.parquet(str(path)).agg(F.count(F.lit(1)).alias("n"), F.avg("churn_probability").alias("mean"),
                                                F.sum(F.col("high_value").cast("int")).alias("high_value")).first()
    unscored_path = unscored_dir(predictions_lake or lake, day)
    with stage("report unscored", timings):
        unscored_users(events, table).coalesce(1).write.mode("overwrite").parquet(str(unscored_path))
        by_reason = {r["reason"]: r["n"] for r in spark.read.parquet(str(unscored_path)).groupBy("reason")
                     .agg(F.count(F.lit(1)).alias("n")).collect()}
    # The batch against the version's training reference (batch_drift.py); a model without one is not monitored.
    reference = read_reference(model_dir)
    drift = None
    if reference is not None:
        with stage("drift", timings):
            drift = batch_drift(scored.select(*reference["features"], churn_probability(scored).alias(PREDICTION)), reference,
                                predictions_lake or lake, day, min_records=drift_min_records)
        for a in drift["alerts"]:
            log(f"drift {a['state']}: {a['feature']} {a['statistic']} {a['value']:.3f} (threshold {a['threshold']})")
        # The summary line keeps what the caller acts on; every feature's numbers are in the report
        drift = {"report": drift["report"], "records": drift["records"], "features_judged": len(drift["features"]),
                 "alerts": drift["alerts"]}
    else:
        log(f"no reference.json in {model_dir}: the batch is not checked for drift")
    table.unpersist()
    return {"score_date": day.isoformat(), "users_scored": written["n"], "users_unscored": sum(by_reason.values()),
            "unscored_by_reason": by_reason, "unscored_output": str(unscored_path), "mean_probability": written["mean"],
            "high_value": written["high_value"], "output": str(path), "model_name": meta["model_name"],
            "model_version": meta["model_version"], "events_read": counts["rows"], "timings_s": timings,
            "seconds": round(time.perf_counter() - started, 3), "drift": drift}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Score every active subscriber as of --date (see the module docstring).")
    ap.add_argument("--date", type=date.fromisoformat, required=True, help="score date YYYY-MM-DD (UTC)")
    ap.add_argument("--lake", help="lake root (default: $STREAMSCORE_LAKE_DIR, else <repo>/.data/lake)")
    ap.add_argument("--model-dir", type=Path, default=HERE / "artifacts", help="holds pipeline-model/ and model-meta.json")
    ap.add_argument("--master", help="Spark master (default: $SPARK_MASTER_URL, else spark://127.0.0.1:7077)")
    ap.add_argument("--allow-stale-lake", action="store_true", help="score even when the lake has no events on --date")
    ap.add_argument("--driver-memory", default="2g")
    ap.add_argument("--no-ui", action="store_true", help="no Spark UI (tests)")
    ap.add_argument("--summary-out", type=Path, help="also write the summary JSON to this file")
    ap.add_argument("--drift-min-records", type=int, default=DEFAULT_MIN_RECORDS,
                    help="a batch with fewer scored users is not judged for drift (default %(default)s)")
    args = ap.parse_args(argv)
    with spark_job("churn-score", args.master, ui=not args.no_ui, driver_memory=args.driver_memory) as spark:
        summary = score_day(spark, lake_root(args.lake), args.date, args.model_dir, allow_stale_lake=args.allow_stale_lake,
                            drift_min_records=args.drift_min_records)
    if args.summary_out:
        args.summary_out.write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
