// Every cluster-train error: a diagnostic at the culprit's location, exit 1,
// and no output file.
// RUN: rm -f %t.out
// RUN: not clusterc --emit=train-mlir --clusters=2 --min-elements=1 --function=sin %s -o %t.out 2>&1 | FileCheck %s --check-prefix=SIN
// RUN: not test -e %t.out
// RUN: not clusterc --emit=train-mlir --clusters=2 --min-elements=1 --function=concat %s -o %t.out 2>&1 | FileCheck %s --check-prefix=CONCAT
// RUN: not test -e %t.out
// RUN: not clusterc --emit=train-mlir --clusters=2 --min-elements=1 --function=two %s -o %t.out 2>&1 | FileCheck %s --check-prefix=TWO
// RUN: not test -e %t.out
// RUN: not clusterc --emit=train-mlir --clusters=2 --min-elements=1 --function=dyn %s -o %t.out 2>&1 | FileCheck %s --check-prefix=DYN
// RUN: not test -e %t.out
// RUN: not clusterc --emit=train-mlir --clusters=2 --min-elements=1 --function=half %s -o %t.out 2>&1 | FileCheck %s --check-prefix=HALF
// RUN: not test -e %t.out
// RUN: not clusterc --emit=train-mlir --clusters=2 --min-elements=1 --function=nan %s -o %t.out 2>&1 | FileCheck %s --check-prefix=NAN
// RUN: not test -e %t.out
// RUN: not clusterc --emit=train-mlir --function=nope %s -o %t.out 2>&1 | FileCheck %s --check-prefix=NOPE
// RUN: not clusterc --emit=train-mlir %s -o %t.out 2>&1 | FileCheck %s --check-prefix=WHICH
// RUN: not clusterc --emit=train-mlir --mode=fast %s 2>&1 | FileCheck %s --check-prefix=MODE
// RUN: not clusterc --emit=train-mlir --report %s 2>&1 | FileCheck %s --check-prefix=REPORT
// RUN: not clusterc --emit=train-mlir --emit=obj %s 2>&1 | FileCheck %s --check-prefix=EMIT
// RUN: not test -e %t.out
// NOPE: error: cluster-train: no function 'nope' in the module
// WHICH: error: cluster-train: cannot tell which function is the model (6 public functions, none named 'forward'); use function=NAME
// MODE: error: unknown mode 'fast' (expected ste, centroids-only or float)
// REPORT: error: --report applies to clustering, not to --emit=train-mlir
// EMIT: error: --emit=train-mlir writes MLIR

func.func @sin(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<0.5> : tensor<4x3xf32> loc("fc.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%z : tensor<2x3xf32>) -> tensor<2x3xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%m : tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
// SIN: [[@LINE+1]]:{{[0-9]+}}: error: cluster-train: cannot differentiate 'math.sin' in the body of a linalg.generic
    %s = math.sin %a : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

func.func @concat(%x: tensor<2x4xf32>) -> tensor<2x6xf32> {
  %w = arith.constant dense<0.5> : tensor<4x3xf32> loc("fc.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%z : tensor<2x3xf32>) -> tensor<2x3xf32>
// CONCAT: [[@LINE+1]]:{{[0-9]+}}: error: cluster-train: cannot differentiate 'tensor.concat': no gradient rule for this op
  %c = tensor.concat dim(1) %m, %m : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  return %c : tensor<2x6xf32>
}

// TWO: [[@LINE+1]]:1: error: cluster-train: the model must return one tensor (its logits); it returns 2 values
func.func @two(%x: tensor<2x4xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %w = arith.constant dense<0.5> : tensor<4x3xf32> loc("fc.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%z : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %m, %m : tensor<2x3xf32>, tensor<2x3xf32>
}

// DYN: [[@LINE+1]]:1: error: cluster-train: the model's argument 0 has type tensor<?x4xf32>; training needs statically shaped f32 tensors
func.func @dyn(%x: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %w = arith.constant dense<0.5> : tensor<4x3xf32> loc("fc.weight")
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %d = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%d) : tensor<?x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<?x3xf32>) -> tensor<?x3xf32>
  %m = linalg.matmul ins(%x, %w : tensor<?x4xf32>, tensor<4x3xf32>) outs(%z : tensor<?x3xf32>) -> tensor<?x3xf32>
  return %m : tensor<?x3xf32>
}

// HALF: [[@LINE+1]]:1: error: cluster-train: the model's argument 0 has type tensor<2x4xf16>; training needs statically shaped f32 tensors
func.func @half(%x: tensor<2x4xf16>) -> tensor<2x3xf16> {
  %w = arith.constant dense<0.5> : tensor<4x3xf16> loc("fc.weight")
  %zero = arith.constant 0.0 : f16
  %e = tensor.empty() : tensor<2x3xf16>
  %z = linalg.fill ins(%zero : f16) outs(%e : tensor<2x3xf16>) -> tensor<2x3xf16>
  %m = linalg.matmul ins(%x, %w : tensor<2x4xf16>, tensor<4x3xf16>) outs(%z : tensor<2x3xf16>) -> tensor<2x3xf16>
  return %m : tensor<2x3xf16>
}

func.func @nan(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
// NAN: error: cluster-train: weight 'fc.weight' has a non-finite value at element 2
  %w = arith.constant dense<[[0.5, 0.1, 0x7FC00000], [0.5, 0.1, 0.2], [0.5, 0.1, 0.2], [0.5, 0.1, 0.2]]> : tensor<4x3xf32> loc("fc.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%z : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %m : tensor<2x3xf32>
}
