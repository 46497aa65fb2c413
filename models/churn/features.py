"""The billing-events lake -> one row of churn features per subscriber and cut-off date.

Contract: docs/sparkscale.md. For a cut-off ``C`` (a UTC date) features use events up to the end
of ``C`` (usage windows: the 30 and 90 days ending with ``C``), the label is a CANCELLATION in
``(C, C + 30 d]``, and subscribers cancelled on or before ``C`` are flagged (``cancelled_by_cutoff``)
so callers drop them. Everything is DataFrame expressions (no Python UDFs, no collect of events),
so the same code runs on ``local[N]`` and on the standalone cluster.

Definitions (each aggregate only sees events with ``event_time`` before the end of ``C``):
  tenure_days               whole days from the first event's date to ``C``
  avg_daily_data_mb_90d     DATA_SESSION MB over the last 90 days / days observed (min(90, tenure_days + 1))
  calls_30d, calls_90d      CALL counts; call_minutes_30d/90d their call_duration_s sum / 60
  call_minutes_trend        (r30 - r60) / (r30 + r60) of call minutes per observed day in the last 30
                            days (r30) and the 60 days before (r60): -1 stopped calling, 0 unchanged
                            (or nothing to compare: no calls, or tenure under 31 days), +1 started
  data_mb_trend             the same for DATA_SESSION MB (data_sessions_30d/90d, their counts, are not model inputs)
  sms_90d                   SMS count
  complaints_total/_30d     COMPLAINT counts; top_complaint_category_30d (not a model input) its mode
  late_payments_total/_90d  PAYMENT events with late_payment
  avg_bill_amount_last3     mean amount of the last 3 BILLs (null without bills: imputed in the pipeline)
  plan_latest               plan of the latest event that names one; payment_method_latest likewise
  plan_changes_total        PLAN_CHANGE count
  days_since_last_activity  days from the last non-BILL event (bills are system-generated) to ``C``;
                            from the first event when there is none
Duplicates of an ``event_id`` (a producer retry writes the same event twice) count once.
"""
from __future__ import annotations

import os
from datetime import date, timedelta, timezone
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from spark_session import REPO, log

LAKE_ENV = "STREAMSCORE_LAKE_DIR"
DEFAULT_LAKE = REPO / ".data" / "lake"
LABEL_HORIZON_DAYS = 30
RECENT_DAYS = 30
USAGE_DAYS = 90

REQUIRED_COLUMNS = {
    "event_id": T.StringType(), "user_id": T.StringType(), "event_time": T.TimestampType(), "event_type": T.StringType(),
    "call_duration_s": T.DoubleType(), "data_mb": T.DoubleType(), "amount": T.DoubleType(), "plan": T.StringType(),
    "complaint_category": T.StringType(), "late_payment": T.BooleanType(), "event_date": T.DateType(),
}
V2_COLUMNS = {"payment_method": T.StringType()}  # BillingEvent v2: files written before it lack the column
NUMERIC_FEATURES = (
    "tenure_days", "avg_daily_data_mb_90d", "data_mb_trend", "calls_30d", "calls_90d", "call_minutes_30d", "call_minutes_90d",
    "call_minutes_trend", "sms_90d", "complaints_total", "complaints_30d", "late_payments_total", "late_payments_90d",
    "avg_bill_amount_last3", "plan_changes_total", "days_since_last_activity",
)
CATEGORICAL_FEATURES = ("plan_latest", "payment_method_latest")
LABEL = "label"


class LakeSchemaError(ValueError):
    """The billing-events lake is missing, or its columns do not match docs/sparkscale.md."""


def lake_root(arg: str | Path | None = None) -> Path:
    return Path(arg or os.environ.get(LAKE_ENV) or DEFAULT_LAKE).resolve()


def billing_events_dir(lake: Path) -> Path:
    return lake / "telecom" / "billing_events"


def validate_schema(schema: T.StructType, where: str) -> None:
    found = {f.name: f.dataType for f in schema.fields}
    problems = [f"missing column {name} ({want.simpleString()})" for name, want in REQUIRED_COLUMNS.items() if name not in found]
    problems += [f"column {name} is {found[name].simpleString()}, expected {want.simpleString()}"
                 + (" (event_time must be TIMESTAMP(MILLIS, isAdjustedToUTC=true))" if name == "event_time" else "")
                 for name, want in {**REQUIRED_COLUMNS, **V2_COLUMNS}.items() if name in found and found[name] != want]
    if problems:
        raise LakeSchemaError(f"{where}: " + "; ".join(problems) + " — see docs/sparkscale.md")


