"""Segment, high-value flag and top reasons for a daily score: simple rules on the aggregates.

The reasons are signals present in a subscriber's recent history, in a fixed priority order, not
an explanation of the model's score (the pipeline has no per-row attributions). Rules, first
matching three kept, null when none matches:
  1. any complaint in the last 30 days        '3 complaints in 30 days (mostly network)'
  2. any late payment in the last 90 days     '2 late payments in 90 days'
  3. call minutes per day down >= 30 %        'calls down 40% vs prior 60 days'
  4. data MB per day down >= 30 %             'data use down 55% vs prior 60 days'
  5. the latest plan is month-to-month        'month-to-month contract'
  6. no non-bill event for >= 14 days         'no activity for 21 days'
  7. pays by electronic check                 'pays by electronic check'
  8. first event under 90 days ago            'customer for 45 days'
The trends are features.py's symmetric ratios s = (r30 - r60) / (r30 + r60); the change of the
daily rate r30 / r60 - 1 is 2s / (1 - s).
"""
from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

MONTH_TO_MONTH = r"(?i)month[-_ ]?to[-_ ]?month"
ELECTRONIC_CHECK = r"(?i)electronic[-_ ]?check"
USAGE_DROP = 0.30
INACTIVE_DAYS = 14
NEW_CUSTOMER_DAYS = 90
MAX_REASONS = 3
HIGH_VALUE_SHARE = 0.20  # the top 20 % by average bill that retention teams call first


def _plural(n: Column, word: str) -> Column:
    return F.concat(n.cast("string"), F.lit(f" {word}"), F.when(n == 1, F.lit("")).otherwise(F.lit("s")))


def _drop_percent(trend: Column) -> Column:
    return F.round(-200 * trend / (1 - trend)).cast("int")


def top_reasons() -> Column:
    complaints, category = F.col("complaints_30d"), F.col("top_complaint_category_30d")
    late = F.col("late_payments_90d")
    calls_drop, data_drop = _drop_percent(F.col("call_minutes_trend")), _drop_percent(F.col("data_mb_trend"))
    idle, tenure = F.col("days_since_last_activity"), F.col("tenure_days")
    rules = [
        F.when(complaints > 0, F.concat(_plural(complaints, "complaint"), F.lit(" in 30 days"),
                                        F.when(category.isNotNull(), F.concat(F.when(complaints > 1, F.lit(" (mostly ")).otherwise(F.lit(" (")),
                                                                              category, F.lit(")"))).otherwise(F.lit("")))),
        F.when(late > 0, F.concat(_plural(late, "late payment"), F.lit(" in 90 days"))),
        F.when(calls_drop >= 100 * USAGE_DROP, F.format_string("calls down %d%% vs prior 60 days", calls_drop)),
        F.when(data_drop >= 100 * USAGE_DROP, F.format_string("data use down %d%% vs prior 60 days", data_drop)),
        F.when(F.col("plan_latest").rlike(MONTH_TO_MONTH), F.lit("month-to-month contract")),
        F.when(idle >= INACTIVE_DAYS, F.format_string("no activity for %d days", idle)),
        F.when(F.col("payment_method_latest").rlike(ELECTRONIC_CHECK), F.lit("pays by electronic check")),
        F.when(tenure < NEW_CUSTOMER_DAYS, F.format_string("customer for %d days", tenure)),
    ]
    present = F.filter(F.array(*rules), lambda r: r.isNotNull())
    return F.when(F.size(present) > 0, F.slice(present, 1, MAX_REASONS))


def segment() -> Column:
    """Campaigns are planned per tariff plan: the latest plan, null when no event named one."""
    return F.lower(F.col("plan_latest"))


def high_value(min_bill: float | None) -> Column:
    """``min_bill``: the day's 80th percentile of avg_bill_amount_last3 (None: nobody has a bill)."""
    if min_bill is None:
        return F.lit(False)
    return F.coalesce(F.col("avg_bill_amount_last3") >= F.lit(min_bill), F.lit(False))
