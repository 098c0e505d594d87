// cluster-order-loops: linalg.generic loops permuted so that the dimension
// along which the operands are contiguous is innermost; with reassociate
// (the default) a reduction may become innermost, and its addf gets
// fastmath<reassoc>. Run through the mlir-opt plugin (the driver runs it
// inside code generation, docs/CODEGEN.md).
// UNSUPPORTED: sanitized
// RUN: %mlir_plugin_opt --split-input-file --mlir-print-local-scope \
// RUN:   --pass-pipeline='builtin.module(cluster-order-loops)' %s | FileCheck %s --check-prefixes=CHECK,REASSOC
// RUN: %mlir_plugin_opt --split-input-file --mlir-print-local-scope \
// RUN:   --pass-pipeline='builtin.module(cluster-order-loops{reassociate=true})' %s | FileCheck %s --check-prefixes=CHECK,REASSOC
// RUN: %mlir_plugin_opt --split-input-file --mlir-print-local-scope \
// RUN:   --pass-pipeline='builtin.module(cluster-order-loops{reassociate=false})' %s | FileCheck %s --check-prefixes=CHECK,EXACT
// RUN: not %mlir_plugin_opt --pass-pipeline='builtin.module(cluster-order-loops{bogus})' %s 2>&1 | FileCheck %s --check-prefix=ERR

// ERR: cluster-order-loops: unknown option 'bogus' (expected reassociate=true|false)

// matmul (i, j, k) becomes (i, k, j): the output's and B's columns run
// innermost, the reduction stays outside, no reassociation.
// CHECK-LABEL: func.func @matmul
// CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>], iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK: arith.addf %{{.*}}, %{{.*}} : f32
#mk = affine_map<(i, j, k) -> (i, k)>
#kn = affine_map<(i, j, k) -> (k, j)>
#mn = affine_map<(i, j, k) -> (i, j)>
func.func @matmul(%a: tensor<16x32xf32>, %b: tensor<32x64xf32>, %c: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %r = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<16x32xf32>, tensor<32x64xf32>) outs(%c : tensor<16x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<16x64xf32>
  return %r : tensor<16x64xf32>
}

// -----

// matvec: the reduction runs along A's rows and x, so with reassociate it
// stays innermost and is marked reassoc; without, the rows go innermost
// and the sums keep their order.
// CHECK-LABEL: func.func @matvec
// REASSOC: linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
// REASSOC: arith.addf %{{.*}}, %{{.*}} fastmath<reassoc> : f32
// EXACT: linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]}
// EXACT-NOT: fastmath
// EXACT: arith.addf %{{.*}}, %{{.*}} : f32
#a2 = affine_map<(i, j) -> (i, j)>
#x1 = affine_map<(i, j) -> (j)>
#o1 = affine_map<(i, j) -> (i)>
func.func @matvec(%a: tensor<32x64xf32>, %x: tensor<64xf32>, %o: tensor<32xf32>) -> tensor<32xf32> {
  %r = linalg.generic {indexing_maps = [#a2, #x1, #o1], iterator_types = ["parallel", "reduction"]}
      ins(%a, %x : tensor<32x64xf32>, tensor<64xf32>) outs(%o : tensor<32xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<32xf32>
  return %r : tensor<32xf32>
}

// -----

// A row sum: the output (weight 2) decides; the reduction goes outside in
// both modes.
// CHECK-LABEL: func.func @rowsum
// CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]}
// CHECK-NOT: fastmath
#r2 = affine_map<(i, j) -> (i, j)>
#r1 = affine_map<(i, j) -> (i)>
func.func @rowsum(%a: tensor<16x64xf32>, %o: tensor<16xf32>) -> tensor<16xf32> {
  %r = linalg.generic {indexing_maps = [#r2, #r1], iterator_types = ["parallel", "reduction"]}
      ins(%a : tensor<16x64xf32>) outs(%o : tensor<16xf32>) {
  ^bb0(%p: f32, %acc: f32):
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<16xf32>
  return %r : tensor<16xf32>
}
