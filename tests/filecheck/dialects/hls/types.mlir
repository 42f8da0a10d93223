// RUN: NNHLS_ROUNDTRIP
// Fixed-point, integer, array and stream types; default modes are not printed.

func.func @types(%a: tensor<1x!hls.fixed<16, 6>>, %b: tensor<1x!hls.fixed<16, 6, TRN, WRAP, 0>>, %c: tensor<1x!hls.fixed<18, 8, RND, SAT>>, %d: tensor<1x!hls.ufixed<8, -2, TRN, WRAP, 3>>, %e: tensor<1x!hls.fixed<4, 9, RND_CONV>>, %f: tensor<1x!hls.int<8>>, %g: tensor<1x!hls.uint<1>>, %h: tensor<1x!hls.fixed<1024, 512, RND_MIN_INF, SAT_SYM>>, %i: tensor<1x!hls.ufixed<12, 4, TRN_ZERO, SAT_ZERO>>, %j: tensor<1x!hls.fixed<8, 3, RND_ZERO, WRAP>>, %k: tensor<1x!hls.fixed<8, 3, RND_INF>>) {
  func.return
}
// CHECK: func.func @types(%a: tensor<1x!hls.fixed<16, 6>>, %b: tensor<1x!hls.fixed<16, 6>>, %c: tensor<1x!hls.fixed<18, 8, RND, SAT>>, %d: tensor<1x!hls.ufixed<8, -2, TRN, WRAP, 3>>, %e: tensor<1x!hls.fixed<4, 9, RND_CONV>>, %f: tensor<1x!hls.int<8>>, %g: tensor<1x!hls.uint<1>>, %h: tensor<1x!hls.fixed<1024, 512, RND_MIN_INF, SAT_SYM>>, %i: tensor<1x!hls.ufixed<12, 4, TRN_ZERO, SAT_ZERO>>, %j: tensor<1x!hls.fixed<8, 3, RND_ZERO>>, %k: tensor<1x!hls.fixed<8, 3, RND_INF>>)

// -----

func.func @aggregates(%a: tensor<1x!hls.array<8x8x3x!hls.fixed<16, 6>>>, %s: tensor<1x!hls.stream<8x8x3x!hls.ufixed<8, 0, RND, SAT>, depth 64>>) {
  func.return
}
// CHECK: func.func @aggregates(%a: tensor<1x!hls.array<8x8x3x!hls.fixed<16, 6>>>, %s: tensor<1x!hls.stream<8x8x3x!hls.ufixed<8, 0, RND, SAT>, depth 64>>)
