"""Split by user, threshold choice, top reasons / segment / high value, lake file hash."""
import pytest
from pyspark.sql import functions as F

from churn_modules import modeling, reasons, report

REASON_COLUMNS = ("complaints_30d long, top_complaint_category_30d string, late_payments_90d long, plan_latest string, "
                  "days_since_last_activity int, payment_method_latest string, tenure_days int, "
                  "calls_30d long, calls_90d long, data_sessions_30d long, data_sessions_90d long")


def test_split_keeps_each_user_on_one_side(spark):
    users = spark.range(2000).select(F.format_string("user-%d", "id").alias("user_id"))
    rows = modeling.with_split(users.crossJoin(spark.range(3).withColumnRenamed("id", "cutoff")), folds=3)
    per_user = rows.groupBy("user_id").agg(F.countDistinct("heldout").alias("sides"), F.countDistinct("fold").alias("folds"),
                                           F.first("heldout").alias("heldout"))
    assert per_user.where((F.col("sides") != 1) | (F.col("folds") != 1)).count() == 0
    share = per_user.where("heldout").count() / 2000
    assert 0.17 < share < 0.23
    assert sorted(r["fold"] for r in rows.select("fold").distinct().collect()) == [0, 1, 2]
    again = modeling.with_split(users, folds=3).where("heldout").select("user_id").collect()
    assert sorted(again) == sorted(per_user.where("heldout").select("user_id").collect())  # deterministic


def test_threshold_is_the_best_f1_on_the_grid(spark):
    scored = spark.createDataFrame([(1.0, 0.9), (1.0, 0.8), (0.0, 0.7), (1.0, 0.6), (0.0, 0.3), (0.0, 0.2), (0.0, 0.1)], "label double, p double")
    assert modeling.choose_threshold(scored) == 0.6  # flags 4 with 3 hits: F1 6/7, the highest such threshold
    at = modeling.scores_at(scored, 0.6)
    assert (at["flagged"], at["true_positives"], at["precision"], at["recall"]) == (4, 3, 0.75, 1.0)


def test_top_reasons_follow_the_documented_rules(spark):
    rows = [
        # 5 calls in 30 days after 40 in the 60 before: a day's rate down 75 %
        (3, "network", 2, "Month-to-month-fiber", 0, "credit-card-auto", 400, 5, 45, 0, 0),
        # calls down 75 % on 16 calls before: too few; data sessions up from nothing
        (0, None, 0, "two-year/dsl", 3, "credit-card-auto", 400, 2, 18, 10, 10),
        # data sessions stopped after 20
        (1, None, 0, None, 20, "electronic-check", 400, 0, 0, 0, 20),
        # calls down 33 %: under 50 %
        (0, None, 0, "one-year/dsl", 0, "mailed-check", 400, 20, 80, 0, 0),
        # 45 days a customer: the prior 60 days are not all its own, no usage comparison
        (0, None, 0, "one-year/dsl", 0, "mailed-check", 45, 0, 25, 0, 0),
    ]
    df = spark.createDataFrame(rows, REASON_COLUMNS)
    got = [r[0] for r in df.select(reasons.top_reasons()).collect()]
    assert got == [
        ["3 complaints in 30 days (mostly network)", "2 late payments in 90 days", "calls down 75% vs prior 60 days"],
        None,
        ["1 complaint in 30 days", "data sessions down 100% vs prior 60 days", "no activity for 20 days"],
        None,
        ["customer for 45 days"],
    ]
    assert [r[0] for r in df.select(reasons.segment()).collect()] == ["month-to-month-fiber", "two-year/dsl", None, "one-year/dsl", "one-year/dsl"]


def test_high_value_is_at_or_above_the_cut(spark):
    df = spark.createDataFrame([(60.0,), (40.0,), (None,)], "avg_bill_amount_last3 double")
    assert [r[0] for r in df.select(reasons.high_value(50.0)).collect()] == [True, False, False]
    assert [r[0] for r in df.select(reasons.high_value(None)).collect()] == [False, False, False]


def test_lake_hash_covers_the_read_partitions_only(tmp_path):
    from datetime import date

    events = tmp_path / "billing_events"
    for day, size in (("2026-06-29", 10), ("2026-06-30", 20), ("2026-07-01", 40)):
        (events / f"event_date={day}").mkdir(parents=True)
        (events / f"event_date={day}" / "part-0.parquet").write_bytes(b"x" * size)
    (events / "event_date=2026-06-30" / ".part-0.parquet.crc").write_bytes(b"c")
    first = report.lake_files_hash(events, date(2026, 6, 30))
    assert (first["files"], first["bytes"]) == (2, 30)
    (events / "event_date=2026-07-01" / "part-1.parquet").write_bytes(b"later")
    assert report.lake_files_hash(events, date(2026, 6, 30)) == first
    (events / "event_date=2026-06-30" / "part-1.parquet").write_bytes(b"late")
    assert report.lake_files_hash(events, date(2026, 6, 30))["sha256"] != first["sha256"]


@pytest.mark.parametrize("tenure, recent, last_90, percent", [(400, 5, 45, 75), (400, 0, 20, 100), (400, 30, 50, -200),
                                                             (400, 1, 20, None), (88, 0, 40, None)])
def test_usage_drop_percent(spark, tenure, recent, last_90, percent):
    df = spark.createDataFrame([(tenure, recent, last_90)], "tenure_days int, calls_30d long, calls_90d long")
    assert df.select(reasons.usage_drop_percent("calls_30d", "calls_90d")).first()[0] == percent
