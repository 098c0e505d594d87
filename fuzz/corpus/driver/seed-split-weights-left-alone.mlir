// ALONE-DAG: zero.size {{ *}}0x2 {{.*}} left as is: empty tensor
// ALONE-DAG: rank0 {{ *}}scalar {{.*}} left as is: splat (a single value already)
// ALONE-DAG: complex {{ *}}4x2 {{.*}} left as is: unsupported element type (f32, f16, bf16 are clustered)
// ALONE-DAG: quantized {{ *}}4x1x1x4 {{ *}}int {{.*}} left as is: integer weights are left as they are
// ALONE: totals: 0 of 4 weights clustered
func.func @left_alone(%x0: tensor<1x0xf32>, %v: tensor<4xf32>, %xc: tensor<1x4xcomplex<f32>>, %xq: tensor<1x1x1x4xi8>) -> (tensor<1x2xf32>, tensor<f32>, tensor<1x2xcomplex<f32>>, tensor<1x1x1x4xi32>) {
  %e = tensor.empty() : tensor<1x2xf32>
  %w0 = arith.constant dense<> : tensor<0x2xf32> loc("zero.size")
  %r0 = linalg.matmul ins(%x0, %w0 : tensor<1x0xf32>, tensor<0x2xf32>) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %ws = arith.constant dense<2.0> : tensor<f32> loc("rank0")
  %es = tensor.empty() : tensor<f32>
  %rs = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]} ins(%v, %ws : tensor<4xf32>, tensor<f32>) outs(%es : tensor<f32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    %t = arith.addf %m, %o : f32
    linalg.yield %t : f32
  } -> tensor<f32>
  %wc = arith.constant dense<[[(1.0, 2.0), (1.0, 0.5)], [(2.0, 3.0), (4.0, 5.0)], [(1.0, 2.0), (1.0, 0.5)], [(2.0, 3.0), (4.0, 5.0)]]> : tensor<4x2xcomplex<f32>> loc("complex")
  %ec = tensor.empty() : tensor<1x2xcomplex<f32>>
  %rc = linalg.matmul ins(%xc, %wc : tensor<1x4xcomplex<f32>>, tensor<4x2xcomplex<f32>>) outs(%ec : tensor<1x2xcomplex<f32>>) -> tensor<1x2xcomplex<f32>>
  %wq = "tosa.const"() <{value = dense<[[[[1, 2, 3, 4]]], [[[5, 6, 7, 8]]], [[[9, 10, 11, 12]]], [[[13, 14, 15, 16]]]]> : tensor<4x1x1x4xi8>}> : () -> tensor<4x1x1x4xi8> loc("quantized")
  %bq = "tosa.const"() <{value = dense<0> : tensor<4xi32>}> : () -> tensor<4xi32>
  %rq = tosa.conv2d %xq, %wq, %bq {dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, quantization_info = #tosa.conv_quant<input_zp = -128, weight_zp = 0>} : (tensor<1x1x1x4xi8>, tensor<4x1x1x4xi8>, tensor<4xi32>) -> tensor<1x1x1x4xi32>
  return %r0, %rs, %rc, %rq : tensor<1x2xf32>, tensor<f32>, tensor<1x2xcomplex<f32>>, tensor<1x1x1x4xi32>
}
