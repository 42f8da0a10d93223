// RUN: not nnhls-opt %s -t hls-cpp 2>&1 | filecheck %s
// A table whose range does not start on a multiple of its step cannot be indexed exactly.

hls.func @bad io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %s = hls.activation %x {layer = "odd_table", kind = #hls<activation tanh>, table = dense<[1, 2, 3, 4]> : tensor<4xi64>, table_size = 4 : i64, table_t = !hls.fixed<18, 2>, table_min = -7.0 : f64, table_max = 9.0 : f64} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<4x!hls.fixed<16, 2>>
  hls.return %s : !hls.array<4x!hls.fixed<16, 2>>
}

// CHECK: error: hls.activation 'odd_table': table_min -7.0 must be a multiple of the table step
