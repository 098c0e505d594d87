#!/usr/bin/env python3
"""A one-layer linalg model whose weight (64x72 = 4608 elements) holds
exactly D distinct values, for the lossless tests of every index width:

  palette-model.py D [DEN] > model.mlir

w[i][j] = v[(i * 72 + j) * 7919 % D], v[d] = (d - D/2) / 64 + 1/1024 (all
exact in f32; the order scrambles the values across the tensor); with DEN,
v[d] = (d - D/2) / DEN (D = 255, DEN = 128: multiples of 1/128 up to
127/128, exact in an int8 table with scale 1/128)."""
import sys

D = int(sys.argv[1])
R, C = 64, 72
if len(sys.argv) > 2:
    vals = [(d - D // 2) / float(sys.argv[2]) for d in range(D)]
else:
    vals = [(d - D // 2) / 64.0 + 1 / 1024.0 for d in range(D)]
w = [vals[(e * 7919) % D] for e in range(R * C)]
rows = ", ".join("[" + ", ".join(repr(x) for x in w[r * C:(r + 1) * C]) + "]" for r in range(R))
print("""module {
  func.func @forward(%%x: tensor<1x64xf32>) -> tensor<1x72xf32> {
    %%w = arith.constant dense<[%s]> : tensor<64x72xf32> loc("fc.weight")
    %%z = arith.constant 0.0 : f32
    %%e = tensor.empty() : tensor<1x72xf32>
    %%f = linalg.fill ins(%%z : f32) outs(%%e : tensor<1x72xf32>) -> tensor<1x72xf32>
    %%y = linalg.matmul ins(%%x, %%w : tensor<1x64xf32>, tensor<64x72xf32>) outs(%%f : tensor<1x72xf32>) -> tensor<1x72xf32>
    return %%y : tensor<1x72xf32>
  }
}""" % rows)
