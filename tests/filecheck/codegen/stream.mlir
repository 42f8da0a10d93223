// RUN: nnhls-opt %s -t hls-cpp | filecheck %s
// io_stream: pixel typedefs, hls::stream variables with their FIFO depth, a clone, AXI ports.

hls.func @net io_stream dataflow {
^bb0(%x: !hls.stream<4x4x2x!hls.fixed<16, 6>, depth 16>):
  %a, %b = hls.clone %x {layer = "x_clone"} : (!hls.stream<4x4x2x!hls.fixed<16, 6>, depth 16>) -> (!hls.stream<4x4x2x!hls.fixed<16, 6>, depth 16>, !hls.stream<4x4x2x!hls.fixed<16, 6>, depth 16>)
  %m = hls.merge %a, %b {layer = "sum", kind = #hls<merge add>} : (!hls.stream<4x4x2x!hls.fixed<16, 6>, depth 16>, !hls.stream<4x4x2x!hls.fixed<16, 6>, depth 16>) -> !hls.stream<4x4x2x!hls.fixed<17, 7>, depth 16>
  %p = hls.pool %m {layer = "pool", op = #hls<pool_op max>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, accum_t = !hls.fixed<17, 7>} : (!hls.stream<4x4x2x!hls.fixed<17, 7>, depth 16>) -> !hls.stream<2x2x2x!hls.fixed<17, 7>, depth 4>
  hls.return %p : !hls.stream<2x2x2x!hls.fixed<17, 7>, depth 4>
}

// CHECK-LABEL: // ===== firmware/defines.h =====
// CHECK: typedef ap_fixed<16,6> x_t;
// CHECK-NEXT: typedef nnet::array<x_t, 2> x_pixel_t;
// CHECK: typedef nnet::array<sum_result_t, 2> sum_result_pixel_t;
// CHECK-LABEL: // ===== firmware/parameters.h =====
// CHECK: #include "nnet_utils/nnet_stream.h"
// CHECK: struct config_x_clone : nnet::clone_config {
// CHECK-NEXT: static const unsigned n_pixels = 16;
// CHECK-NEXT: static const unsigned n_outputs = 2;
// CHECK: struct config_pool : nnet::pooling_config {
// CHECK: static const unsigned io_type = nnet::io_stream;
// CHECK-LABEL: // ===== firmware/net.cpp =====
// CHECK: void net(hls::stream<x_pixel_t>& x, hls::stream<pool_result_pixel_t>& pool_out) {
// CHECK-NEXT: #pragma HLS INTERFACE axis port=x,pool_out
// CHECK-NEXT: #pragma HLS DATAFLOW
// CHECK: hls::stream<x_clone_result_pixel_t> x_clone_out0("x_clone_out0");
// CHECK-NEXT: #pragma HLS STREAM variable=x_clone_out0 depth=16
// CHECK: nnet::clone_stream<x_pixel_t, x_clone_result_pixel_t, config_x_clone>(x, x_clone_out0, x_clone_out1);
// CHECK: nnet::add<x_clone_result_pixel_t, x_clone_result_pixel_t, sum_result_pixel_t, config_sum>(x_clone_out0, x_clone_out1, sum_out);
// CHECK-NEXT: NNHLS_TRACE_STREAM("sum", sum_out, 16);
// CHECK: nnet::pooling2d<sum_result_pixel_t, pool_result_pixel_t, config_pool>(sum_out, pool_out);
