#!/usr/bin/env bash
# Lowers a tensor-level model with a @main (see harness.py), read from stdin
# or $2, through upstream passes and runs it on the JIT. The buffer address
# in printMemref's header is masked so outputs compare with diff.
#   run-model.sh LLVM_TOOLS_DIR [model.mlir]
set -eo pipefail
tools=$1
lib="$tools/../lib"
runner="$tools/mlir-runner"                         # LLVM 20 and later
[ -x "$runner" ] || runner="$tools/mlir-cpu-runner" # LLVM 19
pipeline='builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith,tosa-to-tensor),one-shot-bufferize{bufferize-function-boundaries},func.func(convert-linalg-to-loops),convert-scf-to-cf,expand-strided-metadata,lower-affine,finalize-memref-to-llvm,convert-to-llvm,reconcile-unrealized-casts)'
"$tools/mlir-opt" --pass-pipeline="$pipeline" ${2:+"$2"} |
  "$runner" -e main -entry-point-result=void \
    -shared-libs="$lib/libmlir_c_runner_utils.so,$lib/libmlir_runner_utils.so" |
  sed -e 's/base@ = 0x[0-9a-f]*/base@ = ADDR/'