def read_billing_events(spark: SparkSession, lake: Path) -> DataFrame:
    """All billing events, schema-checked; ``payment_method`` is null where older files lack it."""
    path = billing_events_dir(lake)
    if not path.is_dir():
        raise LakeSchemaError(f"{path}: no billing-events lake here (set --lake or {LAKE_ENV})")
    events = spark.read.option("mergeSchema", "true").parquet(str(path))
    validate_schema(events.schema, str(path))
    if "payment_method" not in events.columns:
        log(f"{path}: no file has payment_method yet (all BillingEvent v1): reading it as null")
        events = events.withColumn("payment_method", F.lit(None).cast(T.StringType()))
    return events.select(*REQUIRED_COLUMNS, *V2_COLUMNS)


def event_counts(events: DataFrame) -> dict:
    """Rows, first and last event time per event_type (one small aggregate job), for the log and
    the model's metadata."""
    rows = (events.groupBy("event_type")
            .agg(F.count(F.lit(1)).alias("rows"), F.min("event_time").alias("first"), F.max("event_time").alias("last"),
                 F.max("event_date").alias("last_date"))
            .orderBy("event_type").collect())
    counts = {r["event_type"]: {"rows": r["rows"], "first": _utc(r["first"]), "last": _utc(r["last"])} for r in rows}
    total = sum(c["rows"] for c in counts.values())
    last_date = max((r["last_date"] for r in rows), default=None)
    log(f"  {total:,} events" + (f", {min(c['first'] for c in counts.values())} .. {max(c['last'] for c in counts.values())}" if rows else ""))
    for name, c in counts.items():
        log(f"    {name:<13} {c['rows']:>12,}  {c['first']} .. {c['last']}")
    return {"rows": total, "by_event_type": counts, "last_event_date": str(last_date) if last_date else None}


def _utc(t) -> str:
    """A collected timestamp (naive, in the driver's local zone) as UTC ISO text."""
    return t.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _midnight_after(cutoff: Column, days: int) -> Column:
    """Start (00:00 UTC) of the day ``days`` after the date column ``cutoff``: the session time zone is UTC."""
    return F.date_add(cutoff, days).cast(T.TimestampType())


def _trend(recent: Column, prior: Column, recent_days: Column, prior_days: Column) -> Column:
    # try_divide: null, not an ANSI-mode error, for an empty window; the when() then gives 0
    r30, r60 = F.try_divide(recent, recent_days), F.try_divide(prior, prior_days)
    return F.when((prior_days > 0) & (r30 + r60 > 0), F.try_divide(r30 - r60, r30 + r60)).otherwise(F.lit(0.0))


