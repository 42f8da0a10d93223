// RUN: nnhls-opt %s --split-input-file --verify-diagnostics | filecheck %s
// Every verifier message of the hls kernel ops and the top function, one case each.

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.dense %x {layer = "fc", weight = dense<1> : tensor<3x2xi64>, bias = dense<0> : tensor<2xi64>, weight_t = !hls.fixed<8, 3>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<30, 14>, strategy = #hls<strategy latency>} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<2x!hls.fixed<16, 6>>
}
// CHECK: hls.dense 'fc': weight shape (3, 2) does not match input features 4

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.dense %x {layer = "fc", weight = dense<1> : tensor<4x2xi64>, bias = dense<0> : tensor<2xi64>, weight_t = !hls.fixed<8, 3>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<30, 14>, strategy = #hls<strategy latency>} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<3x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<3x!hls.fixed<16, 6>>
}
// CHECK: hls.dense 'fc': result shape (3,) does not match weight shape (4, 2)

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.dense %x {layer = "fc", weight = dense<1> : tensor<4x2xi64>, bias = dense<0> : tensor<3xi64>, weight_t = !hls.fixed<8, 3>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<30, 14>, strategy = #hls<strategy latency>} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<2x!hls.fixed<16, 6>>
}
// CHECK: hls.dense 'fc': bias shape (3,) must be (2,)

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.dense %x {layer = "fc", weight = dense<1> : tensor<4x2xi64>, bias = dense<0> : tensor<2xi64>, weight_t = !hls.fixed<8, 3>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<30, 14>, strategy = #hls<strategy resource>, reuse_factor = 3 : i64} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<2x!hls.fixed<16, 6>>
}
// CHECK: hls.dense 'fc': reuse factor 3 does not divide 8 products

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.dense %x {layer = "fc", weight = dense<1> : tensor<4x2xi64>, bias = dense<0> : tensor<2xi64>, weight_t = !hls.fixed<8, 3>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<30, 14>, strategy = #hls<strategy latency>, reuse_factor = 0 : i64} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<2x!hls.fixed<16, 6>>
}
// CHECK: hls.dense 'fc': reuse factor must be at least 1, got 0

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.dense %x {layer = "fc", weight = dense<200> : tensor<4x2xi64>, bias = dense<0> : tensor<2xi64>, weight_t = !hls.fixed<8, 3>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<30, 14>, strategy = #hls<strategy latency>} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<2x!hls.fixed<16, 6>>
}
// CHECK: hls.dense 'fc': 'weight' values do not fit their type fixed<8,3>

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: tensor<4xf32>):
  %r = hls.dense %x {layer = "fc", weight = dense<1> : tensor<4x2xi64>, bias = dense<0> : tensor<2xi64>, weight_t = !hls.fixed<8, 3>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<30, 14>, strategy = #hls<strategy latency>} : (tensor<4xf32>) -> !hls.array<2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<2x!hls.fixed<16, 6>>
}
// CHECK: hls.dense 'fc': operands and results must be !hls.array or !hls.stream values

// -----

hls.func @f io_stream dataflow {
^bb0(%x: !hls.stream<4x!hls.fixed<16, 6>, depth 1>):
  %r = hls.dense %x {layer = "fc", weight = dense<1> : tensor<4x2xi64>, bias = dense<0> : tensor<2xi64>, weight_t = !hls.fixed<8, 3>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<30, 14>, strategy = #hls<strategy latency>} : (!hls.stream<4x!hls.fixed<16, 6>, depth 1>) -> !hls.array<2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<2x!hls.fixed<16, 6>>
}
// CHECK: hls.dense 'fc': cannot mix !hls.array and !hls.stream values in one kernel

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<8x8x2x!hls.fixed<16, 6>>):
  %r = hls.conv2d %x {layer = "c", weight = dense<1> : tensor<3x3x3x2xi64>, bias = dense<0> : tensor<2xi64>, weight_t = !hls.fixed<8, 3>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<30, 14>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strategy = #hls<strategy latency>} : (!hls.array<8x8x2x!hls.fixed<16, 6>>) -> !hls.array<6x6x2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<6x6x2x!hls.fixed<16, 6>>
}
// CHECK: hls.conv2d 'c': weight shape (3, 3, 3, 2) does not match input shape (8, 8, 2)

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<8x8x2x!hls.fixed<16, 6>>):
  %r = hls.conv2d %x {layer = "c", weight = dense<1> : tensor<3x3x2x2xi64>, bias = dense<0> : tensor<2xi64>, weight_t = !hls.fixed<8, 3>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<30, 14>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0>, strategy = #hls<strategy latency>} : (!hls.array<8x8x2x!hls.fixed<16, 6>>) -> !hls.array<6x6x2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<6x6x2x!hls.fixed<16, 6>>
}
// CHECK: hls.conv2d 'c': needs 2 strides, 2 dilations and 4 pads

