// RUN: NNHLS_ROUNDTRIP
// RUN: NNHLS_GENERIC_ROUNDTRIP
// Every nn op prints and parses back to the same text, in the custom and the generic form.

func.func @mlp(%arg: tensor<4xf32>) -> tensor<3xf32> {
  %x = nn.input %arg {layer = "input_1"} : (tensor<4xf32>) -> tensor<4xf32>
  %d = nn.dense %x {layer = "fc1", weight = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [0.5, 0.25, -1.0]]> : tensor<4x3xf32>, bias = dense<[0.1, 0.2, 0.3]> : tensor<3xf32>} : (tensor<4xf32>) -> tensor<3xf32>
  %r = nn.activation %d {layer = "fc1_relu", kind = #hls<activation relu>} : (tensor<3xf32>) -> tensor<3xf32>
  %s = nn.softmax %r {layer = "softmax"} : (tensor<3xf32>) -> tensor<3xf32>
  func.return %s : tensor<3xf32>
}
// CHECK-LABEL: func.func @mlp(
// CHECK: nn.input %{{.*}} {layer = "input_1"} : (tensor<4xf32>) -> tensor<4xf32>
// CHECK: nn.dense %{{.*}} {layer = "fc1", weight = dense<{{.*}}> : tensor<4x3xf32>, bias = dense<[1.000000e-01, 2.000000e-01, 3.000000e-01]> : tensor<3xf32>} : (tensor<4xf32>) -> tensor<3xf32>
// CHECK: nn.activation %{{.*}} {layer = "fc1_relu", kind = #hls<activation relu>}
// CHECK: nn.softmax %{{.*}} {layer = "softmax"} : (tensor<3xf32>) -> tensor<3xf32>

// -----

