#!/usr/bin/env bash
# Installs what is missing, builds, and clusters the bundled example models,
# printing clusterc's per-layer report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release >/dev/null
mkdir -p build/examples
for m in examples/cnn-tosa.mlir examples/mlp-linalg.mlir; do
  echo "== clusterc --clusters=16 --report $m"
  build/tools/clusterc/clusterc --clusters=16 --report "$m" -o "build/examples/$(basename "$m" .mlir).clustered.mlir"
done
echo "clustered models written to build/examples/"
