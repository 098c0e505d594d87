// TOSA 0.x syntax; on 22 the test runs on its TOSA 1.0 upgrade (lit.cfg.py).
// Embedding tables (issue 13) are weights: the values operand of
// tosa.gather, or a table read with tensor.extract at a computed index
// inside a gather-like linalg.generic.
// RUN: %tosa_prepare
// RUN: %split_input_file %tosa_input clusterc --min-elements=0 --clusters=2 -o /dev/null --report=json=- | FileCheck %s

// CHECK-LABEL: "layers": [
// CHECK-NEXT: "name": "emb.table", "consumer": "tosa.gather", "role": "weight", {{.*}} "clustered": true
// CHECK-NEXT: ],
// CHECK-NEXT: "totals": {"weights": 1, "clustered": 1,
func.func @tosa_gather(%i: tensor<1x2xi32>) -> tensor<1x2x3xf32> {
  %t = "tosa.const"() <{value = dense<[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [1.5, 2.5, 3.5]]]> : tensor<1x4x3xf32>}> : () -> tensor<1x4x3xf32> loc("emb.table")
  %y = tosa.gather %t, %i : (tensor<1x4x3xf32>, tensor<1x2xi32>) -> tensor<1x2x3xf32>
  return %y : tensor<1x2x3xf32>
}

// -----

// torch-mlir's aten.embedding: the table captured from above.
// CHECK-LABEL: "layers": [
// CHECK-NEXT: "name": "emb.extract", "consumer": "linalg.generic", "role": "weight", {{.*}} "clustered": true
// CHECK-NEXT: ],
// CHECK-NEXT: "totals": {"weights": 1, "clustered": 1,
func.func @extract_generic(%i: tensor<2xi64>) -> tensor<2x3xf32> {
  %t = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [1.5, 2.5, 3.5]]> : tensor<4x3xf32> loc("emb.extract")
  %e = tensor.empty() : tensor<2x3xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%i : tensor<2xi64>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%in: i64, %out: f32):
    %r = arith.index_cast %in : i64 to index
    %c = linalg.index 1 : index
    %v = tensor.extract %t[%r, %c] : tensor<4x3xf32>
    linalg.yield %v : f32
  } -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
