// Every cluster-train error: a diagnostic at the culprit's location, exit 1,
// and no output file. One case per function (`// -----`), the only public
// function of its split, so the model.
// RUN: rm -rf %t && mkdir -p %t
// RUN: not %split_input_file %s clusterc --emit=train-mlir --clusters=2 --min-elements=1 -o %t/{split}.out 2>&1 | FileCheck %s --implicit-check-not=error:
// RUN: not %split_input_file %s clusterc --emit=train-mlir --function=nope -o %t/{split}.out 2>&1 | FileCheck %s --check-prefix=NOPE
// RUN: ls -A %t | count 0
// Usage errors, found before the input is read:
// RUN: not clusterc --emit=train-mlir --mode=fast %s 2>&1 | FileCheck %s --check-prefix=MODE
// RUN: not clusterc --emit=train-mlir --report %s 2>&1 | FileCheck %s --check-prefix=REPORT
// RUN: not clusterc --emit=train-mlir --emit=obj %s 2>&1 | FileCheck %s --check-prefix=EMIT
// NOPE-COUNT-8: error: cluster-train: no function 'nope' in the module
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
// CHECK: [[@LINE+1]]:{{[0-9]+}}: error: cluster-train: cannot differentiate 'math.sin' in the body of a linalg.generic
    %s = math.sin %a : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

func.func @concat(%x: tensor<2x4xf32>) -> tensor<2x6xf32> {
  %w = arith.constant dense<0.5> : tensor<4x3xf32> loc("fc.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%z : tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: [[@LINE+1]]:{{[0-9]+}}: error: cluster-train: cannot differentiate 'tensor.concat': no gradient rule for this op
  %c = tensor.concat dim(1) %m, %m : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  return %c : tensor<2x6xf32>
}

// -----

// CHECK: [[@LINE+1]]:1: error: cluster-train: the model must return one tensor (its logits); it returns 2 values
func.func @two(%x: tensor<2x4xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %w = arith.constant dense<0.5> : tensor<4x3xf32> loc("fc.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%z : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %m, %m : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// CHECK: [[@LINE+1]]:1: error: cluster-train: the model's argument 0 has type tensor<?x4xf32>; training needs statically shaped f32 tensors
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

// -----

// CHECK: [[@LINE+1]]:1: error: cluster-train: the model's argument 0 has type tensor<2x4xf16>; training needs statically shaped f32 tensors
func.func @half(%x: tensor<2x4xf16>) -> tensor<2x3xf16> {
  %w = arith.constant dense<0.5> : tensor<4x3xf16> loc("fc.weight")
  %zero = arith.constant 0.0 : f16
  %e = tensor.empty() : tensor<2x3xf16>
  %z = linalg.fill ins(%zero : f16) outs(%e : tensor<2x3xf16>) -> tensor<2x3xf16>
  %m = linalg.matmul ins(%x, %w : tensor<2x4xf16>, tensor<4x3xf16>) outs(%z : tensor<2x3xf16>) -> tensor<2x3xf16>
  return %m : tensor<2x3xf16>
}

// -----

func.func @nan(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
// CHECK: error: cluster-train: weight 'fc.weight' has a non-finite value at element 2
  %w = arith.constant dense<[[0.5, 0.1, 0x7FC00000], [0.5, 0.1, 0.2], [0.5, 0.1, 0.2], [0.5, 0.1, 0.2]]> : tensor<4x3xf32> loc("fc.weight")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%z : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %m : tensor<2x3xf32>
}

// -----

// CHECK: error: cluster-train: cannot tell which function is the model (2 public functions, none named 'forward'); use function=NAME
func.func @first(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  return %x : tensor<2x4xf32>
}

func.func @second(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  return %x : tensor<2x4xf32>
}

// -----

func.func @pad_trained_value(%x: tensor<2x4xf32>) -> tensor<2x6xf32> {
  %w = arith.constant dense<0.5> : tensor<4x3xf32> loc("fc.weight")
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %e = tensor.empty() : tensor<2x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%z : tensor<2x3xf32>) -> tensor<2x3xf32>
  %v = tensor.extract %m[%c0, %c0] : tensor<2x3xf32>
// CHECK: [[@LINE+1]]:{{[0-9]+}}: error: cluster-train: cannot differentiate tensor.pad with a trained padding value
  %p = tensor.pad %m low[0, 1] high[0, 2] {
  ^bb0(%i: index, %j: index):
    tensor.yield %v : f32
  } : tensor<2x3xf32> to tensor<2x6xf32>
  return %p : tensor<2x6xf32>
}
