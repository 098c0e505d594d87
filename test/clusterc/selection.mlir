// Selectors that match no weight are an error (a typo in a layer name used
// to select nothing, silently), a warning with --allow-empty-selection;
// option values may be quoted, so a layer name with a space or a comma is
// one selector (values used to be split at spaces).
// RUN: not clusterc --only=fc9 %s -o %t.mlir 2>&1 | FileCheck %s --check-prefix=EMPTY
// EMPTY: selection.mlir:[[@LINE+33]]:1: error: cluster-weights: the only= selector 'fc9' (option only=fc9; clusterc --only) matches no weight (the 2 weights: block 1.weight, a,b.weight); allow-empty-selection makes this a warning
// RUN: not test -e %t.mlir
// RUN: not clusterc --layers=#5:4 %s 2>&1 | FileCheck %s --check-prefix=EMPTY-K
// EMPTY-K: error: cluster-weights: the layers= selector #5 (option layers=#5:4; clusterc --layers) matches no weight
// RUN: not clusterc --emit=train-mlir --only='nothing*' %s 2>&1 | FileCheck %s --check-prefix=EMPTY-TRAIN
// EMPTY-TRAIN: error: cluster-train: the only= selector 'nothing*' (option only=nothing*; clusterc --only) matches no weight
// RUN: not clusterc --layers='"no such,layer*":skip' %s 2>&1 | FileCheck %s --check-prefix=EMPTY-QUOTED
// EMPTY-QUOTED: error: cluster-weights: the layers= selector 'no such,layer*' (option layers="no such,layer*":skip; clusterc --layers) matches no weight
// RUN: clusterc --only=fc9 --allow-empty-selection --min-elements=0 %s 2>&1 -o /dev/null | FileCheck %s --check-prefix=ALLOW
// ALLOW: warning: cluster-weights: the only= selector 'fc9' (option only=fc9; clusterc --only) matches no weight
//
// Quoted and spaced values: the driver braces a value with spaces
// (only={block 1.*}); in option text, quotes keep spaces and commas.
// RUN: clusterc --only='block 1.*' --min-elements=0 --report %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=SPACE
// RUN: clusterc --pass-options='only="block 1.weight" min-elements=0' --report %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=SPACE
// RUN: clusterc --pass-options='only={block 1.weight} min-elements=0' --report %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=SPACE
// SPACE: 0 block 1.weight 4x2 f32 8
// SPACE-NOT: error
// SPACE: a,b.weight {{.*}}not selected by only=
// RUN: clusterc --only='"a,b.weight"' --min-elements=0 --report %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=COMMA
// RUN: clusterc --layers='"a,b*":2,"block 1*":skip' --min-elements=0 --report %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=COMMA
// COMMA: 0 block 1.weight {{.*}}left as is
// COMMA-NOT: error
// COMMA: 1 a,b.weight 2x2 f32 {{[0-9]+}} {{[0-9]+}} 
//
// Unterminated quotes and braces are usage errors.
// RUN: not clusterc --pass-options='only="block 1' %s 2>&1 | FileCheck %s --check-prefix=UNTERM
// UNTERM: clusterc: error: only: unterminated quote in the value
// RUN: not clusterc --pass-options='only={block 1' %s 2>&1 | FileCheck %s --check-prefix=UNTERM-BRACE
// UNTERM-BRACE: clusterc: error: only: unterminated '{' in the value
// RUN: not clusterc --only='a"b' %s 2>&1 | FileCheck %s --check-prefix=UNTERM-ITEM
// UNTERM-ITEM: clusterc: error: only: unterminated quote in the value

module {
func.func @forward(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, 0.5], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]]> : tensor<4x2xf32> loc("block 1.weight")
  %v = arith.constant dense<[[1.0, 0.25], [2.0, 3.0]]> : tensor<2x2xf32> loc("a,b.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y2 = linalg.matmul ins(%y, %v : tensor<1x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y2 : tensor<1x2xf32>
}
}
