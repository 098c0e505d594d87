func.func @relu(%x: tensor<4xf32>) -> tensor<4xf32> {
  %zero = arith.constant dense<0.0> : tensor<4xf32>
  %y = arith.maximumf %x, %zero : tensor<4xf32>
  return %y : tensor<4xf32>
}

