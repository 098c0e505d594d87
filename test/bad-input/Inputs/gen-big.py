"""Writes a model with one n-element f32 weight (dense_resource, finite
random values), for the tests that need clustering to take a while:
    gen-big.py N OUT.mlir"""
import os
import sys

n, out = int(sys.argv[1]), sys.argv[2]
rows = 256
cols = n // rows
b = bytearray(os.urandom(rows * cols * 4))
b[3::4] = bytes([0x3F]) * (rows * cols)  # sign 0, exponent ~0: values in [0.5, 2)
with open(out, "w") as f:
    f.write("""func.func @big(%%x: tensor<1x%d xf32>) -> tensor<1x%dxf32> {
  %%w = arith.constant dense_resource<big> : tensor<%dx%dxf32> loc("big")
  %%zero = arith.constant 0.0 : f32
  %%e = tensor.empty() : tensor<1x%dxf32>
  %%z = linalg.fill ins(%%zero : f32) outs(%%e : tensor<1x%dxf32>) -> tensor<1x%dxf32>
  %%y = linalg.matmul ins(%%x, %%w : tensor<1x%dxf32>, tensor<%dx%dxf32>) outs(%%z : tensor<1x%dxf32>) -> tensor<1x%dxf32>
  return %%y : tensor<1x%dxf32>
}
{-#
  dialect_resources: { builtin: { big: "0x04000000%s" } }
#-}
""".replace(" xf32", "xf32") % (rows, cols, rows, cols, cols, cols, cols, rows, rows, cols, cols, cols, cols,
                               b.hex().upper()))
