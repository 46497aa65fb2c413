#!/usr/bin/env bash
# Installs what `npm test` / `npm run demo` need and is missing on a fresh machine. npm dependencies
# include Node 24 (the `node` package); the Kafka and Apicurio jars come from Maven Central and Redis
# from Debian, both on demand in `streamscore infra up`.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "bootstrap: $(df -h --output=avail . | tail -1 | tr -d ' ') disk free here, $(awk '/MemAvailable/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo 2>/dev/null) memory available" >&2
for tool in java mvn; do
  command -v "$tool" >/dev/null || { echo "bootstrap: $tool is required (Java 17+ and Maven) to run Kafka and the schema registry" >&2; exit 1; }
done
if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: installing npm dependencies (npm ci)" >&2
  # onnxruntime-node's postinstall downloads CUDA providers from outside the npm registry; the CPU
  # provider is inside the package, so skip it.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
# Python for the training-side tests (feature parity, TreeSHAP fixture, model code): a project venv
# with models/maintenance/requirements-test.txt, reinstalled when that file changes.
# PySpark for SparkScale (models/churn/requirements.txt) goes into the same venv: its pip package
# (~430 MB, built from the sdist once, then cached by pip) carries Spark itself.
# MLflow (infra/mlflow/requirements.txt, ~500 MB), the tracking server and model registry that
# `streamscore infra up` starts, goes into it too.
command -v python3 >/dev/null || { echo "bootstrap: python3 (3.11+) is required" >&2; exit 1; }
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv" >&2
  python3 -m venv .venv
fi
REQS=(models/maintenance/requirements-test.txt models/churn/requirements.txt infra/mlflow/requirements.txt)
installed=0
for REQ in "${REQS[@]}"; do
  [ -f "$REQ" ] || continue
  stamp=.venv/.$(echo "$REQ" | tr '/' '_').sha256
  want=$(sha256sum "$REQ" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "bootstrap: installing $REQ into .venv" >&2
    # The other files are constraints: one file's install must not silently up- or downgrade a
    # package another pins (pip fails instead, naming both pins).
    constraints=()
    for OTHER in "${REQS[@]}"; do
      if [ "$OTHER" != "$REQ" ] && [ -f "$OTHER" ]; then constraints+=(-c "$OTHER"); fi
    done
    # No pip cache: on a fresh machine it is never read again, and for pyspark it would hold the
    # ~430 MB sdist and the wheel built from it next to the installed copy.
    .venv/bin/pip install --quiet --disable-pip-version-check --no-cache-dir -r "$REQ" "${constraints[@]}"
    echo "$want" > "$stamp"
    installed=1
  fi
done
if [ "$installed" = 1 ]; then .venv/bin/pip check >&2; fi
