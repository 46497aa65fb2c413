#!/usr/bin/env python3
"""reference.json of a churn model version: its numeric features and churn probability on its own
training rows (the users not held out, at the meta's cut-offs), for the daily batch's drift check
(batch_drift.py). train.py writes one for every new model through ``write_training_reference``;
for the committed model, this script recomputes the training rows from a lake:

    node models/churn/telco_lake.ts /tmp/telco-lake      # the Telco-derived lake, no Kafka (~30 s)
    .venv/bin/python models/churn/make_reference.py --lake /tmp/telco-lake [--model-dir models/churn/artifacts]

The lake's files are not byte-identical to the sink-written lake whose sha256 the meta records (file
names carry offsets), so the script checks the rows instead: the training rows and their positives
must equal the meta's ``class_balance.train``, else nothing is written.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from datetime import date

from features import LABEL, NUMERIC_FEATURES, features_as_of, lake_root, read_billing_events
from modeling import churn_probability, with_split
from spark_session import HERE, log, spark_job

sys.path.insert(0, str(HERE.parent / "common"))
from reference import write_reference  # noqa: E402

# Deciles from a quarter of a million rows are exact to well under a bin's width; more is only memory.
MAX_ROWS = 250_000


def write_training_reference(model: PipelineModel, train: DataFrame, out_dir: Path, model_name: str, model_version: str,
                             source: str) -> Path:
    """reference.json in ``out_dir`` from the training rows ``train`` scored by ``model``."""
    n = train.count()
    rows = train if n <= MAX_ROWS else train.sample(False, MAX_ROWS / n, 7)
    scored = model.transform(rows)
    picked = scored.select(*NUMERIC_FEATURES, churn_probability(scored).alias("p")).collect()
    column = lambda c: np.array([np.nan if r[c] is None else r[c] for r in picked], dtype=np.float64)  # noqa: E731
    return write_reference(out_dir, model_name, model_version, {c: column(c) for c in NUMERIC_FEATURES}, column("p"),
                           source=f"{source}; {len(picked)} of {n} training rows")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lake", required=True, help="the lake the model was trained on (or its rebuild)")
    ap.add_argument("--model-dir", type=Path, default=HERE / "artifacts")
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args(argv)
    meta = json.loads((args.model_dir / "model-meta.json").read_text())
    with spark_job("churn-reference", args.master, ui=False, driver_memory="2g") as spark:
        events = read_billing_events(spark, lake_root(args.lake))
        cutoffs = [date.fromisoformat(c) for c in meta["cutoffs"]]
        table = with_split(features_as_of(events, cutoffs, with_label=True), meta["split"]["folds"])
        train = table.where(~F.col("cancelled_by_cutoff") & ~F.col("heldout")).cache()
        got = train.agg(F.count(F.lit(1)).alias("rows"), F.sum(F.col(LABEL).cast("int")).alias("positives")).first()
        want = meta["class_balance"]["train"]
        if (got["rows"], got["positives"]) != (want["rows"], want["positives"]):
            raise SystemExit(f"{args.lake} gives {got['rows']} training rows with {got['positives']} positives; the model was "
                             f"trained on {want['rows']} with {want['positives']}: not its training data, nothing written")
        log(f"training rows reproduced: {got['rows']} rows, {got['positives']} positives, as model-meta.json records")
        model = PipelineModel.load(str(args.model_dir / "pipeline-model"))
        path = write_training_reference(model, train, args.model_dir, meta["model_name"], meta["model_version"],
                                        source=f"training rows at cut-off(s) {', '.join(meta['cutoffs'])} (not held out), "
                                               f"lake rebuilt by models/churn/telco_lake.ts")
    print(json.dumps({"reference": str(path), "rows": got["rows"], "positives": got["positives"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
