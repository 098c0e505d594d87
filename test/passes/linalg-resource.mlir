// RUN: clusterc --clusters=2 --min-elements=0 %s | FileCheck %s
// RUN: clusterc --clusters=2 --min-elements=0 %s | %mlir_opt -o /dev/null

// A torch-mlir style linear layer: the weight is a dense_resource blob that
// reaches linalg.matmul through linalg.transpose. Two values, K = 2: 1 bit
// per index. [1, -1, -1, 1, 1, 1, -1, -1] -> indices [1,0,0,1,1,1,0,0] ->
// 0b00111001 = 57. The index buffer stays a dense_resource blob.

// CHECK-LABEL: func.func @linear
// CHECK-DAG:   %[[T:.*]] = arith.constant {clusterc.palette = "centroids"} dense<[-1.000000e+00, 1.000000e+00]> : tensor<2xf32>
// CHECK-DAG:   %[[I:.*]] = arith.constant {clusterc.palette = "indices"} dense_resource<[[BLOB:fc.weight_idx[_0-9]*]]> : tensor<1xi8>
// CHECK:       %[[W:.*]] = linalg.generic
// CHECK:       linalg.transpose ins(%[[W]] : tensor<2x4xf32>)
// CHECK:       dialect_resources
// CHECK:       [[BLOB]]: "0x0100000039"
func.func @linear(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense_resource<fcw> : tensor<2x4xf32> loc("fc.weight")
  %zero = arith.constant 0.0 : f32
  %et = tensor.empty() : tensor<4x2xf32>
  %wt = linalg.transpose ins(%w : tensor<2x4xf32>) outs(%et : tensor<4x2xf32>) permutation = [1, 0]
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %wt : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      fcw: "0x040000000000803F000080BF000080BF0000803F0000803F0000803F000080BF000080BF"
    }
  }
#-}
