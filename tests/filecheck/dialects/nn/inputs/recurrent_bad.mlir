func.func @bad(%x: tensor<3x2xf32>) -> tensor<1xf32> {
  %x_1 = nn.input %x {layer = "x"} : (tensor<3x2xf32>) -> tensor<3x2xf32>
  %gru = nn.recurrent %x_1 {layer = "gru", cell = "gru", weight = dense<0.5> : tensor<2x4xf32>, recurrent_weight = dense<0.5> : tensor<1x4xf32>, bias = dense<0.0> : tensor<4xf32>, recurrent_bias = dense<0.0> : tensor<4xf32>, activation = #hls<activation tanh>, recurrent_activation = #hls<activation sigmoid>} : (tensor<3x2xf32>) -> tensor<1xf32>
  func.return %gru : tensor<1xf32>
}
