// RUN: nnhls-opt %s -t hls-cpp | filecheck %s
// Weights over the BramFactor (store_weights_in_bram on the kernel): the config struct says so and
// the top function asks the HLS tool for a BRAM ROM with a literal pragma (BIND_STORAGE for Vitis
// HLS, the default backend; RESOURCE for Vivado HLS); the small layer keeps its weights in logic.

hls.func @net io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %big = hls.dense %x {layer = "big", store_weights_in_bram, weight = dense<1> : tensor<4x3xi64>, weight_t = !hls.fixed<8, 3>, bias = dense<0> : tensor<3xi64>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<27, 12>, strategy = #hls<strategy latency>} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<3x!hls.fixed<20, 8>>
  %small = hls.dense %big {layer = "small", weight = dense<1> : tensor<3x2xi64>, weight_t = !hls.fixed<8, 3>, bias = dense<0> : tensor<2xi64>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<32, 14>, strategy = #hls<strategy latency>} : (!hls.array<3x!hls.fixed<20, 8>>) -> !hls.array<2x!hls.fixed<20, 8>>
  hls.return %small : !hls.array<2x!hls.fixed<20, 8>>
}

// CHECK-LABEL: // ===== firmware/parameters.h =====
// CHECK: struct config_big : nnet::dense_config {
// CHECK: static const bool store_weights_in_bram = true;
// CHECK: struct config_small : nnet::dense_config {
// CHECK: static const bool store_weights_in_bram = false;

// CHECK-LABEL: // ===== firmware/net.cpp =====
// CHECK: void net(
// CHECK: #pragma HLS PIPELINE
// CHECK-NEXT: #pragma HLS BIND_STORAGE variable=big_w type=rom_1p impl=bram
// CHECK-NOT: BIND_STORAGE
// CHECK: nnet::dense<
