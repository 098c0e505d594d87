"""Writes a model whose one weight constant feeds N matmuls (and one
elementwise add): gen-shared.py N > out.mlir"""
import sys

n = int(sys.argv[1])
vals = ", ".join("[%s]" % ", ".join("%.2f" % ((r * 7 + c * 3) % 11 - 5) for c in range(4))
                 for r in range(4))
print("func.func @shared(%x: tensor<1x4xf32>) -> (tensor<1x4xf32>, tensor<4x4xf32>) {")
print('  %%w = arith.constant dense<[%s]> : tensor<4x4xf32> loc("shared")' % vals)
print("  %zero = arith.constant 0.0 : f32")
print("  %e = tensor.empty() : tensor<1x4xf32>")
print("  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>")
prev = "%x"
for i in range(n):
    print("  %%y%d = linalg.matmul ins(%s, %%w : tensor<1x4xf32>, tensor<4x4xf32>) "
          "outs(%%z : tensor<1x4xf32>) -> tensor<1x4xf32>" % (i, prev))
    prev = "%%y%d" % i
print("  %s2 = arith.addf %w, %w : tensor<4x4xf32>".replace("%s2", "%w2"))
print("  return %s, %%w2 : tensor<1x4xf32>, tensor<4x4xf32>" % prev)
print("}")
