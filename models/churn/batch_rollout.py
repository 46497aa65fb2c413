"""Shadow and canary of a challenger in the daily churn batch (score.py --challenger-dir), in Spark.

- **Canary:** a user is served by the challenger iff models/common/canary.py puts its user_id in the
  fraction (u32be(sha256(salt + ':' + user_id)[0:4]) / 2**32 < fraction, here as a Spark expression,
  no Python UDF). The challenger scores only those users (one extra pass over the same features);
  the champion has scored every user anyway, so the rules compare both models on the SAME users.
- **Shadow:** the challenger scores every user; its scores go to the shadow partition only
  (``<lake>/shadow/telecom/churn_predictions/score_date=D/``, published to the ``.shadow`` topic).
- **Rules** (rollout_rules.py, the controller's): error rate (a score that is null, NaN or outside
  [0, 1] is an error; a challenger that cannot be loaded or fails in Spark errs on every user it
  should have scored) and the PSI of its scores over the champion's deciles. On a breach the canary
  does not serve: every live row is the champion's, and ``churn score`` rolls the challenger back
  in the registry. A canary user whose challenger score is an error is served by the champion.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from modeling import churn_probability
from rollout_rules import judge, score_psi

STAGES = ("shadow", "canary")
# Pairs of scores the PSI is computed on: every compared user up to this, else a random sample.
SCORE_SAMPLE = 10_000


def shadow_lake(lake: Path) -> Path:
    """The shadow twin of the lake root: its predictions partition is never the live one."""
    return lake / "shadow"


def canary_column(key: Column, salt: str, fraction: float) -> Column:
    """models/common/canary.py in_canary as a Spark column: sha2 hashes the UTF-8 bytes of the string."""
    digest = F.sha2(F.concat(F.lit(f"{salt}:"), key.cast("string")), 256)
    u32 = F.conv(F.substring(digest, 1, 8), 16, 10).cast("long")
    return (u32.cast("double") / F.lit(float(2**32))) < F.lit(float(fraction))


def valid_score(c: Column) -> Column:
    return c.isNotNull() & ~F.isnan(c) & (c >= 0) & (c <= 1)


def check_stage(stage: str, fraction: float | None, salt: str | None) -> None:
    if stage not in STAGES:
        raise ValueError(f"--rollout must be one of {STAGES}, got {stage!r}")
    if stage == "canary" and (fraction is None or not 0 < fraction < 1 or not salt):
        raise ValueError(f"a canary needs --fraction in (0, 1) and a --salt (the challenger's registry version), got {fraction!r} and {salt!r}")


def compare(active: DataFrame, champion_scores: DataFrame, challenger, stage: str, fraction: float | None, salt: str | None,
            rules: dict, *, seed: int = 1) -> tuple[DataFrame, dict]:
    """``champion_scores``: (user_id, champion_p) of every active user; ``challenger``: a loaded
    PipelineModel, or the error that kept it from loading. Returns the cached (user_id, champion_p,
    challenger_p) of the compared users and the rollout summary with the breach (or None)."""
    subset = active.where(canary_column(F.col("user_id"), salt, fraction)) if stage == "canary" else active
    keys = champion_scores.join(subset.select("user_id"), "user_id") if stage == "canary" else champion_scores
    error = challenger if isinstance(challenger, BaseException) else None
    pairs = None
    if error is None:
        try:
            scored = challenger.transform(subset)
            pairs = keys.join(scored.select("user_id", churn_probability(scored).alias("challenger_p")), "user_id", "left").cache()
            pairs.count()  # a challenger that fails in Spark fails here, not in the write of the live partition
        except Exception as err:  # noqa: BLE001: any failure of the challenger is its error, the champion serves
            error, pairs = err, None
    if pairs is None:
        pairs = keys.withColumn("challenger_p", F.lit(None).cast("double")).cache()
    ch, cp = F.col("challenger_p"), F.col("champion_p")
    row = pairs.agg(F.count(F.lit(1)).alias("n"), F.sum(F.when(valid_score(cp), 0).otherwise(1)).alias("champion_errors"),
                    F.sum(F.when(valid_score(ch), 0).otherwise(1)).alias("challenger_errors")).first()
    n = int(row["n"])
    picked = pairs if n <= SCORE_SAMPLE else pairs.sample(False, min(1.0, 2 * SCORE_SAMPLE / n), seed).limit(SCORE_SAMPLE)
    rows = picked.select("champion_p", "challenger_p").collect()
    ok = lambda v: v is not None and v == v and 0 <= v <= 1  # noqa: E731
    roles = {
        "champion": {"records": n, "errors": int(row["champion_errors"] or 0), "scores": [r["champion_p"] for r in rows if ok(r["champion_p"])]},
        "challenger": {"records": n, "errors": int(row["challenger_errors"] or 0), "scores": [r["challenger_p"] for r in rows if ok(r["challenger_p"])]},
    }
    breach = judge(roles["champion"], roles["challenger"], rules)
    judged = n >= rules["min_records"]
    summary = {"stage": stage, "fraction": fraction, "salt": salt, "compared_users": n, "judged": judged,
               "not_judged_why": None if judged else f"{n} compared users < min_records {rules['min_records']}",
               "challenger_error": None if error is None else f"{type(error).__name__}: {str(error).splitlines()[0][:500]}",
               "champion": {k: v for k, v in roles["champion"].items() if k != "scores"},
               "challenger": {k: v for k, v in roles["challenger"].items() if k != "scores"},
               "score_psi": score_psi(roles["champion"]["scores"], roles["challenger"]["scores"]), "breach": breach,
               "rules": {**{k: rules[k] for k in ("min_records", "max_error_rate_increase", "max_score_psi")}, "off": list(rules.get("off") or [])}}
    return pairs, summary


def served(stage: str, serve_canary: bool, champion_meta: dict, challenger_meta: dict | None) -> dict:
    """The live columns (probability, model_name, model_version, role, threshold): a canary user with a valid
    challenger score is the challenger's when the canary serves; everyone else is the champion's."""
    use = F.lit(bool(serve_canary and stage == "canary" and challenger_meta)) & valid_score(F.col("challenger_p"))
    name = challenger_meta["model_name"] if challenger_meta else champion_meta["model_name"]
    version = challenger_meta["model_version"] if challenger_meta else champion_meta["model_version"]
    return {
        "churn_probability": F.when(use, F.col("challenger_p")).otherwise(F.col("champion_p")),
        "model_name": F.when(use, F.lit(name)).otherwise(F.lit(champion_meta["model_name"])),
        "model_version": F.when(use, F.lit(version)).otherwise(F.lit(champion_meta["model_version"])),
        "role": F.when(use, F.lit("canary")).otherwise(F.lit("champion")),
        # Each model's own decision threshold: `churn evaluate` judges a mixed day per version with it.
        "threshold": F.when(use, F.lit(float((challenger_meta or champion_meta)["threshold"]))).otherwise(F.lit(float(champion_meta["threshold"]))),
    }


def day_dir(lake: Path, day: date) -> Path:
    return shadow_lake(lake) / "telecom" / "churn_predictions" / f"score_date={day.isoformat()}"
