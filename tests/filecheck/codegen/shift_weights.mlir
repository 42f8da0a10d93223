// RUN: nnhls-opt %s -t hls-cpp | filecheck %s
// Weights that are all 0 or +-2^k (hls `weight_encoding`): stored as shift codes in
// nnet::po2_weight types (binary: 1 bit, ternary: 2 bits, po2: sign, exponent and zero bits), the
// kernel calls unchanged (their products are shifts; see nnet_common.h).

hls.func @shifts io_parallel pipeline {
^bb0(%x: !hls.array<2x4x!hls.fixed<16, 6>>):
  %fc1 = hls.dense %x {layer = "fc1", weight = dense<[[2, -2], [-2, -2], [2, 2], [-2, 2]]> : tensor<4x2xi64>, weight_t = !hls.fixed<4, 2>, bias = dense<[1, 2]> : tensor<2xi64>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<10, 4, RND, SAT>, strategy = #hls<strategy resource>, reuse_factor = 2 : i64, weight_encoding = "binary"} : (!hls.array<2x4x!hls.fixed<16, 6>>) -> !hls.array<2x2x!hls.fixed<10, 4, RND, SAT>>
  %c = hls.conv1d %fc1 {layer = "conv", weight = dense<[[[0], [32]], [[-8], [64]]]> : tensor<2x2x1xi64>, weight_t = !hls.fixed<8, 3>, bias = dense<0> : tensor<1xi64>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<20, 8>, strides = array<i64: 1>, dilations = array<i64: 1>, pads = array<i64: 1, 0>, strategy = #hls<strategy latency>, weight_encoding = "po2"} : (!hls.array<2x2x!hls.fixed<10, 4, RND, SAT>>) -> !hls.array<2x1x!hls.fixed<20, 8>>
  hls.return %c : !hls.array<2x1x!hls.fixed<20, 8>>
}

// CHECK-LABEL: // ===== firmware/defines.h =====
// CHECK: typedef nnet::binary_weight<-1> fc1_weight_t;
// CHECK: typedef nnet::po2_weight<-2, 1, true> conv_weight_t;

// CHECK-LABEL: // ===== firmware/shifts.cpp =====
// CHECK: nnet::dense<x_t, fc1_result_t, config_fc1>(x, fc1_out, fc1_w, fc1_b);
// CHECK: nnet::conv_1d<fc1_result_t, conv_result_t, config_conv>(fc1_out, conv_out, conv_w, conv_b);
