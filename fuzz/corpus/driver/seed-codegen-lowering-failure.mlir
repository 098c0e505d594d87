// A tensor op the lowering cannot convert (tosa.custom: no linalg form)
// fails the pipeline with the pass's diagnostic at the op; nothing is
// written.
// RUN: rm -rf %t && mkdir %t
// RUN: not clusterc --emit=obj %s -o %t/custom.o --emit-header=%t/custom.h 2>&1 | FileCheck %s
// RUN: ls -A %t | count 0

func.func @forward(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: lowering-failure.mlir:[[@LINE+1]]:8: error: failed to legalize operation 'tosa.custom'
  %y = tosa.custom %x {operator_name = "op", domain_name = "user", implementation_attrs = ""} : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
// CHECK: lowering-failure.mlir: error: lowering failed: the lowering pipeline could not convert the model (see the errors above; unsupported ops for code generation)
