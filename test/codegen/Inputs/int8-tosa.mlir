func.func @forward(%x: tensor<1x8xi8>) -> tensor<1x4xi8> {
  %w = "tosa.const"() <{value = dense<[[1, -2, 3, -4, 5, -6, 7, -8], [2, 2, 2, 2, 2, 2, 2, 2], [-1, -1, -1, -1, 1, 1, 1, 1], [127, -128, 0, 1, 2, 3, 4, 5]]> : tensor<4x8xi8>}> : () -> tensor<4x8xi8>
  %b = "tosa.const"() <{value = dense<[10, -10, 100, 0]> : tensor<4xi32>}> : () -> tensor<4xi32>
  %fc = tosa.fully_connected %x, %w, %b {quantization_info = #tosa.conv_quant<input_zp = -1, weight_zp = 0>} : (tensor<1x8xi8>, tensor<4x8xi8>, tensor<4xi32>) -> tensor<1x4xi32>
  %r = tosa.rescale %fc {input_zp = 0 : i32, output_zp = -1 : i32, multiplier = array<i32: 1073741824>, shift = array<i8: 33>, scale32 = true, double_round = true, per_channel = false} : (tensor<1x4xi32>) -> tensor<1x4xi8>
  return %r : tensor<1x4xi8>
}
