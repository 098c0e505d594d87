// Immutable ml_program.global weights: two new globals (table, indices),
// and each global_load_const becomes two loads and a decode.
// RUN: clusterc --clusters=2 --min-elements=0 %s | FileCheck %s
// RUN: clusterc --clusters=2 --min-elements=0 %s | %mlir_opt -o /dev/null
// RUN: clusterc --clusters=2 --min-elements=0 --decode=fold %s | FileCheck %s --check-prefix=FOLD

// CHECK-DAG: ml_program.global private @w_centroids(dense<[-1.000000e+00, 1.000000e+00]> : tensor<2xf32>) : tensor<2xf32>
// CHECK-DAG: ml_program.global private @w_idx(dense<57> : tensor<1xi8>) : tensor<1xi8>
// CHECK-DAG: ml_program.global private mutable @state
// CHECK-NOT: ml_program.global private @w(
// CHECK-LABEL: func.func @f
// CHECK-NOT: ml_program.global_load_const @w :
// CHECK:     %[[T:.*]] = ml_program.global_load_const @w_centroids : tensor<2xf32>
// CHECK:     %[[I:.*]] = ml_program.global_load_const @w_idx : tensor<1xi8>
// CHECK:     %[[W:.*]] = linalg.generic
// CHECK:       tensor.extract %[[I]]
// CHECK:       tensor.extract %[[T]]
// CHECK:     linalg.matmul ins(%{{.*}}, %[[W]] :
// CHECK-LABEL: func.func @g
// CHECK-NOT: ml_program.global_load_const @w :
// CHECK:     %[[T2:.*]] = ml_program.global_load_const @w_centroids : tensor<2xf32>
// CHECK:     %[[I2:.*]] = ml_program.global_load_const @w_idx : tensor<1xi8>
// CHECK:     %[[W2:.*]] = linalg.generic
// CHECK:       tensor.extract %[[I2]]
// CHECK:       tensor.extract %[[T2]]
// CHECK:     linalg.matmul ins(%{{.*}}, %[[W2]] :
// CHECK-NOT: ml_program.global_load_const @w :

// FOLD: ml_program.global private @w(dense<{{\[\[}}1.000000e+00, -1.000000e+00]
// FOLD-NOT: linalg.generic

ml_program.global private @w(dense<[[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0], [-1.0, -1.0]]> : tensor<4x2xf32>) : tensor<4x2xf32>
ml_program.global private mutable @state(dense<[[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0], [-1.0, -1.0]]> : tensor<4x2xf32>) : tensor<4x2xf32>

func.func @f(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = ml_program.global_load_const @w : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

func.func @g(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = ml_program.global_load_const @w : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
