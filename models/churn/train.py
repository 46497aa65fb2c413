#!/usr/bin/env python3
"""Train the SparkScale churn model: CANCELLATION within 30 days of a cut-off, from the lake.

    .venv/bin/python models/churn/train.py --lake .data/lake --cutoff 2026-06-30 [--cutoff 2026-05-31 ...] \\
        [--master spark://127.0.0.1:7077]

Builds the feature table for every cut-off (features.py), splits users 80/20 by a hash of user_id,
tunes a LogisticRegression and a RandomForestClassifier pipeline by cross-validation over user
folds on areaUnderPR, evaluates both on the held-out users, keeps the better one by cross-validated
areaUnderPR, and writes to --out (default models/churn/artifacts/): pipeline-model/ (one
PipelineModel, feature table -> prediction), model-meta.json and physical-plan.txt, plus the model
card (--card, default models/churn/MODEL_CARD.md).
"""
from __future__ import annotations

import argparse
import sys
import time
from contextlib import ExitStack
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from make_reference import write_training_reference
from features import (CATEGORICAL_FEATURES, LABEL, LABEL_HORIZON_DAYS, NUMERIC_FEATURES, billing_events_dir, event_counts,
                      features_as_of, lake_root, read_billing_events)
from modeling import (GRIDS, HELDOUT_PERCENT, MODEL_KINDS, best_index, best_params, choose_threshold, evaluate, evaluator, out_of_fold,
                      tune, with_split)
from report import (bottleneck, code_version, formatted_plan, lake_files_hash, model_card, plan_facts, profile_feature_plan,
                    write_meta)
from spark_session import HERE, log, spark_job, stage

MODEL_NAME_PREFIX = "churn-30d"
TELCO_DATA = ("the Telco-derived lake (IBM Telco customer-churn snapshot turned into event histories by the billing producer): "
              "the histories are generated from static customer attributes, so temporal signals (trends, recency) are only as real "
              "as that derivation.")


def balance(rows: DataFrame) -> dict:
    r = rows.agg(F.count(F.lit(1)).alias("rows"), F.countDistinct("user_id").alias("users"), F.sum(LABEL).alias("positives")).first()
    positives = int(r["positives"] or 0)
    return {"rows": r["rows"], "users": r["users"], "positives": positives, "positive_rate": positives / r["rows"] if r["rows"] else None}


def per_cutoff_counts(table: DataFrame) -> dict:
    active = ~F.col("cancelled_by_cutoff")
    rows = (table.groupBy("cutoff_date")
            .agg(F.count(F.lit(1)).alias("users"), F.sum(F.col("cancelled_by_cutoff").cast("int")).alias("cancelled_by_cutoff"),
                 F.sum(active.cast("int")).alias("rows"), F.sum(F.when(active, F.col(LABEL)).otherwise(0)).alias("positives"))
            .orderBy("cutoff_date").collect())
    return {str(r["cutoff_date"]): {"users": r["users"], "cancelled_by_cutoff": r["cancelled_by_cutoff"], "rows": r["rows"],
                                    "positives": int(r["positives"]), "positive_rate": r["positives"] / r["rows"] if r["rows"] else None}
            for r in rows}


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Train the churn model on the billing-events lake (see the module docstring).")
    ap.add_argument("--lake", help="lake root (default: $STREAMSCORE_LAKE_DIR, else <repo>/.data/lake)")
    ap.add_argument("--cutoff", type=date.fromisoformat, action="append", required=True,
                    help="training cut-off date YYYY-MM-DD; repeat for several (each needs 30 days of events after it)")
    ap.add_argument("--master", help="Spark master (default: $SPARK_MASTER_URL, else spark://127.0.0.1:7077)")
    ap.add_argument("--out", type=Path, default=HERE / "artifacts")
    ap.add_argument("--card", type=Path, default=HERE / "MODEL_CARD.md")
    ap.add_argument("--folds", type=int, default=3, help="cross-validation folds over training users")
    ap.add_argument("--grid", choices=sorted(GRIDS), default="default", help="parameter grids (tiny: tests and quick runs)")
    ap.add_argument("--data-description", default=TELCO_DATA, help="what the lake is, for the model card")
    ap.add_argument("--allow-partial-label-window", action="store_true",
                    help="train although the lake ends before the last cut-off + 30 days (timing runs only: labels miss late churners)")
    ap.add_argument("--labels-from-table", action="store_true",
                    help="the lake was built from a churn table (streamscore churn train --table): the labels are the table's "
                         "churn flags, complete even when no cancellation falls on the last day of the window")
    ap.add_argument("--no-profile", action="store_true", help="skip timing the feature plan step by step (4 more passes over the lake)")
    ap.add_argument("--driver-memory", default="2g")
    ap.add_argument("--no-ui", action="store_true", help="no Spark UI (tests)")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    timings = {}
    with ExitStack() as job:
        with stage("spark session", timings):
            spark = job.enter_context(spark_job("churn-train", args.master, ui=not args.no_ui, driver_memory=args.driver_memory))
        train_model(spark, args, timings)
    return 0


