func.func @nan(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // NAN-BLOB: nan-blob.mlir:[[@LINE+1]]:8: error: cluster-weights: weight {{.*}} has a non-finite value (NaN) at element 9; cannot cluster
  %w = "tosa.const"() <{value = dense_resource<w> : tensor<4x4xf32>}> : () -> tensor<4x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x4xf32>) outs(%z : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}
{-#
  dialect_resources: { builtin: { w: "0x040000000000A0C06666A6BF9A991940000080C09A9999BE9A995940000040C03333333FCDCC8C400000C07F9A99D93F666696C0000080BFCDCC2C40CDCC6CC000000000" } }
#-}

