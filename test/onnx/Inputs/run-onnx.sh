#!/usr/bin/env bash
# Lowers an imported ONNX model with a @main (reference.py main) through
# upstream passes and runs it on the JIT; math.erf and math.tanh become
# libm calls.
#   run-onnx.sh LLVM_TOOLS_DIR < model.mlir
set -eo pipefail
tools=$1
lib="$tools/../lib"
pipeline='builtin.module(one-shot-bufferize{bufferize-function-boundaries},func.func(convert-linalg-to-loops),convert-math-to-libm,convert-scf-to-cf,expand-strided-metadata,lower-affine,finalize-memref-to-llvm,convert-to-llvm,reconcile-unrealized-casts)'
runner="$tools/mlir-runner"                         # LLVM 20 and later
[ -x "$runner" ] || runner="$tools/mlir-cpu-runner" # LLVM 19
"$tools/mlir-opt" --pass-pipeline="$pipeline" |
  "$runner" -O0 -e main -entry-point-result=void \
    -shared-libs="$lib/libmlir_c_runner_utils.so,$lib/libmlir_runner_utils.so"
