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

With ``--challenger-dir DIR --rollout shadow|canary [--fraction F --salt S]`` a challenger is served
beside the model (batch_rollout.py): in shadow it scores every user into the shadow partition only;
in canary it serves the users hashed into the fraction, marked ``role=canary`` in the partition. Its
batch is judged by the policy's rollback rules (rollout_rules.py); the summary's ``rollout`` names a
breach, on which every live row is the champion's and ``churn score`` rolls the challenger back.
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

import batch_rollout
from batch_drift import DEFAULT_MIN_RECORDS, batch_drift, read_reference
from drift import PREDICTION
from features import CATEGORICAL_FEATURES, NUMERIC_FEATURES, event_counts, features_as_of, lake_root, read_billing_events
from modeling import churn_probability
from reasons import HIGH_VALUE_SHARE, high_value, segment, top_reasons
from rollout_rules import policy_rollout_rules
from spark_session import HERE, log, spark_job, stage

OUTPUT_COLUMNS = ("user_id", "churn_probability", "model_name", "model_version", "scored_at", "segment", "high_value", "top_reasons")
# Beside OUTPUT_COLUMNS in a rollout's partitions (the publisher reads only those): who scored the row
# (and a `threshold` column: that model's decision threshold, for `churn evaluate`).
ROLE_COLUMN = "role"


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
              predictions_lake: Path | None = None, drift_min_records: int = DEFAULT_MIN_RECORDS,
              challenger: dict | None = None) -> dict:
    """Scores ``day`` and writes its partition under ``predictions_lake`` (default: ``lake``; the
    benchmark writes elsewhere). ``challenger``: {dir, stage, fraction, salt, rules (optional: the
    policy's)} for a shadow or canary. Returns the summary."""
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
    rollout, pairs, challenger_meta = None, None, None
    if challenger:
        with stage("challenger", timings):
            rollout, pairs, challenger_meta = run_challenger(active, scored, challenger, meta)
    live = scored.withColumn("champion_p", churn_probability(scored))
    live = live.join(pairs.select("user_id", "challenger_p"), "user_id", "left") if pairs is not None else live.withColumn("challenger_p", F.lit(None).cast("double"))
    serve_canary = bool(rollout and rollout["breach"] is None and rollout["challenger_error"] is None)
    cols = batch_rollout.served(rollout["stage"] if rollout else "none", serve_canary, meta, challenger_meta)
    common = [F.lit(scored_at).alias("scored_at"), segment().alias("segment"),
              high_value(quantile[0] if quantile else None).alias("high_value"), top_reasons().alias("top_reasons")]
    out = live.select("user_id", cols["churn_probability"].alias("churn_probability"), cols["model_name"].alias("model_name"),
                      cols["model_version"].alias("model_version"), *common,
                      *([cols["role"].alias(ROLE_COLUMN), cols["threshold"].alias("threshold")] if rollout else []))
    path = predictions_dir(predictions_lake or lake, day)
    with stage("score and write", timings):
        # one file per day: the scores of a few thousand (or hundred thousand) users are a few MB
        out.coalesce(1).write.mode("overwrite").parquet(str(path))
    if rollout and rollout["stage"] == "shadow" and challenger_meta and rollout["challenger_error"] is None:
        shadow_path = batch_rollout.day_dir(predictions_lake or lake, day)
        with stage("write shadow", timings):
            live.where(batch_rollout.valid_score(F.col("challenger_p"))).select(
                "user_id", F.col("challenger_p").alias("churn_probability"), F.lit(challenger_meta["model_name"]).alias("model_name"),
                F.lit(challenger_meta["model_version"]).alias("model_version"), *common, F.lit("shadow").alias(ROLE_COLUMN),
                F.lit(float(challenger_meta["threshold"])).alias("threshold"),
            ).coalesce(1).write.mode("overwrite").parquet(str(shadow_path))
        rollout["shadow_output"] = str(shadow_path)
    if rollout:
        rollout["served"] = {r[ROLE_COLUMN]: r["n"] for r in spark.read.parquet(str(path)).groupBy(ROLE_COLUMN).agg(F.count(F.lit(1)).alias("n")).collect()}
        rollout["challenger_model"] = challenger_meta and {k: challenger_meta[k] for k in ("model_name", "model_version")}
        if rollout["breach"]:
            b = rollout["breach"]
            log(f"ROLLBACK: challenger {rollout['challenger_model']} breached {b['rule']} ({b['detail']}); the champion served every user")
        pairs.unpersist()
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
            "seconds": round(time.perf_counter() - started, 3), "drift": drift, "rollout": rollout}


def run_challenger(active: DataFrame, scored: DataFrame, challenger: dict, meta: dict):
    """Loads and judges the challenger (batch_rollout.compare). A challenger that cannot be loaded is
    judged too: it errs on every user it should have scored, so the error_rate rule rolls it back."""
    batch_rollout.check_stage(challenger["stage"], challenger.get("fraction"), challenger.get("salt"))
    rules = challenger.get("rules") or policy_rollout_rules(meta["model_name"])
    try:
        model, challenger_meta = load_model(Path(challenger["dir"]))
    except Exception as err:  # noqa: BLE001: a broken challenger must not stop the champion's batch
        model, challenger_meta = err, None
        log(f"challenger {challenger['dir']} could not be loaded: {err}")
    champion_scores = scored.select("user_id", churn_probability(scored).alias("champion_p"))
    pairs, rollout = batch_rollout.compare(active, champion_scores, model, challenger["stage"], challenger.get("fraction"),
                                           challenger.get("salt"), rules)
    rollout["challenger_dir"] = str(challenger["dir"])
    return rollout, pairs, challenger_meta


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
    ap.add_argument("--challenger-dir", type=Path, help="a challenger model folder served beside --model-dir (needs --rollout)")
    ap.add_argument("--rollout", choices=batch_rollout.STAGES, help="shadow: the challenger scores everyone into the shadow partition; "
                    "canary: it serves the users hashed into --fraction with --salt (models/common/canary.py)")
    ap.add_argument("--fraction", type=float, help="canary: the share of users the challenger serves, in (0, 1)")
    ap.add_argument("--salt", help="canary: the hash salt (the challenger's registry version, as the registry's streamscore.rollout tag)")
    ap.add_argument("--rollout-rules", type=json.loads, help="the rollback rules as JSON (churn score passes the policy's with the rollout "
                    "tag's own over them); default: models/policy/policy.json for the model")
    args = ap.parse_args(argv)
    challenger = None
    if args.challenger_dir or args.rollout:
        if not (args.challenger_dir and args.rollout):
            ap.error("--challenger-dir and --rollout go together")
        try:
            batch_rollout.check_stage(args.rollout, args.fraction, args.salt)
        except ValueError as err:
            ap.error(str(err))
        challenger = {"dir": args.challenger_dir, "stage": args.rollout, "fraction": args.fraction, "salt": args.salt, "rules": args.rollout_rules}
    with spark_job("churn-score", args.master, ui=not args.no_ui, driver_memory=args.driver_memory) as spark:
        summary = score_day(spark, lake_root(args.lake), args.date, args.model_dir, allow_stale_lake=args.allow_stale_lake,
                            drift_min_records=args.drift_min_records, challenger=challenger)
    if args.summary_out:
        args.summary_out.write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
