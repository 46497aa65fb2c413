"""Split, pipelines, tuning and evaluation for the churn model (pyspark.ml only).

Users, not rows, are split: a deterministic hash of ``user_id`` sends 20 % of users to the held-out
set and numbers the cross-validation folds of the rest, so a user seen at several cut-offs is
never on both sides of any split. The pipeline starts at the aggregated feature table (one row per
user and cut-off, ``features.py``): Imputer -> StringIndexer(keep) -> OneHotEncoder ->
VectorAssembler [-> StandardScaler] -> classifier, and is saved whole as one PipelineModel.
"""
from __future__ import annotations

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import LogisticRegression, RandomForestClassifier
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.feature import Imputer, OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.ml.tuning import CrossValidator, CrossValidatorModel, ParamGridBuilder
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from features import CATEGORICAL_FEATURES, LABEL, NUMERIC_FEATURES

HELDOUT_PERCENT = 20
SEED = 42
THRESHOLD_STEPS = 100  # candidate thresholds 0.01 .. 0.99
IMPUTED = ("avg_bill_amount_last3",)  # the only feature that can be null (no bill yet)
MODEL_KINDS = {"logreg": "LogisticRegression", "rf": "RandomForestClassifier"}
# Small grids on purpose: a few thousand subscribers do not support finer tuning, and the RF's size
# (trees x 2^depth nodes) is committed to git.
GRIDS = {
    "default": {"logreg": {"regParam": [0.001, 0.01, 0.1], "elasticNetParam": [0.0, 0.5]},
                "rf": {"numTrees": [30, 60], "maxDepth": [4, 6]}},
    "tiny": {"logreg": {"regParam": [0.01], "maxIter": [25]}, "rf": {"numTrees": [10], "maxDepth": [3]}},
}


def _bucket(salt: str, modulus: int) -> Column:
    return F.pmod(F.xxhash64(F.lit(salt), F.col("user_id")), F.lit(modulus)).cast("int")


def with_split(table: DataFrame, folds: int) -> DataFrame:
    """``heldout`` (20 % of users) and ``fold`` (0 .. folds-1), both functions of user_id alone."""
    return (table.withColumn("heldout", _bucket("churn-heldout", 100) < HELDOUT_PERCENT)
            .withColumn("fold", _bucket("churn-fold", folds)))


def feature_stages() -> list:
    """Everything between the feature table and the ``features`` vector."""
    imputed = [f"{c}_imputed" for c in IMPUTED]
    indexed = [f"{c}_index" for c in CATEGORICAL_FEATURES]
    encoded = [f"{c}_onehot" for c in CATEGORICAL_FEATURES]
    numeric = [f"{c}_imputed" if c in IMPUTED else c for c in NUMERIC_FEATURES]
    return [
        Imputer(inputCols=list(IMPUTED), outputCols=imputed, strategy="median"),
        # keep: a plan or payment method first seen after training gets its own "unknown" slot
        StringIndexer(inputCols=list(CATEGORICAL_FEATURES), outputCols=indexed, handleInvalid="keep"),
        OneHotEncoder(inputCols=indexed, outputCols=encoded, handleInvalid="keep"),
        VectorAssembler(inputCols=numeric + encoded, outputCol="features"),
    ]


def pipeline(kind: str) -> tuple[Pipeline, object]:
    """The pipeline for ``kind`` and its classifier (whose params the grid varies)."""
    if kind == "logreg":
        scaler = StandardScaler(inputCol="features", outputCol="scaled_features", withMean=True, withStd=True)
        model = LogisticRegression(featuresCol="scaled_features", labelCol=LABEL, maxIter=100, standardization=False)
        return Pipeline(stages=feature_stages() + [scaler, model]), model
    if kind == "rf":
        model = RandomForestClassifier(featuresCol="features", labelCol=LABEL, minInstancesPerNode=5, seed=SEED)
        return Pipeline(stages=feature_stages() + [model]), model
    raise ValueError(f"unknown model kind {kind!r}; one of {sorted(MODEL_KINDS)}")


