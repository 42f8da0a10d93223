// RUN: nnhls-opt %s -t hls-cpp --split-input-file | filecheck %s
// Top-function interface and pipeline pragmas for each pipeline style.

hls.func @piped io_parallel pipeline interval 4 {
^bb0(%a: !hls.array<2x3x!hls.fixed<16, 6>>, %b: !hls.array<2x3x!hls.fixed<16, 6>>):
  %c = hls.concat %a, %b {layer = "cat", axis = 1 : i64} : (!hls.array<2x3x!hls.fixed<16, 6>>, !hls.array<2x3x!hls.fixed<16, 6>>) -> !hls.array<2x6x!hls.fixed<16, 6>>
  hls.return %c : !hls.array<2x6x!hls.fixed<16, 6>>
}

// CHECK-LABEL: // ===== firmware/piped.cpp =====
// CHECK: void piped(a_t a[N_A], b_t b[N_B], cat_result_t cat_out[N_CAT_OUT]) {
// CHECK-NEXT: #pragma HLS ARRAY_RESHAPE variable=a complete dim=0
// CHECK-NEXT: #pragma HLS ARRAY_RESHAPE variable=b complete dim=0
// CHECK-NEXT: #pragma HLS ARRAY_PARTITION variable=cat_out complete dim=0
// CHECK-NEXT: #pragma HLS INTERFACE ap_vld port=a,b,cat_out
// CHECK-NEXT: #pragma HLS PIPELINE II=4
// CHECK: nnet::concatenate<a_t, b_t, cat_result_t, config_cat>(a, b, cat_out);

// -----

hls.func @flow io_parallel dataflow {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.activation %x {layer = "relu", kind = #hls<activation relu>} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<4x!hls.ufixed<15, 5>>
  %q = hls.cast %r {layer = "q"} : (!hls.array<4x!hls.ufixed<15, 5>>) -> !hls.array<4x!hls.fixed<8, 4, RND, SAT>>
  hls.return %q : !hls.array<4x!hls.fixed<8, 4, RND, SAT>>
}

// CHECK-LABEL: // ===== firmware/flow.cpp =====
// CHECK: #pragma HLS INTERFACE ap_vld port=x,q_out
// CHECK-NEXT: #pragma HLS DATAFLOW
// CHECK: relu_result_t relu_out[N_RELU_OUT];
// CHECK-NEXT: #pragma HLS ARRAY_PARTITION variable=relu_out complete dim=0

// -----

hls.func @auto_style io_parallel auto {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.activation %x {layer = "relu", kind = #hls<activation relu>} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<4x!hls.ufixed<15, 5>>
  hls.return %r : !hls.array<4x!hls.ufixed<15, 5>>
}

// CHECK-LABEL: // ===== firmware/auto_style.cpp =====
// CHECK: #pragma HLS INTERFACE ap_vld port=x,relu_out
// CHECK-NEXT: #pragma HLS PIPELINE