func.func @cnn(%arg: tensor<6x6x2xf32>) -> tensor<2xf32> {
  %x = nn.input %arg {layer = "input_1"} : (tensor<6x6x2xf32>) -> tensor<6x6x2xf32>
  %c = nn.conv2d %x {layer = "conv", weight = dense<0.5> : tensor<3x3x2x2xf32>, bias = dense<[0.0, 1.0]> : tensor<2xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<6x6x2xf32>) -> tensor<6x6x2xf32>
  %dw = nn.depthwise_conv2d %c {layer = "dw", weight = dense<0.25> : tensor<3x3x2x1xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<6x6x2xf32>) -> tensor<4x4x2xf32>
  %p = nn.pool %dw {layer = "pool", op = #hls<pool_op average>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<4x4x2xf32>) -> tensor<2x2x2xf32>
  %g = nn.global_pool %p {layer = "gpool", op = #hls<pool_op max>} : (tensor<2x2x2xf32>) -> tensor<2xf32>
  %b = nn.batchnorm %g {layer = "bn", scale = dense<[2.0, 0.5]> : tensor<2xf32>, bias = dense<[0.0, -1.0]> : tensor<2xf32>} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %b : tensor<2xf32>
}
// CHECK-LABEL: func.func @cnn(
// CHECK: nn.conv2d {{.*}}strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<6x6x2xf32>) -> tensor<6x6x2xf32>
// CHECK: nn.depthwise_conv2d {{.*}} : (tensor<6x6x2xf32>) -> tensor<4x4x2xf32>
// CHECK: nn.pool {{.*}}op = #hls<pool_op average>, pool_size = array<i64: 2, 2>{{.*}} -> tensor<2x2x2xf32>
// CHECK: nn.global_pool {{.*}}op = #hls<pool_op max>} : (tensor<2x2x2xf32>) -> tensor<2xf32>
// CHECK: nn.batchnorm {{.*}}scale = dense<[2.000000e+00, 5.000000e-01]> : tensor<2xf32>

// -----

func.func @conv1d(%arg: tensor<10x4xf32>) -> tensor<4x3xf32> {
  %x = nn.input %arg {layer = "input_1"} : (tensor<10x4xf32>) -> tensor<10x4xf32>
  %c = nn.conv1d %x {layer = "c1", weight = dense<1.0> : tensor<3x4x3xf32>, strides = array<i64: 2>, dilations = array<i64: 1>, pads = array<i64: 0, 0>} : (tensor<10x4xf32>) -> tensor<4x3xf32>
  %d = nn.depthwise_conv1d %c {layer = "dw1", weight = dense<1.0> : tensor<1x3x1xf32>, strides = array<i64: 1>, dilations = array<i64: 1>, pads = array<i64: 0, 0>} : (tensor<4x3xf32>) -> tensor<4x3xf32>
  %p = nn.pool %d {layer = "p1", op = #hls<pool_op max>, pool_size = array<i64: 2>, strides = array<i64: 1>, pads = array<i64: 0, 1>, count_pad} : (tensor<4x3xf32>) -> tensor<4x3xf32>
  func.return %p : tensor<4x3xf32>
}
// CHECK-LABEL: func.func @conv1d(
// CHECK: nn.conv1d {{.*}}strides = array<i64: 2>{{.*}} : (tensor<10x4xf32>) -> tensor<4x3xf32>
// CHECK: nn.depthwise_conv1d
// CHECK: nn.pool {{.*}}count_pad}

// -----

func.func @merges(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<8xf32>, tensor<1xf32>) {
  %x = nn.input %a {layer = "in_a"} : (tensor<4xf32>) -> tensor<4xf32>
  %y = nn.input %b {layer = "in_b"} : (tensor<4xf32>) -> tensor<4xf32>
  %0 = nn.add %x, %y, %x {layer = "add"} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = nn.sub %0, %y {layer = "sub"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %2 = nn.mul %1, %y {layer = "mul"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %3 = nn.average %2, %y {layer = "avg"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %4 = nn.maximum %3, %y {layer = "max"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %5 = nn.minimum %4, %y {layer = "min"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %6 = nn.concat %5, %x {layer = "cat", axis = 0 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<8xf32>
  %7 = nn.dot %5, %x {layer = "dot"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<1xf32>
  func.return %5, %6, %7 : tensor<4xf32>, tensor<8xf32>, tensor<1xf32>
}
// CHECK-LABEL: func.func @merges(
// CHECK: nn.add %{{.*}}, %{{.*}}, %{{.*}} {layer = "add"} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK: nn.sub
// CHECK: nn.mul
// CHECK: nn.average
// CHECK: nn.maximum
// CHECK: nn.minimum
// CHECK: nn.concat {{.*}}axis = 0 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<8xf32>
// CHECK: nn.dot {{.*}} -> tensor<1xf32>
// CHECK: func.return {{.*}} : tensor<4xf32>, tensor<8xf32>, tensor<1xf32>

// -----

func.func @shapes(%arg: tensor<4x6x2xf32>) -> tensor<64xf32> {
  %x = nn.input %arg {layer = "input_1"} : (tensor<4x6x2xf32>) -> tensor<4x6x2xf32>
  %t = nn.transpose %x {layer = "perm", perm = array<i64: 1, 0, 2>} : (tensor<4x6x2xf32>) -> tensor<6x4x2xf32>
  %p = nn.pad %t {layer = "zp", pads = array<i64: 1, 1, 0, 2>} : (tensor<6x4x2xf32>) -> tensor<8x6x2xf32>
  %c = nn.crop %p {layer = "crop", crops = array<i64: 0, 4, 1, 1>} : (tensor<8x6x2xf32>) -> tensor<4x4x2xf32>
  %u = nn.upsample %c {layer = "up", factors = array<i64: 2, 2>} : (tensor<4x4x2xf32>) -> tensor<8x8x2xf32>
  %r = nn.reshape %u {layer = "reshape"} : (tensor<8x8x2xf32>) -> tensor<2x64xf32>
  %d = nn.dropout %r {layer = "drop"} : (tensor<2x64xf32>) -> tensor<2x64xf32>
  %i = nn.identity %d {layer = "id"} : (tensor<2x64xf32>) -> tensor<2x64xf32>
  %k = nn.constant {layer = "const", value = dense<1.0> : tensor<2x64xf32>} : tensor<2x64xf32>
  %m = nn.mul %i, %k {layer = "scale"} : (tensor<2x64xf32>, tensor<2x64xf32>) -> tensor<2x64xf32>
  %f = nn.flatten %m {layer = "flatten"} : (tensor<2x64xf32>) -> tensor<128xf32>
  %h = nn.reshape %f {layer = "half"} : (tensor<128xf32>) -> tensor<2x64xf32>
  %g = nn.global_pool %h {layer = "gp", op = #hls<pool_op average>} : (tensor<2x64xf32>) -> tensor<64xf32>
  func.return %g : tensor<64xf32>
}
// CHECK-LABEL: func.func @shapes(
// CHECK: nn.transpose {{.*}}perm = array<i64: 1, 0, 2>} : (tensor<4x6x2xf32>) -> tensor<6x4x2xf32>
// CHECK: nn.pad {{.*}}pads = array<i64: 1, 1, 0, 2>} : (tensor<6x4x2xf32>) -> tensor<8x6x2xf32>
// CHECK: nn.crop {{.*}}crops = array<i64: 0, 4, 1, 1>}
// CHECK: nn.upsample {{.*}}factors = array<i64: 2, 2>} : (tensor<4x4x2xf32>) -> tensor<8x8x2xf32>
// CHECK: nn.reshape {{.*}} : (tensor<8x8x2xf32>) -> tensor<2x64xf32>
// CHECK: nn.dropout
// CHECK: nn.identity
// CHECK: nn.constant {layer = "const", value = dense<1.000000e+00> : tensor<2x64xf32>} : tensor<2x64xf32>
// CHECK: nn.flatten {{.*}} -> tensor<128xf32>
