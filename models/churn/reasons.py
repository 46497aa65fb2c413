"""Segment, high-value flag and top reasons for a daily score: simple rules on the aggregates.

The reasons are signals present in a subscriber's recent history, in a fixed priority order, not
an explanation of the model's score (the pipeline has no per-row attributions). Rules, first
matching three kept, null when none matches:
  1. any complaint in the last 30 days        '3 complaints in 30 days (mostly network)'
  2. any late payment in the last 90 days     '2 late payments in 90 days'
  3. calls per day down >= 50 %               'calls down 60% vs prior 60 days'
  4. data sessions per day down >= 50 %       'data sessions down 55% vs prior 60 days'
  5. the latest plan is month-to-month        'month-to-month contract'
  6. no non-bill event for >= 14 days         'no activity for 21 days'
  7. pays by electronic check                 'pays by electronic check'
  8. first event under 90 days ago            'customer for 45 days'
The usage rules compare event counts per day, last 30 days against the 60 before, and only for a
subscriber with both windows full (tenure >= 89 days) and >= 20 events in the prior 60 days: with
a few events a month, 30 days against 60 moves by half on chance alone. (Counts, not the model's
minute and MB trends: a few long calls swing minutes far more than counts.)
"""
from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

MONTH_TO_MONTH = r"(?i)month[-_ ]?to[-_ ]?month"
ELECTRONIC_CHECK = r"(?i)electronic[-_ ]?check"
USAGE_DROP_PERCENT = 50
USAGE_MIN_PRIOR_EVENTS = 20
FULL_WINDOWS_DAYS = 89  # from this tenure_days on, the 90-day window holds only days as a customer
INACTIVE_DAYS = 14
NEW_CUSTOMER_DAYS = 90
MAX_REASONS = 3
HIGH_VALUE_SHARE = 0.20  # the top 20 % by average bill that retention teams call first


def _plural(n: Column, word: str) -> Column:
    return F.concat(n.cast("string"), F.lit(f" {word}"), F.when(n == 1, F.lit("")).otherwise(F.lit("s")))


def usage_drop_percent(recent: str, last_90: str) -> Column:
    """Percent fall of the daily count ``recent`` (last 30 days) against the 60 days before it
    (``last_90`` - ``recent``); null when there is not enough to compare (module docstring)."""
    prior = F.col(last_90) - F.col(recent)
    enough = (F.col("tenure_days") >= FULL_WINDOWS_DAYS) & (prior >= USAGE_MIN_PRIOR_EVENTS)
    return F.when(enough, F.round(100 * (1 - 2 * F.col(recent) / prior))).cast("int")


def top_reasons() -> Column:
    complaints, category = F.col("complaints_30d"), F.col("top_complaint_category_30d")
    late = F.col("late_payments_90d")
    calls_drop, data_drop = usage_drop_percent("calls_30d", "calls_90d"), usage_drop_percent("data_sessions_30d", "data_sessions_90d")
    idle, tenure = F.col("days_since_last_activity"), F.col("tenure_days")
    category_note = F.when(category.isNotNull(), F.concat(F.when(complaints > 1, F.lit(" (mostly ")).otherwise(F.lit(" (")),
                                                          category, F.lit(")"))).otherwise(F.lit(""))
    rules = [
        F.when(complaints > 0, F.concat(_plural(complaints, "complaint"), F.lit(" in 30 days"), category_note)),
        F.when(late > 0, F.concat(_plural(late, "late payment"), F.lit(" in 90 days"))),
        F.when(calls_drop >= USAGE_DROP_PERCENT, F.format_string("calls down %d%% vs prior 60 days", calls_drop)),
        F.when(data_drop >= USAGE_DROP_PERCENT, F.format_string("data sessions down %d%% vs prior 60 days", data_drop)),
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
