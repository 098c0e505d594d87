// TOSA 0.x syntax; on 22 the test runs on its TOSA 1.0 upgrade (lit.cfg.py).
// Which constants are weights: each compute op's weight slot, directly or
// through layout ops; biases and other operands are not.
// One case per function, each clustered on its own; the report lists every
// constant the pass looked at and counts the weights.
// RUN: %tosa_prepare
// RUN: %split_input_file %tosa_input clusterc --min-elements=0 --clusters=2 -o /dev/null --report=json=- | FileCheck %s --check-prefixes=CHECK,CHECK-%mlir_major

// CHECK-LABEL: "layers": [
// CHECK-NEXT: "name": "dw.weight", "consumer": "tosa.depthwise_conv2d", "role": "weight", {{.*}} "clustered": true
// CHECK-NEXT: "name": "dw.bias", "consumer": "tosa.depthwise_conv2d", "role": "bias", {{.*}} "clustered": false
// CHECK-NEXT: ],
// CHECK-NEXT: "totals": {"weights": 1, "clustered": 1,
func.func @depthwise(%x: tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> {
  %w = "tosa.const"() <{value = dense<[[[[1.0], [2.0]]]]> : tensor<1x1x2x1xf32>}> : () -> tensor<1x1x2x1xf32> loc("dw.weight")
  %b = "tosa.const"() <{value = dense<[1.0, 3.0]> : tensor<2xf32>}> : () -> tensor<2xf32> loc("dw.bias")
  %y = tosa.depthwise_conv2d %x, %w, %b {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<1x1x2x1xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
  return %y : tensor<1x4x4x2xf32>
}

// -----

// CHECK-LABEL: "layers": [
// CHECK-NEXT: "name": "tconv.weight", "consumer": "tosa.transpose_conv2d", "role": "weight", {{.*}} "clustered": true
// CHECK-NEXT: "name": "{{.*}}weight-detection.mlir:[[@LINE+5]]:8", "consumer": "tosa.transpose_conv2d", "role": "bias", {{.*}} "clustered": false
// CHECK-NEXT: ],
// CHECK-NEXT: "totals": {"weights": 1, "clustered": 1,
func.func @transpose_conv(%x: tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> {
  %w = "tosa.const"() <{value = dense<[[[[1.0, 2.0]]], [[[3.0, 4.0]]]]> : tensor<2x1x1x2xf32>}> : () -> tensor<2x1x1x2xf32> loc("tconv.weight")
  %b = "tosa.const"() <{value = dense<[0.5, 1.5]> : tensor<2xf32>}> : () -> tensor<2xf32>
  %y = tosa.transpose_conv2d %x, %w, %b {out_pad = array<i64: 0, 0, 0, 0>, out_shape = array<i64: 1, 4, 4, 2>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>) -> tensor<1x4x4x2xf32>
  return %y : tensor<1x4x4x2xf32>
}

// -----

// Through tosa.transpose and tosa.reshape into tosa.matmul.
// CHECK-LABEL: "layers": [
// CHECK-NEXT: "name": "mm.weight", "consumer": "tosa.matmul", "role": "weight", {{.*}} "clustered": true
// CHECK-NEXT: ],
// CHECK-NEXT: "totals": {"weights": 1, "clustered": 1,
func.func @tosa_matmul(%x: tensor<1x2x4xf32>) -> tensor<1x2x2xf32> {
  %w = "tosa.const"() <{value = dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<2x4xf32>}> : () -> tensor<2x4xf32> loc("mm.weight")
  %perm = "tosa.const"() <{value = dense<[1, 0]> : tensor<2xi32>}> : () -> tensor<2xi32>
  %t = tosa.transpose %w, %perm : (tensor<2x4xf32>, tensor<2xi32>) -> tensor<4x2xf32>
  %r = tosa.reshape %t {new_shape = array<i64: 1, 4, 2>} : (tensor<4x2xf32>) -> tensor<1x4x2xf32>
  %y = tosa.matmul %x, %r : (tensor<1x2x4xf32>, tensor<1x4x2xf32>) -> tensor<1x2x2xf32>
  return %y : tensor<1x2x2xf32>
}

// -----

// CHECK-LABEL: "layers": [
// TOSA 1.0 has no fully_connected: on 22 the layer is the 1x1 conv2d
// tosa-upgrade writes for it, as TFLite does.
// CHECK-19-NEXT: "name": "fc.weight", "consumer": "tosa.fully_connected", "role": "weight", {{.*}} "clustered": true
// CHECK-22-NEXT: "name": "fc.weight", "consumer": "tosa.conv2d", "role": "weight", {{.*}} "clustered": true
// CHECK-19-NEXT: "name": "{{.*}}weight-detection.mlir:[[@LINE+6]]:8", "consumer": "tosa.fully_connected", "role": "bias", {{.*}} "clustered": false
// CHECK-22-NEXT: "name": "{{.*}}weight-detection.mlir:[[@LINE+5]]:8", "consumer": "tosa.conv2d", "role": "bias", {{.*}} "clustered": false
// CHECK-NEXT: ],
// CHECK-NEXT: "totals": {"weights": 1, "clustered": 1,
func.func @fully_connected(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = "tosa.const"() <{value = dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<2x4xf32>}> : () -> tensor<2x4xf32> loc("fc.weight")
  %b = "tosa.const"() <{value = dense<[0.0, 1.0]> : tensor<2xf32>}> : () -> tensor<2xf32>
  %y = tosa.fully_connected %x, %w, %b : (tensor<1x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>

// CHECK-LABEL: "layers": [
// CHECK-NEXT: "name": "hwcf.weight", "consumer": "linalg.conv_2d_nhwc_hwcf", "role": "weight", {{.*}} "clustered": true
// CHECK-NEXT: "name": "init.tensor", "consumer": "", "role": "other"
// CHECK-NEXT: "name": "dwl.weight", "consumer": "linalg.depthwise_conv_2d_nhwc_hwc", "role": "weight", {{.*}} "clustered": true
// CHECK-NEXT: "name": "bmm.weight", "consumer": "linalg.batch_matmul", "role": "weight", {{.*}} "clustered": true
// CHECK-NEXT: "name": "contract.weight", "consumer": "linalg.generic", "role": "weight", {{.*}} "clustered": true
// CHECK-NEXT: ],
// CHECK-NEXT: "totals": {"weights": 4, "clustered": 4,
func.func @linalg_ops(%x: tensor<1x3x3x2xf32>, %a: tensor<1x2x2xf32>, %m: tensor<2x2xf32>)
    -> (tensor<1x3x3x2xf32>, tensor<1x3x3x2xf32>, tensor<1x2x2xf32>, tensor<2x2xf32>) {
  %w = arith.constant dense<[[[[1.0, 2.0], [3.0, 4.0]]]]> : tensor<1x1x2x2xf32> loc("hwcf.weight")
  %init = arith.constant dense<[[[[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]], [[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]], [[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]]]> : tensor<1x3x3x2xf32> loc("init.tensor")
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x3x3x2xf32>, tensor<1x1x2x2xf32>) outs(%init : tensor<1x3x3x2xf32>) -> tensor<1x3x3x2xf32>
  %dw = arith.constant dense<[[[1.0, 2.0]]]> : tensor<1x1x2xf32> loc("dwl.weight")
  %d = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %dw : tensor<1x3x3x2xf32>, tensor<1x1x2xf32>) outs(%init : tensor<1x3x3x2xf32>) -> tensor<1x3x3x2xf32>
  %bw = arith.constant dense<[[[1.0, 2.0], [3.0, 4.0]]]> : tensor<1x2x2xf32> loc("bmm.weight")
  %e = tensor.empty() : tensor<1x2x2xf32>
  %bm = linalg.batch_matmul ins(%a, %bw : tensor<1x2x2xf32>, tensor<1x2x2xf32>) outs(%e : tensor<1x2x2xf32>) -> tensor<1x2x2xf32>
  %gw = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32> loc("contract.weight")
  %e2 = tensor.empty() : tensor<2x2xf32>
  %g = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%m, %gw : tensor<2x2xf32>, tensor<2x2xf32>) outs(%e2 : tensor<2x2xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %mul = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %mul : f32
    linalg.yield %s : f32
  } -> tensor<2x2xf32>
  return %c, %d, %bm, %g : tensor<1x3x3x2xf32>, tensor<1x3x3x2xf32>, tensor<1x2x2xf32>, tensor<2x2xf32>
}
