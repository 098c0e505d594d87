// The model of jit-cache-init.test: y = x1 W + x2, one 4x4 weight to
// cluster (with --min-elements=1), two of its values zero (for
// --preserve-sparsity). The inputs and targets are gen-data-path.py's d1,
// d2 and d-targets.
func.func @fc(%x1: tensor<2x4xf32>, %x2: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %w = arith.constant dense<[[0.9, -0.2, 0.0, 0.1], [0.3, 1.1, -0.4, 0.05], [0.0, 0.2, 0.8, -0.3], [-0.15, 0.25, 0.35, 1.2]]> : tensor<4x4xf32> loc("fc.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %m = linalg.matmul ins(%x1, %w : tensor<2x4xf32>, tensor<4x4xf32>) outs(%z : tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = linalg.add ins(%m, %x2 : tensor<2x4xf32>, tensor<2x4xf32>) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
