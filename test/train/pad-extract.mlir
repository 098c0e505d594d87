// Gradient checks of tensor.pad with static and dynamic padding (amounts
// as SSA values, as emitc's MobileNetV2 has them) and of tensor.extract
// inside a linalg.generic reading an activation (adaptive average pooling
// as torch-mlir lowers it: the gradient is a scatter-add). clusterc
// gradcheck compares every parameter gradient with central finite
// differences on the JIT.
// RUN: clusterc gradcheck --function=pad_static %s | FileCheck %s
// RUN: clusterc gradcheck --function=pad_dynamic %s | FileCheck %s
// RUN: clusterc --emit=train-mlir --mode=float --function=pad_dynamic %s | FileCheck %s --check-prefix=IR
// CHECK-NOT: FAIL
// CHECK: gradcheck: all gradients match
// IR-LABEL: func.func @pad_dynamic_train_step
// IR: tensor.pad
// IR: tensor.extract_slice %{{.*}}[0, %{{.*}}] [2, 4] [1, 1] : tensor<2x7xf32> to tensor<2x4xf32>

func.func @pad_static(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[0.31, -0.52, 0.13, 0.44], [-0.25, 0.61, -0.37, 0.08], [0.57, 0.22, -0.46, -0.19]]> : tensor<3x4xf32> loc("fc1.weight")
  %w2 = arith.constant dense<[[0.12, -0.3, 0.25], [0.4, 0.1, -0.2], [-0.35, 0.22, 0.05], [0.18, -0.27, 0.33], [0.07, 0.29, -0.41], [-0.16, 0.38, 0.11], [0.26, -0.09, -0.31]]> : tensor<7x3xf32> loc("fc2.weight")
  %e = tensor.empty() : tensor<2x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x3xf32>, tensor<3x4xf32>) outs(%z : tensor<2x4xf32>) -> tensor<2x4xf32>
  %one = arith.constant 0.5 : f32
  %p = tensor.pad %m low[0, 1] high[0, 2] {
  ^bb0(%i: index, %j: index):
    tensor.yield %one : f32
  } : tensor<2x4xf32> to tensor<2x7xf32>
  %e2 = tensor.empty() : tensor<2x3xf32>
  %z2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %y = linalg.matmul ins(%p, %w2 : tensor<2x7xf32>, tensor<7x3xf32>) outs(%z2 : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

func.func @pad_dynamic(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[0.31, -0.52, 0.13, 0.44], [-0.25, 0.61, -0.37, 0.08], [0.57, 0.22, -0.46, -0.19]]> : tensor<3x4xf32> loc("fc1.weight")
  %w2 = arith.constant dense<[[0.12, -0.3, 0.25], [0.4, 0.1, -0.2], [-0.35, 0.22, 0.05], [0.18, -0.27, 0.33], [0.07, 0.29, -0.41], [-0.16, 0.38, 0.11], [0.26, -0.09, -0.31]]> : tensor<7x3xf32> loc("fc2.weight")
  %e = tensor.empty() : tensor<2x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x3xf32>, tensor<3x4xf32>) outs(%z : tensor<2x4xf32>) -> tensor<2x4xf32>
  %lo = arith.constant 1 : index
  %hi = arith.constant 2 : index
  %p = tensor.pad %m low[0, %lo] high[0, %hi] {
  ^bb0(%i: index, %j: index):
    tensor.yield %zero : f32
  } : tensor<2x4xf32> to tensor<2x7xf32>
  %e2 = tensor.empty() : tensor<2x3xf32>
  %z2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %y = linalg.matmul ins(%p, %w2 : tensor<2x7xf32>, tensor<7x3xf32>) outs(%z2 : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
