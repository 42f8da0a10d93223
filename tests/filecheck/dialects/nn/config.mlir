// RUN: NNHLS_ROUNDTRIP
// Per-layer configuration travels as typed properties: precision per variable (a type or
// "auto"), reuse factor, strategy, parallelization factor, table sizes, trace.

func.func @configured(%arg: tensor<8x8x1xf32>) -> tensor<4xf32> {
  %x = nn.input %arg {layer = "input_1", precision = {result = !hls.fixed<16, 6, RND, SAT>}} : (tensor<8x8x1xf32>) -> tensor<8x8x1xf32>
  %c = nn.conv2d %x {layer = "conv", weight = dense<0.5> : tensor<3x3x1x2xf32>, bias = dense<0.0> : tensor<2xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, precision = {weight = !hls.fixed<8, 3>, bias = !hls.fixed<8, 3>, accum = "auto", result = "auto"}, reuse_factor = 9 : i64, strategy = #hls<strategy resource>, parallelization_factor = 4 : i64, trace} : (tensor<8x8x1xf32>) -> tensor<6x6x2xf32>
  %f = nn.flatten %c {layer = "flatten"} : (tensor<6x6x2xf32>) -> tensor<72xf32>
  %d = nn.dense %f {layer = "fc", weight = dense<0.25> : tensor<72x4xf32>, precision = {weight = !hls.int<4>}, strategy = #hls<strategy latency>, compression} : (tensor<72xf32>) -> tensor<4xf32>
  %a = nn.activation %d {layer = "fc_sigmoid", kind = #hls<activation sigmoid>, table_size = 2048 : i64, precision = {table = !hls.ufixed<18, 0>, result = "auto"}} : (tensor<4xf32>) -> tensor<4xf32>
  %s = nn.softmax %a {layer = "softmax", implementation = #hls<softmax_impl latency>, exp_table_size = 1024 : i64, inv_table_size = 512 : i64, precision = {exp_table = !hls.ufixed<18, 8, RND, SAT>, inv_table = !hls.ufixed<18, 8, RND, SAT>}} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %s : tensor<4xf32>
}
// CHECK-LABEL: func.func @configured(
// CHECK: nn.input %{{.*}} {layer = "input_1", precision = {result = !hls.fixed<16, 6, RND, SAT>}}
// CHECK: nn.conv2d {{.*}}precision = {weight = !hls.fixed<8, 3>, bias = !hls.fixed<8, 3>, accum = "auto", result = "auto"}, reuse_factor = 9 : i64, strategy = #hls<strategy resource>, parallelization_factor = 4 : i64, trace}
// CHECK: nn.dense {{.*}}precision = {weight = !hls.int<4>}, strategy = #hls<strategy latency>, compression}
// CHECK: nn.activation {{.*}}table_size = 2048 : i64, precision = {table = !hls.ufixed<18, 0>, result = "auto"}}
// CHECK: nn.softmax {{.*}}implementation = #hls<softmax_impl latency>, exp_table_size = 1024 : i64, inv_table_size = 512 : i64
