// TOSA 0.x syntax; on 22 the test runs on its TOSA 1.0 upgrade (lit.cfg.py).
// RUN: %tosa_prepare
// RUN: clusterc --clusters=4 --min-elements=0 %tosa_input | FileCheck %s
// RUN: clusterc --pass-options='clusters=4 min-elements=0' %tosa_input | FileCheck %s
// RUN: clusterc --clusters=4 --min-elements=0 %tosa_input | %mlir_opt --verify-diagnostics -o /dev/null

// Four distinct values and K = 4: lossless. The table is the sorted values;
// indices [2,0,2,3, 0,3,1,2] pack 2 bits each, LSB first:
// 0b11100010 = -30 and 0b10011100 = -100.

// CHECK-LABEL: func.func @conv
// CHECK-DAG:  %[[T:.*]] = "tosa.const"() <{value{{s?}} = dense<[-1.000000e+00, 2.500000e-01, 5.000000e-01, 2.000000e+00]> : tensor<4xf32>}>
// CHECK-DAG:  %[[I:.*]] = "tosa.const"() <{value{{s?}} = dense<[-30, -100]> : tensor<2xi8>}>
// CHECK:      %[[E:.*]] = tensor.empty() : tensor<4x1x1x2xf32>
// CHECK:      %[[W:.*]] = linalg.generic
// CHECK-SAME:   outs(%[[E]] : tensor<4x1x1x2xf32>)
// CHECK:        tensor.extract %[[I]]
// CHECK:        arith.shrui
// CHECK:        tensor.extract %[[T]]
// CHECK:      tosa.conv2d %{{.*}}, %[[W]], %[[B:.*]] {
// Bias left alone:
// CHECK-NOT:  linalg.generic
func.func @conv(%x: tensor<1x4x4x2xf32>) -> tensor<1x4x4x4xf32> {
  %w = "tosa.const"() <{value = dense<[[[[0.5, -1.0]]], [[[0.5, 2.0]]], [[[-1.0, 2.0]]], [[[0.25, 0.5]]]]> : tensor<4x1x1x2xf32>}> : () -> tensor<4x1x1x2xf32>
  %b = "tosa.const"() <{value = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>}> : () -> tensor<4xf32>
  %y = tosa.conv2d %x, %w, %b {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<4x1x1x2xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  return %y : tensor<1x4x4x4xf32>
}
