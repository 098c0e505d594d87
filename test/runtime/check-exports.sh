#!/usr/bin/env bash
# libclusterrt.so exports exactly its API: the functions runtime.h declares
# plus the MLIR entry points of memref-abi.c (compiled models and the JIT
# call those by name). A leaked kernel or rt_* helper fails, and so does an
# entry point left without CLUSTERRT_API (hidden, so clients cannot link).
#   check-exports.sh NM libclusterrt.so runtime.h memref-abi.c
set -euo pipefail
nm=$1 lib=$2 header=$3 abi=$4

# Identifiers followed by "(" outside comments: the header's declarations.
decls() { perl -0777 -pe 's{/\*.*?\*/}{}gs' "$1" | grep -oE "$2" | tr -d '(' || true; }
expected=$( { decls "$header" '\bclusterrt_[A-Za-z0-9_]+\('
              decls "$abi" '\b_mlir_ciface_[A-Za-z0-9_]+\('; } | sort -u)
# Defined dynamic symbols, less what the toolchain adds (__bss_start,
# _edata, _end, _init, _fini, sanitizer hooks).
exported=$("$nm" -D --defined-only -P "$lib" | awk '{print $1}' |
           grep -vE '^(__|_edata$|_end$|_init$|_fini$)' | sort -u || true)

if [ -z "$expected" ]; then
  echo "FAIL: no API found in $header" >&2
  exit 1
fi
leaked=$(comm -13 <(echo "$expected") <(echo "$exported"))
missing=$(comm -23 <(echo "$expected") <(echo "$exported"))
status=0
if [ -n "$leaked" ]; then
  echo "FAIL: $lib exports symbols that are not in its API:" >&2
  echo "$leaked" | sed 's/^/  /' >&2
  status=1
fi
if [ -n "$missing" ]; then
  echo "FAIL: $lib does not export (missing CLUSTERRT_API?):" >&2
  echo "$missing" | sed 's/^/  /' >&2
  status=1
fi
[ $status -ne 0 ] || echo "ok: $lib exports its $(echo "$expected" | wc -l) API functions and nothing else"
exit $status
