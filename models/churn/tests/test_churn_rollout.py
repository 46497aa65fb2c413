"""Batch shadow and canary (score.py --challenger-dir): the canary hash in Spark equals canary.py's on
the shared fixture; the rules twin (rollout_rules.py); and the batch on a small dev lake with the
committed model as champion and a constant-score challenger (a logistic regression regularised flat)."""
import json
import shutil
import sys
from datetime import date
from pathlib import Path

import pytest
from pyspark.ml import PipelineModel
from pyspark.ml.classification import LogisticRegression
from pyspark.sql import functions as F

from churn_modules import CHURN_DIR, batch_rollout, devlake, evaluate, rollout_rules, score

REPO = CHURN_DIR.parents[1]
sys.path.insert(0, str(REPO / "models" / "common"))
from canary import in_canary  # noqa: E402

CANARY_FIXTURE = REPO / "streams" / "runtime" / "rollout" / "fixtures" / "canary-keys.json"
PSI_FIXTURE = Path(__file__).parent / "fixtures" / "score-psi-cases.json"
COMMITTED = CHURN_DIR / "artifacts"
DAY, LABELS_ON = date(2026, 6, 30), date(2026, 7, 30)
RULES = {"min_records": 30, "max_error_rate_increase": 0.01, "max_score_psi": 0.25}


def test_the_spark_canary_hash_is_canary_py_on_the_shared_fixture(spark):
    cases = json.loads(CANARY_FIXTURE.read_text(encoding="utf-8"))["cases"]
    salts = sorted({c[0] for c in cases})
    assert salts == ["12", "7"]
    frame = spark.createDataFrame([(salt, key) for salt, key, _, _ in cases], "salt string, key string")
    member = F.when(F.col("salt") == "7", batch_rollout.canary_column(F.col("key"), "7", 0.1)).otherwise(batch_rollout.canary_column(F.col("key"), "12", 0.1))
    got = {(r["salt"], r["key"]): r["in"] for r in frame.select("salt", "key", member.alias("in")).collect()}
    assert len(got) == len(cases)
    for salt, key, _, in_10pct in cases:
        assert got[(salt, key)] == in_10pct == in_canary(salt, key, 0.1), (salt, key)
    assert 0 < sum(c[3] for c in cases) < len(cases)


def test_score_psi_matches_the_cases_both_suites_read():
    cases = json.loads(PSI_FIXTURE.read_text())["cases"]
    assert len(cases) >= 4
    for case in cases:
        assert rollout_rules.score_psi(case["champion"], case["challenger"]) == pytest.approx(case["psi"], abs=1e-12), case["name"]


def test_judge_error_rate_then_psi_then_min_records():
    scores = [i / 100 for i in range(100)]
    ok = {"records": 100, "errors": 0, "scores": scores}
    assert rollout_rules.judge(ok, dict(ok), RULES) is None
    erring = {"records": 100, "errors": 2, "scores": scores}
    breach = rollout_rules.judge(ok, erring, RULES)
    assert breach["rule"] == "error_rate" and breach["numbers"]["challenger_error_rate"] == 0.02
    assert breach["detail"] == "error rate 2.00 % vs champion 0.00 % (+1.00 % allowed)"
    flat = {"records": 100, "errors": 0, "scores": [0.3] * 100}
    breach = rollout_rules.judge(ok, flat, RULES)
    assert breach["rule"] == "score_psi" and breach["numbers"]["score_psi"] > 0.25
    assert rollout_rules.judge(ok, flat, {**RULES, "min_records": 101}) is None
    # Rules switched off (the rollout tag's `off`, e.g. score_psi for a retrained version) are not judged.
    assert rollout_rules.judge(ok, flat, {**RULES, "off": ["score_psi"]}) is None
    assert rollout_rules.judge(ok, erring, {**RULES, "off": ["error_rate"]}) is None