// -----

hls.func @f io_stream dataflow {
^bb0(%x: !hls.stream<8x8x2x!hls.fixed<16, 6>, depth 64>):
  %r = hls.conv2d %x {layer = "c", weight = dense<1> : tensor<3x3x2x2xi64>, bias = dense<0> : tensor<2xi64>, weight_t = !hls.fixed<8, 3>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<30, 14>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strategy = #hls<strategy latency>} : (!hls.stream<8x8x2x!hls.fixed<16, 6>, depth 64>) -> !hls.stream<8x8x2x!hls.fixed<16, 6>, depth 64>
  hls.return %r : !hls.stream<8x8x2x!hls.fixed<16, 6>, depth 64>
}
// CHECK: hls.conv2d 'c': io_stream convolutions need explicit padding (pads must be zero)

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<8x8x2x!hls.fixed<16, 6>>):
  %r = hls.conv2d %x {layer = "c", weight = dense<1> : tensor<3x3x2x2xi64>, bias = dense<0> : tensor<2xi64>, weight_t = !hls.fixed<8, 3>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<30, 14>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strategy = #hls<strategy latency>} : (!hls.array<8x8x2x!hls.fixed<16, 6>>) -> !hls.array<8x8x2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<8x8x2x!hls.fixed<16, 6>>
}
// CHECK: hls.conv2d 'c': result shape (8, 8, 2) does not match the expected (6, 6, 2)

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<8x8x2x!hls.fixed<16, 6>>):
  %r = hls.conv2d %x {layer = "c", weight = dense<1> : tensor<3x3x2x2xi64>, bias = dense<0> : tensor<3xi64>, weight_t = !hls.fixed<8, 3>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<30, 14>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strategy = #hls<strategy latency>} : (!hls.array<8x8x2x!hls.fixed<16, 6>>) -> !hls.array<6x6x2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<6x6x2x!hls.fixed<16, 6>>
}
// CHECK: hls.conv2d 'c': bias shape (3,) must be (2,)

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<8x8x2x!hls.fixed<16, 6>>):
  %r = hls.conv2d %x {layer = "c", weight = dense<1> : tensor<3x3x2x2xi64>, bias = dense<0> : tensor<2xi64>, weight_t = !hls.fixed<8, 3>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<30, 14>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strategy = #hls<strategy latency>, parallelization_factor = 5 : i64} : (!hls.array<8x8x2x!hls.fixed<16, 6>>) -> !hls.array<6x6x2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<6x6x2x!hls.fixed<16, 6>>
}
// CHECK: hls.conv2d 'c': parallelization factor 5 must divide the 36 output pixels

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<8x2x!hls.fixed<16, 6>>):
  %r = hls.pool %x {layer = "p", op = #hls<pool_op max>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, accum_t = !hls.fixed<16, 6>} : (!hls.array<8x2x!hls.fixed<16, 6>>) -> !hls.array<4x2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x2x!hls.fixed<16, 6>>
}
// CHECK: hls.pool 'p': pooling needs 1 or 2 spatial axes matching the input (8, 2)

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<8x2x!hls.fixed<16, 6>>):
  %r = hls.pool %x {layer = "p", op = #hls<pool_op max>, pool_size = array<i64: 2>, strides = array<i64: 0>, pads = array<i64: 0, 0>, accum_t = !hls.fixed<16, 6>} : (!hls.array<8x2x!hls.fixed<16, 6>>) -> !hls.array<4x2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x2x!hls.fixed<16, 6>>
}
// CHECK: hls.pool 'p': needs 1 positive strides and 2 pads

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<8x2x!hls.fixed<16, 6>>):
  %r = hls.pool %x {layer = "p", op = #hls<pool_op max>, pool_size = array<i64: 2>, strides = array<i64: 2>, pads = array<i64: 0, 0>, accum_t = !hls.fixed<16, 6>} : (!hls.array<8x2x!hls.fixed<16, 6>>) -> !hls.array<3x2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<3x2x!hls.fixed<16, 6>>
}
// CHECK: hls.pool 'p': result shape (3, 2) does not match the expected (4, 2)

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<8x2x!hls.fixed<16, 6>>):
  %r = hls.global_pool %x {layer = "g", op = #hls<pool_op max>, accum_t = !hls.fixed<16, 6>} : (!hls.array<8x2x!hls.fixed<16, 6>>) -> !hls.array<8x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<8x!hls.fixed<16, 6>>
}
// CHECK: hls.global_pool 'g': global pooling maps (..., C) to (C), got (8, 2)

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.batchnorm %x {layer = "bn", scale = dense<1> : tensor<4xi64>, scale_t = !hls.fixed<8, 3>, bias = dense<0> : tensor<4xi64>, bias_t = !hls.fixed<8, 3>} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<5x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<5x!hls.fixed<16, 6>>
}
// CHECK: hls.batchnorm 'bn': shapes (4,) and (5,) must be equal

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.batchnorm %x {layer = "bn", scale = dense<1> : tensor<3xi64>, scale_t = !hls.fixed<8, 3>, bias = dense<0> : tensor<4xi64>, bias_t = !hls.fixed<8, 3>} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<4x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x!hls.fixed<16, 6>>
}
// CHECK: hls.batchnorm 'bn': scale and bias must have shape (4,)

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.activation %x {layer = "a", kind = #hls<activation relu>, table_size = 1000 : i64} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<4x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x!hls.fixed<16, 6>>
}
// CHECK: hls.activation 'a': table size must be a power of two, got 1000 : i64

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.activation %x {layer = "a", kind = #hls<activation tanh>} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<4x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x!hls.fixed<16, 6>>
}
// CHECK: hls.activation 'a': tanh needs table, table_size, table_t, table_min and table_max

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.activation %x {layer = "a", kind = #hls<activation prelu>} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<4x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x!hls.fixed<16, 6>>
}
// CHECK: hls.activation 'a': prelu needs its per-channel param

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.activation %x {layer = "a", kind = #hls<activation prelu>, param = dense<1> : tensor<4xi64>} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<4x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x!hls.fixed<16, 6>>
}
// CHECK: hls.activation 'a': 'param' needs its fixed-point type 'param_t'

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.softmax %x {layer = "s", implementation = #hls<softmax_impl argmax>, exp_table_size = 1000 : i64, inv_table_size = 1024 : i64, exp_table_t = !hls.ufixed<18, 8>, inv_table_t = !hls.ufixed<18, 8>, accum_t = !hls.ufixed<18, 8>} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<4x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x!hls.fixed<16, 6>>
}
// CHECK: hls.softmax 's': table size must be a power of two, got 1000

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>, %y: !hls.array<3x!hls.fixed<16, 6>>):
  %r = hls.merge %x, %y {layer = "m", kind = #hls<merge add>} : (!hls.array<4x!hls.fixed<16, 6>>, !hls.array<3x!hls.fixed<16, 6>>) -> !hls.array<4x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x!hls.fixed<16, 6>>
}
// CHECK: hls.merge 'm': shapes (4,) and (3,) must be equal

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>, %y: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.concat %x, %y {layer = "c", axis = 1 : i64} : (!hls.array<4x!hls.fixed<16, 6>>, !hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<8x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<8x!hls.fixed<16, 6>>
}
// CHECK: hls.concat 'c': axis 1 is out of range for shapes (4,) and (4,)

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x2x!hls.fixed<16, 6>>, %y: !hls.array<3x2x!hls.fixed<16, 6>>):
  %r = hls.concat %x, %y {layer = "c", axis = 1 : i64} : (!hls.array<4x2x!hls.fixed<16, 6>>, !hls.array<3x2x!hls.fixed<16, 6>>) -> !hls.array<4x4x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x4x!hls.fixed<16, 6>>
}
// CHECK: hls.concat 'c': cannot concatenate (4, 2) and (3, 2) along axis 1 into (4, 4)

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>, %y: !hls.array<3x!hls.fixed<16, 6>>):
  %r = hls.dot %x, %y {layer = "d", accum_t = !hls.fixed<40, 20>} : (!hls.array<4x!hls.fixed<16, 6>>, !hls.array<3x!hls.fixed<16, 6>>) -> !hls.array<1x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<1x!hls.fixed<16, 6>>
}
// CHECK: hls.dot 'd': dot needs two vectors of one length, got (4,) and (3,)

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x2x!hls.fixed<16, 6>>):
  %r = hls.reshape %x {layer = "r"} : (!hls.array<4x2x!hls.fixed<16, 6>>) -> !hls.array<9x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<9x!hls.fixed<16, 6>>
}
// CHECK: hls.reshape 'r': cannot reshape (4, 2) into (9,)

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x2x!hls.fixed<16, 6>>):
  %r = hls.transpose %x {layer = "t", perm = array<i64: 1, 1>} : (!hls.array<4x2x!hls.fixed<16, 6>>) -> !hls.array<2x4x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<2x4x!hls.fixed<16, 6>>
}
// CHECK: hls.transpose 't': perm [1, 1] is not a permutation of 2 axes

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x2x!hls.fixed<16, 6>>):
  %r = hls.transpose %x {layer = "t", perm = array<i64: 1, 0>} : (!hls.array<4x2x!hls.fixed<16, 6>>) -> !hls.array<4x2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x2x!hls.fixed<16, 6>>
}
// CHECK: hls.transpose 't': result shape (4, 2) does not follow perm [1, 0]

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x2x!hls.fixed<16, 6>>):
  %r = hls.pad %x {layer = "zp", pads = array<i64: 1>} : (!hls.array<4x2x!hls.fixed<16, 6>>) -> !hls.array<6x2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<6x2x!hls.fixed<16, 6>>
}
// CHECK: hls.pad 'zp': needs a non-negative (begin, end) pair per spatial axis, got [1]

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x2x!hls.fixed<16, 6>>):
  %r = hls.crop %x {layer = "cr", crops = array<i64: 1, 1>} : (!hls.array<4x2x!hls.fixed<16, 6>>) -> !hls.array<3x2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<3x2x!hls.fixed<16, 6>>
}
// CHECK: hls.crop 'cr': result shape (3, 2) must be (2, 2)

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x2x!hls.fixed<16, 6>>):
  %r = hls.upsample %x {layer = "up", factors = array<i64: 0>} : (!hls.array<4x2x!hls.fixed<16, 6>>) -> !hls.array<4x2x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x2x!hls.fixed<16, 6>>
}
// CHECK: hls.upsample 'up': needs a positive factor per spatial axis, got [0]

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.cast %x {layer = "q"} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<5x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<5x!hls.fixed<16, 6>>
}
// CHECK: hls.cast 'q': shapes (4,) and (5,) must be equal

