func.func @nan(%x: tensor<1x4xf16>) -> tensor<1x2xf16> {
  // NAN-F16: nan-f16.mlir:[[@LINE+1]]:8: error: cluster-weights: weight {{.*}} has a non-finite value (NaN) at element 7; cannot cluster
  %w = arith.constant dense<[[1.0, 0.5], [2.0, 3.0], [4.0, 5.0], [6.0, 0x7E00]]> : tensor<4x2xf16>
  %e = tensor.empty() : tensor<1x2xf16>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf16>, tensor<4x2xf16>) outs(%e : tensor<1x2xf16>) -> tensor<1x2xf16>
  return %y : tensor<1x2xf16>
}

