#!/usr/bin/env bash
# Installs what clusterc needs from Debian 12's own packages, only if missing.
# Idempotent; uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."

# LLVM/MLIR 19 itself comes from scripts/mlir-version.sh (below), which
# never swaps out a libmlir-22-dev the machine has for libmlir-19-dev.
PKGS=(cmake ninja-build gcc g++ python3 zlib1g-dev clang-19
      libpng-dev                  # train/: folders of PNG images as data sets
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
      dataset-fashion-mnist
      libclang-rt-19-dev          # libFuzzer and the sanitizers for clang-19 (fuzz/)
      time python3-numpy          # bench/large-models.sh: /usr/bin/time -v, the generator
      python3-matplotlib          # bench/experiment*.py: the plots of docs/RESULTS.md
      libopenblas-dev             # bench/lut-bench.c: cblas sgemv/sgemm, the float peer
      libprotobuf-c-dev protobuf-c-compiler python3-onnx  # onnx/: the ONNX importer, its schema
      python3-torch python3-torchvision)                  # test/models: real models for the tests

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
scripts/mlir-version.sh 19 >/dev/null
