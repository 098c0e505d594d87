// TOSA 0.x syntax; on 22 the test runs on its TOSA 1.0 upgrade (lit.cfg.py).
// cluster-train inside mlir-opt's own pipeline, loaded from the plugin: the
// training functions, as clusterc --emit=train-mlir makes them
// (test/train/train-ir.mlir checks them in detail).
// The plugin resolves MLIR from mlir-opt, which is not sanitized.
// UNSUPPORTED: sanitized
// RUN: %tosa_prepare
// RUN: %mlir_plugin_opt --pass-pipeline='builtin.module(cluster-train{clusters=2 min-elements=1 reduce=avg})' %tosa_input | FileCheck %s
// RUN: not %mlir_plugin_opt --pass-pipeline='builtin.module(cluster-train{mode=fast})' %tosa_input 2>&1 | FileCheck %s --check-prefix=BAD

func.func @forward(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = "tosa.const"() <{value = dense<[[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8], [-0.1, -0.2, -0.3, -0.4]]> : tensor<3x4xf32>}> : () -> tensor<3x4xf32> loc("fc.weight")
  %b = "tosa.const"() <{value = dense<[0.0, 1.0, 2.0]> : tensor<3xf32>}> : () -> tensor<3xf32> loc("fc.bias")
  %y = tosa.fully_connected %x, %w, %b : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// CHECK-DAG: func.func private @clusterrt_mlir_assign_i8(
// CHECK-DAG: func.func private @clusterrt_mlir_accumulate_i8(
// CHECK-LABEL: func.func @forward(
// CHECK-LABEL: func.func @forward_train_init() -> (tensor<3x4xf32>, tensor<2xf32>, tensor<3xf32>)
// CHECK-LABEL: func.func @forward_train_step(
// CHECK-SAME: clusterc.arguments = ["input:arg0", "labels:labels", "weight:fc.weight", "centroids:fc.weight", "param:fc.bias"]
// CHECK: call @clusterrt_mlir_assign_i8
// CHECK: %[[AVG:.*]] = arith.constant 1 : i32
// CHECK: call @clusterrt_mlir_accumulate_i8({{.*}}, {{.*}}, %[[AVG]], {{.*}})
// CHECK-LABEL: func.func @forward_train_eval(

// BAD: unknown mode 'fast' (expected ste, centroids-only or float)
