// One option policy for both passes (passes/options.c): the same kinds of
// value give the same messages in cluster-weights and cluster-train, every
// cluster-weights option is a cluster-train option too, and an unknown name
// is reported with the pass it was given to.
// RUN: not clusterc --pass-options='bogus=1' %s 2>&1 | FileCheck %s --check-prefix=CW-UNKNOWN
// RUN: not clusterc --emit=train-mlir --pass-options='bogus=1' %s 2>&1 | FileCheck %s --check-prefix=CT-UNKNOWN
// CW-UNKNOWN: error: unknown option 'bogus' of cluster-weights{{$}}
// CT-UNKNOWN: error: unknown option 'bogus' of cluster-train{{$}}
//
// Integers name their range and echo the value, in either pass.
// RUN: not clusterc --pass-options='seed=-1' %s 2>&1 | FileCheck %s --check-prefix=SEED
// RUN: not clusterc --emit=train-mlir --pass-options='seed=-1' %s 2>&1 | FileCheck %s --check-prefix=SEED
// RUN: not clusterc --emit=train-mlir --pass-options='min-elements=x' %s 2>&1 | FileCheck %s --check-prefix=MIN
// RUN: not clusterc --pass-options='channel-axis=65' %s 2>&1 | FileCheck %s --check-prefix=AXIS
// RUN: not clusterc --emit=train-mlir --pass-options='clusters=0' %s 2>&1 | FileCheck %s --check-prefix=K0
// RUN: not clusterc --emit=train-mlir --pass-options='threads=1025' %s 2>&1 | FileCheck %s --check-prefix=THREADS
// SEED: error: seed must be a non-negative integer, got '-1'
// MIN: error: min-elements must be a non-negative integer, got 'x'
// AXIS: error: channel-axis must be an integer in -1..64, got '65'
// K0: error: clusters must be an integer in 1..65536, got '0'
// THREADS: error: threads must be an integer in 0..1024 (0: one per core), got '1025'
//
// Choices list the accepted names; a name without a value is the empty one.
// RUN: not clusterc --emit=train-mlir --pass-options='reduce=max' %s 2>&1 | FileCheck %s --check-prefix=REDUCE
// RUN: not clusterc --emit=train-mlir --pass-options='loss' %s 2>&1 | FileCheck %s --check-prefix=LOSS
// RUN: not clusterc --emit=train-mlir --pass-options='init=kmeans' %s 2>&1 | FileCheck %s --check-prefix=INIT
// RUN: not clusterc --pass-options='decode=lazy' %s 2>&1 | FileCheck %s --check-prefix=DECODE
// REDUCE: error: unknown reduce 'max' (expected sum or avg)
// LOSS: error: unknown loss '' (expected softmax-ce or mse)
// INIT: error: unknown init 'kmeans' (expected linear, random, density, kmeans++ or kmeans1d)
// DECODE: error: unknown decode 'lazy' (expected generic, fold, runtime or fused)
//
// Flags, names and selector lists.
// RUN: not clusterc --emit=train-mlir --pass-options='preserve-sparsity=maybe' %s 2>&1 | FileCheck %s --check-prefix=BOOL
// RUN: not clusterc --emit=train-mlir --pass-options='function=' %s 2>&1 | FileCheck %s --check-prefix=FUNC
// RUN: not clusterc --emit=train-mlir --pass-options='only=' %s 2>&1 | FileCheck %s --check-prefix=ONLY
// RUN: not clusterc --emit=train-mlir --pass-options='layers=fc:0' %s 2>&1 | FileCheck %s --check-prefix=LAYERS
// BOOL: error: preserve-sparsity expects true or false
// FUNC: error: function needs a name
// ONLY: error: only needs a value
// LAYERS: error: layer override 'fc:0': cluster count must be 1..65536 or 'skip'
//
// Items apply in order, a later one wins, and both passes' options mix in
// one text: here the second function= names the model and only= keeps the
// weight out of clustering, so it is a plain parameter (#1 matches no
// weight: allow-empty-selection makes that a warning).
// RUN: clusterc --emit=train-mlir --pass-options='function=nope min-elements=1 clusters=2 function=model only=#1 allow-empty-selection mode=ste' %s | FileCheck %s --check-prefix=MIX
// MIX: func.func @model_train_step(
// MIX-SAME: clusterc.arguments = ["input:arg0", "labels:labels", "param:fc.weight"]

func.func @model(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<[[0.5, 0.1, 0.2], [0.5, 0.1, 0.2], [0.5, 0.1, 0.2], [0.5, 0.1, 0.3]]> : tensor<4x3xf32> loc("fc.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%z : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %m : tensor<2x3xf32>
}
