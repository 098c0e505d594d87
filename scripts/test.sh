#!/usr/bin/env bash
# Builds and runs every test: the release build, the ASan+UBSan build,
# libclusterrt cross-built for AArch64 and run under qemu-aarch64, the
# release build against LLVM/MLIR 22 (unpacked beside 19 by
# scripts/mlir-version.sh, never installed over it), and a short run of each
# fuzz target (clang-19, fuzz/README.md). Ends with one summary line over
# all five: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
passed=0; failed=0; status=0
run_flavour() {
  local flavour=$1 dir=$2 log
  log=$(mktemp)
  echo "== $flavour: build"
  if ! scripts/build.sh "$flavour"; then
    echo "== $flavour: BUILD FAILED"; failed=$((failed + 1)); status=1; return
  fi
  echo "== $flavour: ctest"
  (cd "$dir" && ctest --output-on-failure -j "${JOBS:-$(nproc)}") 2>&1 | tee "$log"
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  local line
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1)
  if [ -n "$line" ]; then
    local nf total
    nf=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
    passed=$((passed + total - nf)); failed=$((failed + nf))
  else
    failed=$((failed + 1)); status=1
  fi
  rm -f "$log"
}
run_flavour release build
run_flavour asan build-asan
run_flavour aarch64 build-aarch64
run_flavour mlir22 build-mlir22
run_flavour fuzz build-fuzz
echo "$passed passed, $failed failed"
exit $status
