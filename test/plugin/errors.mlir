// Bad cluster-weights options in an mlir-opt pipeline are reported with the
// C option parser's message, naming the pass and its option text (MLIR's
// handler reports at no location: `<unknown>:0: error: ...`), and fail
// the run.
// UNSUPPORTED: sanitized
// RUN: not %mlir_plugin_opt %s --pass-pipeline='builtin.module(cluster-weights{clusters=4 bogus=1})' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=UNKNOWN
// RUN: not %mlir_plugin_opt %s --pass-pipeline='builtin.module(cluster-weights{clusters=0})' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=RANGE
// RUN: not %mlir_plugin_opt %s --pass-pipeline='builtin.module(cluster-weights{layers=fc1})' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=LAYERS
// A module pass cannot be nested under func.func:
// RUN: not %mlir_plugin_opt %s --pass-pipeline='builtin.module(func.func(cluster-weights))' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NEST

// UNKNOWN: error: cluster-weights{clusters=4 bogus=1}: unknown option 'bogus' of cluster-weights
// RANGE: error: cluster-weights{clusters=0}: clusters must be an integer in 1..65536, got '0'
// LAYERS: error: cluster-weights{layers=fc1}: layer override 'fc1' needs ':K'
// NEST: error: Can't add pass 'ClusterWeights' restricted to 'builtin.module'

func.func @f() {
  return
}
