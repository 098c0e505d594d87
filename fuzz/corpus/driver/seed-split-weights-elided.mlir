// What mlir-opt --mlir-elide-resource-strings-if-larger writes:
func.func @elided(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // ELIDED: elided.mlir:[[@LINE+1]]:8: error: cluster-weights: cannot read weight {{.*}}: dense_resource has no blob data (elided or missing)
  %w = arith.constant dense_resource<__elided__> : tensor<4x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x4xf32>) outs(%z : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

