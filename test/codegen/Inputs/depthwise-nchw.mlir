// A depthwise convolution keeps its decode under decode=fused (no
// reduction over input channels: not a matrix product).
module {
  func.func @forward(%x: tensor<1x3x7x7xf32>) -> tensor<1x3x5x5xf32> {
    %zero = arith.constant 0.0 : f32
    %w4 = arith.constant dense<[[[-2.889577e-01, -2.481652e-01, -2.070333e-01], [-2.594606e-01, 8.643717e-02, -2.406352e-01], [-8.098745e-02, -3.689263e-01, 4.100171e-01]], [[-1.462160e-01, -4.183901e-02, 8.334877e-02], [4.042968e-01, -7.937173e-02, 4.177211e-01], [1.648941e-03, 3.182496e-02, 2.350659e-02]], [[-4.812951e-01, -5.987509e-02, -3.168921e-01], [-4.960675e-01, 2.991705e-01, -3.276533e-01], [-2.650707e-02, 2.251933e-01, 5.647562e-02]]]> : tensor<3x3x3xf32> loc("dw.weight")
    %e4 = tensor.empty() : tensor<1x3x5x5xf32>
    %z4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<1x3x5x5xf32>) -> tensor<1x3x5x5xf32>
    %y4 = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w4 : tensor<1x3x7x7xf32>, tensor<3x3x3xf32>) outs(%z4 : tensor<1x3x5x5xf32>) -> tensor<1x3x5x5xf32>
    return %y4 : tensor<1x3x5x5xf32>
  }
}
