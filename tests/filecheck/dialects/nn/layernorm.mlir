// RUN: NNHLS_ROUNDTRIP
// RUN: nnhls-opt %s -p 'nn-apply-config{config_json="{\"Model\": {\"Precision\": {\"default\": \"fixed<16,6>\", \"maximum\": \"none\"}}, \"LayerName\": {\"ln\": {\"TableSize\": 16, \"Precision\": \"auto\"}}}"},nn-infer-precision,nn-schedule,lower-nn-to-hls' | filecheck %s --check-prefix=HLS
// RUN: nnhls-opt %s -p 'nn-apply-config{config_json="{\"Model\": {\"Precision\": {\"default\": \"fixed<16,6>\", \"maximum\": \"none\"}}, \"LayerName\": {\"ln\": {\"TableSize\": 16, \"Precision\": \"auto\"}}}"},nn-infer-precision,nn-schedule,lower-nn-to-hls' -t hls-cpp | filecheck %s --check-prefix=CPP

// nn.layernorm over the last axis of (2, 4) inputs of fixed<16,6> (exact growth: no maximum): the mean keeps x's integer
// bits, the variance holds n * span^2 < 4 * 64^2, the inverse square root 1/sqrt(one variance LSB)
// (epsilon 1e-3 rounds to 2^-10), the result sqrt(4) * 1.5 + 0.5 = 3.5; the 16-entry table holds
// 1/sqrt(m) over [1, 4) (its first quarter repeats entry 4).

// CHECK-LABEL: func.func @norm
// CHECK: %ln = nn.layernorm %x_1 {layer = "ln", axes = 1 : i64, epsilon = 1.000000e-03 : f64{{.*}}} : (tensor<2x4xf32>) -> tensor<2x4xf32>
// HLS: %ln = hls.layernorm %x {layer = "ln", reuse_factor = 1 : i64, multipliers = 9 : i64, latency = 15 : i64, ii = 2 : i64{{.*}}accum_t = !hls.fixed<18, 8>, mean_t = !hls.fixed<16, 6>, variance_t = !hls.ufixed<24, 14>, epsilon = 0.0009765625 : f64, inv_table = dense<[965, 965, 965, 965, 965, 873, 803, 747, 702, 664, 632, 603, 579, 557, 537, 520]> : tensor<16xi64>, inv_table_t = !hls.ufixed<11, 1>, inv_sqrt_t = !hls.ufixed<16, 6>} : (!hls.array<2x4x!hls.fixed<16, 6>>) -> !hls.array<2x4x!hls.fixed<13, 3>>
// CPP: struct config_ln : nnet::layernorm_config {
// CPP-NEXT:   static const unsigned n_rows = 2;
// CPP-NEXT:   static const unsigned n_in = 4;
// CPP: static const unsigned table_size = 16;
// CPP-NEXT: static const int table_log2 = 4;
// CPP: nnet::layernorm<x_t, ln_result_t, config_ln>(x, ln_out, ln_scale, ln_bias, ln_inv_table);
func.func @norm(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %x_1 = nn.input %x {layer = "x"} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %ln = nn.layernorm %x_1 {layer = "ln", axes = 1 : i64, epsilon = 1.000000e-03 : f64, scale = dense<[1.0, 1.5, 0.5, 1.0]> : tensor<4xf32>, bias = dense<[0.0, 0.5, -0.5, 0.25]> : tensor<4xf32>} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  func.return %ln : tensor<2x4xf32>
}
