// A gradient that is NaN where the loss is finite (sqrt at 0: the chain
// rule gives inf * 0): gradcheck fails. NaN compared as error 0 (fmax drops
// NaN, and a NaN scale made relErr return 0), so it said "all gradients
// match".
// RUN: not clusterc gradcheck %s | FileCheck %s
// CHECK: param fc.weight {{.*}} max err inf FAIL
// CHECK: gradcheck: FAILED

func.func @nan_grad(%x: tensor<3x6xf32>) -> tensor<3x4xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[-0.0149, 0.0932, 0.4569, 0.3395], [-0.1560, 0.6851, 0.0010, 0.2358], [-0.1942, -0.0134, -0.5250, 0.5360], [0.4097, -0.3646, -0.4516, -0.4863], [0.3527, -0.1379, -0.0182, -0.0938], [-0.0363, -0.3265, 0.0072, -0.4314]]> : tensor<6x4xf32> loc("fc.weight")
  %e = tensor.empty() : tensor<3x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<3x4xf32>) -> tensor<3x4xf32>
  %m = linalg.matmul ins(%x, %w : tensor<3x6xf32>, tensor<6x4xf32>) outs(%z : tensor<3x4xf32>) -> tensor<3x4xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%m : tensor<3x4xf32>) outs(%e : tensor<3x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c0 = arith.constant 0.0 : f32
    %a0 = arith.mulf %a, %c0 : f32
    %t = math.sqrt %a0 : f32
    linalg.yield %t : f32
  } -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}
