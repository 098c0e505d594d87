// Inputs that are not models clusterc can work on: a diagnostic naming
// the file and the location, exit status 1, no output file; or, for a
// module without weights, the module unchanged, a warning, exit status 0.
// RUN: rm -rf %t && split-file --leading-lines %s %t && mkdir %t/out
//
// RUN: not clusterc %t/malformed.mlir -o %t/out/a.mlir 2>&1 | FileCheck %s --check-prefix=MALFORMED
// RUN: not clusterc %t/unknown-op.mlir -o %t/out/a.mlir 2>&1 | FileCheck %s --check-prefix=UNKNOWN-OP
// RUN: not clusterc %t/unknown-generic.mlir -o %t/out/a.mlir 2>&1 | FileCheck %s --check-prefix=UNKNOWN-GENERIC
// RUN: not clusterc %t/not-text.mlir -o %t/out/a.mlir 2>&1 | FileCheck %s --check-prefix=NOT-TEXT
// RUN: not clusterc %t/not-a-module.mlir -o %t/out/a.mlir 2>&1 | FileCheck %s --check-prefix=NOT-MODULE
// RUN: ls %t/out | count 0
//
// RUN: clusterc --report %t/empty.mlir -o %t/out/empty.mlir 2>&1 | FileCheck %s --check-prefix=NONE
// RUN: clusterc --report %t/empty-module.mlir -o %t/out/empty-module.mlir 2>&1 | FileCheck %s --check-prefix=NONE
// RUN: clusterc --report %t/no-weights.mlir -o %t/out/no-weights.mlir 2>&1 | FileCheck %s --check-prefix=NONE
// RUN: clusterc --report %t/argument-weights.mlir -o %t/out/argument-weights.mlir 2>&1 | FileCheck %s --check-prefix=NONE
// RUN: mlir-opt %t/out/empty.mlir | FileCheck %s --check-prefix=EMPTY
// RUN: mlir-opt %t/no-weights.mlir -o %t/no-weights.ref.mlir
// RUN: mlir-opt %t/out/no-weights.mlir -o %t/no-weights.out.mlir
// RUN: diff %t/no-weights.ref.mlir %t/no-weights.out.mlir
// RUN: mlir-opt %t/argument-weights.mlir -o %t/argument-weights.ref.mlir
// RUN: mlir-opt %t/out/argument-weights.mlir -o %t/argument-weights.out.mlir
// RUN: diff %t/argument-weights.ref.mlir %t/argument-weights.out.mlir

// NONE: warning: no weights to cluster (clusterc clusters the weight constants of conv, matmul and fully-connected ops: tosa.const, arith.constant or ml_program.global; weights passed as function arguments cannot be clustered)
// NONE: totals: 0 of 0 weights clustered
// EMPTY: module {
// EMPTY-NEXT: }

//--- malformed.mlir
func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  // MALFORMED: malformed.mlir:[[@LINE+1]]:3: error: custom op 'retur' is unknown
  retur %x : tensor<4xf32>
}

//--- unknown-op.mlir
func.func @f() {
  // UNKNOWN-OP: unknown-op.mlir:[[@LINE+1]]:8: error: Dialect `foo' not found for custom op 'foo.bar'
  %0 = foo.bar() : () -> i32
  return
}

//--- unknown-generic.mlir
func.func @f() {
  // UNKNOWN-GENERIC: unknown-generic.mlir:[[@LINE+1]]:17: error: operation being parsed with an unregistered dialect
  %0 = "foo.bar"() : () -> i32
  return
}

//--- not-text.mlir
ÿØÿà JFIF
// NOT-TEXT: not-text.mlir:{{[0-9]+}}:1: error: unexpected character

//--- not-a-module.mlir
// NOT-MODULE: not-a-module.mlir:[[@LINE+1]]:1: error: expected operation name in quotes
{ "layers": [] }

//--- empty.mlir
//--- empty-module.mlir
module {
}

//--- no-weights.mlir
func.func @relu(%x: tensor<4xf32>) -> tensor<4xf32> {
  %zero = arith.constant dense<0.0> : tensor<4xf32>
  %y = arith.maximumf %x, %zero : tensor<4xf32>
  return %y : tensor<4xf32>
}

//--- argument-weights.mlir
// The weights are arguments (torch-mlir without its parameters imported):
// nothing to cluster.
func.func @mlp(%x: tensor<1x4xf32>, %w: tensor<4x2xf32>) -> tensor<1x2xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
