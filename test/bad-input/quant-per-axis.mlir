// TOSA 0.x syntax; on 22 the test runs on its TOSA 1.0 upgrade (lit.cfg.py).
// A weight whose element type is a per-axis quantized type with one scale
// per output channel: its printed name (~394 characters here) is far longer
// than any fixed buffer cluster-weights reads a type's name into. The weight
// is left alone with the quantized reason and no crash (the name used to be
// printed into a 64-byte stack buffer through a helper that assumed 512
// bytes; the ASan build reported the overflow, the release build crashed).
// RUN: %tosa_prepare
// RUN: clusterc --min-elements=0 --report %tosa_input -o %t.mlir 2>&1 | FileCheck %s
// RUN: mlir-opt %tosa_input -o %t.ref.mlir
// RUN: mlir-opt %t.mlir -o %t.out.mlir
// RUN: diff %t.ref.mlir %t.out.mlir
// CHECK: per_axis.weight {{ *}}32x1x1x1 {{ *}}quant {{.*}} left as is: quantized weights are left as they are
// CHECK: totals: 0 of 1 weights clustered

func.func @per_axis(%x: tensor<1x1x1x1x!quant.uniform<i8:f32, 0.5>>) -> tensor<1x1x1x32xi32> {
  %w = "tosa.const"() <{value = dense<[[[[-60]]], [[[-55]]], [[[-50]]], [[[-45]]], [[[-40]]], [[[-35]]], [[[-30]]], [[[-25]]], [[[-20]]], [[[-15]]], [[[-10]]], [[[-5]]], [[[0]]], [[[5]]], [[[10]]], [[[15]]], [[[20]]], [[[25]]], [[[30]]], [[[35]]], [[[40]]], [[[45]]], [[[50]]], [[[55]]], [[[60]]], [[[65]]], [[[-57]]], [[[-52]]], [[[-47]]], [[[-42]]], [[[-37]]], [[[-32]]]]> : tensor<32x1x1x1xi8>}> : () -> tensor<32x1x1x1x!quant.uniform<i8:f32:0, {0.015625:-3, 0.03125:-2, 0.046875:-1, 0.0625:0, 0.078125:1, 0.09375:2, 0.109375:3, 0.125:-3, 0.140625:-2, 0.15625:-1, 0.171875:0, 0.1875:1, 0.203125:2, 0.21875:3, 0.234375:-3, 0.25:-2, 0.265625:-1, 0.28125:0, 0.296875:1, 0.3125:2, 0.328125:3, 0.34375:-3, 0.359375:-2, 0.375:-1, 0.390625:0, 0.40625:1, 0.421875:2, 0.4375:3, 0.453125:-3, 0.46875:-2, 0.484375:-1, 0.5:0}>> loc("per_axis.weight")
  %b = "tosa.const"() <{value = dense<0> : tensor<32xi32>}> : () -> tensor<32xi32>
  %r = tosa.conv2d %x, %w, %b {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, quantization_info = #tosa.conv_quant<input_zp = 0, weight_zp = 0>} : (tensor<1x1x1x1x!quant.uniform<i8:f32, 0.5>>, tensor<32x1x1x1x!quant.uniform<i8:f32:0, {0.015625:-3, 0.03125:-2, 0.046875:-1, 0.0625:0, 0.078125:1, 0.09375:2, 0.109375:3, 0.125:-3, 0.140625:-2, 0.15625:-1, 0.171875:0, 0.1875:1, 0.203125:2, 0.21875:3, 0.234375:-3, 0.25:-2, 0.265625:-1, 0.28125:0, 0.296875:1, 0.3125:2, 0.328125:3, 0.34375:-3, 0.359375:-2, 0.375:-1, 0.390625:0, 0.40625:1, 0.421875:2, 0.4375:3, 0.453125:-3, 0.46875:-2, 0.484375:-1, 0.5:0}>>, tensor<32xi32>) -> tensor<1x1x1x32xi32>
  return %r : tensor<1x1x1x32xi32>
}
