// TOSA 0.x syntax; on 22 the test runs on its TOSA 1.0 upgrade (lit.cfg.py).
// RUN: %tosa_prepare
// RUN: %split_input_file %tosa_input clusterc --clusters=4 --min-elements=0 | FileCheck %s
// RUN: %split_input_file %tosa_input clusterc --clusters=4 --min-elements=0 -o /dev/null --report=json=- | FileCheck %s --check-prefix=JSON

// One weight feeds two matmuls: one table, one decode, both users rewired.
// CHECK-LABEL: func.func @shared
// CHECK:       %[[W:.*]] = linalg.generic
// CHECK-NOT:   linalg.generic
// CHECK:       linalg.matmul ins(%{{.*}}, %[[W]] :
// CHECK:       linalg.matmul ins(%{{.*}}, %[[W]] :
// CHECK-NOT:   arith.constant dense<{{\[\[}}
// CHECK:       return
// JSON-LABEL: "layers": [
// JSON-NEXT:  "name": "shared.weight", {{.*}} "role": "weight", {{.*}} "clustered": true, "k_requested": 4, "k": 4, {{.*}} "bits": 2, "bytes_before": 64, "bytes_after": 20
// JSON-NEXT:  ],
// JSON-NEXT:  "totals": {"weights": 1, "clustered": 1, "bytes_before": 64, "bytes_after": 20
func.func @shared(%x: tensor<1x4xf32>, %x2: tensor<1x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>) {
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [1.5, 2.5, 3.5, 4.5], [0.1, 0.2, 0.3, 0.4]]> : tensor<4x4xf32> loc("shared.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y1 = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x4xf32>) outs(%z : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y2 = linalg.matmul ins(%x2, %w : tensor<1x4xf32>, tensor<4x4xf32>) outs(%z : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y1, %y2 : tensor<1x4xf32>, tensor<1x4xf32>
}

// -----

// Splat, integer and bias constants stay as they are, and the report says why.
// CHECK-LABEL: func.func @left_alone
// CHECK-DAG:   arith.constant dense<5.000000e-01> : tensor<4x4xf32>
// CHECK-DAG:   arith.constant dense<{{\[\[}}1, 2, 3, 4]{{.*}}> : tensor<4x4xi8>
// CHECK-DAG:   "tosa.const"() <{value{{s?}} = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<4xf32>}>
// CHECK-NOT:   linalg.generic
// CHECK:       return
// JSON-LABEL: "layers": [
// JSON-DAG: "name": "splat.weight", {{.*}} "clustered": false, {{.*}} "reason": "splat (a single value already)"
// JSON-DAG: "name": "int.weight", {{.*}} "dtype": "int", {{.*}} "reason": "integer weights are left as they are"
// JSON-DAG: "name": "conv.bias", {{.*}} "role": "bias", {{.*}} "reason": "bias"
// JSON-DAG: "name": "conv.weight", {{.*}} "role": "weight", {{.*}} "clustered": false, {{.*}} "reason": "splat (a single value already)"
// JSON: "totals": {"weights": 3, "clustered": 0, "bytes_before": 0, "bytes_after": 0, "all_weight_bytes": 24
func.func @left_alone(%x: tensor<1x4xf32>, %xi: tensor<1x4xi8>, %xc: tensor<1x1x1x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xi32>, tensor<1x1x1x4xf32>) {
  %splat = arith.constant dense<0.5> : tensor<4x4xf32> loc("splat.weight")
  %int = arith.constant dense<[[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]]> : tensor<4x4xi8> loc("int.weight")
  %zero = arith.constant 0.0 : f32
  %zi = arith.constant 0 : i32
  %e = tensor.empty() : tensor<1x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>
  %y = linalg.matmul ins(%x, %splat : tensor<1x4xf32>, tensor<4x4xf32>) outs(%z : tensor<1x4xf32>) -> tensor<1x4xf32>
  %ei = tensor.empty() : tensor<1x4xi32>
  %zz = linalg.fill ins(%zi : i32) outs(%ei : tensor<1x4xi32>) -> tensor<1x4xi32>
  %yi = linalg.matmul ins(%xi, %int : tensor<1x4xi8>, tensor<4x4xi8>) outs(%zz : tensor<1x4xi32>) -> tensor<1x4xi32>
  %b = "tosa.const"() <{value = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>}> : () -> tensor<4xf32> loc("conv.bias")
  %w = "tosa.const"() <{value = dense<0.25> : tensor<4x1x1x4xf32>}> : () -> tensor<4x1x1x4xf32> loc("conv.weight")
  %c = tosa.conv2d %xc, %w, %b {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x1x4xf32>, tensor<4x1x1x4xf32>, tensor<4xf32>) -> tensor<1x1x1x4xf32>
  return %y, %yi, %c : tensor<1x4xf32>, tensor<1x4xi32>, tensor<1x1x1x4xf32>
}
