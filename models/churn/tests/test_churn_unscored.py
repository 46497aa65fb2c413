"""score.py reports every lake user it does not score, with the reason (issue #11: nobody silently unscored)."""
from churn_lake_fixture import CUTOFF, event, write_events, write_fixture_lake
from churn_modules import features, score


def test_unscored_users_are_the_cancelled_and_the_not_yet_joined(spark, tmp_path):
    lake = write_fixture_lake(spark, tmp_path)
    events = features.read_billing_events(spark, lake)
    table = features.features_as_of(events, CUTOFF, with_label=False)
    got = {r["user_id"]: r["reason"] for r in score.unscored_users(events, table).collect()}
    # u-c cancelled on 2026-06-15; u-d's first event is after the cut-off; u-a, u-b, u-e are active
    assert got == {"u-c": "cancelled_by_cutoff", "u-d": "joined_after_date"}
    active = {r["user_id"] for r in table.where("not cancelled_by_cutoff").select("user_id").collect()}
    assert active | got.keys() == {r["user_id"] for r in events.select("user_id").distinct().collect()}
    assert not active & got.keys()


def test_a_customer_with_only_account_opened_is_active(spark, tmp_path):
    """A table customer who joined on the cut-off with no bill or usage (BillingEvent v3's
    ACCOUNT_OPENED): a feature row, tenure 0, not cancelled, so score.py scores it."""
    lake = write_fixture_lake(spark, tmp_path)
    write_events(spark, lake, [event("f-open", "u-f", "2026-06-30T01:00:00", "ACCOUNT_OPENED", plan="month-to-month/no-internet")])
    events = features.read_billing_events(spark, lake)
    table = features.features_as_of(events, CUTOFF, with_label=False)
    f = table.where("user_id = 'u-f'").first()
    assert f is not None and not f["cancelled_by_cutoff"]
    assert (f["tenure_days"], f["days_since_last_activity"], f["plan_latest"]) == (0, 0, "month-to-month/no-internet")
    assert "u-f" not in {r["user_id"] for r in score.unscored_users(events, table).collect()}
