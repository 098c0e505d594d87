#!/usr/bin/env python3
"""Writes a small linalg MLP (32 -> 64 -> 16) in f32, f16 or bf16 for the
numerical tests: small-mlp.py ELT. Weights are multiples of 1/256, exact in
every type; w2 is one third zeros (for preserve-sparsity)."""
import random
import sys

elt = sys.argv[1]
r = random.Random(11)


def mat(rows, cols, zeros=False):
    vals = []
    for i in range(rows):
        row = []
        for j in range(cols):
            v = round(r.gauss(0, 0.5) * 256) / 256
            if zeros and (i * cols + j) % 3 == 0:
                v = 0.0
            row.append(repr(v))
        vals.append("[" + ", ".join(row) + "]")
    return "[" + ", ".join(vals) + "]"


def layer(i, x, fin, fout, relu, zeros):
    t = lambda *d: "tensor<%sx%s>" % ("x".join(map(str, d)), elt)
    s = '    %%w%d = arith.constant dense<%s> : %s loc("fc%d.weight")\n' % (i, mat(fin, fout, zeros), t(fin, fout), i)
    s += "    %%e%d = tensor.empty() : %s\n" % (i, t(1, fout))
    s += "    %%z%d = linalg.fill ins(%%zero : %s) outs(%%e%d : %s) -> %s\n" % (i, elt, i, t(1, fout), t(1, fout))
    s += ("    %%m%d = linalg.matmul ins(%s, %%w%d : %s, %s) outs(%%z%d : %s) -> %s\n"
          % (i, x, i, t(1, fin), t(fin, fout), i, t(1, fout), t(1, fout)))
    if relu:
        s += ("    %%a%d = linalg.generic {indexing_maps = [#id, #id], iterator_types = [\"parallel\", \"parallel\"]} "
              "ins(%%m%d : %s) outs(%%e%d : %s) {\n" % (i, i, t(1, fout), i, t(1, fout)))
        s += "    ^bb0(%%v: %s, %%o: %s):\n      %%r = arith.maximumf %%v, %%zero : %s\n      linalg.yield %%r : %s\n" % (elt, elt, elt, elt)
        s += "    } -> %s\n" % t(1, fout)
        return s, "%%a%d" % i
    return s, "%%m%d" % i


s = "#id = affine_map<(d0, d1) -> (d0, d1)>\nmodule {\n"
s += "  func.func @forward(%%x: tensor<1x32x%s>) -> tensor<1x16x%s> {\n" % (elt, elt)
s += "    %%zero = arith.constant 0.0 : %s\n" % elt
l1, h = layer(1, "%x", 32, 64, True, False)
l2, y = layer(2, h, 64, 16, False, True)
s += l1 + l2 + "    return %s : tensor<1x16x%s>\n  }\n}\n" % (y, elt)
print(s)