def test_policy_rules_of_churn_are_the_defaults_with_its_own_window():
    rules = rollout_rules.policy_rollout_rules("churn-30d-rf")
    assert rules["min_records"] == 500 and rules["window_ms"] == 86_400_000 and rules["max_score_psi"] == 0.25
    assert rollout_rules.policy_rollout_rules("no-such-model")["min_records"] == 200


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("rollout-lake")
    # Six weeks around the score date (the lake's day partitions are most of its cost), to the labels' day
    devlake.write_lake(spark, root, n_users=160, start=date(2026, 6, 15), end=date(2026, 7, 31), v2_from=date(2026, 6, 25), seed=5)
    return root


@pytest.fixture(scope="module")
def champion(tmp_path_factory):
    """The committed model without its reference.json: these tests are not about drift, whose stage costs a pass."""
    out = tmp_path_factory.mktemp("champion") / "model"
    shutil.copytree(COMMITTED, out, ignore=shutil.ignore_patterns("reference.json"))
    return out


@pytest.fixture(scope="module")
def constant_challenger(spark, lake, tmp_path_factory):
    """The committed pipeline with its forest replaced by a logistic regression so regularised that
    every user gets the same probability: the bad challenger a canary must catch."""
    model = PipelineModel.load(str(COMMITTED / "pipeline-model"))
    events = score.read_billing_events(spark, lake)
    table = score.features_as_of(events, DAY, with_label=False)
    prepared = PipelineModel(stages=model.stages[:-1]).transform(table).withColumn("label", (F.rand(3) < 0.3).cast("double"))
    flat = LogisticRegression(featuresCol="features", labelCol="label", regParam=1e4, maxIter=5).fit(prepared)
    out = tmp_path_factory.mktemp("constant-challenger")
    PipelineModel(stages=[*model.stages[:-1], flat]).save(str(out / "pipeline-model"))
    meta = json.loads((COMMITTED / "model-meta.json").read_text())
    (out / "model-meta.json").write_text(json.dumps({**meta, "model_version": "constant-test", "threshold": 0.5}))
    return out


def _score(spark, lake, champion, **challenger):
    return score.score_day(spark, lake, DAY, champion, allow_stale_lake=True, challenger={"rules": RULES, **challenger})


def _partition(spark, path):
    return {r["user_id"]: r for r in spark.read.parquet(str(path)).collect()}


CHAMPION_META = {"model_name": "churn-30d-rf", "model_version": "v1", "threshold": 0.24}
CHALLENGER_META = {"model_name": "churn-30d-rf", "model_version": "v2", "threshold": 0.5}


def test_a_serving_canary_gives_exactly_the_hashed_users_the_challengers_valid_scores(spark):
    """served() on what compare() hands score.py: challenger_p only for the canary's users (one of them an error)."""
    users = [f"user-{i}" for i in range(400)]
    canary = [u for u in users if in_canary("9", u, 0.5)]
    erring = canary[0]
    rows = [(u, i / 400, (float("nan") if u == erring else 0.31) if u in canary else None) for i, u in enumerate(users)]
    frame = spark.createDataFrame(rows, "user_id string, champion_p double, challenger_p double")
    cols = batch_rollout.served("canary", True, CHAMPION_META, CHALLENGER_META)
    out = {r["user_id"]: r for r in frame.select("user_id", *(c.alias(k) for k, c in cols.items())).collect()}
    served_by_canary = {u for u, r in out.items() if r["role"] == "canary"}
    assert served_by_canary == set(canary) - {erring} and 150 < len(served_by_canary) < 250
    assert all(out[u]["churn_probability"] == 0.31 and out[u]["model_version"] == "v2" and out[u]["threshold"] == 0.5 for u in served_by_canary)
    assert out[erring]["role"] == "champion" and out[erring]["churn_probability"] == users.index(erring) / 400
    assert {out[u]["model_version"] for u in users if u not in canary} == {"v1"}
    # On a breach (serve_canary False) nobody is the challenger's.
    stopped = batch_rollout.served("canary", False, CHAMPION_META, CHALLENGER_META)
    assert {r["role"] for r in frame.select(stopped["role"].alias("role")).collect()} == {"champion"}


