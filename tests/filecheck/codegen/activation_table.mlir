// RUN: nnhls-opt %s -t hls-cpp | filecheck %s
// A lookup-table activation: the table's type, index scale and offset; a parameterised exact kind.

hls.func @act io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %s = hls.activation %x {layer = "sig", kind = #hls<activation sigmoid>, table = dense<[1000, 20000, 100000, 200000]> : tensor<4xi64>, table_size = 4 : i64, table_t = !hls.ufixed<18, 0>, table_min = -8.0 : f64, table_max = 8.0 : f64} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<4x!hls.ufixed<16, 0>>
  %l = hls.activation %s {layer = "leaky", kind = #hls<activation leaky_relu>, alpha = 1.250000e-01 : f64, param_t = !hls.fixed<8, 1>} : (!hls.array<4x!hls.ufixed<16, 0>>) -> !hls.array<4x!hls.fixed<17, 1>>
  hls.return %l : !hls.array<4x!hls.fixed<17, 1>>
}

// CHECK-LABEL: // ===== firmware/defines.h =====
// CHECK: typedef ap_ufixed<18,0> sig_table_t;
// CHECK-LABEL: // ===== firmware/parameters.h =====
// CHECK: #include "nnet_utils/nnet_activation.h"
// CHECK: struct config_sig : nnet::activ_config {
// CHECK: static const unsigned kind = nnet::act_sigmoid;
// CHECK-NEXT: static const unsigned table_size = 4;
// CHECK-NEXT: static const int table_scale_log2 = -2;
// CHECK-NEXT: static const long long table_offset = -2;
// CHECK-NEXT: typedef sig_table_t table_t;
// CHECK: struct config_leaky : nnet::activ_config {
// CHECK: static const unsigned kind = nnet::act_leaky_relu;
// CHECK-NEXT: static constexpr double alpha = 0.125;
// CHECK-NEXT: typedef ap_fixed<8,1> param_t;
// CHECK-LABEL: // ===== firmware/act.cpp =====
// CHECK: #include "weights/sig_table.h"
// CHECK: nnet::activation<x_t, sig_result_t, config_sig>(x, sig_out, sig_table);
// CHECK: nnet::activation<sig_result_t, leaky_result_t, config_leaky>(sig_out, leaky_out);
