// cluster-weights inside Debian's mlir-opt-19 through ClusterCPlugin.so.
// LD_BIND_NOW=1 (in %mlir_plugin_opt) makes the load fail if the plugin
// needs a symbol mlir-opt does not export.
// UNSUPPORTED: sanitized
//
// Options in pipeline syntax, with lists and globs:
// RUN: %mlir_plugin_opt %S/Inputs/mlp.mlir \
// RUN:   --pass-pipeline='builtin.module(cluster-weights{clusters=4 init=linear layers=fc1*:2,fc2*:skip})' \
// RUN:   | FileCheck %s --check-prefix=OPTS
//
// The same text gives byte for byte what the driver gives:
// RUN: %mlir_plugin_opt --mlir-print-debuginfo %S/Inputs/mlp.mlir \
// RUN:   --pass-pipeline='builtin.module(cluster-weights{clusters=4 seed=3 init=kmeans++})' -o %t.plugin.mlir
// RUN: clusterc --clusters=4 --seed=3 --init=kmeans++ %S/Inputs/mlp.mlir -o %t.driver.mlir
// RUN: cmp %t.plugin.mlir %t.driver.mlir
//
// The decode is made of mlir-opt's own linalg, arith and tensor ops: its C++
// passes match them (one TypeID per op), in one pipeline with upstream passes,
// and the result re-parses in mlir-opt without the plugin.
// RUN: %mlir_plugin_opt %S/Inputs/mlp.mlir \
// RUN:   --pass-pipeline='builtin.module(canonicalize,cluster-weights{clusters=16},cse,one-shot-bufferize{bufferize-function-boundaries},func.func(convert-linalg-to-loops),canonicalize)' \
// RUN:   | FileCheck %s --check-prefix=LOWERED
// RUN: %mlir_plugin_opt %S/Inputs/mlp.mlir \
// RUN:   --pass-pipeline='builtin.module(cluster-weights{clusters=16})' | %mlir_opt --verify-each | FileCheck %s --check-prefix=REPARSE

// OPTS-LABEL: func.func @mlp
// OPTS:       %[[T:.*]] = arith.constant {clusterc.palette = "centroids"} dense<[{{.*}}]> : tensor<2xf32>
// OPTS:       %[[I:.*]] = arith.constant {clusterc.palette = "indices"} dense<[{{.*}}]> : tensor<16xi8>
// OPTS:       %[[W1:.*]] = linalg.generic
// OPTS:         tensor.extract %[[I]]
// OPTS:         tensor.extract %[[T]]
// OPTS:       linalg.matmul ins(%{{.*}}, %[[W1]] :
// OPTS:       %[[W2:.*]] = arith.constant dense<"0x{{.*}}"> : tensor<16x8xf32>
// OPTS:       linalg.matmul ins(%{{.*}}, %[[W2]] :
// OPTS-NOT:   tensor<8x16xf32> loc

// LOWERED-LABEL: func.func @mlp
// LOWERED-NOT:   linalg.generic
// LOWERED:       scf.for
// LOWERED:         memref.load {{.*}} : memref<64xi8>
// LOWERED:         memref.load {{.*}} : memref<16xf32>

// REPARSE-LABEL: func.func @mlp
// REPARSE-COUNT-2: tensor<16xf32>
