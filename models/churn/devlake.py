#!/usr/bin/env python3
"""A synthetic billing-events lake in the contract's shape, for development and tests only.

    .venv/bin/python models/churn/devlake.py --out /tmp/devlake --users 2000 --master 'local[2]'

Not the Telco-derived lake (that one comes from ``npx streamscore billing produce --source telco``
through the Parquet sink): this is plausible traffic from a hidden churn propensity, so the
pipeline has something learnable before the real lake exists. Each user signs up at a random day,
has a contract (plan ``<contract>-<internet>``), a payment method and monthly charges; a user at
risk (month-to-month, electronic check, fiber) cancels sooner, and in the 45 days before a
cancellation calls and data fall to 35 %, complaints rise 6x and payments are more often late.
Events: CALL, DATA_SESSION and SMS by daily rates, COMPLAINT, a BILL every 30 days from signup,
its PAYMENT 3 days later, a rare PLAN_CHANGE (a renewal, same plan) and the CANCELLATION. Written
partitioned by ``event_date`` with TIMESTAMP_MILLIS; days before ``--v2-from`` are written without
``payment_method`` (BillingEvent v1 files), as the sink does across the schema upgrade.
Deterministic: every random draw is a hash of (seed, user, day, slot), whatever the partitioning.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from datetime import date
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from spark_session import log, spark_job

CONTRACTS = (("month-to-month", 0.55, 1.4), ("one-year", 0.76, 0.2), ("two-year", 1.0, -0.6))  # (name, cumulative share, risk)
INTERNET = (("fiber", 0.44, 0.5), ("dsl", 0.78, 0.0), ("none", 1.0, -0.4))
PAYMENT_METHODS = (("electronic-check", 0.34, 0.6), ("mailed-check", 0.57, 0.0), ("bank-transfer-auto", 0.79, -0.2),
                   ("credit-card-auto", 1.0, -0.2))
# (event type, slots per day, chance of an event per slot at normal behaviour)
USAGE_SLOTS = (("CALL", 4, 0.45), ("DATA_SESSION", 3, 0.6), ("SMS", 2, 0.3), ("COMPLAINT", 1, 0.006), ("PLAN_CHANGE", 1, 0.0015))
DECLINE_DAYS = 45


def _uniform(seed: int, tag: str, *cols: Column) -> Column:
    return (F.pmod(F.xxhash64(F.lit(seed), F.lit(tag), *cols), F.lit(1_000_003)) / F.lit(1_000_003.0)).cast("double")


def _pick(u: Column, table: tuple, field: int) -> Column:
    """The entry of ``table`` (rows of name, cumulative share, risk) that uniform ``u`` falls in."""
    out = F.lit(table[-1][field])
    for row in reversed(table[:-1]):
        out = F.when(u < row[1], F.lit(row[field])).otherwise(out)
    return out


def users(spark: SparkSession, n: int, start: date, end: date, seed: int) -> DataFrame:
    span = (end - start).days
    uid = F.format_string("dev-%06d", F.col("id"))
    u = lambda tag: _uniform(seed, tag, uid)  # noqa: E731
    risk = (-3.6 + _pick(u("contract"), CONTRACTS, 2) + _pick(u("internet"), INTERNET, 2) + _pick(u("pay"), PAYMENT_METHODS, 2)
            + (u("noise") - 0.5) * 1.5)
    monthly_hazard = 1 / (1 + F.exp(-risk))
    months_to_cancel = F.floor(F.log(u("cancel") + 1e-9) / F.log(1 - monthly_hazard))
    signup = F.date_add(F.lit(start), F.floor(u("signup") * span * 0.6).cast("int"))
    return (spark.range(n, numPartitions=4)
            .select(uid.alias("user_id"), signup.alias("signup"),
                    F.concat_ws("-", _pick(u("contract"), CONTRACTS, 0), _pick(u("internet"), INTERNET, 0)).alias("plan"),
                    _pick(u("pay"), PAYMENT_METHODS, 0).alias("payment_method"),
                    (F.lit(20.0) + u("charge") * 80).alias("monthly_charge"),
                    (0.3 + u("calls") * 1.4).alias("call_rate"), (0.3 + u("data") * 1.4).alias("data_rate"),
                    (months_to_cancel * 30 + F.floor(u("cancel_day") * 30)).cast("int").alias("days_to_cancel"))
            .withColumn("cancel_day", F.date_add("signup", "days_to_cancel"))
            .withColumn("cancel_day", F.when(F.col("cancel_day") <= F.lit(end), F.col("cancel_day"))))


def events(spark: SparkSession, n_users: int, start: date, end: date, seed: int) -> DataFrame:
    last = F.coalesce(F.least(F.col("cancel_day"), F.lit(end)), F.lit(end))
    days = (users(spark, n_users, start, end, seed)
            .withColumn("day", F.explode(F.sequence("signup", last)))
            .withColumn("age", F.datediff("day", "signup"))
            .withColumn("declining", F.col("cancel_day").isNotNull() & (F.datediff("cancel_day", "day") <= DECLINE_DAYS)))
    slots = [F.struct(F.lit(kind).alias("event_type"), F.lit(i).alias("slot"), F.lit(p).alias("chance"))
             for kind, count, p in USAGE_SLOTS for i in range(count)]
    slots += [F.struct(F.lit("BILL").alias("event_type"), F.lit(0).alias("slot"), F.lit(0.0).alias("chance")),
              F.struct(F.lit("PAYMENT").alias("event_type"), F.lit(0).alias("slot"), F.lit(0.0).alias("chance")),
              F.struct(F.lit("CANCELLATION").alias("event_type"), F.lit(0).alias("slot"), F.lit(0.0).alias("chance"))]
    k = F.col("s.event_type")
    u = lambda tag: _uniform(seed, tag, F.col("user_id"), F.col("day"), k, F.col("s.slot"))  # noqa: E731
    usage_factor = F.when(F.col("declining"), F.lit(0.35)).otherwise(F.lit(1.0))
    chance = (F.when(k == "CALL", F.col("s.chance") * F.col("call_rate") * usage_factor)
              .when(k.isin("DATA_SESSION", "SMS"), F.col("s.chance") * F.col("data_rate") * usage_factor)
              .when(k == "COMPLAINT", F.col("s.chance") * F.when(F.col("declining"), F.lit(6.0)).otherwise(F.lit(1.0)))
              .when(k == "BILL", F.when(F.col("age") % 30 == 29, F.lit(1.0)))
              .when(k == "PAYMENT", F.when((F.col("age") % 30 == 2) & (F.col("age") > 30), F.lit(1.0)))
              .when(k == "CANCELLATION", F.when(F.col("day") == F.col("cancel_day"), F.lit(1.0)))
              .otherwise(F.col("s.chance")))
    rated = k.isin("BILL", "PAYMENT")
    time_ms = F.unix_millis(F.col("day").cast("timestamp")) + F.floor(u("time") * 86_400_000).cast("long")
    rows = (days.withColumn("s", F.explode(F.array(*slots)))
            .where(u("happens") < F.coalesce(chance, F.lit(0.0)))
            .where((k != "BILL") & (k != "PAYMENT") | (F.col("day") < F.coalesce(F.col("cancel_day"), F.lit(end))))
            .select(F.concat_ws("-", "user_id", F.date_format("day", "yyyyMMdd"), k, F.col("s.slot")).alias("event_id"),
                    "user_id", F.timestamp_millis(time_ms).alias("event_time"), k.alias("event_type"),
                    F.when(k == "CALL", F.round(F.lit(20.0) + u("size") * 600, 1)).alias("call_duration_s"),
                    F.when(k == "DATA_SESSION", F.round(u("size") * 400, 2)).alias("data_mb"),
                    F.when(rated, F.round("monthly_charge", 2)).alias("amount"), F.when(rated, F.lit("EUR")).alias("currency"),
                    F.when(k != "COMPLAINT", F.col("plan")).alias("plan"),
                    F.when(k == "COMPLAINT", F.when(u("category") < 0.6, F.lit("network")).otherwise(F.lit("billing")))
                    .alias("complaint_category"),
                    ((k == "PAYMENT") & (u("late") < F.when(F.col("declining"), F.lit(0.4)).otherwise(F.lit(0.06)))).alias("late_payment"),
                    F.when(rated, F.col("payment_method")).alias("payment_method")))
    return (rows.withColumn("kafka_partition", F.pmod(F.hash("user_id"), F.lit(6)).cast("int"))
            .withColumn("kafka_offset", F.monotonically_increasing_id())
            .withColumn("event_date", F.to_date("event_time")))


def write_lake(spark: SparkSession, lake: Path, *, n_users: int, start: date, end: date, v2_from: date, seed: int = 7) -> int:
    """Writes ``<lake>/telecom/billing_events`` (replacing it); returns the number of events."""
    out = lake / "telecom" / "billing_events"
    if out.exists():  # dynamic partition overwrite would keep the dates this run does not write
        shutil.rmtree(out)
    out = str(out)
    # one file per day and schema version, as the sink writes few files per partition
    rows = events(spark, n_users, start, end, seed).repartition("event_date").cache()
    v1 = rows.where(F.col("event_date") < F.lit(v2_from)).drop("payment_method")
    v2 = rows.where(F.col("event_date") >= F.lit(v2_from))
    v1.write.mode("overwrite").partitionBy("event_date").parquet(out)
    v2.write.mode("append").partitionBy("event_date").parquet(out)
    count = rows.count()
    rows.unpersist()
    return count


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Write a synthetic billing-events lake (development and tests only).")
    ap.add_argument("--out", type=Path, required=True, help="lake root; writes <out>/telecom/billing_events")
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--start", type=date.fromisoformat, default=date(2025, 7, 1))
    ap.add_argument("--end", type=date.fromisoformat, default=date(2026, 7, 31))
    ap.add_argument("--v2-from", type=date.fromisoformat, default=date(2026, 1, 1), help="first day of files with payment_method")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--master", help="Spark master (default: $SPARK_MASTER_URL, else spark://127.0.0.1:7077)")
    args = ap.parse_args(argv)
    with spark_job("churn-devlake", args.master) as spark:
        n = write_lake(spark, args.out.resolve(), n_users=args.users, start=args.start, end=args.end, v2_from=args.v2_from, seed=args.seed)
    log(f"wrote {n:,} events of {args.users:,} users to {args.out}/telecom/billing_events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
