// RUN: nnhls-opt %s --split-input-file --verify-diagnostics | filecheck %s
// Every verifier message of the nn dialect, one case each.
func.func @f(%x: tensor<4xf32>) -> tensor<2xf32> {
  %y = nn.dense %x {layer = "fc", weight = dense<1.0> : tensor<8xf32>} : (tensor<4xf32>) -> tensor<2xf32>
  func.return %y : tensor<2xf32>
}
// CHECK: nn.dense 'fc': weight must be 2-D (n_in, n_out), got shape (8,)

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<2xf32> {
  %y = nn.dense %x {layer = "fc", weight = dense<1.0> : tensor<3x2xf32>} : (tensor<4xf32>) -> tensor<2xf32>
  func.return %y : tensor<2xf32>
}
// CHECK: nn.dense 'fc': weight shape (3, 2) does not match input features 4

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<3xf32> {
  %y = nn.dense %x {layer = "fc", weight = dense<1.0> : tensor<4x2xf32>} : (tensor<4xf32>) -> tensor<3xf32>
  func.return %y : tensor<3xf32>
}
// CHECK: nn.dense 'fc': result shape (3,) does not match weight shape (4, 2)

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<2xf32> {
  %y = nn.dense %x {layer = "fc", weight = dense<1.0> : tensor<4x2xf32>, bias = dense<1.0> : tensor<3xf32>} : (tensor<4xf32>) -> tensor<2xf32>
  func.return %y : tensor<2xf32>
}
// CHECK: nn.dense 'fc': bias shape (3,) must be (2,)

// -----

func.func @f(%x: tensor<8x2xf32>) -> tensor<6x2xf32> {
  %y = nn.conv2d %x {layer = "c", weight = dense<1.0> : tensor<3x3x2x2xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<8x2xf32>) -> tensor<6x2xf32>
  func.return %y : tensor<6x2xf32>
}
// CHECK: nn.conv2d 'c': input must have 2 spatial axes and channels, got (8, 2)

// -----

func.func @f(%x: tensor<8x8x2xf32>) -> tensor<6x6x2xf32> {
  %y = nn.conv2d %x {layer = "c", weight = dense<1.0> : tensor<3x2x2xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<8x8x2xf32>) -> tensor<6x6x2xf32>
  func.return %y : tensor<6x6x2xf32>
}
// CHECK: nn.conv2d 'c': weight must have 4 axes, got shape (3, 2, 2)

// -----

func.func @f(%x: tensor<8x8x2xf32>) -> tensor<6x6x2xf32> {
  %y = nn.conv2d %x {layer = "c", weight = dense<1.0> : tensor<3x3x3x2xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<8x8x2xf32>) -> tensor<6x6x2xf32>
  func.return %y : tensor<6x6x2xf32>
}
// CHECK: nn.conv2d 'c': weight shape (3, 3, 3, 2) does not match 2 input channels

// -----

func.func @f(%x: tensor<8x8x2xf32>) -> tensor<6x6x2xf32> {
  %y = nn.conv2d %x {layer = "c", weight = dense<1.0> : tensor<3x3x2x2xf32>, strides = array<i64: 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<8x8x2xf32>) -> tensor<6x6x2xf32>
  func.return %y : tensor<6x6x2xf32>
}
// CHECK: nn.conv2d 'c': needs 2 strides, 2 dilations and 4 pads

// -----

func.func @f(%x: tensor<8x8x2xf32>) -> tensor<6x6x2xf32> {
  %y = nn.conv2d %x {layer = "c", weight = dense<1.0> : tensor<3x3x2x2xf32>, strides = array<i64: 0, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<8x8x2xf32>) -> tensor<6x6x2xf32>
  func.return %y : tensor<6x6x2xf32>
}
// CHECK: nn.conv2d 'c': strides and dilations must be positive and pads non-negative

// -----

func.func @f(%x: tensor<2x2x2xf32>) -> tensor<1x1x2xf32> {
  %y = nn.conv2d %x {layer = "c", weight = dense<1.0> : tensor<3x3x2x2xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<2x2x2xf32>) -> tensor<1x1x2xf32>
  func.return %y : tensor<1x1x2xf32>
}
// CHECK: nn.conv2d 'c': kernel (3, 3) does not fit input (2, 2, 2)

