// RUN: NNHLS_ROUNDTRIP
// RUN: nnhls-opt %s -p 'nn-apply-config{config_json="{\"LayerName\": {\"lstm\": {\"TableSize\": 64, \"Precision\": \"auto\"}}}"},nn-infer-precision,nn-schedule,lower-nn-to-hls' | filecheck %s --check-prefix=HLS
// RUN: nnhls-opt %s -p 'nn-apply-config{config_json="{\"LayerName\": {\"lstm\": {\"TableSize\": 64, \"Precision\": \"auto\"}}}"},nn-infer-precision,nn-schedule,lower-nn-to-hls' -t hls-cpp | filecheck %s --check-prefix=CPP
// RUN: nnhls-opt %s -p 'nn-apply-config{config_json="{\"LayerName\": {\"lstm\": {\"TableSize\": 64, \"RecurrentReuseFactor\": 2, \"Static\": false}}}"},nn-infer-precision,nn-schedule,lower-nn-to-hls' | filecheck %s --check-prefix=UNROLLED
// RUN: nnhls-opt %s -p 'nn-apply-config{config_json="{\"LayerName\": {\"lstm\": {\"TableSize\": 64, \"RecurrentReuseFactor\": 2, \"Static\": false}}}"},nn-infer-precision,nn-schedule,lower-nn-to-hls' -t hls-cpp | filecheck %s --check-prefix=UNROLLED-CPP
// RUN: not nnhls-opt %S/inputs/recurrent_bad.mlir 2>&1 | filecheck %s --check-prefix=BAD

// BAD: error: nn.recurrent 'gru': recurrent weight shape (1, 4) must be (units, 3 * units)

// nn.recurrent: an LSTM over 3 steps of 2 features, 1 unit, every step returned.

// CHECK-LABEL: func.func @seq
// CHECK: %lstm = nn.recurrent %x_1 {layer = "lstm", cell = "lstm", {{.*}}activation = #hls<activation tanh>, recurrent_activation = #hls<activation sigmoid>, return_sequences{{.*}}} : (tensor<3x2xf32>) -> tensor<3x1xf32>
// The state type follows from tanh * sigmoid in [-1, 1] (the default's 10 fractional bits); the
// cell from 3 steps of |i * g| <= 1; latency and II grow with the sequence length (3 steps).
// HLS: %lstm = hls.recurrent %x {layer = "lstm", {{.*}}latency = 27 : i64, ii = 27 : i64, {{.*}}cell = "lstm"{{.*}}state_t = !hls.fixed<12, 2>, cell_t = !hls.fixed<13, 3>{{.*}}
// CPP: struct config_lstm : nnet::recurrent_config {
// CPP-NEXT:   static const unsigned n_time = 3;
// CPP-NEXT:   static const unsigned n_in = 2;
// CPP-NEXT:   static const unsigned n_state = 1;
// CPP-NEXT:   static const unsigned cell = nnet::cell_lstm;
// CPP: static const unsigned recurrent_activation = nnet::gate_table;
// CPP-NEXT: static const unsigned recurrent_table_size = 64;
// CPP-NEXT: static const int recurrent_table_scale_log2 = 2;
// CPP-NEXT: static const long long recurrent_table_offset = -32;
// Static: false unrolls the time loop (3 cells: 3 times the multipliers, II of one step's
// reuse); RecurrentReuseFactor 2 is the state product's.
// UNROLLED: %lstm = hls.recurrent %x {layer = "lstm", {{.*}}latency = 30 : i64, ii = 2 : i64, {{.*}}recurrent_reuse_factor = 2 : i64, unrolled{{.*}}
// UNROLLED-CPP: static const unsigned reuse_factor = 1;
// UNROLLED-CPP-NEXT: static const unsigned recurrent_reuse_factor = 2;
// UNROLLED-CPP-NEXT: static const bool use_static = false;
// CPP: nnet::recurrent<x_t, lstm_result_t, config_lstm>(x, lstm_out, lstm_w, lstm_u, lstm_b, lstm_rb, lstm_table, lstm_recurrent_table);
func.func @seq(%x: tensor<3x2xf32>) -> tensor<3x1xf32> {
  %x_1 = nn.input %x {layer = "x"} : (tensor<3x2xf32>) -> tensor<3x2xf32>
  %lstm = nn.recurrent %x_1 {layer = "lstm", cell = "lstm", weight = dense<[[5.000000e-01, -2.500000e-01, 1.250000e-01, 1.000000e+00], [2.500000e-01, 5.000000e-01, -5.000000e-01, 7.500000e-01]]> : tensor<2x4xf32>, recurrent_weight = dense<[[5.000000e-01, 2.500000e-01, -2.500000e-01, 5.000000e-01]]> : tensor<1x4xf32>, bias = dense<[0.000000e+00, 1.000000e+00, 0.000000e+00, 5.000000e-01]> : tensor<4xf32>, recurrent_bias = dense<0.000000e+00> : tensor<4xf32>, activation = #hls<activation tanh>, recurrent_activation = #hls<activation sigmoid>, return_sequences, layer_type = "LSTM"} : (tensor<3x2xf32>) -> tensor<3x1xf32>
  func.return %lstm : tensor<3x1xf32>
}
