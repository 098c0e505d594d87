func.func @values(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %w = arith.constant dense<[[-5.0, -1.3, 2.4, -3.9], [0.8, 4.5, -2.8, 1.9], [-4.4, -0.7, 3.0, -3.3], [1.3, 5.0, -2.3, 2.5]]> : tensor<4x4xf32> loc("values.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x4xf32>) outs(%z : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

