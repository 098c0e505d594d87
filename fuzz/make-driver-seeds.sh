#!/usr/bin/env bash
# Regenerates fuzz/corpus/driver/seed-*: the lit tests' MLIR inputs that fit
# the driver target's max_len (16 KiB), the split-file pieces of
# test/bad-input, and a few of them with a `// clusterc: OPTIONS` first line
# (the target then runs the pass with those options).
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/corpus/driver
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f "$out"/seed-*
mkdir -p "$out"
for f in test/passes/*.mlir test/clusterc/*.mlir test/codegen/*.mlir test/plugin/*.mlir \
         test/plugin/Inputs/*.mlir test/train/*.mlir test/bad-input/Inputs/small.mlir; do
  [ "$(wc -c <"$f")" -le 16384 ] || continue
  cp "$f" "$out/seed-$(basename "$(dirname "$f")")-$(basename "$f")"
done
for f in test/bad-input/modules.mlir test/bad-input/weights.mlir; do
  /usr/lib/llvm-19/bin/split-file "$f" "$tmp/$(basename "$f" .mlir)"
done
for f in "$tmp"/*/*.mlir; do
  cp "$f" "$out/seed-split-$(basename "$(dirname "$f")")-$(basename "$f")"
done
opt() { { echo "// clusterc: $1"; cat "$2"; } >"$out/seed-opts-$3"; }
opt "clusters=2 per-channel decode=fold" test/passes/tosa-conv.mlir per-channel-fold.mlir
opt "clusters=3 preserve-sparsity init=kmeans1d threads=2" test/passes/linalg-resource.mlir sparsity.mlir
opt "clusters=300 decode=runtime" test/passes/ml-program.mlir runtime.mlir
opt "layers=#0:2,#-1:skip only=* init=random seed=7" test/passes/weight-detection.mlir layers.mlir
opt "clusters=1 channel-axis=1 per-channel" test/plugin/Inputs/mlp.mlir axis.mlir
ls "$out" | wc -l
