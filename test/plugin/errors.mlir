// Bad cluster-weights options in an mlir-opt pipeline are reported with the
// C option parser's message, naming the pass and its option text, at the
// location of the module the pass runs on (mlir-opt's pipeline parser would
// say `<unknown>:0`: the plugin reports them when the pass runs), and fail
// the run. Errors about a weight are at the weight's file:line:col.
// UNSUPPORTED: sanitized
// RUN: not %mlir_plugin_opt %s --pass-pipeline='builtin.module(cluster-weights{clusters=4 bogus=1})' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=UNKNOWN
// RUN: not %mlir_plugin_opt %s --pass-pipeline='builtin.module(cluster-weights{clusters=0})' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=RANGE
// RUN: not %mlir_plugin_opt %s --pass-pipeline='builtin.module(cluster-weights{layers=fc1})' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=LAYERS
// A weight error at the weight:
// RUN: not %mlir_plugin_opt %s --mlir-print-op-on-diagnostic=false \
// RUN:   --pass-pipeline='builtin.module(cluster-weights{clusters=2 min-elements=1 palette=unique})' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=WEIGHT
// A module pass cannot be nested under func.func:
// RUN: not %mlir_plugin_opt %s --pass-pipeline='builtin.module(func.func(cluster-weights))' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NEST

// UNKNOWN: errors.mlir:[[# @LINE + 8]]:1: error: cluster-weights{clusters=4 bogus=1}: unknown option 'bogus' of cluster-weights
// UNKNOWN-NOT: <unknown>
// RANGE: errors.mlir:[[# @LINE + 6]]:1: error: cluster-weights{clusters=0}: clusters must be an integer in 1..65536, got '0'
// RANGE-NOT: <unknown>
// LAYERS: errors.mlir:[[# @LINE + 4]]:1: error: cluster-weights{layers=fc1}: layer override 'fc1' needs ':K'
// WEIGHT: errors.mlir:[[# @LINE + 5]]:10: error: cluster-weights: palette=unique: weight '{{.*}}' has 4 distinct values, more than K = 2
// NEST: error: Can't add pass 'ClusterWeights' restricted to 'builtin.module'

module {
  func.func @f(%x: tensor<1x2xf32>, %z: tensor<1x2xf32>) -> tensor<1x2xf32> {
    %w = arith.constant dense<[[0.5, 1.5], [2.5, 3.5]]> : tensor<2x2xf32>
    %y = linalg.matmul ins(%x, %w : tensor<1x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
    return %y : tensor<1x2xf32>
  }
}
