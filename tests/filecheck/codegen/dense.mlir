// RUN: nnhls-opt %s -t hls-cpp | filecheck %s
// A dense layer: typedefs, its config struct with hls4ml field names, one kernel call.

hls.func @mlp io_parallel pipeline {
^bb0(%features: !hls.array<4x!hls.fixed<16, 6>>):
  %fc1 = hls.dense %features {layer = "fc1", weight = dense<[[1, -2, 0], [3, 4, 0], [-5, 6, 0], [7, 8, 0]]> : tensor<4x3xi64>, weight_t = !hls.fixed<8, 3>, bias = dense<[1, 2, 3]> : tensor<3xi64>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<27, 12>, strategy = #hls<strategy resource>, reuse_factor = 2 : i64} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<3x!hls.fixed<20, 8>>
  hls.return %fc1 : !hls.array<3x!hls.fixed<20, 8>>
}

// CHECK-LABEL: // ===== firmware/defines.h =====
// CHECK: static const unsigned N_FEATURES = 4;
// CHECK: static const unsigned N_FC1_OUT = 3;
// CHECK: typedef ap_fixed<16,6> features_t;
// CHECK: typedef ap_fixed<20,8> fc1_result_t;
// CHECK: typedef ap_fixed<8,3> fc1_weight_t;
// CHECK: typedef ap_fixed<8,3> fc1_bias_t;

// CHECK-LABEL: // ===== firmware/parameters.h =====
// CHECK: #include "nnet_utils/nnet_dense.h"
// CHECK: // fc1: hls.dense (4 -> 3)
// CHECK-NEXT: struct config_fc1 : nnet::dense_config {
// CHECK-NEXT:   static const unsigned n_rows = 1;
// CHECK-NEXT:   static const unsigned n_in = 4;
// CHECK-NEXT:   static const unsigned n_out = 3;
// CHECK-NEXT:   static const unsigned io_type = nnet::io_parallel;
// CHECK-NEXT:   static const unsigned strategy = nnet::resource;
// CHECK-NEXT:   static const unsigned reuse_factor = 2;
// CHECK-NEXT:   static const unsigned n_zeros = 4;
// CHECK-NEXT:   static const unsigned n_nonzeros = 8;
// CHECK-NEXT:   static const unsigned multiplier_limit = (n_nonzeros) == 0 ? 1 : ((n_nonzeros) + (reuse_factor) - 1) / (reuse_factor);
// CHECK-NEXT:   static const bool store_weights_in_bram = false;
// CHECK-NEXT:   typedef ap_fixed<27,12> accum_t;
// CHECK-NEXT:   typedef fc1_bias_t bias_t;
// CHECK-NEXT:   typedef fc1_weight_t weight_t;
// CHECK-NEXT:   typedef ap_uint<2> index_t;
// CHECK-NEXT: };

// CHECK-LABEL: // ===== firmware/mlp.cpp =====
// CHECK: #include "weights/fc1_w.h"
// CHECK: #include "weights/fc1_b.h"
// CHECK: void mlp(features_t features[N_FEATURES], fc1_result_t fc1_out[N_FC1_OUT]) {
// CHECK: nnet::dense<features_t, fc1_result_t, config_fc1>(features, fc1_out, fc1_w, fc1_b);
// CHECK-NEXT: NNHLS_TRACE("fc1", fc1_out, N_FC1_OUT);
