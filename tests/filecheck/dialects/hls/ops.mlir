// RUN: NNHLS_ROUNDTRIP
// RUN: NNHLS_GENERIC_ROUNDTRIP
// Every hls op and type prints and parses back to the same text.

hls.func @mlp io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %d = hls.dense %x {layer = "fc1", weight = dense<[[1, -2], [3, 4], [-5, 6], [7, 8]]> : tensor<4x2xi64>, weight_t = !hls.fixed<8, 3>, bias = dense<[1, 2]> : tensor<2xi64>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<27, 12>, strategy = #hls<strategy latency>, reuse_factor = 1 : i64} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<2x!hls.fixed<27, 12>>
  %r = hls.activation %d {layer = "fc1_relu", kind = #hls<activation relu>} : (!hls.array<2x!hls.fixed<27, 12>>) -> !hls.array<2x!hls.ufixed<26, 11>>
  %s = hls.softmax %r {layer = "softmax", implementation = #hls<softmax_impl stable>, exp_table = dense<[262143, 100000, 40000, 10000]> : tensor<4xi64>, exp_table_size = 4 : i64, exp_table_t = !hls.ufixed<18, 0, RND, SAT>, exp_range = 8.0 : f64, inv_table = dense<[200, 100, 50, 25]> : tensor<4xi64>, inv_table_size = 4 : i64, inv_table_t = !hls.ufixed<18, 8, RND, SAT>, inv_range = 4.0 : f64, accum_t = !hls.ufixed<18, 8, RND, SAT>} : (!hls.array<2x!hls.ufixed<26, 11>>) -> !hls.array<2x!hls.ufixed<16, 0, RND, SAT>>
  hls.return %s : !hls.array<2x!hls.ufixed<16, 0, RND, SAT>>
}
// CHECK-LABEL: hls.func @mlp io_parallel pipeline {
// CHECK-NEXT: ^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
// CHECK-NEXT: hls.dense %x {layer = "fc1", weight = dense<{{\[}}[1, -2], [3, 4], [-5, 6], [7, 8]]> : tensor<4x2xi64>, weight_t = !hls.fixed<8, 3>, bias = dense<[1, 2]> : tensor<2xi64>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<27, 12>, strategy = #hls<strategy latency>, reuse_factor = 1 : i64} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<2x!hls.fixed<27, 12>>
// CHECK-NEXT: hls.activation {{.*}}kind = #hls<activation relu>} : (!hls.array<2x!hls.fixed<27, 12>>) -> !hls.array<2x!hls.ufixed<26, 11>>
// CHECK-NEXT: hls.softmax {{.*}}implementation = #hls<softmax_impl stable>, exp_table = dense<[262143, 100000, 40000, 10000]> : tensor<4xi64>, exp_table_size = 4 : i64, exp_table_t = !hls.ufixed<18, 0, RND, SAT>, exp_range = 8.000000e+00 : f64
// CHECK-NEXT: hls.return %{{.*}} : !hls.array<2x!hls.ufixed<16, 0, RND, SAT>>

// -----

hls.func @cnn io_stream dataflow {
^bb0(%x: !hls.stream<6x6x2x!hls.fixed<16, 6>, depth 36>):
  %p = hls.pad %x {layer = "conv_pad", pads = array<i64: 1, 1, 1, 1>} : (!hls.stream<6x6x2x!hls.fixed<16, 6>, depth 36>) -> !hls.stream<8x8x2x!hls.fixed<16, 6>, depth 64>
  %c = hls.conv2d %p {layer = "conv", weight = dense<1> : tensor<3x3x2x2xi64>, weight_t = !hls.fixed<8, 3>, bias = dense<0> : tensor<2xi64>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<30, 14>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strategy = #hls<strategy resource>, reuse_factor = 2 : i64, parallelization_factor = 4 : i64} : (!hls.stream<8x8x2x!hls.fixed<16, 6>, depth 64>) -> !hls.stream<6x6x2x!hls.fixed<30, 14>, depth 36>
  %c1, %c2 = hls.clone %c {layer = "conv_clone"} : (!hls.stream<6x6x2x!hls.fixed<30, 14>, depth 36>) -> (!hls.stream<6x6x2x!hls.fixed<30, 14>, depth 36>, !hls.stream<6x6x2x!hls.fixed<30, 14>, depth 36>)
  %dw = hls.depthwise_conv2d %c1 {layer = "dw", weight = dense<1> : tensor<1x1x2x1xi64>, weight_t = !hls.int<4>, bias = dense<0> : tensor<2xi64>, bias_t = !hls.int<4>, accum_t = !hls.fixed<36, 20>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strategy = #hls<strategy latency>} : (!hls.stream<6x6x2x!hls.fixed<30, 14>, depth 36>) -> !hls.stream<6x6x2x!hls.fixed<36, 20>, depth 36>
  %m = hls.merge %dw, %c2 {layer = "add", kind = #hls<merge add>} : (!hls.stream<6x6x2x!hls.fixed<36, 20>, depth 36>, !hls.stream<6x6x2x!hls.fixed<30, 14>, depth 36>) -> !hls.stream<6x6x2x!hls.fixed<37, 21>, depth 36>
  %pl = hls.pool %m {layer = "pool", op = #hls<pool_op max>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, accum_t = !hls.fixed<37, 21>} : (!hls.stream<6x6x2x!hls.fixed<37, 21>, depth 36>) -> !hls.stream<3x3x2x!hls.fixed<37, 21>, depth 9>
  %g = hls.global_pool %pl {layer = "gap", op = #hls<pool_op average>, accum_t = !hls.fixed<41, 25>} : (!hls.stream<3x3x2x!hls.fixed<37, 21>, depth 9>) -> !hls.stream<2x!hls.fixed<37, 21>, depth 1>
  hls.return %g : !hls.stream<2x!hls.fixed<37, 21>, depth 1>
}
// CHECK-LABEL: hls.func @cnn io_stream dataflow {
// CHECK-NEXT: ^bb0(%x: !hls.stream<6x6x2x!hls.fixed<16, 6>, depth 36>):
// CHECK-NEXT: hls.pad %x {{.*}} -> !hls.stream<8x8x2x!hls.fixed<16, 6>, depth 64>
// CHECK-NEXT: hls.conv2d {{.*}}strategy = #hls<strategy resource>, reuse_factor = 2 : i64, parallelization_factor = 4 : i64}
// CHECK-NEXT: %{{.*}}, %{{.*}} = hls.clone
// CHECK-NEXT: hls.depthwise_conv2d {{.*}}weight_t = !hls.int<4>
// CHECK-NEXT: hls.merge {{.*}}kind = #hls<merge add>}
// CHECK-NEXT: hls.pool {{.*}}op = #hls<pool_op max>
// CHECK-NEXT: hls.global_pool {{.*}}op = #hls<pool_op average>
// CHECK-NEXT: hls.return

// -----

hls.func @shapes io_parallel pipeline interval 4 {
^bb0(%a: !hls.array<4x2x!hls.fixed<16, 6>>, %b: !hls.array<4x2x!hls.fixed<16, 6>>):
  %t = hls.transpose %a {layer = "perm", perm = array<i64: 1, 0>} : (!hls.array<4x2x!hls.fixed<16, 6>>) -> !hls.array<2x4x!hls.fixed<16, 6>>
  %r = hls.reshape %t {layer = "flat"} : (!hls.array<2x4x!hls.fixed<16, 6>>) -> !hls.array<8x!hls.fixed<16, 6>>
  %c = hls.concat %a, %b {layer = "cat", axis = 1 : i64} : (!hls.array<4x2x!hls.fixed<16, 6>>, !hls.array<4x2x!hls.fixed<16, 6>>) -> !hls.array<4x4x!hls.fixed<16, 6>>
  %cr = hls.crop %c {layer = "crop", crops = array<i64: 1, 1>} : (!hls.array<4x4x!hls.fixed<16, 6>>) -> !hls.array<2x4x!hls.fixed<16, 6>>
  %u = hls.upsample %cr {layer = "up", factors = array<i64: 2>} : (!hls.array<2x4x!hls.fixed<16, 6>>) -> !hls.array<4x4x!hls.fixed<16, 6>>
  %bn = hls.batchnorm %u {layer = "bn", scale = dense<[1, 2, 3, 4]> : tensor<4xi64>, scale_t = !hls.fixed<8, 4>, bias = dense<0> : tensor<4xi64>, bias_t = !hls.fixed<8, 4>} : (!hls.array<4x4x!hls.fixed<16, 6>>) -> !hls.array<4x4x!hls.fixed<25, 11>>
  %v = hls.reshape %r {layer = "v"} : (!hls.array<8x!hls.fixed<16, 6>>) -> !hls.array<8x!hls.fixed<16, 6>>
  %dot = hls.dot %r, %v {layer = "dot", accum_t = !hls.fixed<35, 15>} : (!hls.array<8x!hls.fixed<16, 6>>, !hls.array<8x!hls.fixed<16, 6>>) -> !hls.array<1x!hls.fixed<35, 15>>
  %q = hls.cast %dot {layer = "dot_cast"} : (!hls.array<1x!hls.fixed<35, 15>>) -> !hls.array<1x!hls.fixed<16, 6, RND_CONV, SAT_SYM>>
  %lr = hls.activation %bn {layer = "lrelu", kind = #hls<activation leaky_relu>, alpha = 1.250000e-01 : f64, param_t = !hls.fixed<8, 1>} : (!hls.array<4x4x!hls.fixed<25, 11>>) -> !hls.array<4x4x!hls.fixed<25, 11>>
  %pr = hls.activation %lr {layer = "prelu", kind = #hls<activation prelu>, param = dense<[1, 2, 3, 4]> : tensor<4xi64>, param_t = !hls.ufixed<4, 0>} : (!hls.array<4x4x!hls.fixed<25, 11>>) -> !hls.array<4x4x!hls.fixed<25, 11>>
  %sg = hls.activation %pr {layer = "sig", kind = #hls<activation sigmoid>, table = dense<[1000, 20000, 100000, 200000]> : tensor<4xi64>, table_size = 4 : i64, table_t = !hls.ufixed<18, 0>, table_min = -8.0 : f64, table_max = 8.0 : f64} : (!hls.array<4x4x!hls.fixed<25, 11>>) -> !hls.array<4x4x!hls.ufixed<16, 0>>
  hls.return %q, %sg : !hls.array<1x!hls.fixed<16, 6, RND_CONV, SAT_SYM>>, !hls.array<4x4x!hls.ufixed<16, 0>>
}
// CHECK-LABEL: hls.func @shapes io_parallel pipeline interval 4 {
// CHECK: hls.transpose {{.*}}perm = array<i64: 1, 0>}
// CHECK: hls.reshape
// CHECK: hls.concat {{.*}}axis = 1 : i64}
// CHECK: hls.crop {{.*}}crops = array<i64: 1, 1>}
// CHECK: hls.upsample {{.*}}factors = array<i64: 2>}
// CHECK: hls.batchnorm {{.*}}scale_t = !hls.fixed<8, 4>
// CHECK: hls.dot {{.*}}accum_t = !hls.fixed<35, 15>}
// CHECK: hls.cast {{.*}} -> !hls.array<1x!hls.fixed<16, 6, RND_CONV, SAT_SYM>>
// CHECK: hls.activation {{.*}}kind = #hls<activation leaky_relu>, alpha = 1.250000e-01 : f64, param_t = !hls.fixed<8, 1>}
// CHECK: hls.activation {{.*}}kind = #hls<activation prelu>, param = dense<[1, 2, 3, 4]> : tensor<4xi64>, param_t = !hls.ufixed<4, 0>}
// CHECK: hls.activation {{.*}}kind = #hls<activation sigmoid>, table = dense<[1000, 20000, 100000, 200000]> : tensor<4xi64>, table_size = 4 : i64, table_t = !hls.ufixed<18, 0>, table_min = -8.000000e+00 : f64, table_max = 8.000000e+00 : f64}

// -----

hls.func @conv1d io_parallel dataflow {
^bb0(%x: !hls.array<10x4x!hls.int<8>>):
  %c = hls.conv1d %x {layer = "c1", weight = dense<1> : tensor<3x4x2xi64>, weight_t = !hls.uint<2>, bias = dense<0> : tensor<2xi64>, bias_t = !hls.uint<2>, accum_t = !hls.int<14>, strides = array<i64: 1>, dilations = array<i64: 2>, pads = array<i64: 2, 2>, strategy = #hls<strategy unrolled>, reuse_factor = 3 : i64} : (!hls.array<10x4x!hls.int<8>>) -> !hls.array<10x2x!hls.int<14>>
  %d = hls.depthwise_conv1d %c {layer = "dw1", weight = dense<1> : tensor<1x2x2xi64>, weight_t = !hls.int<2>, bias = dense<0> : tensor<4xi64>, bias_t = !hls.int<2>, accum_t = !hls.int<16>, strides = array<i64: 1>, dilations = array<i64: 1>, pads = array<i64: 0, 0>, strategy = #hls<strategy latency>} : (!hls.array<10x2x!hls.int<14>>) -> !hls.array<10x4x!hls.int<16>>
  %p = hls.pool %d {layer = "p1", op = #hls<pool_op average>, pool_size = array<i64: 2>, strides = array<i64: 2>, pads = array<i64: 0, 0>, count_pad, accum_t = !hls.fixed<18, 17>} : (!hls.array<10x4x!hls.int<16>>) -> !hls.array<5x4x!hls.fixed<17, 16>>
  hls.return %p : !hls.array<5x4x!hls.fixed<17, 16>>
}
// CHECK-LABEL: hls.func @conv1d io_parallel dataflow {
// CHECK: hls.conv1d {{.*}}weight_t = !hls.uint<2>{{.*}}strategy = #hls<strategy unrolled>, reuse_factor = 3 : i64}
// CHECK: hls.depthwise_conv1d
// CHECK: hls.pool {{.*}}count_pad
