func.func @nan(%x: tensor<1x4xbf16>) -> tensor<1x2xbf16> {
  // NAN-BF16: nan-bf16.mlir:[[@LINE+1]]:8: error: cluster-weights: weight {{.*}} has a non-finite value (Inf) at element 0; cannot cluster
  %w = arith.constant dense<[[0xFF80, 0.5], [2.0, 3.0], [4.0, 5.0], [6.0, 0x7FC0]]> : tensor<4x2xbf16>
  %e = tensor.empty() : tensor<1x2xbf16>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xbf16>, tensor<4x2xbf16>) outs(%e : tensor<1x2xbf16>) -> tensor<1x2xbf16>
  return %y : tensor<1x2xbf16>
}

