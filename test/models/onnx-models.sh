#!/usr/bin/env bash
# Generates the ONNX test models once per content: the directory
#   ROOT/<hash>/ (hash of gen-onnx-models.py, scripts/export-torchvision.py, the image size and the
# torch/torchvision/onnx versions) is made by gen-onnx-models.py the first
# time and reused after; ROOT/current points at it. Concurrent callers (lit
# runs tests in parallel) wait on a lock for the one that generates.
#   onnx-models.sh PYTHON ROOT [SIZE]
set -eo pipefail
py=$1
root=$2
size=${3:-96}
here=$(cd "$(dirname "$0")" && pwd)
gen="$here/gen-onnx-models.py"
mkdir -p "$root"
versions=$("$py" -c 'from importlib.metadata import version as v; print(*[v(p) for p in ("torch", "torchvision", "onnx")])')
hash=$( (cat "$gen" "$here/../../scripts/export-torchvision.py"; echo "size=$size $versions") | sha256sum | cut -c1-16)
exec 9>"$root/.lock"
flock 9
if [ ! -e "$root/$hash/done" ]; then
  rm -rf "$root/$hash.tmp"
  start=$(date +%s)
  "$py" "$gen" "$root/$hash.tmp" --size "$size" >"$root/$hash.log" 2>&1 || {
    cat "$root/$hash.log" >&2
    exit 1
  }
  echo "generated in $(($(date +%s) - start)) s" >>"$root/$hash.log"
  touch "$root/$hash.tmp/done"
  rm -rf "$root/$hash"
  mv "$root/$hash.tmp" "$root/$hash"
fi
ln -sfn "$hash" "$root/current"