// -----

hls.func @f io_stream dataflow {
^bb0(%x: !hls.stream<4x!hls.fixed<16, 6>, depth 4>):
  %a = hls.clone %x {layer = "cl"} : (!hls.stream<4x!hls.fixed<16, 6>, depth 4>) -> (!hls.stream<4x!hls.fixed<16, 6>, depth 4>)
  hls.return %a : !hls.stream<4x!hls.fixed<16, 6>, depth 4>
}
// CHECK: hls.clone 'cl': a clone needs 2 to 6 outputs, got 1

// -----

hls.func @"my-project" io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  hls.return %x : !hls.array<4x!hls.fixed<16, 6>>
}
// CHECK: hls.func name 'my-project' is not a valid C identifier

// -----

hls.func @f io_stream dataflow {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  hls.return %x : !hls.array<4x!hls.fixed<16, 6>>
}
// CHECK: hls.func 'f': io_stream arguments must be hls.stream

// -----

hls.func @f io_parallel dataflow interval 2 {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  hls.return %x : !hls.array<4x!hls.fixed<16, 6>>
}
// CHECK: hls.func 'f': pipeline_interval needs the pipeline style 'pipeline'

// -----

hls.func @f io_parallel pipeline interval 0 {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  hls.return %x : !hls.array<4x!hls.fixed<16, 6>>
}
// CHECK: hls.func 'f': pipeline_interval must be at least 1

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.activation %x {layer = "a", kind = #hls<activation sigmoid>, table = dense<1> : tensor<2xi64>, table_size = 4 : i64, table_t = !hls.ufixed<18, 0>, table_min = -8.0 : f64, table_max = 8.0 : f64} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<4x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x!hls.fixed<16, 6>>
}
// CHECK: hls.activation 'a': table must hold table_size = 4 entries

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.activation %x {layer = "a", kind = #hls<activation sigmoid>, table = dense<1> : tensor<4xi64>, table_size = 4 : i64, table_t = !hls.ufixed<18, 0>, table_min = -8.0 : f64, table_max = 4.0 : f64} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<4x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x!hls.fixed<16, 6>>
}
// CHECK: hls.activation 'a': table range [table_min, table_max) must have a power-of-two length, got 12.0

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.activation %x {layer = "a", kind = #hls<activation leaky_relu>, alpha = 0.1 : f64} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<4x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x!hls.fixed<16, 6>>
}
// CHECK: hls.activation 'a': alpha and beta need their fixed-point type 'param_t'

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.activation %x {layer = "a", kind = #hls<activation leaky_relu>, alpha = 0.1 : f64, param_t = !hls.fixed<8, 1>} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<4x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x!hls.fixed<16, 6>>
}
// CHECK: hls.activation 'a': constant 0.1 is not exactly representable in fixed<8,1>

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.softmax %x {layer = "s", implementation = #hls<softmax_impl stable>, exp_table_size = 4 : i64, inv_table_size = 4 : i64, exp_table_t = !hls.ufixed<18, 8>, inv_table_t = !hls.ufixed<18, 8>, accum_t = !hls.ufixed<18, 8>} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<4x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x!hls.fixed<16, 6>>
}
// CHECK: hls.softmax 's': stable and latency softmax need exp_table, exp_range, inv_table and inv_range

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.softmax %x {layer = "s", implementation = #hls<softmax_impl stable>, exp_table = dense<1> : tensor<2xi64>, exp_table_size = 4 : i64, exp_table_t = !hls.ufixed<18, 8>, exp_range = 8.0 : f64, inv_table = dense<1> : tensor<4xi64>, inv_table_size = 4 : i64, inv_table_t = !hls.ufixed<18, 8>, inv_range = 8.0 : f64, accum_t = !hls.ufixed<18, 8>} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<4x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x!hls.fixed<16, 6>>
}
// CHECK: hls.softmax 's': exp_table must hold exp_table_size entries

// -----

hls.func @f io_parallel pipeline {
^bb0(%x: !hls.array<4x!hls.fixed<16, 6>>):
  %r = hls.softmax %x {layer = "s", implementation = #hls<softmax_impl latency>, exp_table = dense<1> : tensor<4xi64>, exp_table_size = 4 : i64, exp_table_t = !hls.ufixed<18, 8>, exp_range = 8.0 : f64, inv_table = dense<1> : tensor<2xi64>, inv_table_size = 4 : i64, inv_table_t = !hls.ufixed<18, 8>, inv_range = 8.0 : f64, accum_t = !hls.ufixed<18, 8>} : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<4x!hls.fixed<16, 6>>
  hls.return %r : !hls.array<4x!hls.fixed<16, 6>>
}
// CHECK: hls.softmax 's': inv_table must hold inv_table_size entries
