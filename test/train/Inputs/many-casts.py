#!/usr/bin/env python3
"""Writes data-path.mlir's @two (x1 - x2 + b) with x1 first passed through
N bf16 round trips (arith.truncf to bf16, arith.extf back): once the model
is widened to f32 (passes/widen.c), each of the 2N casts converts f32 to
f32 and is erased.

  many-casts.py OUT.mlir N
"""
import sys

out, n = sys.argv[1], int(sys.argv[2])
t, h = "tensor<2x4xf32>", "tensor<2x4xbf16>"
lines = ["func.func @two(%%x1: %s, %%x2: %s) -> %s {" % (t, t, t)]
v = "%x1"
for i in range(n):
    lines.append("  %%h%d = arith.truncf %s : %s to %s" % (i, v, t, h))
    lines.append("  %%f%d = arith.extf %%h%d : %s to %s" % (i, i, h, t))
    v = "%%f%d" % i
lines += [
    '  %b = arith.constant dense<0.0> : tensor<4xf32> loc("bias")',
    "  %%e = tensor.empty() : %s" % t,
    "  %%y = linalg.generic {indexing_maps = [affine_map<(n, i) -> (n, i)>, "
    "affine_map<(n, i) -> (n, i)>, affine_map<(n, i) -> (i)>, affine_map<(n, i) -> (n, i)>], "
    'iterator_types = ["parallel", "parallel"]} ins(%s, %%x2, %%b : %s, %s, tensor<4xf32>) '
    "outs(%%e : %s) {" % (v, t, t, t),
    "  ^bb0(%a: f32, %c: f32, %d: f32, %o: f32):",
    "    %s = arith.subf %a, %c : f32",
    "    %t = arith.addf %s, %d : f32",
    "    linalg.yield %t : f32",
    "  } -> %s" % t,
    "  return %%y : %s" % t,
    "}",
]
open(out, "w").write("\n".join(lines) + "\n")
