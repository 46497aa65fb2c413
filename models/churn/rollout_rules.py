"""The rollback rules of a churn batch rollout (shadow or canary), as the serving side judges a chunk:
the Python twin of ``judge`` and ``scorePsi`` in streams/runtime/model-registry/rollout-controller.ts
(checked on the same cases: models/churn/tests/fixtures/score-psi-cases.json, read by both suites).

A batch is one window (the score date): the rules are judged once, on the users both roles scored,
when both hold the policy's ``min_records``. ``p99_latency`` is not judged: a Spark pass has no
per-record handle time, and a batch's wall time is not what a user waits for. ``precision`` (delayed
labels) is judged by ``churn score`` before the batch, from models.performance.v1.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from drift import psi

POLICY_FILE = Path(__file__).resolve().parents[1] / "policy" / "policy.json"
RULE_KEYS = ("window_ms", "min_records", "max_error_rate_increase", "max_p99_latency_ratio", "max_score_psi")


def policy_rollout_rules(model_name: str, file: Path = POLICY_FILE) -> dict:
    """policy.json's ``rollout`` of the model over ``rollout_defaults`` (policyRolloutRules)."""
    raw = json.loads(Path(file).read_text())
    rules = {**raw.get("rollout_defaults", {}), **raw.get("models", {}).get(model_name, {}).get("rollout", {})}
    for k in RULE_KEYS:
        if not isinstance(rules.get(k), (int, float)) or isinstance(rules.get(k), bool):
            raise ValueError(f"{file}: rollout rule {k} of {model_name} is not a number")
    return rules


def score_psi(champion: list[float], challenger: list[float]) -> float | None:
    """PSI of the challenger's scores over the champion's decile bins; repeated edges merged (scorePsi)."""
    if not champion or not challenger:
        return None
    ordered = sorted(champion)
    n = len(ordered)
    edges: list[float] = []
    for d in range(1, 10):
        e = ordered[min(n - 1, math.floor((d / 10) * n))]
        if e not in edges:
            edges.append(e)

    def counts(xs):
        c = [0] * (len(edges) + 1)
        for v in xs:
            c[sum(1 for e in edges if e <= v)] += 1
        return c

    reference = [k / n for k in counts(champion)]
    return psi(reference, counts(challenger))


def _pct(x: float) -> str:
    return f"{x * 100:.2f} %"


def judge(champion: dict, challenger: dict, rules: dict) -> dict | None:
    """``champion``/``challenger``: {records, errors, scores}. The first breached rule as
    {rule, detail, numbers}, or None (also when either role has fewer than min_records). Rules named
    in ``rules["off"]`` (the policy's, or the rollout tag's: effectiveRules) are not judged."""
    on = lambda rule: rule not in (rules.get("off") or [])  # noqa: E731
    rate = {role: (s["errors"] / s["records"] if s["records"] else 0.0) for role, s in (("champion", champion), ("challenger", challenger))}
    numbers = {"champion_records": champion["records"], "challenger_records": challenger["records"],
               "champion_error_rate": rate["champion"], "challenger_error_rate": rate["challenger"]}
    if champion["records"] < rules["min_records"] or challenger["records"] < rules["min_records"]:
        return None
    if on("error_rate") and rate["challenger"] > rate["champion"] + rules["max_error_rate_increase"]:
        return {"rule": "error_rate", "numbers": numbers,
                "detail": f"error rate {_pct(rate['challenger'])} vs champion {_pct(rate['champion'])} (+{_pct(rules['max_error_rate_increase'])} allowed)"}
    shift = score_psi(champion["scores"], challenger["scores"])
    if on("score_psi") and shift is not None and shift > rules["max_score_psi"]:
        return {"rule": "score_psi", "numbers": {**numbers, "score_psi": shift},
                "detail": f"PSI of the challenger's scores against the champion's {shift:.3f} (> {rules['max_score_psi']})"}
    return None
