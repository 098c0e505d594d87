// A linalg model whose bias and ReLU are arith ops on whole tensors (as
// StableHLO/torch-mlir lowerings and hand-written models have them), and an
// integer tensor op (arith.ceildivui) that only bufferizes as a generic.
func.func @forward(%x: tensor<1x8xf32>) -> tensor<1x4xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.5, 0.25, 0.125, 1.0], [1.0, 2.0, 3.0, 4.0], [0.5, 0.25, 0.125, 1.0], [1.0, 2.0, 3.0, 4.0], [0.5, 0.25, 0.125, 1.0], [1.0, 2.0, 3.0, 4.0], [-0.5, 0.25, 0.125, 1.0]]> : tensor<8x4xf32>
  %b = arith.constant dense<[[-20.0, 1.0, 2.0, 3.0]]> : tensor<1x4xf32>
  %z = arith.constant dense<0.0> : tensor<1x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x8xf32>, tensor<8x4xf32>) outs(%f : tensor<1x4xf32>) -> tensor<1x4xf32>
  %yb = arith.addf %y, %b : tensor<1x4xf32>
  %r = arith.maximumf %yb, %z : tensor<1x4xf32>
  %ri = arith.fptoui %r : tensor<1x4xf32> to tensor<1x4xi32>
  %four = arith.constant dense<4> : tensor<1x4xi32>
  %q = arith.ceildivui %ri, %four : tensor<1x4xi32>
  %qf = arith.uitofp %q : tensor<1x4xi32> to tensor<1x4xf32>
  %out = arith.addf %r, %qf : tensor<1x4xf32>
  return %out : tensor<1x4xf32>
}
