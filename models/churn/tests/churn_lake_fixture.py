"""A hand-made billing-events lake whose features are known exactly (cut-off 2026-06-30).

Written by Spark as the sink writes it: Hive partitions event_date=YYYY-MM-DD, event_time as
TIMESTAMP_MILLIS; days before 2026-05-01 in files without payment_method (BillingEvent v1).
"""
from datetime import date, datetime, timezone
from itertools import count

from pyspark.sql import functions as F
from pyspark.sql import types as T

CUTOFF = date(2026, 6, 30)
V2_FROM = date(2026, 5, 1)
SCHEMA = T.StructType([
    T.StructField("event_id", T.StringType(), False), T.StructField("user_id", T.StringType(), False),
    T.StructField("event_time", T.TimestampType(), False), T.StructField("event_type", T.StringType(), False),
    T.StructField("call_duration_s", T.DoubleType()), T.StructField("data_mb", T.DoubleType()), T.StructField("amount", T.DoubleType()),
    T.StructField("currency", T.StringType()), T.StructField("plan", T.StringType()), T.StructField("complaint_category", T.StringType()),
    T.StructField("late_payment", T.BooleanType(), False), T.StructField("payment_method", T.StringType()),
    T.StructField("kafka_partition", T.IntegerType(), False), T.StructField("kafka_offset", T.LongType(), False),
])
_offsets = count()


def event(event_id, user_id, when, kind, *, call_s=None, mb=None, amount=None, plan=None, category=None, late=False, method=None):
    t = datetime.fromisoformat(when).replace(tzinfo=timezone.utc)
    return (event_id, user_id, t, kind, call_s, mb, amount, "EUR" if amount is not None else None, plan, category, late, method,
            0, next(_offsets))


