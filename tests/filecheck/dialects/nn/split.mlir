// RUN: NNHLS_ROUNDTRIP
// RUN: nnhls-opt %s --split-input-file -p 'nn-infer-precision,lower-nn-to-hls' | filecheck %s --check-prefix=HLS
// RUN: not nnhls-opt %S/inputs/split_bad.mlir 2>&1 | filecheck %s --check-prefix=BAD

// nn.split: one op, two results (the first `size` entries along `axis`, then the rest).

// CHECK-LABEL: func.func @two_parts
// CHECK: %cut, %cut_1 = nn.split %x_1 {layer = "cut", axis = 0 : i64, size = 3 : i64} : (tensor<8xf32>) -> (tensor<3xf32>, tensor<5xf32>)
// CHECK: func.return %cut, %cut_1 : tensor<3xf32>, tensor<5xf32>
// HLS-LABEL: hls.func @two_parts
// HLS: %cut, %cut_1 = hls.split %x {layer = "cut", {{.*}}axis = 0 : i64, size = 3 : i64{{.*}}} : (!hls.array<8x!hls.fixed<16, 6>>) -> (!hls.array<3x!hls.fixed<16, 6>>, !hls.array<5x!hls.fixed<16, 6>>)
// HLS: hls.return %cut, %cut_1
func.func @two_parts(%x: tensor<8xf32>) -> (tensor<3xf32>, tensor<5xf32>) {
  %x_1 = nn.input %x {layer = "x"} : (tensor<8xf32>) -> tensor<8xf32>
  %cut, %cut_1 = nn.split %x_1 {layer = "cut", axis = 0 : i64, size = 3 : i64} : (tensor<8xf32>) -> (tensor<3xf32>, tensor<5xf32>)
  func.return %cut, %cut_1 : tensor<3xf32>, tensor<5xf32>
}

// BAD: error: nn.split 'cut': size 8 must leave both parts non-empty along axis 0 of length 8