def train_model(spark, args, timings: dict | None = None) -> dict:
    """The whole run on an existing session (main owns the session; tests pass theirs). Returns model-meta."""
    started, timings = time.perf_counter(), timings if timings is not None else {}
    cutoffs = sorted(set(args.cutoff))
    lake = lake_root(args.lake)
    through = max(cutoffs) + timedelta(days=LABEL_HORIZON_DAYS)
    master = spark.sparkContext.master
    log(f"lake {lake}, cut-offs {', '.join(map(str, cutoffs))}, master {master}")
    with stage("read and check lake", timings):
        events = read_billing_events(spark, lake)
        counts = event_counts(events.where(F.col("event_date") <= F.lit(through)))
    # A lake built from a churn table holds every CANCELLATION the table's churn flags give, however
    # early the last of them falls: its label window is complete by construction.
    label_window_complete = getattr(args, "labels_from_table", False) or (
        bool(counts["last_event_date"]) and counts["last_event_date"] >= through.isoformat())
    if not label_window_complete:
        problem = (f"labels need events through {through} (cut-off {max(cutoffs)} + {LABEL_HORIZON_DAYS} days); "
                   f"the lake ends at {counts['last_event_date']}")
        if not args.allow_partial_label_window:
            raise SystemExit(f"{problem}: use an earlier --cutoff")
        log(f"WARNING {problem}: cancellations after it are missing from the labels (--allow-partial-label-window)")

    table = with_split(features_as_of(events, cutoffs, with_label=True), args.folds)
    args.out.mkdir(parents=True, exist_ok=True)
    plan = formatted_plan(table.where(~F.col("cancelled_by_cutoff")))
    (args.out / "physical-plan.txt").write_text(plan)
    with stage("feature table", timings):
        # a few thousand rows: one partition per core, or every model iteration pays for 8 x cut-offs tiny tasks
        table = table.coalesce(spark.sparkContext.defaultParallelism).cache()
        per_cutoff = per_cutoff_counts(table)
    training_input = table.where(~F.col("cancelled_by_cutoff"))
    profile = None
    if not args.no_profile:
        with stage("profile feature plan", timings):
            profile = profile_feature_plan(events, cutoffs)
        log(f"  seconds per step: {profile}")
    for c, v in per_cutoff.items():
        log(f"  cut-off {c}: {v['users']:,} users, {v['cancelled_by_cutoff']:,} cancelled before (dropped), "
            f"{v['rows']:,} rows, {v['positives']:,} churn in 30 days")
    train = training_input.where(~F.col("heldout")).cache()
    heldout = training_input.where(F.col("heldout")).cache()
    class_balance = {"train": balance(train), "heldout": balance(heldout)}
    for k, v in class_balance.items():
        log(f"  {k:<8} {v['rows']:>8,} rows {v['users']:>8,} users {v['positives']:>6,} positive ({100 * (v['positive_rate'] or 0):.2f} %)")
        if not v["positives"] or v["positives"] == v["rows"]:
            raise SystemExit(f"the {k} split has only one class: more users or more cut-offs are needed")

    results, models = {}, {}
    for kind in MODEL_KINDS:
        with stage(f"tune {kind}", timings):
            cv = tune(kind, train, args.folds, args.grid)
        with stage(f"threshold and held-out {kind}", timings):
            threshold = choose_threshold(out_of_fold(cv, train, args.folds))
            heldout_metrics = evaluate(cv.bestModel, heldout, threshold)
        models[kind] = cv.bestModel
        results[kind] = {"estimator": MODEL_KINDS[kind], "params": best_params(cv), "cv_area_under_pr": max(cv.avgMetrics),
                         "cv_area_under_pr_std": cv.stdMetrics[best_index(cv)],
                         "cv_grid": [{"params": {p.name: v for p, v in pm.items()}, "area_under_pr": m}
                                     for pm, m in zip(cv.getEstimatorParamMaps(), cv.avgMetrics)],
                         "threshold": threshold, "heldout": heldout_metrics}
        at = heldout_metrics["at_threshold"]
        log(f"  {MODEL_KINDS[kind]}: CV AUC-PR {results[kind]['cv_area_under_pr']:.4f}; held-out AUC-ROC "
            f"{heldout_metrics['areaUnderROC']:.4f} AUC-PR {heldout_metrics['areaUnderPR']:.4f}; threshold {threshold:.2f} -> "
            f"precision {at['precision'] or 0:.3f} recall {at['recall'] or 0:.3f}")
    chosen = max(results, key=lambda k: results[k]["cv_area_under_pr"])

    model_dir = args.out / "pipeline-model"
    with stage("save and reload pipeline model", timings):
        models[chosen].write().overwrite().save(str(model_dir))
        # Hadoop's local checksum files: reads skip the check without them, and a committed model
        # whose metadata a checkout rewrites (line endings) would fail it
        for checksum in model_dir.rglob(".*.crc"):
            checksum.unlink()
        reloaded = evaluator().evaluate(PipelineModel.load(str(model_dir)).transform(heldout))
    if abs(reloaded - results[chosen]["heldout"]["areaUnderPR"]) > 1e-9:
        raise SystemExit(f"the reloaded PipelineModel scores differently (AUC-PR {reloaded} vs {results[chosen]['heldout']['areaUnderPR']})")

    code, now = code_version(), datetime.now(timezone.utc)
    timings["total"] = round(time.perf_counter() - started, 3)
    meta = {
        "model_name": f"{MODEL_NAME_PREFIX}-{chosen}", "model_version": f"{now:%Y.%m.%d}-{code['short']}",
        "estimator": MODEL_KINDS[chosen], "params": results[chosen]["params"], "chosen": chosen,
        "choice_rule": "higher cross-validated areaUnderPR (held-out users take no part in the choice)",
        "threshold": results[chosen]["threshold"], "threshold_rule": "best F1 on out-of-fold predictions, 0.01 grid",
        "label": f"CANCELLATION in (cut-off, cut-off + {LABEL_HORIZON_DAYS} d]", "label_window_complete": label_window_complete,
        "numeric_features": list(NUMERIC_FEATURES), "categorical_features": list(CATEGORICAL_FEATURES),
        "pipeline_stages": [type(s).__name__ for s in models[chosen].stages],
        "metrics": results, "class_balance": class_balance, "cutoffs": [str(c) for c in cutoffs],
        "split": {"heldout_percent": HELDOUT_PERCENT, "folds": args.folds, "by": "xxhash64 of user_id", "grid": args.grid},
        "row_counts": {"events": counts, "per_cutoff": per_cutoff},
        "training_data": {"lake": str(lake), **lake_files_hash(billing_events_dir(lake), through)},
        "data_description": args.data_description,
        "code_version": code, "spark": {"version": spark.version, "master": master},
        "timings_s": timings, "created": now.isoformat(timespec="seconds"),
    }
    facts = plan_facts(plan)
    meta["physical_plan"] = {"file": "physical-plan.txt", **facts}
    meta["physical_plan"]["profile_s"] = profile
    meta["bottleneck"] = bottleneck(facts, profile, timings, meta["training_data"])
    write_meta(args.out / "model-meta.json", meta)
    # The version's training distributions, for the daily batch's drift check (batch_drift.py)
    write_training_reference(models[chosen], train, args.out, meta["model_name"], meta["model_version"],
                             source=f"training rows at cut-off(s) {', '.join(meta['cutoffs'])} (not held out)")
    args.card.write_text(model_card(meta))
    log(f"chose {MODEL_KINDS[chosen]}; wrote {model_dir}, {args.out / 'model-meta.json'}, {args.card}")
    log(f"bottleneck: {meta['bottleneck']}")
    table.unpersist()
    train.unpersist()
    heldout.unpersist()
    return meta


if __name__ == "__main__":
    sys.exit(main())