# u-a: a long-tenure subscriber with something in every window, cancelling 20 days after the cut-off
U_A = [
    event("a-first", "u-a", "2026-01-01T10:00:00", "SMS"),
    event("a-q0", "u-a", "2026-02-01T09:00:00", "COMPLAINT", category="billing"),
    event("a-p0", "u-a", "2026-02-05T09:00:00", "PAYMENT", amount=50.0, late=True),
    event("a-b1", "u-a", "2026-03-01T00:00:00", "BILL", amount=50.0, plan="month-to-month-fiber"),
    event("a-d1", "u-a", "2026-03-01T12:00:00", "DATA_SESSION", mb=1000.0),
    event("a-b2", "u-a", "2026-04-01T00:00:00", "BILL", amount=60.0, plan="month-to-month-fiber"),
    event("a-c0", "u-a", "2026-04-01T23:59:59.999", "CALL", call_s=600.0),  # last ms before the 90-day window
    event("a-s2", "u-a", "2026-04-10T09:00:00", "SMS"),
    event("a-c1", "u-a", "2026-04-15T09:00:00", "CALL", call_s=1200.0),
    event("a-c2", "u-a", "2026-04-15T10:00:00", "CALL", call_s=1200.0),
    event("a-c3", "u-a", "2026-04-15T11:00:00", "CALL", call_s=1200.0),
    event("a-b3", "u-a", "2026-05-01T00:00:00", "BILL", amount=70.0, plan="month-to-month-fiber", method="electronic-check"),
    event("a-d2", "u-a", "2026-05-01T12:00:00", "DATA_SESSION", mb=600.0),
    event("a-p1", "u-a", "2026-05-05T09:00:00", "PAYMENT", amount=70.0, method="electronic-check"),
    event("a-pc1", "u-a", "2026-05-15T09:00:00", "PLAN_CHANGE", plan="one-year-fiber"),
    event("a-b4", "u-a", "2026-06-01T00:00:00", "BILL", amount=80.0, plan="one-year-fiber", method="credit-card-auto"),
    event("a-s1", "u-a", "2026-06-01T09:00:00", "SMS"),
    event("a-p2", "u-a", "2026-06-05T09:00:00", "PAYMENT", amount=80.0, late=True, method="credit-card-auto"),
    event("a-c4", "u-a", "2026-06-10T09:00:00", "CALL", call_s=600.0),
    event("a-d3", "u-a", "2026-06-20T12:00:00", "DATA_SESSION", mb=300.0),
    event("a-q1", "u-a", "2026-06-25T09:00:00", "COMPLAINT", category="network"),
    event("a-q2", "u-a", "2026-06-26T09:00:00", "COMPLAINT", category="network"),
    event("a-q3", "u-a", "2026-06-27T09:00:00", "COMPLAINT", category="billing"),
    event("a-c5", "u-a", "2026-06-30T23:59:59.999", "CALL", call_s=300.0),  # last ms of the cut-off day
    event("a-c6", "u-a", "2026-07-01T00:00:00", "CALL", call_s=900.0),  # first ms after it: not a feature
    event("a-b5", "u-a", "2026-07-01T00:00:00", "BILL", amount=999.0, plan="one-year-fiber"),
    event("a-pc2", "u-a", "2026-07-05T09:00:00", "PLAN_CHANGE", plan="two-year-dsl"),
    event("a-x", "u-a", "2026-07-20T09:00:00", "CANCELLATION"),
]
DUPLICATE = [event("a-c4", "u-a", "2026-06-10T09:00:00", "CALL", call_s=600.0)]  # a producer retry: same event_id, new offset
OTHERS = [
    # u-b: 10 days of tenure, cancels on the first ms after the 30-day horizon
    event("b-c1", "u-b", "2026-06-20T08:00:00", "CALL", call_s=600.0),
    event("b-x", "u-b", "2026-07-31T00:00:00", "CANCELLATION"),
    # u-c: cancelled before the cut-off
    event("c-b1", "u-c", "2026-03-10T00:00:00", "BILL", amount=40.0, plan="month-to-month-dsl"),
    event("c-x", "u-c", "2026-06-15T09:00:00", "CANCELLATION"),
    # u-d: only events after the cut-off
    event("d-c1", "u-d", "2026-07-02T09:00:00", "CALL", call_s=60.0),
    # u-e: a bill only, cancels on the last ms of the horizon
    event("e-b1", "u-e", "2026-06-01T00:00:00", "BILL", amount=20.0, plan="two-year-dsl", method="mailed-check"),
    event("e-x", "u-e", "2026-07-30T23:59:59.999", "CANCELLATION"),
]

EXPECTED_U_A = {
    "tenure_days": 180, "calls_30d": 2, "calls_90d": 5, "call_minutes_30d": 15.0, "call_minutes_90d": 75.0,
    "call_minutes_trend": (0.5 - 1.0) / (0.5 + 1.0), "avg_daily_data_mb_90d": 10.0, "data_mb_trend": 0.0, "sms_90d": 2,
    "data_sessions_30d": 1, "data_sessions_90d": 2,
    "complaints_total": 4, "complaints_30d": 3, "top_complaint_category_30d": "network", "late_payments_total": 2,
    "late_payments_90d": 1, "avg_bill_amount_last3": 70.0, "plan_latest": "one-year-fiber", "payment_method_latest": "credit-card-auto",
    "plan_changes_total": 1, "days_since_last_activity": 0, "cancelled_by_cutoff": False, "label": 1.0,
}


def write_events(spark, lake, rows, *, v1: bool = False, mode: str = "append", drop=()):
    df = spark.createDataFrame(rows, SCHEMA).withColumn("event_date", F.to_date("event_time"))
    for column in ("payment_method",) * v1 + tuple(drop):
        df = df.drop(column)
    df.write.mode(mode).partitionBy("event_date").parquet(str(lake / "telecom" / "billing_events"))


def write_fixture_lake(spark, lake):
    rows = U_A + OTHERS
    old = [r for r in rows if r[2].date() < V2_FROM]
    new = [r for r in rows if r[2].date() >= V2_FROM]
    write_events(spark, lake, old, v1=True)
    write_events(spark, lake, new)
    write_events(spark, lake, DUPLICATE)
    return lake
