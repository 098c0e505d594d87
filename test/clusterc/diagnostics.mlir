// Every user-facing error of the driver and the pass.
// RUN: rm -rf %t && mkdir -p %t
//
// Errors in the input, one case per function below (`// -----`): a case
// that fails writes no output, the others do.
// RUN: not %split_input_file %s clusterc --clusters=2 --min-elements=0 -o %t/out.{split}.mlir 2>&1 | FileCheck %s --check-prefix=NAN
// RUN: not test -e %t/out.0.mlir
// RUN: test -s %t/out.1.mlir
// RUN: not %split_input_file %s clusterc --per-channel --channel-axis=5 --min-elements=0 --only=ok -o /dev/null 2>&1 | FileCheck %s --check-prefix=AXIS
// RUN: not %split_input_file %s clusterc --min-elements=0 -o %t/no/such/dir/out.mlir 2>&1 | FileCheck %s --check-prefix=UNWRITABLE
//
// Usage errors, found before the input is read:
// RUN: not clusterc --clusters=0 %s 2>&1 | FileCheck %s --check-prefix=K0
// RUN: not clusterc --clusters=65537 %s 2>&1 | FileCheck %s --check-prefix=KBIG
// RUN: not clusterc --init=kmeans %s 2>&1 | FileCheck %s --check-prefix=INIT
// RUN: not clusterc --bogus %s 2>&1 | FileCheck %s --check-prefix=FLAG
// RUN: not clusterc --pass-options='clusters=4 frobnicate=1' %s 2>&1 | FileCheck %s --check-prefix=PASSOPT
// RUN: not clusterc --layers=conv1 %s 2>&1 | FileCheck %s --check-prefix=LAYERS
// RUN: not clusterc 2>&1 | FileCheck %s --check-prefix=NOINPUT
// RUN: not clusterc %t/missing.mlir 2>&1 | FileCheck %s --check-prefix=MISSING -DDIR=%t
// RUN: clusterc --help | FileCheck %s --check-prefix=HELP
// RUN: clusterc --version | FileCheck %s --check-prefix=VERSION

func.func @nan(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  // NAN: diagnostics.mlir:[[@LINE+1]]:8: error: cluster-weights: weight '{{.*}}diagnostics.mlir:[[@LINE+1]]:8' has a non-finite value (NaN) at element 1; cannot cluster
  %w = arith.constant dense<[[1.0, 0x7FC00000], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// AXIS: error: cluster-weights: channel-axis 5 is out of range for weight 'ok' of rank 2
func.func @ok(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 0.5], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]> : tensor<4x2xf32> loc("ok")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// UNWRITABLE: /no/such/dir/out.mlir: error: cannot write output: No such file or directory
// K0: clusterc: error: clusters must be an integer in 1..65536, got '0'
// KBIG: clusterc: error: clusters must be an integer in 1..65536, got '65537'
// INIT: clusterc: error: unknown init 'kmeans' (expected linear, random, density, kmeans++ or kmeans1d)
// FLAG: clusterc: error: unknown option '--bogus'
// PASSOPT: clusterc: error: unknown option 'frobnicate' of cluster-weights
// LAYERS: clusterc: error: layer override 'conv1' needs ':K' (a cluster count or 'skip')
// NOINPUT: clusterc: error: no input file
// MISSING: [[DIR]]/missing.mlir: error: cannot read input: No such file or directory
// HELP: usage: clusterc [options]
// VERSION: clusterc 0.1.0