def features_as_of(events: DataFrame, cutoffs: date | list[date], *, with_label: bool) -> DataFrame:
    """One row per user and cut-off for each user with an event by the end of the cut-off: the
    features above, ``cutoff_date``, ``cancelled_by_cutoff`` and, ``with_label``, the label (reads
    30 days of partitions past the last cut-off).

    The lake is scanned and shuffled once whatever the number of cut-offs: after the shuffle by
    user, each event row is repeated per cut-off inside its partition and aggregated by
    (user_id, cutoff_date), which the user partitioning already satisfies."""
    cutoffs = sorted({cutoffs} if isinstance(cutoffs, date) else set(cutoffs))
    horizon_days = LABEL_HORIZON_DAYS if with_label else 0
    cutoff = F.col("cutoff_date")
    t, kind = F.col("event_time"), F.col("event_type")
    seen = t < _midnight_after(cutoff, 1)
    recent = seen & (t >= _midnight_after(cutoff, 1 - RECENT_DAYS))
    usage = seen & (t >= _midnight_after(cutoff, 1 - USAGE_DAYS))

    def count(cond: Column) -> Column:
        return F.count(F.when(cond, F.lit(1)))

    def total(cond: Column, value: str) -> Column:
        return F.coalesce(F.sum(F.when(cond, F.col(value))), F.lit(0.0))

    def latest(name: str) -> Column:  # ties on event_time broken by event_id, so reruns agree
        return F.max(F.when(seen & F.col(name).isNotNull(), F.struct(t.alias("t"), F.col("event_id"), F.col(name).alias("v"))))["v"]

    aggregates = [
        F.min(F.when(seen, t)).alias("first_event"),
        F.max(F.when(seen & (kind != "BILL"), t)).alias("last_activity"),
        count(recent & (kind == "CALL")).alias("calls_30d"), count(usage & (kind == "CALL")).alias("calls_90d"),
        (total(recent & (kind == "CALL"), "call_duration_s") / 60).alias("call_minutes_30d"),
        (total(usage & (kind == "CALL"), "call_duration_s") / 60).alias("call_minutes_90d"),
        count(recent & (kind == "DATA_SESSION")).alias("data_sessions_30d"), count(usage & (kind == "DATA_SESSION")).alias("data_sessions_90d"),
        total(recent & (kind == "DATA_SESSION"), "data_mb").alias("data_mb_30d"),
        total(usage & (kind == "DATA_SESSION"), "data_mb").alias("data_mb_90d"),
        count(usage & (kind == "SMS")).alias("sms_90d"),
        count(seen & (kind == "COMPLAINT")).alias("complaints_total"), count(recent & (kind == "COMPLAINT")).alias("complaints_30d"),
        F.mode(F.when(recent & (kind == "COMPLAINT"), F.col("complaint_category")), deterministic=True).alias("top_complaint_category_30d"),
        count(seen & (kind == "PAYMENT") & F.col("late_payment")).alias("late_payments_total"),
        count(usage & (kind == "PAYMENT") & F.col("late_payment")).alias("late_payments_90d"),
        F.slice(F.sort_array(F.collect_list(F.when(seen & (kind == "BILL") & F.col("amount").isNotNull(),
                                                   F.struct(t.alias("t"), F.col("event_id"), F.col("amount")))), asc=False),
                1, 3).alias("last3_bills"),
        latest("plan").alias("plan_latest"), latest("payment_method").alias("payment_method_latest"),
        count(seen & (kind == "PLAN_CHANGE")).alias("plan_changes_total"),
        F.coalesce(F.max(F.when(seen & (kind == "CANCELLATION"), F.lit(True))), F.lit(False)).alias("cancelled_by_cutoff"),
    ]
    if with_label:
        horizon = (kind == "CANCELLATION") & ~seen & (t < _midnight_after(cutoff, 1 + LABEL_HORIZON_DAYS))
        aggregates.append(F.coalesce(F.max(F.when(horizon, F.lit(1.0))), F.lit(0.0)).alias(LABEL))

    per_user = (events.where(F.col("event_date") <= F.lit(cutoffs[-1] + timedelta(days=horizon_days)))
                # every event of a user in one partition: the event_id de-duplication and the
                # per-user aggregates below then share this one shuffle
                .repartition("user_id")
                .dropDuplicates(["user_id", "event_id"])
                .withColumn("cutoff_date", F.explode(F.array(*[F.lit(c) for c in cutoffs])))
                .where(F.col("event_date") <= F.date_add(cutoff, horizon_days))
                .groupBy("user_id", "cutoff_date").agg(*aggregates)
                .where(F.col("first_event").isNotNull()))

    tenure = F.datediff(cutoff, F.to_date("first_event"))
    observed_90 = F.least(F.lit(USAGE_DAYS), tenure + 1)
    observed_30 = F.least(F.lit(RECENT_DAYS), tenure + 1)
    observed_prior_60 = F.least(F.lit(USAGE_DAYS - RECENT_DAYS), F.greatest(F.lit(0), tenure + 1 - RECENT_DAYS))
    bills = F.col("last3_bills")
    return per_user.select(
        "user_id", "cutoff_date",
        tenure.alias("tenure_days"),
        (F.col("data_mb_90d") / observed_90).alias("avg_daily_data_mb_90d"),
        _trend(F.col("data_mb_30d"), F.col("data_mb_90d") - F.col("data_mb_30d"), observed_30, observed_prior_60).alias("data_mb_trend"),
        "data_sessions_30d", "data_sessions_90d", "calls_30d", "calls_90d", "call_minutes_30d", "call_minutes_90d",
        _trend(F.col("call_minutes_30d"), F.col("call_minutes_90d") - F.col("call_minutes_30d"), observed_30, observed_prior_60)
        .alias("call_minutes_trend"),
        "sms_90d", "complaints_total", "complaints_30d", "top_complaint_category_30d", "late_payments_total", "late_payments_90d",
        F.when(F.size(bills) > 0, F.aggregate(bills, F.lit(0.0), lambda acc, b: acc + b["amount"]) / F.size(bills))
        .alias("avg_bill_amount_last3"),
        "plan_latest", "payment_method_latest", "plan_changes_total",
        F.datediff(cutoff, F.to_date(F.coalesce("last_activity", "first_event"))).alias("days_since_last_activity"),
        "cancelled_by_cutoff", *([LABEL] if with_label else []),
    )
