#!/usr/bin/env bash
# Runs clusterc's fuzz targets for a fixed time each.
#
#   fuzz/run.sh [--build DIR] [--jobs N] [--record [--note TEXT]] SECONDS [TARGET...]
#
# TARGET: assign, decode, accumulate, cluster, driver, train, data (default: all
# that are built). DIR is a build with CLUSTERC_FUZZ=ON (default
# build-fuzz, made by scripts/build.sh fuzz). Each target starts from its
# checked-in corpus, fuzz/corpus/TARGET, and writes what it finds to
# DIR/fuzz/corpus/TARGET (the checked-in corpus is never changed), and a
# crashing input to DIR/fuzz/artifacts/TARGET/. Prints one line per target
# (executions, coverage, corpus size) and exits non-zero if any target
# found a bug. To replay a crash: DIR/fuzz/fuzz-TARGET FILE.
# --record appends one line per target to fuzz/runs.tsv (date, commit,
# libFuzzer's final stats, the outcome, TEXT as what the run was for), from
# which scripts/reliability-table.py writes docs/RELIABILITY.md's table of
# runs; CI's short runs do not record. FUZZ_TIMEOUT (default 20) is the
# seconds one input may take before it counts as a hang: raise it for runs
# at low priority on a busy machine.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build="$here/../build-fuzz"
jobs=1
record=
note=
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --record) record="$here/runs.tsv"; shift ;;
    --note) note=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: $0 [--build DIR] [--jobs N] [--record [--note TEXT]] SECONDS [TARGET...]" >&2; exit 2; }
secs=$1; shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for t in assign decode accumulate cluster driver train data; do
    [ -x "$build/fuzz/fuzz-$t" ] && targets+=("$t")
  done
fi
[ ${#targets[@]} -gt 0 ] || { echo "run.sh: no fuzz targets in $build/fuzz (scripts/build.sh fuzz)" >&2; exit 2; }

# Per target: the largest input and extra options.
opts_for() {
  case "$1" in
    driver) echo "-max_len=16384 -dict=$here/mlir.dict" ;;
    train) echo "-max_len=256" ;;
    data) echo "-max_len=4096 -close_fd_mask=2" ;; # (data.c's messages)
    *) echo "-max_len=4096" ;;
  esac
}

run_one() {
  local t=$1 bin="$build/fuzz/fuzz-$t"
  local corpus="$build/fuzz/corpus/$t" art="$build/fuzz/artifacts/$t/" log="$build/fuzz/$t.log"
  if [ ! -x "$bin" ]; then
    echo "fuzz-$t: not built in $build" >&2
    return 1
  fi
  mkdir -p "$corpus" "$art"
  local start=$SECONDS
  # shellcheck disable=SC2046
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$bin" $(opts_for "$t") -max_total_time="$secs" -timeout="${FUZZ_TIMEOUT:-20}" -rss_limit_mb=3072 \
      -print_final_stats=1 -artifact_prefix="$art" "$corpus" "$here/corpus/$t" >"$log" 2>&1
  local rc=$?
  local runs cov ft took
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  # libFuzzer's "Done N runs in S second(s)"; a run that stops at a bug
  # prints none: the wall clock then.
  took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  [ -n "$took" ] || took=$((SECONDS - start))
  if [ -n "$record" ]; then
    local outcome=ok found=nothing
    if [ $rc -ne 0 ]; then
      outcome=bug
      found="FAILED (exit $rc): $(grep -m1 -E '^SUMMARY|runtime error|check failed' "$log" | tr '\t' ' ' | cut -c1-200)"
    fi
    # One write per line (O_APPEND): targets side by side do not interleave.
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%F)" "$commit" "fuzz-$t" \
      "$took" "$jobs" "${runs:--}" "${cov:--}" "${ft:--}" "$outcome" "${note:-}" "$found" >>"$record"
  fi
  if [ $rc -eq 0 ]; then
    echo "fuzz-$t: ok: ${runs:-?} executions in ${secs} s, coverage ${cov:-?} edges, ${ft:-?} features, corpus $(ls "$corpus" | wc -l) new + $(ls "$here/corpus/$t" 2>/dev/null | wc -l) seeds"
  else
    echo "fuzz-$t: FAILED (exit $rc) after ${runs:-?} executions; log $log, input in $art" >&2
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*check failed|.*runtime error)' "$log" | head -5 >&2
  fi
  return $rc
}

# The source tree's commit, + when it has local changes (what was fuzzed).
commit=-
if [ -n "$record" ]; then
  commit=$(git -C "$here/.." rev-parse --short=12 HEAD 2>/dev/null || echo -)
  git -C "$here/.." diff --quiet HEAD -- . ':!fuzz/runs.tsv' ':!docs' 2>/dev/null || commit="$commit+"
  note=${note//$'\t'/ }
fi

status=0
if [ "$jobs" -le 1 ]; then
  for t in "${targets[@]}"; do run_one "$t" || status=1; done
else
  pids=()
  for t in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 1; done
    run_one "$t" & pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || status=1; done
fi
exit $status
