// TOSA 0.x syntax; on 22 the test runs on its TOSA 1.0 upgrade (lit.cfg.py).
// Weights clusterc cannot or need not cluster, one function each; every
// case either clusters, is left alone with a reason in the report, or is
// an error naming the weight's location, with exit status 1 and no output.
// Also covered elsewhere: splat, integer and bias constants and a weight
// shared by two ops (test/passes/shared-and-left-alone.mlir); f16 and bf16
// weights (test/passes/options.mlir, test/e2e/numeric-mlp.test); NaN in an
// f32 constant, K = 0 and K > 65,536 (test/clusterc/diagnostics.mlir).
// RUN: %tosa_prepare
// RUN: rm -rf %t && split-file --leading-lines %tosa_input %t && mkdir %t/out
//
// Non-finite values are an error, in any storage (f32, f16, bf16, blob):
// RUN: not clusterc --min-elements=0 %t/inf.mlir -o %t/out/o.mlir 2>&1 | FileCheck %s --check-prefix=INF
// RUN: not clusterc --min-elements=0 %t/nan-f16.mlir -o %t/out/o.mlir 2>&1 | FileCheck %s --check-prefix=NAN-F16
// RUN: not clusterc --min-elements=0 %t/nan-bf16.mlir -o %t/out/o.mlir 2>&1 | FileCheck %s --check-prefix=NAN-BF16
// RUN: not clusterc --min-elements=0 %t/nan-blob.mlir -o %t/out/o.mlir 2>&1 | FileCheck %s --check-prefix=NAN-BLOB
// A dense_resource without its data, or with too little of it:
// RUN: not clusterc --min-elements=0 %t/elided.mlir -o %t/out/o.mlir 2>&1 | FileCheck %s --check-prefix=ELIDED
// RUN: not clusterc --min-elements=0 %t/short-blob.mlir -o %t/out/o.mlir 2>&1 | FileCheck %s --check-prefix=SHORT
// RUN: ls %t/out | count 0
//
// K = 1: one centroid, the mean; every weight decodes to it.
// RUN: clusterc --clusters=1 --min-elements=0 --decode=fold %t/values.mlir | FileCheck %s --check-prefix=K1
// RUN: clusterc --clusters=1 --min-elements=0 %t/values.mlir | FileCheck %s --check-prefix=K1-TABLE
// K >= the number of distinct values (16 here): lossless, bit for bit, for
// K = 16 and K = 65,536; a table of the 16 values with 4-bit indices.
// RUN: clusterc --clusters=16 --min-elements=0 --decode=fold %t/values.mlir -o %t/k16.mlir
// RUN: clusterc --clusters=65536 --min-elements=0 --decode=fold %t/values.mlir -o %t/k65536.mlir
// RUN: mlir-opt %t/values.mlir -o %t/values.ref.mlir
// (The folded weight differs only by clusterc's mark.)
// RUN: sed 's/ {clusterc.palette = "decoded"}//' %t/k16.mlir | mlir-opt -o %t/k16.out.mlir
// RUN: sed 's/ {clusterc.palette = "decoded"}//' %t/k65536.mlir | mlir-opt -o %t/k65536.out.mlir
// RUN: diff %t/values.ref.mlir %t/k16.out.mlir
// RUN: diff %t/values.ref.mlir %t/k65536.out.mlir
// RUN: clusterc --clusters=65536 --min-elements=0 --report %t/values.mlir 2>&1 >/dev/null | FileCheck %s --check-prefix=KBIG
//
// Left alone, with the reason in the report: zero-size, rank-0, complex and
// quantized (i8 with tosa quantization info) weights.
// RUN: clusterc --min-elements=0 --report %t/left-alone.mlir -o %t/left-alone.out.mlir 2>&1 | FileCheck %s --check-prefix=ALONE
// RUN: mlir-opt %t/left-alone.mlir -o %t/left-alone.ref.mlir
// RUN: mlir-opt %t/left-alone.out.mlir -o %t/left-alone.out2.mlir
// RUN: diff %t/left-alone.ref.mlir %t/left-alone.out2.mlir
//
// A weight with a tensor encoding (sparse): the decode keeps the type; with
// decode=runtime it falls back to the generic decode (no memref has that
// type), where it used to produce a to_tensor that does not verify.
// RUN: clusterc --min-elements=0 --clusters=2 %t/sparse.mlir | mlir-opt --verify-each | FileCheck %s --check-prefix=SPARSE
// RUN: clusterc --min-elements=0 --clusters=2 --decode=runtime %t/sparse.mlir | mlir-opt --verify-each | FileCheck %s --check-prefix=SPARSE
// SPARSE: tensor.empty() : tensor<4x2xf32, #sparse>
// SPARSE: linalg.generic {{.*}} outs(%{{.*}} : tensor<4x2xf32, #sparse>)
// SPARSE-NOT: bufferization.to_tensor
//
// A constant used by 300 matmuls and an add: one table, one decode, every
// user rewired, and the result verifies.
// RUN: %python %S/Inputs/gen-shared.py 300 > %t/shared.mlir
// RUN: clusterc --clusters=4 --min-elements=0 %t/shared.mlir -o %t/shared.out.mlir
// RUN: mlir-opt --verify-each %t/shared.out.mlir -o /dev/null
// RUN: FileCheck %s --check-prefix=SHARED < %t/shared.out.mlir
// SHARED:     %[[W:.*]] = linalg.generic
// SHARED-NOT: linalg.generic
// SHARED-COUNT-300: linalg.matmul ins(%{{[^,]*}}, %[[W]] :
// SHARED:     arith.addf %[[W]], %[[W]]

