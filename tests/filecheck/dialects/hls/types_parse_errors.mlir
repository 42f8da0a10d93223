// RUN: nnhls-opt %s --split-input-file --parsing-diagnostics | filecheck %s
// Malformed fixed-point and stream types are parse errors that name what is accepted.

func.func @f(%x: tensor<1x!hls.fixed<16, 6, ROUND>>) {
  func.return
}
// CHECK: expected a quantization mode: TRN, TRN_ZERO, RND, RND_ZERO, RND_INF, RND_MIN_INF, RND_CONV

// -----

func.func @f(%x: tensor<1x!hls.fixed<16, 6, RND, CLAMP>>) {
  func.return
}
// CHECK: expected an overflow mode: WRAP, SAT, SAT_ZERO, SAT_SYM

// -----

func.func @f(%x: tensor<1x!hls.array<4xf32>>) {
  func.return
}
// CHECK: expected a fixed-point element type (!hls.fixed, !hls.int, ...)

// -----

func.func @f(%x: tensor<1x!hls.stream<4x!hls.int<8>>>) {
  func.return
}
// CHECK: Expected ','
