#!/usr/bin/env bash
# Configures and builds one flavour of clusterc.
#   scripts/build.sh release   build/          (warnings are errors)
#   scripts/build.sh asan      build-asan/     (ASan + UBSan)
#   scripts/build.sh aarch64   build-aarch64/  (libclusterrt only, tests run under qemu-aarch64)
#   scripts/build.sh mlir22    build-mlir22/   (against LLVM/MLIR 22: scripts/mlir-version.sh provides it)
#   scripts/build.sh fuzz      build-fuzz/     (clang-19: the libFuzzer targets of fuzz/ only;
#                                               its ctest runs each for CLUSTERC_FUZZ_SECONDS)
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
jobs=${JOBS:-$(nproc)}
common=(-G Ninja -DCLUSTERC_WERROR=ON)
targets=()
case "$flavour" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=Release -DMLIR_DIR="$(scripts/mlir-version.sh 19)") ;;
  asan)    dir=build-asan; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLUSTERC_SANITIZE=ON
                                 -DMLIR_DIR="$(scripts/mlir-version.sh 19)") ;;
  aarch64) dir=build-aarch64; args=(-DCMAKE_BUILD_TYPE=Release -DCLUSTERC_ENABLE_MLIR=OFF
                                    -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-linux-gnu.cmake") ;;
  mlir22)  dir=build-mlir22; args=(-DCMAKE_BUILD_TYPE=Release -DCLUSTERC_MLIR_VERSION=22
                                   -DMLIR_DIR="$(scripts/mlir-version.sh 22)") ;;
  fuzz)    dir=build-fuzz; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLUSTERC_FUZZ=ON -DBUILD_TESTING=OFF
                                 -DMLIR_DIR="$(scripts/mlir-version.sh 19)"
                                 -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19)
           targets=(--target fuzz) ;;
  *) echo "usage: $0 release|asan|aarch64|mlir22|fuzz" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${common[@]}" "${args[@]}" >/dev/null
cmake --build "$dir" -j "$jobs" "${targets[@]}"
