// clusterc's own output (issue 13): the centroid tables, index buffers and
// folded weights it writes carry `clusterc.palette`, so a second run leaves
// them alone, says so, and writes the same module; --force --only='*' does
// not take them either.
// RUN: clusterc --min-elements=0 --clusters=4 %s -o %t.1.mlir
// RUN: FileCheck %s --check-prefix=MARK < %t.1.mlir
// RUN: clusterc --min-elements=0 --clusters=4 --report %t.1.mlir -o %t.2.mlir 2>&1 | FileCheck %s --check-prefix=AGAIN
// RUN: cmp %t.1.mlir %t.2.mlir
// RUN: clusterc --min-elements=0 --only='*' --force %t.1.mlir -o %t.3.mlir 2>&1 | FileCheck %s --check-prefix=NOTE
// RUN: cmp %t.1.mlir %t.3.mlir
// RUN: clusterc --min-elements=0 --clusters=4 --decode=fold %s -o %t.f1.mlir
// RUN: clusterc --min-elements=0 --clusters=2 %t.f1.mlir -o %t.f2.mlir 2>&1 | FileCheck %s --check-prefix=NOTE
// RUN: cmp %t.f1.mlir %t.f2.mlir
// RUN: FileCheck %s --check-prefix=FOLD < %t.f1.mlir

func.func @forward(%x: tensor<1x8xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0], [1.5, 2.5], [3.5, 4.5], [5.5, 6.5], [7.5, 8.5]]> : tensor<8x2xf32> loc("fc.weight")
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x8xf32>, tensor<8x2xf32>) outs(%f : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// MARK: arith.constant {clusterc.palette = "centroids"} dense<{{.*}}> : tensor<4xf32>
// MARK: arith.constant {clusterc.palette = "indices"} dense<{{.*}}> : tensor<4xi8>

// AGAIN: own-output.mlir.tmp.1.mlir: note: already clustered by clusterc (1 weight); left as it is
// AGAIN-NOT: warning
// AGAIN: - fc.weight {{.*}} left as is: already clustered by clusterc
// AGAIN-NOT: indices
// AGAIN: totals: 0 of 0 weights clustered

// NOTE: note: already clustered by clusterc (1 weight); left as it is
// NOTE-NOT: warning

// FOLD: arith.constant {clusterc.palette = "decoded"} dense<{{.*}}> : tensor<8x2xf32>
