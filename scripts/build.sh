#!/usr/bin/env bash
# Configures and builds one flavour of clusterc.
#   scripts/build.sh release   build/          (warnings are errors)
#   scripts/build.sh asan      build-asan/     (ASan + UBSan)
#   scripts/build.sh aarch64   build-aarch64/  (libclusterrt only, tests run under qemu-aarch64)
#   scripts/build.sh fuzz      build-fuzz/     (clang-19: the libFuzzer targets of fuzz/ only;
#                                               its ctest runs each for CLUSTERC_FUZZ_SECONDS)
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
jobs=${JOBS:-$(nproc)}
common=(-G Ninja -DCLUSTERC_WERROR=ON)
targets=()
case "$flavour" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan)    dir=build-asan; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLUSTERC_SANITIZE=ON) ;;
  aarch64) dir=build-aarch64; args=(-DCMAKE_BUILD_TYPE=Release -DCLUSTERC_ENABLE_MLIR=OFF
                                    -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/aarch64-linux-gnu.cmake") ;;
  fuzz)    dir=build-fuzz; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLUSTERC_FUZZ=ON -DBUILD_TESTING=OFF
                                 -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19)
           targets=(--target fuzz) ;;
  *) echo "usage: $0 release|asan|aarch64|fuzz" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${common[@]}" "${args[@]}" >/dev/null
cmake --build "$dir" -j "$jobs" "${targets[@]}"
