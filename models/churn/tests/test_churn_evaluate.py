"""evaluate.py: the predictions of D-30 joined to the cancellations in (D-30, D] on the hand-made lake
(churn_lake_fixture: cut-off 2026-06-30, so D = 2026-07-30), with the horizon's edges exact."""
import importlib
import json
import sys
from datetime import date, datetime, timezone

import pytest
from churn_lake_fixture import CUTOFF, write_fixture_lake
from churn_modules import CHURN_DIR


def _load_evaluate():
    """evaluate.py imports features and spark_session by bare name; imported as churn_modules does
    (models/churn first on sys.path, its bare names dropped again) so the maintenance suite keeps its own."""
    names = ("evaluate", "features", "spark_session")
    displaced = {n: sys.modules.pop(n) for n in names if n in sys.modules}
    sys.path.insert(0, str(CHURN_DIR))
    try:
        return importlib.import_module("evaluate")
    finally:
        sys.path.remove(str(CHURN_DIR))
        for n in names:
            sys.modules.pop(n, None)
        sys.modules.update(displaced)


evaluate = _load_evaluate()
D = date(2026, 7, 30)
VERSION = "2026.11.29-test"


def _write_predictions(spark, lake, rows, version=VERSION, day=CUTOFF):
    scored_at = datetime(2026, 6, 30, 23, 0, tzinfo=timezone.utc)
    df = spark.createDataFrame([(u, p, "churn-30d-rf", version, scored_at) for u, p in rows],
                               "user_id string, churn_probability double, model_name string, model_version string, scored_at timestamp")
    df.write.mode("overwrite").parquet(str(evaluate.predictions_dir(lake, day)))


def _model_dir(tmp_path, version=VERSION, threshold=0.24):
    d = tmp_path / "model"
    d.mkdir(exist_ok=True)
    (d / "model-meta.json").write_text(json.dumps({"model_name": "churn-30d-rf", "model_version": version, "threshold": threshold}))
    return d


def test_true_and_false_positives_and_misses_at_the_meta_threshold(spark, tmp_path):
    lake = write_fixture_lake(spark, tmp_path / "lake")
    # u-a cancels on 07-20 (in the window), u-b 1 ms after it ends (07-31T00:00), u-e on its last ms
    # (07-30T23:59:59.999), u-z never; u-c cancelled on 06-15, before the window, and was not scored.
    _write_predictions(spark, lake, [("u-a", 0.9), ("u-b", 0.8), ("u-e", 0.1), ("u-z", 0.05), ("u-t", 0.24)])
    s = evaluate.evaluate_day(spark, lake, D, _model_dir(tmp_path))
    assert (s["model_name"], s["model_version"], s["day"], s["evaluated_on"], s["threshold"]) == ("churn-30d-rf", VERSION, "2026-06-30", "2026-07-30", 0.24)
    # u-a TP; u-b and u-t (exactly at the threshold: positive) FP; u-e FN; u-z a true negative.
    assert (s["scored"], s["true_positives"], s["false_positives"], s["false_negatives"], s["labels_caught"]) == (5, 1, 2, 1, 1)
    assert s["precision"] == pytest.approx(1 / 3) and s["recall"] == pytest.approx(1 / 2)
    assert s["cancelled_unscored"] == 0


def test_cancellations_of_unscored_users_are_counted_apart_and_empty_denominators_are_none(spark, tmp_path):
    lake = write_fixture_lake(spark, tmp_path / "lake")
    _write_predictions(spark, lake, [("u-z", 0.05)])
    s = evaluate.evaluate_day(spark, lake, D, _model_dir(tmp_path))
    assert (s["true_positives"], s["false_positives"], s["false_negatives"], s["cancelled_unscored"]) == (0, 0, 0, 2)
    assert s["precision"] is None and s["recall"] is None


def test_refusals_name_the_reason(spark, tmp_path):
    lake = write_fixture_lake(spark, tmp_path / "lake")
    with pytest.raises(evaluate.EvaluationError, match="no predictions of 2026-06-30"):
        evaluate.evaluate_day(spark, lake, D, _model_dir(tmp_path))
    _write_predictions(spark, lake, [("u-a", 0.9)], version="other-version")
    with pytest.raises(evaluate.EvaluationError, match="give --model-dir of that version or --threshold"):
        evaluate.evaluate_day(spark, lake, D, _model_dir(tmp_path))
    assert evaluate.evaluate_day(spark, lake, D, _model_dir(tmp_path), threshold=0.5)["true_positives"] == 1
    # The lake ends on 2026-07-31: a later D would judge with cancellations not yet in.
    _write_predictions(spark, lake, [("u-a", 0.9)], day=date(2026, 7, 6))
    with pytest.raises(evaluate.EvaluationError, match="not all in yet"):
        evaluate.evaluate_day(spark, lake, date(2026, 8, 5), _model_dir(tmp_path))
