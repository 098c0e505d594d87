// cluster-contract-gemm reads a transposed operand in place: torch-mlir
// puts each fully-connected weight [out, in] behind a linalg.transpose (or
// the generic it generalizes to), which as its own op was a strided copy
// of the whole weight on every call. The call's descriptor gets the
// source's strides instead, and the transpose goes when nothing else reads it.
// UNSUPPORTED: sanitized
// RUN: %mlir_plugin_opt --split-input-file --mlir-print-local-scope \
// RUN:   --pass-pipeline='builtin.module(func.func(linalg-generalize-named-ops),cluster-contract-gemm{min-macs=0})' %s | FileCheck %s

// x[2x3] . transpose(w[4x3]) -> y[2x4]: loops i (2), j (4), k (3); strides
// in x: i 3, j 0, k 1; in w read in place: i 0, j 3, k 1; in y: 4, 1, 0.
// CHECK-LABEL: func @fc
// CHECK-NOT: linalg.transpose
// CHECK-NOT: linalg.generic
// CHECK: dense<[3, 2, 3, 0, 4, 0, 4, 0, 3, 1, 0, 3, 1, 1, 0, 1]>
// CHECK: %[[W:.*]] = tensor.collapse_shape %arg1
// CHECK: call @clusterrt_mlir_sgemm({{.*}}
func.func @fc(%x: tensor<2x3xf32>, %w: tensor<4x3xf32>) -> tensor<2x4xf32> {
  %zero = arith.constant 0.0 : f32
  %et = tensor.empty() : tensor<3x4xf32>
  %wt = linalg.transpose ins(%w : tensor<4x3xf32>) outs(%et : tensor<3x4xf32>) permutation = [1, 0]
  %e = tensor.empty() : tensor<2x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = linalg.matmul ins(%x, %wt : tensor<2x3xf32>, tensor<3x4xf32>) outs(%z : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// The same through a transposing generic (how linalg-generalize-named-ops
// and torch-mlir's older exports write it); the transpose stays when it
// has another reader.
// CHECK-LABEL: func @fc_generic_kept
// CHECK: linalg.generic
// CHECK: dense<[3, 2, 3, 0, 4, 0, 4, 0, 3, 1, 0, 3, 1, 1, 0, 1]>
// CHECK: call @clusterrt_mlir_sgemm(
// CHECK: return {{.*}}, %{{.*}} : tensor<2x4xf32>, tensor<3x4xf32>
func.func @fc_generic_kept(%x: tensor<2x3xf32>, %w: tensor<4x3xf32>) -> (tensor<2x4xf32>, tensor<3x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %et = tensor.empty() : tensor<3x4xf32>
  %wt = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%w : tensor<4x3xf32>) outs(%et : tensor<3x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<3x4xf32>
  %e = tensor.empty() : tensor<2x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = linalg.matmul ins(%x, %wt : tensor<2x3xf32>, tensor<3x4xf32>) outs(%z : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %y, %wt : tensor<2x4xf32>, tensor<3x4xf32>
}
