func.func @forward(%x: tensor<1x8xbf16>) -> tensor<1x4xbf16> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.5, 0.25, 0.125, 1.0], [1.0, 2.0, 3.0, 4.0], [0.5, 0.25, 0.125, 1.0], [1.0, 2.0, 3.0, 4.0], [0.5, 0.25, 0.125, 1.0], [1.0, 2.0, 3.0, 4.0], [-0.5, 0.25, 0.125, 1.0]]> : tensor<8x4xbf16>
  %z = arith.constant 0.0 : bf16
  %e = tensor.empty() : tensor<1x4xbf16>
  %f = linalg.fill ins(%z : bf16) outs(%e : tensor<1x4xbf16>) -> tensor<1x4xbf16>
  %y = linalg.matmul ins(%x, %w : tensor<1x8xbf16>, tensor<8x4xbf16>) outs(%f : tensor<1x4xbf16>) -> tensor<1x4xbf16>
  return %y : tensor<1x4xbf16>
}
