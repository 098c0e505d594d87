#!/usr/bin/env bash
# Runs function FN of a TOSA 0.x model on MLIR 19 and of its tosa-upgrade.py
# upgrade on MLIR 22, on the same inputs (e2e/harness.py), and compares.
#   run-both.sh SRCROOT TOOLS19 TOOLS22 MODEL FN "IN.." "OUT.." [TOL]
# TOOLSn: the bin directories (19's runner is mlir-cpu-runner, 22's
# mlir-runner). transpose_conv2d needs tosa-optional-decompositions.
set -eo pipefail
src=$1 t19=$2 t22=$3 model=$4 fn=$5 ins=$6 outs=$7 tol=${8:-1e-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=()
for i in $ins; do args+=(--input "$i"); done
for o in $outs; do args+=(--output "$o"); done
python3 "$src/test/e2e/harness.py" "$model" --fn "$fn" "${args[@]}" > "$tmp/m19.mlir"
python3 "$src/scripts/tosa-upgrade.py" "$tmp/m19.mlir" -o "$tmp/m22.mlir"
pipe='builtin.module(func.func(tosa-optional-decompositions,tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith{include-apply-rescale=true},tosa-to-tensor),one-shot-bufferize{bufferize-function-boundaries},func.func(convert-linalg-to-loops),convert-scf-to-cf,expand-strided-metadata,lower-affine,convert-math-to-libm,finalize-memref-to-llvm,convert-to-llvm,reconcile-unrealized-casts)'
run() { # tools runner model out
  local lib="$1/../lib"
  LD_LIBRARY_PATH="$lib" "$1/mlir-opt" --pass-pipeline="$pipe" "$3" |
    LD_LIBRARY_PATH="$lib" "$1/$2" -e main -entry-point-result=void \
      -shared-libs="$lib/libmlir_c_runner_utils.so,$lib/libmlir_runner_utils.so" > "$4"
}
run "$t19" mlir-cpu-runner "$tmp/m19.mlir" "$tmp/o19.txt"
run "$t22" mlir-runner "$tmp/m22.mlir" "$tmp/o22.txt"
python3 - "$tmp/o19.txt" "$tmp/o22.txt" "$fn" "$tol" <<'PY'
import re, struct, sys
def floats(path):
    # printMemrefI32 of the bit-cast f32 results; drop the headers.
    text = re.sub(r"Unranked Memref[^\n]*\n", "\n", open(path).read())
    return [struct.unpack("<f", struct.pack("<i", int(v)))[0] for v in re.findall(r"-?\d+", text)]
a, b = floats(sys.argv[1]), floats(sys.argv[2])
tol = float(sys.argv[4])
if not a or len(a) != len(b):
    sys.exit("%s: %d values on 19, %d on 22" % (sys.argv[3], len(a), len(b)))
diff = max(abs(x - y) for x, y in zip(a, b))
print("%s: %d values, max abs difference %g" % (sys.argv[3], len(a), diff))
if not diff <= tol * max(1.0, max(abs(x) for x in a)):
    sys.exit("%s: difference %g above tolerance" % (sys.argv[3], diff))
PY
