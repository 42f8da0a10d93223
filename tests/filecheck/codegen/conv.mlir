// RUN: nnhls-opt %s -t hls-cpp | filecheck %s
// A 2-D convolution with padding, stride and parallelization factor, then a 1-D one.

hls.func @cnn io_parallel pipeline {
^bb0(%img: !hls.array<6x6x2x!hls.fixed<16, 6>>):
  %c = hls.conv2d %img {layer = "conv", weight = dense<1> : tensor<3x3x2x4xi64>, weight_t = !hls.fixed<8, 3>, bias = dense<0> : tensor<4xi64>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<30, 14>, strides = array<i64: 2, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 0, 0>, strategy = #hls<strategy latency>, reuse_factor = 3 : i64, parallelization_factor = 4 : i64} : (!hls.array<6x6x2x!hls.fixed<16, 6>>) -> !hls.array<3x4x4x!hls.fixed<30, 14>>
  %r = hls.reshape %c {layer = "flat"} : (!hls.array<3x4x4x!hls.fixed<30, 14>>) -> !hls.array<12x4x!hls.fixed<30, 14>>
  %c1 = hls.conv1d %r {layer = "conv1", weight = dense<1> : tensor<3x4x2xi64>, weight_t = !hls.fixed<8, 3>, bias = dense<0> : tensor<2xi64>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<40, 20>, strides = array<i64: 1>, dilations = array<i64: 2>, pads = array<i64: 0, 0>, strategy = #hls<strategy latency>} : (!hls.array<12x4x!hls.fixed<30, 14>>) -> !hls.array<8x2x!hls.fixed<40, 20>>
  hls.return %c1 : !hls.array<8x2x!hls.fixed<40, 20>>
}

// CHECK-LABEL: // ===== firmware/parameters.h =====
// CHECK: #include "nnet_utils/nnet_conv.h"
// CHECK: struct config_conv : nnet::conv_config {
// CHECK-NEXT: static const unsigned in_height = 6;
// CHECK-NEXT: static const unsigned in_width = 6;
// CHECK-NEXT: static const unsigned n_chan = 2;
// CHECK-NEXT: static const unsigned filt_height = 3;
// CHECK-NEXT: static const unsigned filt_width = 3;
// CHECK-NEXT: static const unsigned n_filt = 4;
// CHECK: static const unsigned stride_height = 2;
// CHECK-NEXT: static const unsigned stride_width = 1;
// CHECK: static const unsigned pad_top = 1;
// CHECK-NEXT: static const unsigned pad_bottom = 1;
// CHECK-NEXT: static const unsigned pad_left = 0;
// CHECK: static const unsigned out_height = 3;
// CHECK-NEXT: static const unsigned out_width = 4;
// CHECK: static const unsigned reuse_factor = 3;
// CHECK-NEXT: static const unsigned parallelization_factor = 4;
// CHECK: static const unsigned multiplier_limit = (n_nonzeros * parallelization_factor) == 0 ? 1 : ((n_nonzeros * parallelization_factor) + (reuse_factor) - 1) / (reuse_factor);
// CHECK: typedef ap_fixed<30,14> accum_t;
// CHECK: struct config_conv1 : nnet::conv_config {
// CHECK-NEXT: static const unsigned in_height = 1;
// CHECK-NEXT: static const unsigned in_width = 12;
// CHECK: static const unsigned dilation_width = 2;

// CHECK-LABEL: // ===== firmware/cnn.cpp =====
// CHECK: nnet::conv_2d<img_t, conv_result_t, config_conv>(img, conv_out, conv_w, conv_b);
// CHECK: nnet::copy<conv_result_t, flat_result_t, config_flat>(conv_out, flat_out);
// CHECK: nnet::conv_1d<flat_result_t, conv1_result_t, config_conv1>(flat_out, conv1_out, conv1_w, conv1_b);
