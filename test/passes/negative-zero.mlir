// -0.0 weights with K >= the distinct values: the table's zero is -0.0 when
// every zero of the weight is -0.0, so the lossless decode gives the input
// back bit for bit (it gave +0.0, where the README promises bit for bit).
// With both zeros in one weight, they are two centroids when K allows (each
// zero decodes to its own sign: it was +0.0 for both), one +0.0 otherwise.
// RUN: clusterc --min-elements=0 --decode=fold --clusters=16 %s | FileCheck %s
// RUN: clusterc --min-elements=0 --decode=fold --clusters=16 --preserve-sparsity %s | FileCheck %s
// RUN: clusterc --min-elements=0 --decode=fold --clusters=16 --init=kmeans1d %s | FileCheck %s
// CHECK-LABEL: func.func @all_negative
// CHECK: arith.constant {{.*}}dense<{{\[\[}}-0.000000e+00, 5.000000e-01], [-0.000000e+00, 3.000000e+00], [-0.000000e+00, 5.000000e+00], [6.000000e+00, -0.000000e+00]]>
// CHECK-LABEL: func.func @mixed
// CHECK: arith.constant {{.*}}dense<{{\[\[}}-0.000000e+00, 5.000000e-01], [0.000000e+00, 3.000000e+00], [-0.000000e+00, 5.000000e+00], [6.000000e+00, 0.000000e+00]]>
//
// @mixed has 5 distinct values (the zeros as one): K = 6 keeps the two zeros
// apart, -0.0 just before +0.0 in the table; K = 5 has no room (+0.0 serves
// both, the other values exact).
// RUN: clusterc --min-elements=0 --decode=fold --clusters=6 --only=mixed %s | FileCheck %s --check-prefix=K6
// RUN: clusterc --min-elements=0 --clusters=6 --only=mixed %s | FileCheck %s --check-prefix=TABLE6
// RUN: clusterc --min-elements=0 --decode=fold --clusters=5 --only=mixed %s | FileCheck %s --check-prefix=K5
// K6-LABEL: func.func @mixed
// K6: arith.constant {{.*}}dense<{{\[\[}}-0.000000e+00, 5.000000e-01], [0.000000e+00, 3.000000e+00], [-0.000000e+00, 5.000000e+00], [6.000000e+00, 0.000000e+00]]>
// TABLE6-LABEL: func.func @mixed
// TABLE6: arith.constant {clusterc.palette = "centroids"} dense<[-0.000000e+00, 0.000000e+00, 5.000000e-01, 3.000000e+00, 5.000000e+00, 6.000000e+00]> : tensor<6xf32>
// K5-LABEL: func.func @mixed
// K5: arith.constant {{.*}}dense<{{\[\[}}0.000000e+00, 5.000000e-01], [0.000000e+00, 3.000000e+00], [0.000000e+00, 5.000000e+00], [6.000000e+00, 0.000000e+00]]>

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