// -----

func.func @f(%x: tensor<8x8x2xf32>) -> tensor<8x8x2xf32> {
  %y = nn.conv2d %x {layer = "c", weight = dense<1.0> : tensor<3x3x2x2xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<8x8x2xf32>) -> tensor<8x8x2xf32>
  func.return %y : tensor<8x8x2xf32>
}
// CHECK: nn.conv2d 'c': result shape (8, 8, 2) does not match the expected (6, 6, 2)

// -----

func.func @f(%x: tensor<8x2xf32>) -> tensor<6x4xf32> {
  %y = nn.depthwise_conv1d %x {layer = "dw", weight = dense<1.0> : tensor<3x2x2xf32>, bias = dense<1.0> : tensor<2xf32>, strides = array<i64: 1>, dilations = array<i64: 1>, pads = array<i64: 0, 0>} : (tensor<8x2xf32>) -> tensor<6x4xf32>
  func.return %y : tensor<6x4xf32>
}
// CHECK: nn.depthwise_conv1d 'dw': bias shape (2,) must be (4,)

// -----

func.func @f(%x: tensor<8x2xf32>) -> tensor<4x2xf32> {
  %y = nn.pool %x {layer = "p", op = #hls<pool_op max>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<8x2xf32>) -> tensor<4x2xf32>
  func.return %y : tensor<4x2xf32>
}
// CHECK: nn.pool 'p': pooling needs 1 or 2 spatial axes matching the input (8, 2)

// -----

func.func @f(%x: tensor<8x2xf32>) -> tensor<4x2xf32> {
  %y = nn.pool %x {layer = "p", op = #hls<pool_op max>, pool_size = array<i64: 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0>} : (tensor<8x2xf32>) -> tensor<4x2xf32>
  func.return %y : tensor<4x2xf32>
}
// CHECK: nn.pool 'p': needs 1 strides and 2 pads

// -----

func.func @f(%x: tensor<8x2xf32>) -> tensor<4x2xf32> {
  %y = nn.pool %x {layer = "p", op = #hls<pool_op max>, pool_size = array<i64: 0>, strides = array<i64: 2>, pads = array<i64: 0, 0>} : (tensor<8x2xf32>) -> tensor<4x2xf32>
  func.return %y : tensor<4x2xf32>
}
// CHECK: nn.pool 'p': pool size and strides must be positive and pads non-negative

// -----

func.func @f(%x: tensor<8x2xf32>) -> tensor<3x2xf32> {
  %y = nn.pool %x {layer = "p", op = #hls<pool_op average>, pool_size = array<i64: 2>, strides = array<i64: 2>, pads = array<i64: 0, 0>} : (tensor<8x2xf32>) -> tensor<3x2xf32>
  func.return %y : tensor<3x2xf32>
}
// CHECK: nn.pool 'p': result shape (3, 2) does not match the expected (4, 2)

// -----

func.func @f(%x: tensor<8xf32>) -> tensor<8xf32> {
  %y = nn.global_pool %x {layer = "g", op = #hls<pool_op max>} : (tensor<8xf32>) -> tensor<8xf32>
  func.return %y : tensor<8xf32>
}
// CHECK: nn.global_pool 'g': global pooling needs 1 or 2 spatial axes, got input (8,)

// -----

func.func @f(%x: tensor<8x2xf32>) -> tensor<8xf32> {
  %y = nn.global_pool %x {layer = "g", op = #hls<pool_op max>} : (tensor<8x2xf32>) -> tensor<8xf32>
  func.return %y : tensor<8xf32>
}
// CHECK: nn.global_pool 'g': result shape (8,) must be (2,)

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<5xf32> {
  %y = nn.batchnorm %x {layer = "bn", scale = dense<1.0> : tensor<4xf32>, bias = dense<1.0> : tensor<4xf32>} : (tensor<4xf32>) -> tensor<5xf32>
  func.return %y : tensor<5xf32>
}
// CHECK: nn.batchnorm 'bn': result shape must equal the input shape

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = nn.batchnorm %x {layer = "bn", scale = dense<1.0> : tensor<3xf32>, bias = dense<1.0> : tensor<4xf32>} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK: nn.batchnorm 'bn': scale shape (3,) must be (4,)

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<5xf32> {
  %y = nn.activation %x {layer = "a", kind = #hls<activation tanh>} : (tensor<4xf32>) -> tensor<5xf32>
  func.return %y : tensor<5xf32>
}
// CHECK: nn.activation 'a': result shape must equal the input shape

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = nn.activation %x {layer = "a", kind = #hls<activation prelu>} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK: nn.activation 'a': prelu needs a per-channel param of shape (4,)

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = nn.activation %x {layer = "a", kind = #hls<activation relu>, param = dense<1.0> : tensor<4xf32>} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK: nn.activation 'a': only prelu takes a param tensor, not relu

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = nn.activation %x {layer = "a", kind = #hls<activation clip>} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK: nn.activation 'a': clip needs alpha (minimum), beta (maximum) or both

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = nn.activation %x {layer = "a", kind = #hls<activation sigmoid>, table_size = 1000 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK: nn.activation 'a': table size must be a power of two, got 1000

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<5xf32> {
  %y = nn.softmax %x {layer = "s"} : (tensor<4xf32>) -> tensor<5xf32>
  func.return %y : tensor<5xf32>
}
// CHECK: nn.softmax 's': result shape must equal the input shape

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = nn.softmax %x {layer = "s", exp_table_size = 0 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK: nn.softmax 's': table size must be a power of two, got 0

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = nn.add %x {layer = "add"} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK: nn.add 'add': needs at least two inputs, got 1

// -----

func.func @f(%x: tensor<4xf32>, %c: tensor<2xf32>) -> tensor<4xf32> {
  %y = nn.maximum %x, %c {layer = "max"} : (tensor<4xf32>, tensor<2xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK: nn.maximum 'max': inputs must have one shape, got [(2,), (4,)]

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<2xf32> {
  %y = nn.mul %x, %x {layer = "mul"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<2xf32>
  func.return %y : tensor<2xf32>
}
// CHECK: nn.mul 'mul': result shape must equal the input shape

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = nn.sub %x, %x, %x {layer = "sub"} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK: nn.sub 'sub': subtract takes exactly two inputs

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = nn.concat %x {layer = "cat", axis = 0 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK: nn.concat 'cat': concatenation needs at least two inputs

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<8xf32> {
  %y = nn.concat %x, %x {layer = "cat", axis = 1 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<8xf32>
  func.return %y : tensor<8xf32>
}
// CHECK: nn.concat 'cat': axis 1 is out of range for rank 1

// -----

func.func @f(%x: tensor<4x2xf32>, %c: tensor<4x3xf32>) -> tensor<8x2xf32> {
  %y = nn.concat %x, %c {layer = "cat", axis = 0 : i64} : (tensor<4x2xf32>, tensor<4x3xf32>) -> tensor<8x2xf32>
  func.return %y : tensor<8x2xf32>
}
// CHECK: nn.concat 'cat': input shapes [(4, 2), (4, 3)] differ outside axis 0

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<9xf32> {
  %y = nn.concat %x, %x {layer = "cat", axis = 0 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<9xf32>
  func.return %y : tensor<9xf32>
}
// CHECK: nn.concat 'cat': result shape (9,) must be (8,)

// -----

func.func @f(%x: tensor<4xf32>, %c: tensor<3xf32>) -> tensor<1xf32> {
  %y = nn.dot %x, %c {layer = "dot"} : (tensor<4xf32>, tensor<3xf32>) -> tensor<1xf32>
  func.return %y : tensor<1xf32>
}
// CHECK: nn.dot 'dot': dot needs two vectors of one length, got (4,) and (3,)

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<2xf32> {
  %y = nn.dot %x, %x {layer = "dot"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<2xf32>
  func.return %y : tensor<2xf32>
}
// CHECK: nn.dot 'dot': result shape must be (1,)

// -----

func.func @f(%x: tensor<4x2xf32>) -> tensor<9xf32> {
  %y = nn.reshape %x {layer = "r"} : (tensor<4x2xf32>) -> tensor<9xf32>
  func.return %y : tensor<9xf32>
}
// CHECK: nn.reshape 'r': cannot reshape (4, 2) into (9,)

// -----

func.func @f(%x: tensor<4x2xf32>) -> tensor<2x4xf32> {
  %y = nn.flatten %x {layer = "f"} : (tensor<4x2xf32>) -> tensor<2x4xf32>
  func.return %y : tensor<2x4xf32>
}
// CHECK: nn.flatten 'f': flatten must give a 1-D result

// -----

func.func @f(%x: tensor<4x2xf32>) -> tensor<2x4xf32> {
  %y = nn.transpose %x {layer = "t", perm = array<i64: 0, 0>} : (tensor<4x2xf32>) -> tensor<2x4xf32>
  func.return %y : tensor<2x4xf32>
}
// CHECK: nn.transpose 't': perm [0, 0] is not a permutation of 2 axes

// -----

func.func @f(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %y = nn.transpose %x {layer = "t", perm = array<i64: 1, 0>} : (tensor<4x2xf32>) -> tensor<4x2xf32>
  func.return %y : tensor<4x2xf32>
}
// CHECK: nn.transpose 't': result shape (4, 2) must be (2, 4)

// -----

func.func @f(%x: tensor<4x2xf32>) -> tensor<6x2xf32> {
  %y = nn.pad %x {layer = "zp", pads = array<i64: 1>} : (tensor<4x2xf32>) -> tensor<6x2xf32>
  func.return %y : tensor<6x2xf32>
}
// CHECK: nn.pad 'zp': needs a non-negative (begin, end) pair per spatial axis, got [1]

// -----

func.func @f(%x: tensor<4x2xf32>) -> tensor<7x2xf32> {
  %y = nn.pad %x {layer = "zp", pads = array<i64: 1, 1>} : (tensor<4x2xf32>) -> tensor<7x2xf32>
  func.return %y : tensor<7x2xf32>
}
// CHECK: nn.pad 'zp': result shape (7, 2) must be (6, 2)

// -----

func.func @f(%x: tensor<4x2xf32>) -> tensor<1x2xf32> {
  %y = nn.crop %x {layer = "cr", crops = array<i64: 2, 2>} : (tensor<4x2xf32>) -> tensor<1x2xf32>
  func.return %y : tensor<1x2xf32>
}
// CHECK: nn.crop 'cr': would produce an empty tensor from (4, 2)

// -----

func.func @f(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %y = nn.crop %x {layer = "cr", crops = array<i64: -1, 1>} : (tensor<4x2xf32>) -> tensor<4x2xf32>
  func.return %y : tensor<4x2xf32>
}
// CHECK: nn.crop 'cr': needs a non-negative (begin, end) pair per spatial axis, got [-1, 1]

// -----

func.func @f(%x: tensor<4x2xf32>) -> tensor<8x2xf32> {
  %y = nn.upsample %x {layer = "up", factors = array<i64: 0>} : (tensor<4x2xf32>) -> tensor<8x2xf32>
  func.return %y : tensor<8x2xf32>
}
// CHECK: nn.upsample 'up': needs a positive factor per spatial axis, got [0]

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<5xf32> {
  %y = nn.dropout %x {layer = "d"} : (tensor<4xf32>) -> tensor<5xf32>
  func.return %y : tensor<5xf32>
}
// CHECK: nn.dropout 'd': result type must equal the input type

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<5xf32> {
  %y = nn.input %x {layer = "in"} : (tensor<4xf32>) -> tensor<5xf32>
  func.return %y : tensor<5xf32>
}
// CHECK: nn.input 'in': result type must equal the argument type

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = nn.constant {layer = "k", value = dense<1.0> : tensor<3xf32>} : tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK: nn.constant 'k': value shape (3,) must equal the result shape

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = nn.activation %x {layer = "a", kind = #hls<activation relu>, reuse_factor = 0 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK: nn.activation 'a': reuse factor must be at least 1, got 0

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = nn.activation %x {layer = "a", kind = #hls<activation relu>, precision = {weight = !hls.fixed<8, 3>}} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK: nn.activation 'a': unknown precision variable 'weight'; this layer has: result, table, param

// -----

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = nn.activation %x {layer = "a", kind = #hls<activation relu>, precision = {result = "fixed<8,3>"}} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// CHECK: nn.activation 'a': precision of 'result' must be a fixed-point type or "auto"
