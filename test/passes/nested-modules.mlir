// Weights in nested modules: symbols resolve in the nearest symbol table,
// so a global @w of an inner module and one of the outer module are two
// weights, each rewritten in its own module (they were mixed up: the
// loads of both went to the first @w, and the result did not verify). The
// runtime decode's initializer lives in the top module, so weights of
// nested modules keep the generic decode.
// RUN: clusterc --min-elements=0 --clusters=2 --report %s -o %t.generic.mlir 2>&1 | FileCheck %s --check-prefix=REPORT
// RUN: mlir-opt --verify-each %t.generic.mlir | FileCheck %s --check-prefix=GENERIC
// RUN: clusterc --min-elements=0 --clusters=2 --decode=runtime %s -o %t.runtime.mlir
// RUN: mlir-opt --verify-each %t.runtime.mlir | FileCheck %s --check-prefix=RUNTIME

// REPORT: 0  w 4x2 {{.*}} 1.09
// REPORT: 1  c 4x2 {{.*}} 1.55
// REPORT: 2  w 4x2 {{.*}} 3.15
// REPORT: totals: 3 of 3 weights clustered

// GENERIC-LABEL: module @inner {
// GENERIC:        ml_program.global private @w_centroids(dense<[1.625000e+00, 5.500000e+00]>
// GENERIC-LABEL:   func.func @f
// GENERIC:          ml_program.global_load_const @w_centroids
// GENERIC-LABEL:   func.func @h
// GENERIC:          linalg.generic
// GENERIC:      }
// GENERIC:      ml_program.global private @w_centroids(dense<[3.07142854, 9.000000e+00]>
// GENERIC-LABEL: func.func @g
// GENERIC:        ml_program.global_load_const @w_centroids

// RUNTIME-LABEL: module @inner {
// RUNTIME-NOT:    memref.global
// RUNTIME-LABEL:   func.func @f
// RUNTIME:          linalg.generic
// RUNTIME-LABEL:   func.func @h
// RUNTIME:          linalg.generic
// RUNTIME:      }
// RUNTIME:      memref.global "private" @w_decoded
// RUNTIME-LABEL: func.func @g
// RUNTIME:        memref.get_global @w_decoded
// RUNTIME-LABEL: func.func private @clusterc_decode_weights()

module {
  module @inner {
    ml_program.global private @w(dense<[[1.0, 0.5], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]> : tensor<4x2xf32>) : tensor<4x2xf32> loc("w")
    func.func @f(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
      %w = ml_program.global_load_const @w : tensor<4x2xf32>
      %zero = arith.constant 0.0 : f32
      %e = tensor.empty() : tensor<1x2xf32>
      %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
      %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
      return %y : tensor<1x2xf32>
    }
    func.func @h(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
      %c = arith.constant dense<[[1.0, 0.5], [2.0, 3.0], [4.0, 5.0], [6.0, 8.0]]> : tensor<4x2xf32> loc("c")
      %zero = arith.constant 0.0 : f32
      %e = tensor.empty() : tensor<1x2xf32>
      %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
      %y = linalg.matmul ins(%x, %c : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
      return %y : tensor<1x2xf32>
    }
  }
  ml_program.global private @w(dense<[[1.0, 0.5], [2.0, 3.0], [4.0, 5.0], [6.0, 9.0]]> : tensor<4x2xf32>) : tensor<4x2xf32> loc("w")
  func.func @g(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
    %w = ml_program.global_load_const @w : tensor<4x2xf32>
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<1x2xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
    %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
    return %y : tensor<1x2xf32>
  }
}
