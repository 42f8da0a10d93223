func.func @bad(%x: tensor<8xf32>) -> tensor<8xf32> {
  %x_1 = nn.input %x {layer = "x"} : (tensor<8xf32>) -> tensor<8xf32>
  %cut, %cut_1 = nn.split %x_1 {layer = "cut", axis = 0 : i64, size = 8 : i64} : (tensor<8xf32>) -> (tensor<8xf32>, tensor<0xf32>)
  func.return %cut : tensor<8xf32>
}
