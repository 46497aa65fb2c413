"""Counts spark.range(N) on a standalone cluster and reports where the tasks ran.

Usage: python distributed-count.py <master-url> <rows> <executors>
Prints one JSON line: {"appId", "count", "executorDirs"}. A Python task's working directory is
its executor's directory (<worker work dir>/<app id>/<executor id>), so executorDirs shows which
workers did the work. The driver waits until all executors are registered before the first job,
so the tasks are spread over every executor rather than run by the first one up.
"""
import json
import os
import sys

from pyspark.sql import SparkSession


def main() -> None:
    master, rows, executors = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    spark = (
        SparkSession.builder.master(master)
        .appName("streamscore-distributed-count")
        .config("spark.ui.enabled", "false")
        .config("spark.executor.cores", "1")
        .config("spark.executor.memory", "512m")
        .config("spark.cores.max", str(executors))
        .config("spark.scheduler.minRegisteredResourcesRatio", "1.0")
        .config("spark.scheduler.maxRegisteredResourcesWaitingTime", "60s")
        .config("spark.sql.shuffle.partitions", str(executors * 2))
        .getOrCreate()
    )
    try:
        sc = spark.sparkContext
        partitions = executors * 4
        count = spark.range(0, rows, numPartitions=partitions).count()
        dirs = sorted(set(sc.parallelize(range(partitions), partitions).map(lambda _: os.getcwd()).collect()))
        print(json.dumps({"appId": sc.applicationId, "count": count, "executorDirs": dirs}), flush=True)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
