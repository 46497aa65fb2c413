#!/usr/bin/env python3
"""Times the churn jobs on a lake and a master; prints one JSON line.

    # feature build + training, then scoring one day (1 vs 2 workers: --cores-max 1 / 2)
    .venv/bin/python models/churn/bench.py run --lake .data/lake --cutoff 2026-06-30 --date 2026-07-15 \\
        [--master spark://127.0.0.1:7077] [--cores-max 1]
    # a lake with N copies of every subscriber, for the 2x/4x/8x runs
    .venv/bin/python models/churn/bench.py scale --lake .data/lake --factor 4 --out .data/lake-4x

``run`` is train.py's whole run (its stage timings: "feature table" is scan + shuffle + per-user
aggregation, then the tuning) into a temporary artifacts dir, then score.py's run with that model
into a temporary predictions dir: the lake and models/churn/artifacts are left alone.
``seconds.train_total`` leaves out train.py's step-by-step profile of the feature plan (reported
as ``feature_plan_step_seconds``; ``--no-profile`` skips it), and the run accepts a lake that ends
before the last cut-off + 30 days (timings only: such labels miss late churners). ``scale``
copies users (user_id and event_id get a ``~k`` suffix, kafka offsets stay unique), so timings
grow with the data while the model metrics of a scaled lake mean nothing (copies of one user land
on both sides of the split).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from pyspark.sql import functions as F

import score
import train
from features import billing_events_dir, lake_root, validate_schema
from spark_session import log, resolve_master, spark_job


def run(spark, args) -> dict:
    lake = lake_root(args.lake)
    with tempfile.TemporaryDirectory(prefix="churn-bench-") as tmp:
        out = Path(tmp)
        train_args = train.parse_args(["--lake", str(lake), "--out", str(out / "artifacts"), "--card", str(out / "MODEL_CARD.md"),
                                       "--folds", str(args.folds), "--grid", args.grid, "--data-description", "benchmark run", "--allow-partial-label-window"]
                                      + (["--no-profile"] if args.no_profile else [])
                                      + [a for c in args.cutoff for a in ("--cutoff", c.isoformat())])
        started = time.perf_counter()
        meta = train.train_model(spark, train_args, {})
        train_seconds = time.perf_counter() - started
        scored = score.score_day(spark, lake, args.date, out / "artifacts", allow_stale_lake=args.allow_stale_lake,
                                 predictions_lake=out / "predictions")
    return {
        "lake": str(lake), "master": spark.sparkContext.master, "default_parallelism": spark.sparkContext.defaultParallelism,
        "cores_max": args.cores_max, "cutoffs": meta["cutoffs"], "score_date": args.date.isoformat(), "grid": args.grid,
        "events_read_train": meta["row_counts"]["events"]["rows"], "lake_bytes_read_train": meta["training_data"]["bytes"],
        "training_rows": sum(v["rows"] for v in meta["class_balance"].values()),
        "events_read_score": scored["events_read"], "users_scored": scored["users_scored"],
        "feature_plan_step_seconds": meta["physical_plan"]["profile_s"],
        "seconds": {"train_total": round(train_seconds - meta["timings_s"].get("profile feature plan", 0.0), 3), **{f"train {k}": v for k, v in meta["timings_s"].items() if k != "total"},
                    "score_total": scored["seconds"], **{f"score {k}": v for k, v in scored["timings_s"].items()}},
    }


def scale(spark, args) -> dict:
    source, target = lake_root(args.lake), lake_root(args.out)
    if source == target:
        raise SystemExit("--out must be another lake than --lake")
    events = spark.read.option("mergeSchema", "true").parquet(str(billing_events_dir(source)))
    validate_schema(events.schema, str(billing_events_dir(source)))
    copy = F.col("copy")
    suffix = lambda name: F.when(copy == 0, F.col(name)).otherwise(F.concat(F.col(name), F.lit("~"), copy.cast("string")))  # noqa: E731
    scaled = (events.withColumn("copy", F.explode(F.sequence(F.lit(0), F.lit(args.factor - 1))))
              .withColumn("user_id", suffix("user_id")).withColumn("event_id", suffix("event_id"))
              .withColumn("kafka_offset", F.col("kafka_offset") * args.factor + copy)
              .drop("copy"))
    started = time.perf_counter()
    scaled.write.mode("overwrite").partitionBy("event_date").parquet(str(billing_events_dir(target)))
    rows = spark.read.parquet(str(billing_events_dir(target))).count()
    return {"from": str(source), "to": str(target), "factor": args.factor, "events": rows, "seconds": round(time.perf_counter() - started, 3)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark the churn jobs (see the module docstring).")
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="time feature build + training and scoring")
    r.add_argument("--lake", help="lake root (default: $STREAMSCORE_LAKE_DIR, else <repo>/.data/lake)")
    r.add_argument("--cutoff", type=date.fromisoformat, action="append", required=True)
    r.add_argument("--date", type=date.fromisoformat, required=True, help="score date")
    r.add_argument("--folds", type=int, default=3)
    r.add_argument("--grid", choices=("default", "tiny"), default="default")
    r.add_argument("--allow-stale-lake", action="store_true")
    r.add_argument("--no-profile", action="store_true", help="skip train.py's step-by-step timing of the feature plan")
    s = sub.add_parser("scale", help="write a lake with --factor copies of every subscriber")
    s.add_argument("--lake", help="source lake root")
    s.add_argument("--out", required=True, help="target lake root (its billing_events is replaced)")
    s.add_argument("--factor", type=int, required=True)
    for p in (r, s):
        p.add_argument("--master", help="Spark master (default: $SPARK_MASTER_URL, else spark://127.0.0.1:7077)")
        p.add_argument("--cores-max", type=int, help="spark.cores.max: use only this many worker cores (1 = one worker)")
        p.add_argument("--no-ui", action="store_true")
    args = ap.parse_args(argv)
    extra = {"spark.cores.max": str(args.cores_max)} if args.cores_max else {}
    log(f"bench {args.command} on {resolve_master(args.master)}")
    with spark_job(f"churn-bench-{args.command}", args.master, ui=not args.no_ui, extra=extra) as spark:
        result = run(spark, args) if args.command == "run" else scale(spark, args)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
