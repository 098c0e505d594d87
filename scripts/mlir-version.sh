#!/usr/bin/env bash
# Makes LLVM/MLIR version N (19 or 22) available without ever removing the
# version the machine already has, and prints its MLIR_DIR.
#
#   scripts/mlir-version.sh 22          -> /usr/lib/llvm-22/lib/cmake/mlir, or
#                                          $DEPS/llvm-22/usr/lib/llvm-22/lib/cmake/mlir
#   scripts/mlir-version.sh 22 --query  -> the same if it is there already, else
#                                          nothing (installs nothing)
#
# libmlir-19-dev and libmlir-22-dev conflict in apt (installing one removes
# the other). So: a version apt already holds is used where it is; when the
# other libmlir-*-dev is installed, this version's packages are fetched with
# `apt-get download` and unpacked with `dpkg -x` into $DEPS/llvm-N/, where
# DEPS is $CLUSTERC_DEPS_DIR or ~/.cache/clusterc: outside the source tree,
# which CMake will not let an installed package's include path point into,
# and shared by every clone (the tools there find their libraries through
# RUNPATH $ORIGIN/../lib);
# when neither is installed, apt installs this one. Their shared-library
# dependencies (the same as the installed version's) come from apt.
# Idempotent; uses sudo when not root. Progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
v=${1:?usage: scripts/mlir-version.sh 19|22 [--query]}
query=${2:-}
case "$v" in 19|22) ;; *) echo "mlir-version: 19 or 22, not '$v'" >&2; exit 2 ;; esac
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
pkgs=(libmlir-$v libmlir-$v-dev mlir-$v-tools llvm-$v llvm-$v-dev llvm-$v-tools
      llvm-$v-runtime llvm-$v-linker-tools libllvm$v libclang-cpp$v)

deps=${CLUSTERC_DEPS_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/clusterc}
dest="$deps/llvm-$v"
mlir_dir="$dest/usr/lib/llvm-$v/lib/cmake/mlir"
if installed "libmlir-$v-dev" && installed "mlir-$v-tools" && installed "llvm-$v-dev"; then
  echo "/usr/lib/llvm-$v/lib/cmake/mlir"; exit 0
fi
if [ -f "$dest/.complete" ]; then echo "$mlir_dir"; exit 0; fi
[ "$query" = --query ] && exit 0
other=$([ "$v" = 19 ] && echo 22 || echo 19)
if ! installed "libmlir-$other-dev"; then
  echo "mlir-version: installing LLVM/MLIR $v with apt" >&2
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "libmlir-$v-dev" "mlir-$v-tools" "llvm-$v-dev" "llvm-$v-tools" >&2
  echo "/usr/lib/llvm-$v/lib/cmake/mlir"; exit 0
fi

echo "mlir-version: libmlir-$other-dev is installed; unpacking LLVM/MLIR $v into $dest" >&2
# The libraries these packages link against (the ones not in the other
# version's dependencies already).
libs=(libffi8 libedit2 libz3-4 libzstd1 libxml2 zlib1g libcurl4 libpfm4 libncurses6 python3-yaml python3-pygments)
missing=()
for p in "${libs[@]}"; do installed "$p" || missing+=("$p"); done
$SUDO apt-get update -qq >&2
if ((${#missing[@]})); then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
rm -rf "$dest.tmp"; mkdir -p "$dest.tmp/debs"
# apt's sandbox user cannot write into a root-owned build tree: download as
# the caller, in a folder of our own.
(cd "$dest.tmp/debs" && apt-get download "${pkgs[@]}" >&2)
for d in "$dest.tmp"/debs/*.deb; do dpkg -x "$d" "$dest.tmp/root"; done
rm -rf "$dest"; mv "$dest.tmp/root" "$dest"; rm -rf "$dest.tmp"
"$dest/usr/lib/llvm-$v/bin/mlir-opt" --version >/dev/null ||
  { echo "mlir-version: the unpacked mlir-opt-$v does not run" >&2; exit 1; }
touch "$dest/.complete"
echo "$mlir_dir"
