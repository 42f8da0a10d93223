// A dense layer whose weight does not match its input (used by nnhls_opt_errors.mlir).
func.func @f(%x: tensor<4xf32>) -> tensor<2xf32> {
  %y = nn.dense %x {layer = "fc1", weight = dense<1.0> : tensor<3x2xf32>} : (tensor<4xf32>) -> tensor<2xf32>
  func.return %y : tensor<2xf32>
}
