// TOSA 0.x syntax; on 22 the test runs on its TOSA 1.0 upgrade (lit.cfg.py).
// The functions cluster-train generates, per mode.
// RUN: %tosa_prepare
// RUN: clusterc --emit=train-mlir --clusters=2 --min-elements=1 %tosa_input | FileCheck %s --check-prefixes=STE,STE-%mlir_major
// RUN: clusterc --emit=train-mlir --clusters=2 --min-elements=1 --reduce=avg %tosa_input | FileCheck %s --check-prefix=AVG
// RUN: clusterc --emit=train-mlir --clusters=2 --min-elements=1 --mode=centroids-only %tosa_input | FileCheck %s --check-prefix=CO
// RUN: clusterc --emit=train-mlir --mode=float --min-elements=1 %tosa_input | FileCheck %s --check-prefix=FLOAT
// RUN: clusterc --emit=train-mlir --clusters=2 --min-elements=1 --loss=mse %tosa_input | FileCheck %s --check-prefix=MSE
// The same through mlir-opt and the plugin: test/plugin/cluster-train.mlir.

func.func @forward(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = "tosa.const"() <{value = dense<[[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8], [-0.1, -0.2, -0.3, -0.4]]> : tensor<3x4xf32>}> : () -> tensor<3x4xf32> loc("fc.weight")
  %b = "tosa.const"() <{value = dense<[0.0, 1.0, 2.0]> : tensor<3xf32>}> : () -> tensor<3xf32> loc("fc.bias")
  %y = tosa.fully_connected %x, %w, %b : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// Only the runtime functions the step calls are declared, in
// destination-passing style.
// STE-NOT: func.func private @clusterrt_mlir_{{.*}}_i16
// STE-DAG: func.func private @clusterrt_mlir_accumulate_i8(tensor<?xf32> {bufferization.access = "read"}, tensor<?xi8> {bufferization.access = "read"}, i32, tensor<?xf32> {bufferization.access = "write"}) -> i32
// STE-DAG: func.func private @clusterrt_mlir_assign_i8(tensor<?xf32> {bufferization.access = "read"}, tensor<?xf32> {bufferization.access = "read"}, tensor<?xi8> {bufferization.access = "write"}) -> i32
// The model stays.
// STE-LABEL: func.func @forward(
// STE-19: tosa.fully_connected
// STE-22: tosa.conv2d
// Initial values: W, then the centroids of the initial clustering, then b.
// STE-LABEL: func.func @forward_train_init() -> (tensor<3x4xf32>, tensor<2xf32>, tensor<3xf32>)
// STE: arith.constant dense<{{.*}}> : tensor<2xf32>
// STE-LABEL: func.func @forward_train_step(
// STE-SAME: %[[X:[a-z0-9]+]]: tensor<2x4xf32> {{.*}}, %[[L:[a-z0-9]+]]: tensor<2xi32> {{.*}}, %[[W:[a-z0-9]+]]: tensor<3x4xf32> loc("fc.weight"), %[[C:[a-z0-9]+]]: tensor<2xf32> loc("fc.weight"), %[[B:[a-z0-9]+]]: tensor<3xf32> loc("fc.bias"))
// STE-SAME: -> (tensor<f32>, tensor<3x4xf32>, tensor<2xf32>, tensor<3xf32>, tensor<3x4xi8>)
// STE-SAME: clusterc.arguments = ["input:arg0", "labels:labels", "weight:fc.weight", "centroids:fc.weight", "param:fc.bias"]
// STE-SAME: clusterc.results = ["loss:loss", "grad_weight:fc.weight", "grad_centroids:fc.weight", "grad_param:fc.bias", "indices:fc.weight"]
// Every step re-assigns (argmin), then decodes Wc = c[idx].
// STE: %[[WF:.*]] = tensor.collapse_shape %[[W]]
// STE: call @clusterrt_mlir_assign_i8
// STE: %[[IDX:.*]] = tensor.expand_shape {{.*}} {clusterc.indices = 0 : i64}
// STE: %[[WC:.*]] = linalg.generic {{.*}} ins(%[[IDX]] : tensor<3x4xi8>) {{.*}} attrs = {clusterc.decoded = 0 : i64}
// STE: tensor.extract %[[C]][
// The loss: softmax cross-entropy (max, exp-sum, log).
// STE: arith.maximumf
// STE: math.exp
// STE: math.log
// The centroid gradient: gather-accumulate of dWc (SUM = 0) over idx.
// STE: %[[MODE:.*]] = arith.constant 0 : i32
// STE: call @clusterrt_mlir_accumulate_i8({{.*}}, {{.*}}, %[[MODE]], {{.*}})
// STE: return %{{.*}}, %[[DW:.*]], %{{.*}}, %{{.*}}, %[[IDX]] :
// The evaluation function: no labels, the logits.
// STE-LABEL: func.func @forward_train_eval(
// STE-SAME: clusterc.arguments = ["input:arg0", "weight:fc.weight", "centroids:fc.weight", "param:fc.bias"]
// STE-SAME: clusterc.results = ["logits:logits"]
// STE: call @clusterrt_mlir_assign_i8

// AVG-LABEL: func.func @forward_train_step(
// AVG: %[[MODE:.*]] = arith.constant 1 : i32
// AVG: call @clusterrt_mlir_accumulate_i8({{.*}}, {{.*}}, %[[MODE]], {{.*}})

// centroids-only: fixed indices in, no dW, no indices out, no argmin.
// CO-NOT: @clusterrt_mlir_assign
// CO-LABEL: func.func @forward_train_init() -> (tensor<3x4xi8>, tensor<2xf32>, tensor<3xf32>)
// CO-LABEL: func.func @forward_train_step(
// CO-SAME: tensor<2x4xf32> {{.*}}, %{{.*}}: tensor<2xi32> {{.*}}, %{{.*}}: tensor<3x4xi8> loc("fc.weight"), %{{.*}}: tensor<2xf32> loc("fc.weight"), %{{.*}}: tensor<3xf32> loc("fc.bias"))
// CO-SAME: -> (tensor<f32>, tensor<2xf32>, tensor<3xf32>)
// CO-SAME: clusterc.arguments = ["input:arg0", "labels:labels", "indices:fc.weight", "centroids:fc.weight", "param:fc.bias"]
// CO-SAME: clusterc.results = ["loss:loss", "grad_centroids:fc.weight", "grad_param:fc.bias"]
// CO: call @clusterrt_mlir_accumulate_i8

// float: every weight is a plain parameter.
// FLOAT-NOT: @clusterrt_mlir
// FLOAT-LABEL: func.func @forward_train_step(
// FLOAT-SAME: clusterc.arguments = ["input:arg0", "labels:labels", "param:fc.weight", "param:fc.bias"]
// FLOAT-SAME: clusterc.results = ["loss:loss", "grad_param:fc.weight", "grad_param:fc.bias"]

// mse: the labels are targets of the logits' type.
// MSE-LABEL: func.func @forward_train_step(
// MSE-SAME: %{{.*}}: tensor<2x4xf32> {{.*}}, %{{.*}}: tensor<2x3xf32> {{.*}}, %{{.*}}: tensor<3x4xf32>
// MSE-NOT: math.exp
// MSE: return
