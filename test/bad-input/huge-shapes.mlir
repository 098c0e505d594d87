// Absurd shapes (2^64 elements): the element counts are overflow-checked
// (support/checked.h). The weight was reported as an "empty tensor" (the
// count wrapped to 0), --emit=train-mlir built a training step for it, and
// --emit=obj aborted in the lowering (std::bad_alloc).
// RUN: clusterc --report %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=REPORT
// REPORT: huge {{.*}}left as is: too many elements (the count overflows 64 bits)
// RUN: not clusterc --emit=train-mlir %s -o %t.mlir 2>&1 | FileCheck %s --check-prefix=TRAIN
// TRAIN: loc("huge"): error: cluster-train: 'huge' has too many elements (the count overflows 64 bits)
// RUN: not clusterc --emit=obj %s -o %t.o 2>&1 | FileCheck %s --check-prefix=OBJ
// OBJ: loc("huge"): error: a tensor of this op is too large for code generation (its byte size overflows 64 bits)
// RUN: not test -e %t.mlir
// RUN: not test -e %t.o

func.func @forward(%x: tensor<1x4294967296xf32>) -> tensor<1x4294967296xf32> {
  %w = arith.constant dense<1.5> : tensor<4294967296x4294967296xf32> loc("huge")
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4294967296xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4294967296xf32>) -> tensor<1x4294967296xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4294967296xf32>, tensor<4294967296x4294967296xf32>) outs(%z : tensor<1x4294967296xf32>) -> tensor<1x4294967296xf32>
  return %y : tensor<1x4294967296xf32>
}
