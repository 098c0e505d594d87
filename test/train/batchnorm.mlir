// Batch-norm statistics (running mean, variance, epsilon) are frozen by
// default: they stay constants of the step, listed in clusterc.frozen;
// gamma and beta train. Two shapes of the same normalisation: one generic
// with the formula in its body (the ONNX importer's, torch-mlir's
// aten.batch_norm) and torch-mlir's decomposed chain of broadcasting
// generics. --train-bn-stats makes them parameters again; --freeze=SEL
// freezes any parameter by name or weight index.
// RUN: clusterc --emit=train-mlir --mode=float --function=bn_fused %s | FileCheck %s --check-prefix=FUSED
// RUN: clusterc --emit=train-mlir --mode=float --function=bn_decomposed %s | FileCheck %s --check-prefix=DECOMP
// RUN: clusterc --emit=train-mlir --mode=float --function=bn_fused --train-bn-stats %s | FileCheck %s --check-prefix=TRAINSTATS
// RUN: clusterc --emit=train-mlir --mode=float --function=bn_fused '--freeze=fc.*' %s | FileCheck %s --check-prefix=FREEZE
// RUN: clusterc --emit=train-mlir --clusters=4 --min-elements=1 --function=bn_decomposed --freeze=#0 %s | FileCheck %s --check-prefix=FREEZEIDX
// RUN: clusterc gradcheck --function=bn_fused %s | FileCheck %s --check-prefix=GRAD
// RUN: clusterc gradcheck --function=bn_decomposed %s | FileCheck %s --check-prefix=GRAD
// RUN: clusterc gradcheck --function=bn_fused --train-bn-stats %s | FileCheck %s --check-prefix=GRAD

// FUSED-LABEL: func.func @bn_fused_train_step
// FUSED-SAME: clusterc.arguments = ["input:arg0", "labels:labels", "param:fc.weight", "param:bn.weight", "param:bn.bias"]
// FUSED-SAME: clusterc.frozen = ["bn.running_mean", "bn.running_var"]
// TRAINSTATS-LABEL: func.func @bn_fused_train_step
// TRAINSTATS-SAME: clusterc.arguments = ["input:arg0", "labels:labels", "param:fc.weight", "param:bn.weight", "param:bn.bias", "param:bn.running_mean", "param:bn.running_var"]
// TRAINSTATS-NOT: clusterc.frozen
// FREEZE-LABEL: func.func @bn_fused_train_step
// FREEZE-SAME: clusterc.arguments = ["input:arg0", "labels:labels", "param:bn.weight", "param:bn.bias"]
// FREEZE-SAME: clusterc.frozen = ["fc.weight", "bn.running_mean", "bn.running_var"]
// GRAD-NOT: FAIL
// GRAD: gradcheck: all gradients match
func.func @bn_fused(%x: tensor<2x3xf32>) -> tensor<2x4xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[0.31, -0.52, 0.13, 0.44], [-0.25, 0.61, -0.37, 0.08], [0.57, 0.22, -0.46, -0.19]]> : tensor<3x4xf32> loc("fc.weight")
  %gamma = arith.constant dense<[1.1, 0.9, 1.3, 0.7]> : tensor<4xf32> loc("bn.weight")
  %beta = arith.constant dense<[0.05, -0.1, 0.2, 0.0]> : tensor<4xf32> loc("bn.bias")
  %mean = arith.constant dense<[0.1, -0.2, 0.05, 0.3]> : tensor<4xf32> loc("bn.running_mean")
  %var = arith.constant dense<[0.5, 1.5, 0.8, 1.2]> : tensor<4xf32> loc("bn.running_var")
  %e = tensor.empty() : tensor<2x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x3xf32>, tensor<3x4xf32>) outs(%z : tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(n, c) -> (n, c)>, affine_map<(n, c) -> (c)>, affine_map<(n, c) -> (c)>, affine_map<(n, c) -> (c)>, affine_map<(n, c) -> (c)>, affine_map<(n, c) -> (n, c)>], iterator_types = ["parallel", "parallel"]} ins(%m, %gamma, %beta, %mean, %var : tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<2x4xf32>) {
  ^bb0(%a0: f32, %a1: f32, %a2: f32, %a3: f32, %a4: f32, %o: f32):
    %eps = arith.constant 1.0e-05 : f32
    %v = arith.addf %a4, %eps : f32
    %s = math.sqrt %v : f32
    %d = arith.subf %a0, %a3 : f32
    %n = arith.divf %d, %s : f32
    %g = arith.mulf %n, %a1 : f32
    %r = arith.addf %g, %a2 : f32
    linalg.yield %r : f32
  } -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// DECOMP-LABEL: func.func @bn_decomposed_train_step
