// Tensors of a rank above the limit the training IR is built for
// (IR_MAX_RANK = 16, passes/ir.h: the passes size their per-dimension
// arrays by it) are a diagnostic at the op's location and exit 1, never a
// write past an array: in the model's signature, in a trained constant, and
// in an op the differentiation meets (here a reshape around a rank-17
// linalg.generic).
// RUN: rm -f %t.out
// RUN: not clusterc --emit=train-mlir --loss=mse --min-elements=1 --function=result %s -o %t.out 2>&1 | FileCheck %s --check-prefix=RESULT
// RUN: not clusterc --emit=train-mlir --min-elements=1 --function=bias %s -o %t.out 2>&1 | FileCheck %s --check-prefix=BIAS
// RUN: not clusterc --emit=train-mlir --clusters=2 --min-elements=1 --function=reshape %s -o %t.out 2>&1 | FileCheck %s --check-prefix=RESHAPE
// RUN: not test -e %t.out

// RESULT: [[@LINE+1]]:1: error: cluster-train: the model's result 0 has rank 17; training supports tensors of rank up to 16
func.func @result(%x: tensor<2x4xf32>) -> tensor<2x3x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32> {
  %w = arith.constant dense<0.5> : tensor<4x3xf32> loc("fc.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%z : tensor<2x3xf32>) -> tensor<2x3xf32>
  %r = tensor.expand_shape %m [[0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]] output_shape [2, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1] : tensor<2x3xf32> into tensor<2x3x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>
  return %r : tensor<2x3x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>
}

func.func @bias(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<0.5> : tensor<4x3xf32> loc("fc.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%z : tensor<2x3xf32>) -> tensor<2x3xf32>
  %r = tensor.expand_shape %m [[0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]] output_shape [2, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1] : tensor<2x3xf32> into tensor<2x3x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>
// BIAS: error: cluster-train: 'fc.bias' has rank 17; training supports tensors of rank up to 16
  %b = arith.constant dense<0.1> : tensor<2x3x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32> loc("fc.bias")
  %e17 = tensor.empty() : tensor<2x3x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>
  %s = linalg.add ins(%r, %b : tensor<2x3x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>, tensor<2x3x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>) outs(%e17 : tensor<2x3x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>) -> tensor<2x3x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>
  %c = tensor.collapse_shape %s [[0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]] : tensor<2x3x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32> into tensor<2x3xf32>
  return %c : tensor<2x3xf32>
}

func.func @reshape(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<[[0.5, 0.1, 0.2], [0.5, 0.1, 0.2], [0.5, 0.1, 0.2], [0.5, 0.1, 0.3]]> : tensor<4x3xf32> loc("fc.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%z : tensor<2x3xf32>) -> tensor<2x3xf32>
  %r = tensor.expand_shape %m [[0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]] output_shape [2, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1] : tensor<2x3xf32> into tensor<2x3x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>
  %e17 = tensor.empty() : tensor<2x3x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>
  %d = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16) -> (d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16)>, affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16) -> (d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15, d16)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%r : tensor<2x3x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>) outs(%e17 : tensor<2x3x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>) {
  ^bb0(%a: f32, %o: f32):
    %t = arith.mulf %a, %a : f32
    linalg.yield %t : f32
  } -> tensor<2x3x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32>
// RESHAPE: [[@LINE+1]]:{{[0-9]+}}: error: cluster-train: cannot differentiate 'tensor.collapse_shape': it has a tensor of rank 17, above the limit of 16
  %c = tensor.collapse_shape %d [[0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]] : tensor<2x3x1x1x1x1x1x1x1x1x1x1x1x1x1x1x1xf32> into tensor<2x3xf32>
  return %c : tensor<2x3xf32>
}
