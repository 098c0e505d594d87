// Selection (issue 13): weight indices count in the execution order of the
// consumers, not the order of the constants (torch-mlir hoists them, last
// layer first); op-type= selects by the consumer's op name; force= with
// only= clusters a float constant that is not a weight; a weight without a
// NameLoc is named by its file's base name, line and column.
// RUN: clusterc --min-elements=0 --clusters=2 -o /dev/null --report=json=- %s | FileCheck %s --check-prefix=ORDER
// RUN: clusterc --min-elements=0 --clusters=2 -o /dev/null --report=json=- --only='#0' %s | FileCheck %s --check-prefix=FIRST
// RUN: clusterc --min-elements=0 --clusters=2 -o /dev/null --report=json=- --op-type=linalg.matmul %s | FileCheck %s --check-prefix=OPTYPE
// RUN: clusterc --min-elements=0 --clusters=2 -o /dev/null --report=json=- --op-type='linalg.conv_*,linalg.matmul' %s | FileCheck %s --check-prefix=OPTYPE2
// RUN: clusterc --min-elements=0 --clusters=2 -o /dev/null --report=json=- --only='b*' --force %s | FileCheck %s --check-prefix=FORCE
// RUN: clusterc --min-elements=0 --clusters=2 -o /dev/null --report=json=- --only='b*' --allow-empty-selection %s 2>&1 | FileCheck %s --check-prefix=NOFORCE
// RUN: clusterc --min-elements=0 --clusters=2 -o %t.mlir --only='b*' --force %s
// RUN: FileCheck %s --check-prefix=FORCEIR < %t.mlir

// Constants as torch-mlir writes them: the last layer's first, and one
// without a name.
func.func @forward(%x: tensor<1x1x4x4xf32>) -> tensor<1x2xf32> {
  %fc2 = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<2x4xf32> loc("fc2.weight")
  %fc1 = arith.constant dense<[[1.5, 2.5, 3.5, 4.5], [5.5, 6.5, 7.5, 8.5], [1.0, 0.0, 1.0, 0.0], [2.0, 2.0, 2.0, 2.0]]> : tensor<4x4xf32>
  %b = arith.constant dense<[0.5, 0.25, 0.125, 0.0625]> : tensor<4xf32> loc("bias1")
  %cw = arith.constant dense<[[[[1.0, 2.0], [3.0, 4.0]]]]> : tensor<1x1x2x2xf32> loc("conv.weight")
  %z = arith.constant 0.0 : f32
  %ce = tensor.empty() : tensor<1x1x3x3xf32>
  %cf = linalg.fill ins(%z : f32) outs(%ce : tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  %c = linalg.conv_2d_nchw_fchw ins(%x, %cw : tensor<1x1x4x4xf32>, tensor<1x1x2x2xf32>) outs(%cf : tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  %s = tensor.extract_slice %c[0, 0, 0, 0] [1, 1, 1, 3] [1, 1, 1, 1] : tensor<1x1x3x3xf32> to tensor<1x3xf32>
  %p = tensor.pad %s low[0, 0] high[0, 1] {
  ^bb0(%i: index, %j: index):
    tensor.yield %z : f32
  } : tensor<1x3xf32> to tensor<1x4xf32>
  %e1 = tensor.empty() : tensor<1x4xf32>
  %f1 = linalg.fill ins(%z : f32) outs(%e1 : tensor<1x4xf32>) -> tensor<1x4xf32>
  %h = linalg.matmul ins(%p, %fc1 : tensor<1x4xf32>, tensor<4x4xf32>) outs(%f1 : tensor<1x4xf32>) -> tensor<1x4xf32>
  %bb = tensor.expand_shape %b [[0, 1]] output_shape [1, 4] : tensor<4xf32> into tensor<1x4xf32>
  %hb = arith.addf %h, %bb : tensor<1x4xf32>
  %t = tensor.empty() : tensor<4x2xf32>
  %fc2t = linalg.transpose ins(%fc2 : tensor<2x4xf32>) outs(%t : tensor<4x2xf32>) permutation = [1, 0]
  %e2 = tensor.empty() : tensor<1x2xf32>
  %f2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%hb, %fc2t : tensor<1x4xf32>, tensor<4x2xf32>) outs(%f2 : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// ORDER-LABEL: "layers": [
// ORDER-NEXT: {"index": 2, "name": "fc2.weight", "consumer": "linalg.matmul"
// ORDER-NEXT: {"index": 1, "name": "selection.mlir:19:10", "consumer": "linalg.matmul"
// ORDER-NEXT: {"index": null, "name": "bias1", {{.*}} "reason": "bias"}
// ORDER-NEXT: {"index": 0, "name": "conv.weight", "consumer": "linalg.conv_2d_nchw_fchw"

// FIRST: "name": "fc2.weight", {{.*}} "clustered": false, {{.*}} "reason": "not selected by only="}
// FIRST: "name": "selection.mlir:19:10", {{.*}} "clustered": false,
// FIRST: "name": "conv.weight", {{.*}} "clustered": true,

// OPTYPE: "name": "fc2.weight", {{.*}} "clustered": true,
// OPTYPE: "name": "selection.mlir:19:10", {{.*}} "clustered": true,
// OPTYPE: "name": "conv.weight", {{.*}} "clustered": false, {{.*}} "reason": "not selected by op-type="}
// OPTYPE2: "totals": {"weights": 3, "clustered": 3,

// FORCE: "name": "fc2.weight", {{.*}} "clustered": false,
// FORCE: {"index": null, "name": "bias1", "consumer": "{{.*}}", "role": "bias", {{.*}} "clustered": true, "k_requested": 2, "k": 2,
// NOFORCE: warning: cluster-weights: the only= selector 'b*' (option only=b*; clusterc --only) matches no weight
// NOFORCE: {"index": null, "name": "bias1", {{.*}} "clustered": false, {{.*}} "reason": "bias"}

// FORCEIR: #[[B:loc[0-9]+]] = loc("bias1")
// FORCEIR: arith.constant {clusterc.palette = "centroids"} dense<[0.145833328, 5.000000e-01]> : tensor<2xf32> loc(#[[B]])
// FORCEIR: arith.constant {clusterc.palette = "indices"} dense<1> : tensor<1xi8> loc(#[[B]])
// FORCEIR: %[[D:.*]] = linalg.generic
// FORCEIR: tensor.expand_shape %[[D]] {{\[\[}}0, 1]] output_shape [1, 4] : tensor<4xf32> into tensor<1x4xf32>