def test_a_constant_canary_is_rolled_back_on_score_psi_and_the_champion_serves_everyone(spark, lake, champion, constant_challenger):
    summary = _score(spark, lake, champion, dir=constant_challenger, stage="canary", fraction=0.5, salt="9")
    ro = summary["rollout"]
    breach = ro["breach"]
    assert breach["rule"] == "score_psi" and breach["numbers"]["score_psi"] > 0.25 and ro["judged"] and ro["challenger_error"] is None
    rows = _partition(spark, summary["output"])
    # The challenger scored exactly the active users canary.py hashes in, and the champion scored them too.
    assert ro["compared_users"] == sum(in_canary("9", u, 0.5) for u in rows) >= RULES["min_records"]
    assert ro["challenger"] == {"records": ro["compared_users"], "errors": 0} == ro["champion"]
    assert {r["role"] for r in rows.values()} == {"champion"} and {r["model_version"] for r in rows.values()} == {summary["model_version"]}
    assert ro["served"] == {"champion": len(rows)}


def test_shadow_scores_everyone_into_the_shadow_partition_only_and_each_version_is_evaluated(spark, lake, champion, constant_challenger):
    summary = _score(spark, lake, champion, dir=constant_challenger, stage="shadow", rules={**RULES, "off": ["score_psi"]})
    ro = summary["rollout"]
    live, shadow = _partition(spark, summary["output"]), _partition(spark, ro["shadow_output"])
    assert ro["breach"] is None and ro["score_psi"] > 0.25, "score_psi is off: measured, not judged"
    assert "/shadow/telecom/churn_predictions/" in ro["shadow_output"] and set(shadow) == set(live) and ro["compared_users"] == len(live)
    assert {r["role"] for r in live.values()} == {"champion"} and {r["model_version"] for r in live.values()} == {summary["model_version"]}
    assert {r["role"] for r in shadow.values()} == {"shadow"} and {r["model_version"] for r in shadow.values()} == {"constant-test"}
    flat = [r["churn_probability"] for r in shadow.values()]
    assert max(flat) - min(flat) < 1e-3
    # Delayed labels of the day: the champion's live rows and the shadow's, each version at its own threshold.
    by_version = {e["model_version"]: e for e in evaluate.evaluate_day(spark, lake, LABELS_ON, champion)["evaluations"]}
    assert set(by_version) == {"constant-test", summary["model_version"]}
    assert by_version["constant-test"]["threshold"] == 0.5 and by_version[summary["model_version"]]["threshold"] == 0.24
    assert by_version["constant-test"]["scored"] == by_version[summary["model_version"]]["scored"] == len(live)
    # 0.31 < 0.5 for every user: the constant model predicts no churn at all
    assert by_version["constant-test"]["true_positives"] + by_version["constant-test"]["false_positives"] == 0


def test_a_challenger_that_cannot_load_errs_on_every_user_it_should_score(spark, tmp_path):
    """score.py hands compare() the load error in place of the model (run_challenger): the canary's
    users are its errors, error_rate is breached, and served() gives each of them the champion's score."""
    broken = tmp_path / "broken"
    shutil.copytree(COMMITTED, broken, ignore=shutil.ignore_patterns("pipeline-model"))
    with pytest.raises(Exception) as failed:
        score.load_model(broken)
    users = spark.createDataFrame([(f"user-{i}", i / 400) for i in range(400)], "user_id string, champion_p double")
    pairs, ro = batch_rollout.compare(users.select("user_id"), users, failed.value, "canary", 0.5, "9", RULES)
    canary = sum(in_canary("9", f"user-{i}", 0.5) for i in range(400))
    assert ro["compared_users"] == ro["challenger"]["errors"] == canary and ro["champion"]["errors"] == 0
    assert ro["breach"]["rule"] == "error_rate" and ro["breach"]["numbers"]["challenger_error_rate"] == 1.0 and ro["challenger_error"]
    # Even were the canary serving, a user without a valid challenger score is the champion's.
    cols = batch_rollout.served("canary", True, {"model_name": "m", "model_version": "v1", "threshold": 0.3}, {"model_name": "m", "model_version": "v2", "threshold": 0.5})
    assert {r["role"] for r in users.join(pairs.select("user_id", "challenger_p"), "user_id", "left").select(cols["role"].alias("role")).collect()} == {"champion"}
