#!/usr/bin/env bash
# Builds libclusterrt for AArch64 into OUTDIR/libclusterrt.a with the cross
# compiler: the generic C kernels and the NEON ones (every runtime/*.c but
# the x86 ISA files), as runtime/CMakeLists.txt builds it for arm64.
#   cross-rt.sh SRCROOT OUTDIR
set -euo pipefail
src=$1 out=$2
mkdir -p "$out"
objs=()
for f in "$src"/runtime/*.c; do
  case $f in *-avx2.c | *-avx512*.c) continue ;; esac
  o="$out/$(basename "$f" .c).o"
  aarch64-linux-gnu-gcc -std=c17 -O2 -DCLUSTERRT_HAVE_NEON -I"$src/include" -c "$f" -o "$o"
  objs+=("$o")
done
rm -f "$out/libclusterrt.a"
aarch64-linux-gnu-ar rcs "$out/libclusterrt.a" "${objs[@]}"
