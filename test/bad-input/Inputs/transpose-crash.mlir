// A malformed permutation: MLIR 19's linalg.transpose parser reports it,
// then dereferences the null attribute it got (upstream bug).
func.func @f(%w: tensor<2x4xf32>) -> tensor<4x2xf32> {
  %et = tensor.empty() : tensor<4x2xf32>
  %wt = linalg.transpose ins(%w : tensor<2x4xf32>) outs(%et : tensor<4x2xf32>) permutation = [1, ]
  return %wt : tensor<4x2xf32>
}
