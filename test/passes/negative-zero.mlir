// -0.0 weights with K >= the distinct values: the table's zero is -0.0 when
// every zero of the weight is -0.0, so the lossless decode gives the input
// back bit for bit (it gave +0.0, where the README promises bit for bit).
// With both zeros in one weight, one centroid serves both and it is +0.0.
// RUN: clusterc --min-elements=0 --decode=fold --clusters=16 %s | FileCheck %s
// RUN: clusterc --min-elements=0 --decode=fold --clusters=16 --preserve-sparsity %s | FileCheck %s
// RUN: clusterc --min-elements=0 --decode=fold --clusters=16 --init=kmeans1d %s | FileCheck %s
// CHECK-LABEL: func.func @all_negative
// CHECK: arith.constant {{.*}}dense<{{\[\[}}-0.000000e+00, 5.000000e-01], [-0.000000e+00, 3.000000e+00], [-0.000000e+00, 5.000000e+00], [6.000000e+00, -0.000000e+00]]>
// CHECK-LABEL: func.func @mixed
// CHECK: arith.constant {{.*}}dense<{{\[\[}}0.000000e+00, 5.000000e-01], [0.000000e+00, 3.000000e+00], [0.000000e+00, 5.000000e+00], [6.000000e+00, 0.000000e+00]]>

func.func @all_negative(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[-0.0, 0.5], [-0.0, 3.0], [-0.0, 5.0], [6.0, -0.0]]> : tensor<4x2xf32> loc("neg")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

func.func @mixed(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[-0.0, 0.5], [0.0, 3.0], [-0.0, 5.0], [6.0, 0.0]]> : tensor<4x2xf32> loc("mixed")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
