#!/usr/bin/env bash
# Large-model benchmark: clusterc on torchvision-sized models (ResNet-18,
# ResNet-50, VGG-11 from bench/gen-large-models.py) against mlir-opt-19
# parsing and printing the same file, in the same run. A program, not a
# test: it prints figures.
#
#   bench/large-models.sh [--build DIR] [--dir DIR] [--models M,M] [--repeat N] [--clusters K]
#
#   --build DIR    clusterc's build (default build)
#   --dir DIR      where the models are (generated there if missing; default
#                  /tmp/clusterc-large-models; VGG-11 is a 1 GB file)
#   --models       default resnet18,resnet50,vgg11
#   --repeat N     runs of each command per model, interleaved; the table
#                  shows the fastest run and the largest peak RSS (default 3)
#   --clusters K   default 16
#
# For each model it runs, N times in turn:
#   mlir-opt-19 FILE -o OUT                              (the round trip)
#   clusterc --threads=1 --clusters=K --timings FILE -o OUT
#   clusterc --threads=2 --clusters=K --timings FILE -o OUT
# under /usr/bin/time -v (wall time, peak RSS), checks that the two clusterc
# outputs are the same bytes, and prints:
#   wall time of each, clusterc / mlir-opt, peak RSS / file size, the
#   cluster-weights phase alone at 1 and 2 threads (--timings) and its
#   speedup.
# Goals (issue 8): clusterc <= 2x the mlir-opt round trip; peak RSS <= 2x
# the file; 2 threads close to 2x faster than 1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build="$here/../build"
dir=/tmp/clusterc-large-models
models=resnet18,resnet50,vgg11
repeat=3
clusters=16
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --clusters) clusters=$2; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "large-models.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
clusterc="$build/tools/clusterc/clusterc"
mlir_opt=/usr/lib/llvm-19/bin/mlir-opt
[ -x "$clusterc" ] || { echo "large-models.sh: no $clusterc (scripts/build.sh release)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "large-models.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
mkdir -p "$dir"
IFS=, read -r -a list <<<"$models"
for m in "${list[@]}"; do
  [ -f "$dir/$m.mlir" ] || /usr/bin/python3 "$here/gen-large-models.py" "$dir" --models="$m"
done

# run NAME CMD...: appends "wall_s rss_kb" to $dir/NAME.times, stderr to $dir/NAME.err
run() {
  local name=$1; shift
  /usr/bin/time -v -o "$dir/$name.tv" "$@" 2>"$dir/$name.err" >/dev/null
  local wall rss
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/$name.tv" |
         awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/$name.tv")
  echo "$wall $rss" >>"$dir/$name.times"
  grep -o 'cluster-weights [0-9.]* s' "$dir/$name.err" | awk '{print $2}' >>"$dir/$name.pass" || true
}
min() { sort -g "$1" | head -1; }
maxcol2() { awk '$2 > m { m = $2 } END { print m }' "$1"; }

# How much parallelism the machine offers right now (other jobs share the
# cores): one CPU-bound awk loop, then two at once; 2 x t1 / t2.
spin() { awk 'BEGIN { for (i = 0; i < 2e7; i++) s += i * 0.5 }'; }
t0=$(date +%s.%N); spin; t1=$(date +%s.%N); spin & spin & wait; t2=$(date +%s.%N)
par=$(awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "%.2f", 2 * (b - a) / (c - b) }')
echo "clusterc $("$clusterc" --version | sed 's/^clusterc //'); $(nproc) cores; $(uname -r); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "parallelism available: ${par}x (two CPU-bound processes against one; 2.00x on an idle 2-core machine)"
echo "K=$clusters, best of $repeat interleaved runs; RSS is the largest peak seen"
printf '\n%-9s %9s %8s | %8s %8s | %8s %8s %8s | %6s %6s | %8s %8s %6s\n' \
  model weights "file MB" "opt s" "opt MB" "t=1 s" "t=2 s" "t=1 MB" "x opt" "x file" "pass t1" "pass t2" speedup
for m in "${list[@]}"; do
  f="$dir/$m.mlir"
  rm -f "$dir"/"$m".*.times "$dir"/"$m".*.pass
  for ((i = 0; i < repeat; ++i)); do
    run "$m.opt" "$mlir_opt" "$f" -o "$dir/$m.opt.out"
    run "$m.t1" "$clusterc" --threads=1 --clusters="$clusters" --timings "$f" -o "$dir/$m.t1.out"
    run "$m.t2" "$clusterc" --threads=2 --clusters="$clusters" --timings "$f" -o "$dir/$m.t2.out"
  done
  cmp -s "$dir/$m.t1.out" "$dir/$m.t2.out" || { echo "$m: outputs differ for 1 and 2 threads" >&2; exit 1; }
  weights=$(awk -v m="$m" 'BEGIN { n["resnet18"] = 11689512; n["resnet50"] = 25557032; n["vgg11"] = 132863336; print n[m] }')
  fmb=$(awk -v b="$(stat -c %s "$f")" 'BEGIN { printf "%.0f", b / 1048576 }')
  ow=$(awk '{print $1}' "$dir/$m.opt.times" | sort -g | head -1); orss=$(maxcol2 "$dir/$m.opt.times")
  w1=$(awk '{print $1}' "$dir/$m.t1.times" | sort -g | head -1); r1=$(maxcol2 "$dir/$m.t1.times")
  w2=$(awk '{print $1}' "$dir/$m.t2.times" | sort -g | head -1); r2=$(maxcol2 "$dir/$m.t2.times")
  p1=$(min "$dir/$m.t1.pass"); p2=$(min "$dir/$m.t2.pass")
  rss=$((r1 > r2 ? r1 : r2))
  awk -v m="$m" -v n="$weights" -v fmb="$fmb" -v ow="$ow" -v orss="$orss" -v w1="$w1" -v w2="$w2" \
      -v rss="$rss" -v p1="$p1" -v p2="$p2" 'BEGIN {
    printf "%-9s %8.1fM %8d | %8.2f %8.0f | %8.2f %8.2f %8.0f | %5.2fx %5.2fx | %8.2f %8.2f %5.2fx\n",
      m, n / 1e6, fmb, ow, orss / 1024, w1, w2, rss / 1024, w1 / ow, rss / 1024 / fmb, p1, p2, p1 / p2 }'
done
echo
echo "x opt: clusterc --threads=1 wall time / mlir-opt's; x file: clusterc's peak RSS (1 or 2"
echo "threads) / file size; pass: the cluster-weights phase alone (clusterc --timings)."
