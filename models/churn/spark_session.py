"""One SparkSession recipe for every churn job, plus the progress log they share.

The master comes from ``--master``, else ``SPARK_MASTER_URL``, else the local standalone cluster of
``npx streamscore spark up``. ``local[N]`` is never a silent fallback: a job that cannot reach the
cluster fails instead of quietly running on one machine, so benchmark numbers say what ran them.
"""
from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_MASTER = "spark://127.0.0.1:7077"
SHUFFLE_PARTITIONS = 8  # users x cut-offs is thousands of rows: 200 default partitions would be mostly empty tasks

_t0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - _t0:6.1f} s] {msg}", flush=True)


@contextmanager
def stage(name: str, timings: dict | None = None):
    """Logs the start and the duration of one stage; records seconds in ``timings[name]``."""
    log(f"{name} ...")
    started = time.perf_counter()
    yield
    seconds = time.perf_counter() - started
    if timings is not None:
        timings[name] = round(seconds, 3)
    log(f"{name}: {seconds:.1f} s")


def resolve_master(master: str | None) -> str:
    return master or os.environ.get("SPARK_MASTER_URL") or DEFAULT_MASTER


def spark_session(app_name: str, master: str | None = None, *, ui: bool = True, driver_memory: str = "2g",
                  extra: dict | None = None):
    """The session every job uses. No Python UDFs run on executors (features, reasons and the
    pipeline are all JVM expressions), but ``spark.pyspark.python`` still pins this interpreter
    so a standalone worker never picks up another Python."""
    from pyspark.sql import SparkSession

    conf = {
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.memory": driver_memory,
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(SHUFFLE_PARTITIONS),
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MILLIS",
        "spark.sql.parquet.compression.codec": "zstd",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        # the per-user aggregate has object buffers (collect_list, mode); past 128 keys per task
        # Spark falls back to sorting them, about a third of the feature time here. 16k users x
        # cut-offs per task stay in the hash map (a few KB each); beyond that the fallback is safe.
        "spark.sql.objectHashAggregate.sortBased.fallbackThreshold": "16384",
        "spark.ui.enabled": "true" if ui else "false",
        "spark.ui.showConsoleProgress": "false",  # progress bars garble the stage log
        **(extra or {}),
    }
    builder = SparkSession.builder.appName(app_name).master(resolve_master(master))
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


@contextmanager
def spark_job(app_name: str, master: str | None = None, **session_options):
    """A job's session (``spark_session``'s arguments), stopped when the job ends, failed or not."""
    spark = spark_session(app_name, master, **session_options)
    try:
        yield spark
    finally:
        spark.stop()
