#!/usr/bin/env bash
# Installs what `npm test` / `npm run demo` need and is missing on a fresh machine. npm dependencies
# include Node 24 (the `node` package); the Kafka and Apicurio jars come from Maven Central and Redis
# from Debian, both on demand in `streamscore infra up`.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in java mvn; do
  command -v "$tool" >/dev/null || { echo "bootstrap: $tool is required (Java 17+ and Maven) to run Kafka and the schema registry" >&2; exit 1; }
done
if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: installing npm dependencies (npm ci)" >&2
  # onnxruntime-node's postinstall downloads CUDA providers from outside the npm registry; the CPU
  # provider is inside the package, so skip it.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
