"""train -> save -> reload in a fresh process -> score -> partition written; re-running a date replaces it."""
import json
import os
import subprocess
import sys
from datetime import date

import pytest
from pyspark.sql import functions as F

from churn_modules import CHURN_DIR, devlake, features, score, train


@pytest.fixture(scope="module")
def dev_lake(spark, tmp_path_factory):
    lake = tmp_path_factory.mktemp("dev-lake")
    devlake.write_lake(spark, lake, n_users=240, start=date(2026, 4, 1), end=date(2026, 7, 31), v2_from=date(2026, 5, 1), seed=3)
    return lake


def test_train_reload_score_and_rerun(spark, dev_lake, tmp_path):
    out, card = tmp_path / "artifacts", tmp_path / "MODEL_CARD.md"
    args = train.parse_args(["--lake", str(dev_lake), "--cutoff", "2026-06-30", "--cutoff", "2026-05-31", "--out", str(out),
                             "--card", str(card), "--folds", "2", "--grid", "tiny", "--data-description", "test lake", "--no-profile"])
    meta = train.train_model(spark, args)

    assert json.loads((out / "model-meta.json").read_text())["model_version"] == meta["model_version"]
    assert meta["model_name"] in ("churn-30d-logreg", "churn-30d-rf") and meta["cutoffs"] == ["2026-05-31", "2026-06-30"]
    assert meta["pipeline_stages"][:4] == ["ImputerModel", "StringIndexerModel", "OneHotEncoderModel", "VectorAssembler"]
    for kind in ("logreg", "rf"):
        held = meta["metrics"][kind]["heldout"]
        assert 0 <= held["areaUnderROC"] <= 1 and 0 <= held["areaUnderPR"] <= 1 and 0 < meta["metrics"][kind]["threshold"] < 1
    assert meta["training_data"]["files"] > 0 and len(meta["training_data"]["sha256"]) == 64
    assert meta["physical_plan"]["exchanges"] and "hashpartitioning(user_id" in meta["bottleneck"]
    assert "Exchange" in (out / "physical-plan.txt").read_text()
    text = card.read_text()
    assert meta["model_version"] in text and "held-out AUC-PR" in text and meta["training_data"]["sha256"] in text

    # a fresh process loads the saved PipelineModel through the CLI; meanwhile this one scores another day
    env = {k: v for k, v in os.environ.items() if k != "SPARK_MASTER_URL"}
    proc = subprocess.Popen([sys.executable, str(CHURN_DIR / "score.py"), "--date", "2026-07-15", "--lake", str(dev_lake),
                             "--model-dir", str(out), "--master", "local[2]", "--no-ui", "--driver-memory", "1g"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    score.score_day(spark, dev_lake, date(2026, 7, 16), out)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-3000:]
    summary = json.loads(stdout.strip().splitlines()[-1])
    part = dev_lake / "telecom" / "churn_predictions" / "score_date=2026-07-15"
    assert summary["output"] == str(part) and summary["model_version"] == meta["model_version"]

    written = spark.read.parquet(str(part))
    assert tuple(written.columns) == score.OUTPUT_COLUMNS
    assert dict(written.dtypes) == {"user_id": "string", "churn_probability": "double", "model_name": "string",
                                    "model_version": "string", "scored_at": "timestamp", "segment": "string",
                                    "high_value": "boolean", "top_reasons": "array<string>"}
    events = features.read_billing_events(spark, dev_lake)
    active = features.features_as_of(events, date(2026, 7, 15), with_label=False).where(~F.col("cancelled_by_cutoff"))
    assert written.count() == written.select("user_id").distinct().count() == active.count() == summary["users_scored"] > 0
    # every user of the lake is scored or reported, with its reason
    assert summary["users_scored"] + summary["users_unscored"] == events.select("user_id").distinct().count()
    assert summary["unscored_by_reason"].keys() <= {"cancelled_by_cutoff", "joined_after_date"}
    assert written.where((F.col("churn_probability") < 0) | (F.col("churn_probability") > 1)).count() == 0
    assert 0.15 <= written.where("high_value").count() / summary["users_scored"] <= 0.25

    rerun = score.score_day(spark, dev_lake, date(2026, 7, 15), out)
    by_date = {str(r["score_date"]): r["count"] for r in
               spark.read.parquet(str(dev_lake / "telecom" / "churn_predictions")).groupBy("score_date").count().collect()}
    assert by_date["2026-07-15"] == summary["users_scored"] == rerun["users_scored"]  # replaced, not appended
    assert by_date["2026-07-16"] > 0  # the re-run left the other date alone
    assert len(list(part.glob("part-*.parquet"))) == 1


def test_cutoff_without_a_full_label_horizon_is_refused(spark, dev_lake, tmp_path):
    args = train.parse_args(["--lake", str(dev_lake), "--cutoff", "2026-07-15", "--out", str(tmp_path), "--card", str(tmp_path / "c.md")])
    with pytest.raises(SystemExit, match="labels need events through 2026-08-14.*use an earlier --cutoff"):
        train.train_model(spark, args)


def test_committed_production_model_loads_and_scores(spark, dev_lake, tmp_path):
    """The PipelineModel in git (models/churn/artifacts) loads in this session and scores a lake."""
    production = CHURN_DIR / "artifacts"
    meta = json.loads((production / "model-meta.json").read_text())
    summary = score.score_day(spark, dev_lake, date(2026, 7, 15), production, predictions_lake=tmp_path)
    assert summary["model_version"] == meta["model_version"] and summary["users_scored"] > 0
    written = spark.read.parquet(summary["output"])
    assert written.count() == summary["users_scored"]
    assert written.where((F.col("churn_probability") < 0) | (F.col("churn_probability") > 1)).count() == 0
    assert written.select("churn_probability").distinct().count() > 1  # it ranks, not a constant
