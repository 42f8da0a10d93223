// RUN: nnhls-opt %s --split-input-file --verify-diagnostics | filecheck %s
// Verifier messages of the hls types (width < 1, width > 1024, saturation bits, empty arrays, stream depth < 1).

func.func @f(%x: tensor<1x!hls.fixed<0, 6>>) {
  func.return
}
// CHECK: invalid hls.fixed type: width must be between 1 and 1024, got 0

// -----

func.func @f(%x: tensor<1x!hls.ufixed<1025, 6>>) {
  func.return
}
// CHECK: invalid hls.ufixed type: width must be between 1 and 1024, got 1025

// -----

func.func @f(%x: tensor<1x!hls.int<0>>) {
  func.return
}
// CHECK: invalid hls.int type: width must be between 1 and 1024, got 0

// -----

func.func @f(%x: tensor<1x!hls.uint<2000>>) {
  func.return
}
// CHECK: invalid hls.uint type: width must be between 1 and 1024, got 2000

// -----

func.func @f(%x: tensor<1x!hls.fixed<8, 3, TRN, WRAP, 9>>) {
  func.return
}
// CHECK: invalid hls.fixed type: saturation bits must be between 0 and the width 8, got 9

// -----

func.func @f(%x: tensor<1x!hls.array<4x0x!hls.fixed<8, 3>>>) {
  func.return
}
// CHECK: hls.array dimensions must be positive, got (4, 0)

// -----

func.func @f(%x: tensor<1x!hls.stream<4x2x!hls.fixed<8, 3>, depth 0>>) {
  func.return
}
// CHECK: stream depth must be at least 1, got 0
