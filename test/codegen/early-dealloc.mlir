// Code generation frees each buffer after its last use
// (cluster-early-dealloc after buffer-deallocation-pipeline), not at the
// function's end: %a, read only by the broadcast, is freed before the
// subtraction runs; with outlined loop nests between the two calls.
// RUN: clusterc --emit=llvm-dialect --no-outline %s | FileCheck %s
// RUN: clusterc --emit=llvm-dialect %s | FileCheck %s --check-prefix=OUTLINED
// CHECK-LABEL: llvm.func @chain(
// CHECK: llvm.call @malloc
// CHECK: llvm.fadd
// CHECK: llvm.call @malloc
// CHECK: llvm.fmul
// CHECK: llvm.call @free
// CHECK: llvm.fsub
// CHECK: llvm.call @free
// CHECK: llvm.return
// OUTLINED-LABEL: llvm.func @chain(
// OUTLINED: llvm.call @chain_loop1(
// OUTLINED-NEXT: llvm.call @free(
// OUTLINED-NEXT: llvm.call @chain_loop2(

#id = affine_map<(d0) -> (d0)>
#row = affine_map<(d0, d1) -> (d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @chain(%x: tensor<1024xf32>) -> tensor<2x1024xf32> {
  %one = arith.constant 1.0 : f32
  %two = arith.constant 2.0 : f32
  %three = arith.constant 3.0 : f32
  %e = tensor.empty() : tensor<1024xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%x : tensor<1024xf32>) outs(%e : tensor<1024xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %one : f32
    linalg.yield %r : f32
  } -> tensor<1024xf32>
  %e2 = tensor.empty() : tensor<2x1024xf32>
  %b = linalg.generic {indexing_maps = [#row, #id2], iterator_types = ["parallel", "parallel"]} ins(%a : tensor<1024xf32>) outs(%e2 : tensor<2x1024xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.mulf %in, %two : f32
    linalg.yield %r : f32
  } -> tensor<2x1024xf32>
  %c = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%b : tensor<2x1024xf32>) outs(%e2 : tensor<2x1024xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.subf %in, %three : f32
    linalg.yield %r : f32
  } -> tensor<2x1024xf32>
  return %c : tensor<2x1024xf32>
}
