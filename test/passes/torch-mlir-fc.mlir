// Layout-only linalg.generic (issue 13): a generic with one input, one
// output, all-parallel iterators, projected-permutation indexing maps and a
// body that only yields its input is looked through like linalg.transpose.
// torch-mlir's fully-connected weights reach linalg.matmul this way.
// RUN: %split_input_file %s clusterc --min-elements=0 --clusters=2 -o /dev/null --report=json=- | FileCheck %s

// torch-mlir's FC: a transposing generic copy, then linalg.matmul.
// CHECK-LABEL: "layers": [
// CHECK-NEXT: "name": "fc.weight", "consumer": "linalg.matmul", "role": "weight", {{.*}} "clustered": true
// CHECK-NEXT: ],
// CHECK-NEXT: "totals": {"weights": 1, "clustered": 1,
func.func @fc(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<2x4xf32> loc("fc.weight")
  %e = tensor.empty() : tensor<4x2xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%w : tensor<2x4xf32>) outs(%e : tensor<4x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<4x2xf32>
  %z = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<1x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%o : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %t : tensor<1x4xf32>, tensor<4x2xf32>) outs(%f : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// A broadcasting generic copy (rank 1 -> rank 2) into linalg.matmul.
// CHECK-LABEL: "layers": [
// CHECK-NEXT: "name": "bc.weight", "consumer": "linalg.matmul", "role": "weight", {{.*}} "clustered": true
// CHECK-NEXT: ],
// CHECK-NEXT: "totals": {"weights": 1, "clustered": 1,
func.func @broadcast(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> loc("bc.weight")
  %e = tensor.empty() : tensor<4x2xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%w : tensor<4xf32>) outs(%e : tensor<4x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<4x2xf32>
  %z = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<1x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%o : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %t : tensor<1x4xf32>, tensor<4x2xf32>) outs(%f : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Not a layout copy: the body adds, so the generic stays a bias add even
// though its maps are a transpose and a matmul follows.
// CHECK-LABEL: "layers": [
// CHECK-NEXT: "name": "add.const", "consumer": "linalg.generic", "role": "bias", {{.*}} "clustered": false
// CHECK-NEXT: ],
// CHECK-NEXT: "totals": {"weights": 0, "clustered": 0,
func.func @not_layout(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<2x4xf32> loc("add.const")
  %e = tensor.empty() : tensor<4x2xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%w : tensor<2x4xf32>) outs(%e : tensor<4x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<4x2xf32>
  %z = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<1x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%o : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %t : tensor<1x4xf32>, tensor<4x2xf32>) outs(%f : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// A constant shared by two FC layers through two transposing generics: one
// weight, clustered once.
// CHECK-LABEL: "layers": [
// CHECK-NEXT: "name": "shared.weight", "consumer": "linalg.matmul", "role": "weight", {{.*}} "clustered": true
// CHECK-NEXT: ],
// CHECK-NEXT: "totals": {"weights": 1, "clustered": 1,
func.func @shared(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [1.5, 2.5, 3.5, 4.5], [5.5, 6.5, 7.5, 8.5]]> : tensor<4x4xf32> loc("shared.weight")
  %e = tensor.empty() : tensor<4x4xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%w : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<4x4xf32>
  %z = arith.constant 0.0 : f32
  %o = tensor.empty() : tensor<1x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%o : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y1 = linalg.matmul ins(%x, %t : tensor<1x4xf32>, tensor<4x4xf32>) outs(%f : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y2 = linalg.matmul ins(%y1, %t : tensor<1x4xf32>, tensor<4x4xf32>) outs(%f : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y2 : tensor<1x4xf32>
}
