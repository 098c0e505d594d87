#!/usr/bin/env bash
# Installs the build into a prefix inside the build dir and uses it as an
# outside project would:
#  - consumer/ (CMake, find_package(ClusterC)): the MLIR C-API program linked
#    against libclusterc-passes.so and against libclusterc-passes.a;
#  - consumer.c again with `pkg-config clusterc-passes`;
#  - consumer/lib-consumer.c (libclusterc-codegen and libclusterc-train:
#    an object file, a data set, one epoch of training), shared and static
#    through find_package(ClusterC), and with `pkg-config clusterc-train`;
#  - rt-consumer.c with `pkg-config clusterrt` (libclusterrt only);
#  - the installed clusterc and, unless sanitized, the installed plugin.
#
#   test-install.sh BUILD_DIR LIBDIR CC SANITIZED(1|0) LLVM_TOOLS_DIR
set -euo pipefail
build=$1 libdir=$2 cc=$3 sanitize=$4 tools=$5
src=$(cd "$(dirname "$0")" && pwd)
work=$build/test/install
prefix=$work/prefix
model=$src/../plugin/Inputs/mlp.mlir
rm -rf "$work/prefix" "$work/consumer" "$work/pc"
mkdir -p "$work/pc"

# Quiet unless a step fails.
quiet() { "$@" > "$work/step.log" 2>&1 || { cat "$work/step.log"; return 1; }; }

quiet cmake --install "$build" --prefix "$prefix"

# Sanitized libraries need the sanitizer runtime in the program too.
flags=(-std=c17 -Wall -Wextra -Werror)
ldflags=()
if [ "$sanitize" = 1 ]; then
  flags+=(-fsanitize=address,undefined -fno-omit-frame-pointer)
  # the static consumer links as C++ (MLIR), which does not see C_FLAGS
  ldflags+=(-fsanitize=address,undefined)
fi

echo "== find_package(ClusterC)"
quiet cmake -S "$src/consumer" -B "$work/consumer" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_C_FLAGS="${flags[*]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_EXE_LINKER_FLAGS="${ldflags[*]}"
quiet cmake --build "$work/consumer" -j 2
# The shared consumer must load the installed library, not the build's.
# (grep reads all of ldd's output: grep -q would exit at the match, and
# ldd, killed by SIGPIPE, would fail the pipeline under pipefail.)
ldd "$work/consumer/consumer-shared" | grep "libclusterc-passes.so.0 => $prefix/" >/dev/null ||
  { echo "consumer-shared does not use $prefix"; ldd "$work/consumer/consumer-shared"; exit 1; }
for c in consumer-shared consumer-static; do
  "$work/consumer/$c" "$model" > "$work/consumer/$c.out"
  grep -q "^consumer: ok" "$work/consumer/$c.out"
  grep "decodes" "$work/consumer/$c.out" | sed "s/^/$c: /"
done
# Both link flavours run the same pass: the same clustered module.
cmp "$work/consumer/consumer-shared.out" "$work/consumer/consumer-static.out"
ldd "$work/consumer/lib-consumer-shared" | grep "libclusterc-train.so.0 => $prefix/" >/dev/null ||
  { echo "lib-consumer-shared does not use $prefix"; ldd "$work/consumer/lib-consumer-shared"; exit 1; }
for c in lib-consumer-shared lib-consumer-static; do
  mkdir -p "$work/consumer/$c.d"
  "$work/consumer/$c" "$model" "$work/consumer/$c.d" > "$work/consumer/$c.out"
  grep -q "^lib-consumer: ok" "$work/consumer/$c.out"
done
cmp "$work/consumer/lib-consumer-shared.out" "$work/consumer/lib-consumer-static.out"

export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
echo "== pkg-config clusterc-passes: $(pkg-config --libs clusterc-passes)"
# shellcheck disable=SC2046
"$cc" "${flags[@]}" "$src/consumer/consumer.c" -o "$work/pc/consumer" \
  $(pkg-config --cflags --libs clusterc-passes)
LD_LIBRARY_PATH=$prefix/$libdir "$work/pc/consumer" "$model" > "$work/pc/consumer.out"
cmp "$work/consumer/consumer-shared.out" "$work/pc/consumer.out"

echo "== pkg-config clusterc-train: $(pkg-config --libs clusterc-train)"
mkdir -p "$work/pc/lib-consumer.d"
# shellcheck disable=SC2046
"$cc" "${flags[@]}" "$src/consumer/lib-consumer.c" -o "$work/pc/lib-consumer" \
  $(pkg-config --cflags --libs clusterc-train)
LD_LIBRARY_PATH=$prefix/$libdir "$work/pc/lib-consumer" "$model" "$work/pc/lib-consumer.d" \
  > "$work/pc/lib-consumer.out"
cmp "$work/consumer/lib-consumer-shared.out" "$work/pc/lib-consumer.out"

echo "== pkg-config clusterrt: $(pkg-config --libs clusterrt)"
# shellcheck disable=SC2046
"$cc" "${flags[@]}" "$src/rt-consumer.c" -o "$work/pc/rt-consumer" \
  $(pkg-config --cflags --libs clusterrt) -lm
LD_LIBRARY_PATH=$prefix/$libdir "$work/pc/rt-consumer"
if readelf -d "$work/pc/rt-consumer" | grep 'MLIR\|LLVM' >/dev/null; then
  echo "rt-consumer links MLIR or LLVM"; exit 1
fi

echo "== installed clusterc and plugin"
"$prefix/bin/clusterc" --clusters=4 --seed=2 "$model" -o "$work/pc/driver.mlir"
if [ "$sanitize" != 1 ]; then # an ASan plugin cannot load into mlir-opt
  LD_BIND_NOW=1 "$tools/mlir-opt" --mlir-print-debuginfo --load-pass-plugin="$prefix/$libdir/clusterc/ClusterCPlugin.so" \
    --pass-pipeline='builtin.module(cluster-weights{clusters=4 seed=2})' "$model" \
    -o "$work/pc/plugin.mlir"
  cmp "$work/pc/driver.mlir" "$work/pc/plugin.mlir"
fi
echo "install test: ok"