// K1: arith.constant {clusterc.palette = "decoded"} dense<-1.437500e-01> : tensor<4x4xf32>
// K1-TABLE: arith.constant {clusterc.palette = "centroids"} dense<-1.437500e-01> : tensor<1xf32>
// K1-TABLE: arith.constant {clusterc.palette = "indices"} dense<0> : tensor<2xi8>
// KBIG: values.weight {{.*}} f32 {{ *}}16 {{ *}}4 {{ *}}64 {{ *}}72 {{.*}} 0 {{ *}}inf

//--- inf.mlir
func.func @inf(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  // INF: inf.mlir:[[@LINE+1]]:8: error: cluster-weights: weight '{{.*}}inf.mlir:[[@LINE+1]]:8' has a non-finite value (Inf) at element 2; cannot cluster
  %w = arith.constant dense<[[1.0, 0.5], [0x7F800000, 3.0], [4.0, 5.0], [6.0, 7.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

//--- nan-f16.mlir
func.func @nan(%x: tensor<1x4xf16>) -> tensor<1x2xf16> {
  // NAN-F16: nan-f16.mlir:[[@LINE+1]]:8: error: cluster-weights: weight {{.*}} has a non-finite value (NaN) at element 7; cannot cluster
  %w = arith.constant dense<[[1.0, 0.5], [2.0, 3.0], [4.0, 5.0], [6.0, 0x7E00]]> : tensor<4x2xf16>
  %e = tensor.empty() : tensor<1x2xf16>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf16>, tensor<4x2xf16>) outs(%e : tensor<1x2xf16>) -> tensor<1x2xf16>
  return %y : tensor<1x2xf16>
}

//--- nan-bf16.mlir
func.func @nan(%x: tensor<1x4xbf16>) -> tensor<1x2xbf16> {
  // NAN-BF16: nan-bf16.mlir:[[@LINE+1]]:8: error: cluster-weights: weight {{.*}} has a non-finite value (Inf) at element 0; cannot cluster
  %w = arith.constant dense<[[0xFF80, 0.5], [2.0, 3.0], [4.0, 5.0], [6.0, 0x7FC0]]> : tensor<4x2xbf16>
  %e = tensor.empty() : tensor<1x2xbf16>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xbf16>, tensor<4x2xbf16>) outs(%e : tensor<1x2xbf16>) -> tensor<1x2xbf16>
  return %y : tensor<1x2xbf16>
}

//--- nan-blob.mlir
func.func @nan(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // NAN-BLOB: nan-blob.mlir:[[@LINE+1]]:8: error: cluster-weights: weight {{.*}} has a non-finite value (NaN) at element 9; cannot cluster
  %w = "tosa.const"() <{value = dense_resource<w> : tensor<4x4xf32>}> : () -> tensor<4x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x4xf32>) outs(%z : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}
{-#
  dialect_resources: { builtin: { w: "0x040000000000A0C06666A6BF9A991940000080C09A9999BE9A995940000040C03333333FCDCC8C400000C07F9A99D93F666696C0000080BFCDCC2C40CDCC6CC000000000" } }
#-}

//--- elided.mlir
// What mlir-opt --mlir-elide-resource-strings-if-larger writes:
func.func @elided(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // ELIDED: elided.mlir:[[@LINE+1]]:8: error: cluster-weights: cannot read weight {{.*}}: dense_resource has no blob data (elided or missing)
  %w = arith.constant dense_resource<__elided__> : tensor<4x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x4xf32>) outs(%z : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

//--- short-blob.mlir
func.func @short(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // SHORT: short-blob.mlir:[[@LINE+1]]:8: error: cluster-weights: cannot read weight {{.*}}: blob size does not match the tensor type
  %w = arith.constant dense_resource<w> : tensor<4x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x4xf32>) outs(%z : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}
{-#
  dialect_resources: { builtin: { w: "0x040000000000A0C06666A6BF9A991940000080C09A9999BE9A995940000040C03333333FCDCC8C40000000C09A99D93F666696C0000080BFCDCC2C40CDCC6CC0" } }
#-}

//--- values.mlir
func.func @values(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %w = arith.constant dense<[[-5.0, -1.3, 2.4, -3.9], [0.8, 4.5, -2.8, 1.9], [-4.4, -0.7, 3.0, -3.3], [1.3, 5.0, -2.3, 2.5]]> : tensor<4x4xf32> loc("values.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x4xf32>) outs(%z : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

//--- sparse.mlir
#CSR = #sparse_tensor.encoding<{ map = (d0, d1) -> (d0 : dense, d1 : compressed) }>
func.func @sparse(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 0.5], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]> : tensor<4x2xf32, #CSR>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32, #CSR>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

//--- left-alone.mlir
// ALONE-DAG: zero.size {{ *}}0x2 {{.*}} left as is: empty tensor
// ALONE-DAG: rank0 {{ *}}scalar {{.*}} left as is: splat (a single value already)
// ALONE-DAG: complex {{ *}}4x2 {{.*}} left as is: unsupported element type (f32, f16, bf16 are clustered)
// ALONE-DAG: quantized {{ *}}4x1x1x4 {{ *}}int {{.*}} left as is: integer weights are left as they are
// ALONE: totals: 0 of 4 weights clustered
func.func @left_alone(%x0: tensor<1x0xf32>, %v: tensor<4xf32>, %xc: tensor<1x4xcomplex<f32>>, %xq: tensor<1x1x1x4xi8>) -> (tensor<1x2xf32>, tensor<f32>, tensor<1x2xcomplex<f32>>, tensor<1x1x1x4xi32>) {
  %e = tensor.empty() : tensor<1x2xf32>
  %w0 = arith.constant dense<> : tensor<0x2xf32> loc("zero.size")
  %r0 = linalg.matmul ins(%x0, %w0 : tensor<1x0xf32>, tensor<0x2xf32>) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %ws = arith.constant dense<2.0> : tensor<f32> loc("rank0")
  %es = tensor.empty() : tensor<f32>
  %rs = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]} ins(%v, %ws : tensor<4xf32>, tensor<f32>) outs(%es : tensor<f32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %t = arith.addf %m, %o : f32
    linalg.yield %t : f32
  } -> tensor<f32>
  %wc = arith.constant dense<[[(1.0, 2.0), (1.0, 0.5)], [(2.0, 3.0), (4.0, 5.0)], [(1.0, 2.0), (1.0, 0.5)], [(2.0, 3.0), (4.0, 5.0)]]> : tensor<4x2xcomplex<f32>> loc("complex")
  %ec = tensor.empty() : tensor<1x2xcomplex<f32>>
  %rc = linalg.matmul ins(%xc, %wc : tensor<1x4xcomplex<f32>>, tensor<4x2xcomplex<f32>>) outs(%ec : tensor<1x2xcomplex<f32>>) -> tensor<1x2xcomplex<f32>>
  %wq = "tosa.const"() <{value = dense<[[[[1, 2, 3, 4]]], [[[5, 6, 7, 8]]], [[[9, 10, 11, 12]]], [[[13, 14, 15, 16]]]]> : tensor<4x1x1x4xi8>}> : () -> tensor<4x1x1x4xi8> loc("quantized")
  %bq = "tosa.const"() <{value = dense<0> : tensor<4xi32>}> : () -> tensor<4xi32>
  %rq = tosa.conv2d %xq, %wq, %bq {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, quantization_info = #tosa.conv_quant<input_zp = -128, weight_zp = 0>} : (tensor<1x1x1x4xi8>, tensor<4x1x1x4xi8>, tensor<4xi32>) -> tensor<1x1x1x4xi32>
  return %r0, %rs, %rc, %rq : tensor<1x2xf32>, tensor<f32>, tensor<1x2xcomplex<f32>>, tensor<1x1x1x4xi32>
}