// DECOMP-SAME: clusterc.arguments = ["input:arg0", "labels:labels", "param:fc.weight", "param:bn.weight", "param:bn.bias"]
// DECOMP-SAME: clusterc.frozen = ["bn.running_mean", "bn.running_var", "bn.eps"]
// FREEZEIDX-LABEL: func.func @bn_decomposed_train_step
// FREEZEIDX-SAME: clusterc.arguments = ["input:arg0", "labels:labels", "param:bn.weight", "param:bn.bias"]
// FREEZEIDX-SAME: clusterc.frozen = ["fc.weight", "bn.running_mean", "bn.running_var", "bn.eps"]
#id = affine_map<(n, c) -> (n, c)>
#row = affine_map<(n, c) -> (0, c)>
#scalar = affine_map<(n, c) -> ()>
func.func @bn_decomposed(%x: tensor<2x3xf32>) -> tensor<2x4xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[0.31, -0.52, 0.13, 0.44], [-0.25, 0.61, -0.37, 0.08], [0.57, 0.22, -0.46, -0.19]]> : tensor<3x4xf32> loc("fc.weight")
  %gamma = arith.constant dense<[1.1, 0.9, 1.3, 0.7]> : tensor<4xf32> loc("bn.weight")
  %beta = arith.constant dense<[0.05, -0.1, 0.2, 0.0]> : tensor<4xf32> loc("bn.bias")
  %mean = arith.constant dense<[0.1, -0.2, 0.05, 0.3]> : tensor<4xf32> loc("bn.running_mean")
  %var = arith.constant dense<[0.5, 1.5, 0.8, 1.2]> : tensor<4xf32> loc("bn.running_var")
  %epst = arith.constant dense<1.0e-05> : tensor<f32> loc("bn.eps")
  %e = tensor.empty() : tensor<2x4xf32>
  %e1 = tensor.empty() : tensor<1x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x3xf32>, tensor<3x4xf32>) outs(%z : tensor<2x4xf32>) -> tensor<2x4xf32>
  %mean1 = tensor.expand_shape %mean [[0, 1]] output_shape [1, 4] : tensor<4xf32> into tensor<1x4xf32>
  %var1 = tensor.expand_shape %var [[0, 1]] output_shape [1, 4] : tensor<4xf32> into tensor<1x4xf32>
  %gamma1 = tensor.expand_shape %gamma [[0, 1]] output_shape [1, 4] : tensor<4xf32> into tensor<1x4xf32>
  %beta1 = tensor.expand_shape %beta [[0, 1]] output_shape [1, 4] : tensor<4xf32> into tensor<1x4xf32>
  // x - mean (torch's sub.Tensor, alpha = 1)
  %sub = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %mean1 : tensor<2x4xf32>, tensor<1x4xf32>) outs(%e : tensor<2x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %alpha = arith.constant 1.0 : f32
    %ba = arith.mulf %b, %alpha : f32
    %r = arith.subf %a, %ba : f32
    linalg.yield %r : f32
  } -> tensor<2x4xf32>
  // var + eps, then rsqrt
  %ve = linalg.generic {indexing_maps = [affine_map<(n, c) -> (n, c)>, affine_map<(n, c) -> ()>, affine_map<(n, c) -> (n, c)>], iterator_types = ["parallel", "parallel"]} ins(%var1, %epst : tensor<1x4xf32>, tensor<f32>) outs(%e1 : tensor<1x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<1x4xf32>
  %rs = linalg.generic {indexing_maps = [affine_map<(n, c) -> (n, c)>, affine_map<(n, c) -> (n, c)>], iterator_types = ["parallel", "parallel"]} ins(%ve : tensor<1x4xf32>) outs(%e1 : tensor<1x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.rsqrt %a : f32
    linalg.yield %r : f32
  } -> tensor<1x4xf32>
  %nrm = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%sub, %rs : tensor<2x4xf32>, tensor<1x4xf32>) outs(%e : tensor<2x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<2x4xf32>
  %sc = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%nrm, %gamma1 : tensor<2x4xf32>, tensor<1x4xf32>) outs(%e : tensor<2x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<2x4xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%sc, %beta1 : tensor<2x4xf32>, tensor<1x4xf32>) outs(%e : tensor<2x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