def evaluator(metric: str = "areaUnderPR") -> BinaryClassificationEvaluator:
    return BinaryClassificationEvaluator(labelCol=LABEL, rawPredictionCol="probability", metricName=metric)


def tune(kind: str, train: DataFrame, folds: int, grid: str) -> CrossValidatorModel:
    """Cross-validation over the user folds on areaUnderPR; the best params are refit on all of
    ``train``. Sub-models are kept for the out-of-fold predictions that choose the threshold."""
    estimator, model = pipeline(kind)
    builder = ParamGridBuilder()
    for name, values in GRIDS[grid][kind].items():
        builder = builder.addGrid(model.getParam(name), values)
    cv = CrossValidator(estimator=estimator, estimatorParamMaps=builder.build(), evaluator=evaluator(), numFolds=folds,
                        foldCol="fold", parallelism=2, collectSubModels=True, seed=SEED)
    return cv.fit(train)


def best_index(cv_model: CrossValidatorModel) -> int:
    metrics = cv_model.avgMetrics
    return max(range(len(metrics)), key=metrics.__getitem__)


def best_params(cv_model: CrossValidatorModel) -> dict:
    return {p.name: v for p, v in cv_model.getEstimatorParamMaps()[best_index(cv_model)].items()}


def churn_probability(predictions: DataFrame) -> Column:
    return vector_to_array(predictions["probability"])[1]


def out_of_fold(cv_model: CrossValidatorModel, train: DataFrame, folds: int) -> DataFrame:
    """(label, p) for every training row, scored by the best-params model that did not see its fold."""
    i = best_index(cv_model)
    parts = []
    for fold in range(folds):
        scored = cv_model.subModels[fold][i].transform(train.where(F.col("fold") == fold))
        parts.append(scored.select(LABEL, churn_probability(scored).alias("p")))
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out


def choose_threshold(scored: DataFrame) -> float:
    """The threshold on a 0.01 grid with the best F1 on ``scored`` (label, p): 100 bucket counts
    aggregated by Spark, cumulated here."""
    bucket = F.least(F.floor(F.col("p") * THRESHOLD_STEPS), F.lit(THRESHOLD_STEPS - 1)).cast("int")
    counts = {r["b"]: (r["n"], r["pos"]) for r in scored.groupBy(bucket.alias("b"))
              .agg(F.count(F.lit(1)).alias("n"), F.sum(LABEL).alias("pos")).collect()}
    positives = sum(pos for _, pos in counts.values())
    best, best_f1, flagged, hits = 0.5, -1.0, 0, 0.0
    for b in range(THRESHOLD_STEPS - 1, 0, -1):  # threshold b/100 flags the buckets >= b
        n, pos = counts.get(b, (0, 0.0))
        flagged, hits = flagged + n, hits + pos
        if flagged and positives:
            f1 = 2 * hits / (flagged + positives)
            if f1 > best_f1:
                best, best_f1 = b / THRESHOLD_STEPS, f1
    return best


def scores_at(scored: DataFrame, threshold: float) -> dict:
    flag = F.col("p") >= F.lit(threshold)
    r = scored.agg(F.count(F.lit(1)).alias("rows"), F.sum(F.when(flag, 1).otherwise(0)).alias("flagged"),
                   F.sum(F.when(flag & (F.col(LABEL) == 1), 1).otherwise(0)).alias("hits"), F.sum(LABEL).alias("positives")).first()
    flagged, hits, positives = int(r["flagged"] or 0), int(r["hits"] or 0), int(r["positives"] or 0)
    return {"threshold": threshold, "rows": int(r["rows"]), "flagged": flagged, "true_positives": hits,
            "precision": hits / flagged if flagged else None, "recall": hits / positives if positives else None}


def evaluate(model: PipelineModel, heldout: DataFrame, threshold: float) -> dict:
    """Held-out areaUnderROC / areaUnderPR and precision/recall at ``threshold``."""
    predictions = model.transform(heldout).cache()
    out = {metric: evaluator(metric).evaluate(predictions) for metric in ("areaUnderROC", "areaUnderPR")}
    out["at_threshold"] = scores_at(predictions.select(LABEL, churn_probability(predictions).alias("p")), threshold)
    predictions.unpersist()
    return out
