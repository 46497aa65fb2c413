"""Lake reading, schema checks and the per-user aggregates, against hand-computed values."""
from datetime import date

import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from churn_lake_fixture import CUTOFF, EXPECTED_U_A, OTHERS, U_A, V2_FROM, write_events, write_fixture_lake
from churn_modules import features, report, spark_session


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory):
    return write_fixture_lake(spark, tmp_path_factory.mktemp("fixture-lake"))


@pytest.fixture(scope="module")
def at_cutoff(spark, lake):
    events = features.read_billing_events(spark, lake)
    return {r["user_id"]: r.asDict() for r in features.features_as_of(events, CUTOFF, with_label=True).collect()}


def test_aggregates_of_a_long_tenure_user(at_cutoff):
    got = at_cutoff["u-a"]
    assert got["cutoff_date"] == CUTOFF
    for name, want in EXPECTED_U_A.items():
        assert got[name] == pytest.approx(want, abs=1e-12) if isinstance(want, float) else got[name] == want, name


def test_short_tenure_no_bills_and_horizon_boundaries(at_cutoff):
    b = at_cutoff["u-b"]
    assert (b["tenure_days"], b["calls_30d"], b["call_minutes_30d"], b["days_since_last_activity"]) == (10, 1, 10.0, 10)
    assert b["call_minutes_trend"] == 0.0  # under 31 days of tenure: no prior window to compare with
    assert b["avg_daily_data_mb_90d"] == 0.0 and b["avg_bill_amount_last3"] is None and b["plan_latest"] is None
    assert b["label"] == 0.0  # cancels at C + 30 d + 1 ms: outside (C, C + 30 d]
    e = at_cutoff["u-e"]
    assert e["label"] == 1.0  # cancels on the last ms of C + 30 d
    assert (e["tenure_days"], e["days_since_last_activity"], e["avg_bill_amount_last3"]) == (29, 29, 20.0)  # a bill is not activity
    assert e["payment_method_latest"] == "mailed-check" and e["plan_latest"] == "two-year-dsl"


def test_cancelled_users_are_flagged_and_future_users_absent(at_cutoff):
    assert at_cutoff["u-c"]["cancelled_by_cutoff"] is True
    assert not any(at_cutoff[u]["cancelled_by_cutoff"] for u in ("u-a", "u-b", "u-e"))
    assert "u-d" not in at_cutoff


def test_several_cutoffs_in_one_pass_and_no_leakage(spark, lake, at_cutoff):
    events = features.read_billing_events(spark, lake)
    rows = {(r["user_id"], r["cutoff_date"]): r.asDict()
            for r in features.features_as_of(events, [date(2026, 5, 31), CUTOFF], with_label=True).collect()}
    assert rows[("u-a", CUTOFF)] == at_cutoff["u-a"]
    may = rows[("u-a", date(2026, 5, 31))]
    assert (may["tenure_days"], may["label"], may["plan_latest"], may["complaints_total"]) == (150, 0.0, "one-year-fiber", 1)
    assert rows[("u-c", date(2026, 5, 31))]["label"] == 1.0 and not rows[("u-c", date(2026, 5, 31))]["cancelled_by_cutoff"]
    unlabelled = features.features_as_of(events, CUTOFF, with_label=False).where(F.col("user_id") == "u-a").first().asDict()
    assert "label" not in unlabelled
    assert unlabelled == {k: v for k, v in at_cutoff["u-a"].items() if k != "label"}  # nothing after C leaks into features


def test_merge_schema_reads_v1_files_without_payment_method(spark, lake):
    v1_day = lake / "telecom" / "billing_events" / "event_date=2026-03-01"
    assert "payment_method" not in spark.read.parquet(str(v1_day)).columns  # the fixture really has v1 files
    events = features.read_billing_events(spark, lake)
    assert dict(events.dtypes)["payment_method"] == "string" and dict(events.dtypes)["event_time"] == "timestamp"
    methods = {r["event_id"]: r["payment_method"] for r in events.where(F.col("user_id") == "u-a").collect()}
    assert methods["a-b2"] is None and methods["a-b3"] == "electronic-check"
    counts = features.event_counts(events)
    assert counts["rows"] == len(U_A) + len(OTHERS) + 1  # the duplicate is a row of the lake; features count it once
    assert counts["by_event_type"]["CANCELLATION"]["rows"] == 4 and counts["last_event_date"] == "2026-07-31"


def test_a_lake_of_v1_files_only_reads_payment_method_as_null(spark, tmp_path):
    write_events(spark, tmp_path, [r for r in U_A if r[2].date() < V2_FROM], v1=True)
    events = features.read_billing_events(spark, tmp_path)
    assert events.where(F.col("payment_method").isNotNull()).count() == 0 and "payment_method" in events.columns


def test_missing_column_is_a_clear_error(spark, tmp_path):
    write_events(spark, tmp_path, OTHERS, drop=("late_payment",))
    with pytest.raises(features.LakeSchemaError, match=r"missing column late_payment \(boolean\)"):
        features.read_billing_events(spark, tmp_path)


def test_wrong_types_and_missing_lake_are_clear_errors(tmp_path):
    fields = {f.name: f for f in (T.StructField(n, t) for n, t in features.REQUIRED_COLUMNS.items())}
    fields["event_time"] = T.StructField("event_time", T.TimestampNTZType())
    fields["amount"] = T.StructField("amount", T.StringType())
    with pytest.raises(features.LakeSchemaError) as err:
        features.validate_schema(T.StructType(list(fields.values())), "lake")
    assert "event_time is timestamp_ntz, expected timestamp" in str(err.value) and "isAdjustedToUTC=true" in str(err.value)
    assert "amount is string, expected double" in str(err.value)
    with pytest.raises(features.LakeSchemaError, match="no billing-events lake"):
        features.read_billing_events(None, tmp_path / "nowhere")


def test_lake_root_default_comes_from_the_repository(monkeypatch, tmp_path):
    monkeypatch.delenv(features.LAKE_ENV, raising=False)
    assert features.lake_root() == (spark_session.REPO / ".data" / "lake").resolve()
    assert (spark_session.REPO / "docs" / "sparkscale.md").is_file()
    monkeypatch.setenv(features.LAKE_ENV, str(tmp_path))
    assert features.lake_root() == tmp_path.resolve() and features.lake_root(tmp_path / "x") == (tmp_path / "x").resolve()


def test_feature_plan_profile_and_the_bottleneck_it_names(spark, lake):
    events = features.read_billing_events(spark, lake)
    profile = report.profile_feature_plan(events, [CUTOFF])
    assert list(profile) == list(report.PROFILE_STEPS) and all(v >= 0 for v in profile.values())
    facts = report.plan_facts(report.formatted_plan(features.features_as_of(events, [CUTOFF], with_label=True)))
    assert facts["scans"] == 1 and len(facts["exchanges"]) == 1 and facts["exchanges"][0].startswith("hashpartitioning(user_id")
    assert facts["partition_filters"] == ["[isnotnull(event_date), (event_date <= 2026-07-30)]"]
    text = report.bottleneck(facts, {"scan": 1.0, "shuffle": 0.5, "dedup": 1.5, "aggregate": 3.0}, {})
    assert "**Main bottleneck: aggregate**" in text and "aggregate 3.0 s (50 %)" in text
