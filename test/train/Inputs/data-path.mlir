// Models for data-path.test: each returns its input (plus a zero bias, so
// that something trains), so a regression evaluation against the targets
// gen-data-path.py computes measures the data path alone.

// [2, 3, 6, 6] (CHW) -> [2, 108]
func.func @identity(%x: tensor<2x3x6x6xf32>) -> tensor<2x108xf32> {
  %b = arith.constant dense<0.0> : tensor<108xf32> loc("bias")
  %f = tensor.collapse_shape %x [[0], [1, 2, 3]] : tensor<2x3x6x6xf32> into tensor<2x108xf32>
  %e = tensor.empty() : tensor<2x108xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(n, i) -> (n, i)>, affine_map<(n, i) -> (i)>, affine_map<(n, i) -> (n, i)>], iterator_types = ["parallel", "parallel"]} ins(%f, %b : tensor<2x108xf32>, tensor<108xf32>) outs(%e : tensor<2x108xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<2x108xf32>
  return %y : tensor<2x108xf32>
}

// Two inputs: x1 - x2 + b.
func.func @two(%x1: tensor<2x4xf32>, %x2: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %b = arith.constant dense<0.0> : tensor<4xf32> loc("bias")
  %e = tensor.empty() : tensor<2x4xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(n, i) -> (n, i)>, affine_map<(n, i) -> (n, i)>, affine_map<(n, i) -> (i)>, affine_map<(n, i) -> (n, i)>], iterator_types = ["parallel", "parallel"]} ins(%x1, %x2, %b : tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xf32>) outs(%e : tensor<2x4xf32>) {
  ^bb0(%a: f32, %c: f32, %d: f32, %o: f32):
    %s = arith.subf %a, %c : f32
    %t = arith.addf %s, %d : f32
    linalg.yield %t : f32
  } -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// [2, 3, 4, 4] (CHW) -> per-channel sums [2, 3]: 3 classes.
func.func @chansum(%x: tensor<2x3x4x4xf32>) -> tensor<2x3xf32> {
  %zero = arith.constant 0.0 : f32
  %b = arith.constant dense<0.0> : tensor<3xf32> loc("bias")
  %e = tensor.empty() : tensor<2x3xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (n, c)>], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%x : tensor<2x3x4x4xf32>) outs(%z : tensor<2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %t = arith.addf %o, %a : f32
    linalg.yield %t : f32
  } -> tensor<2x3xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(n, c) -> (n, c)>, affine_map<(n, c) -> (c)>, affine_map<(n, c) -> (n, c)>], iterator_types = ["parallel", "parallel"]} ins(%s, %b : tensor<2x3xf32>, tensor<3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %t = arith.addf %a, %c : f32
    linalg.yield %t : f32
  } -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
