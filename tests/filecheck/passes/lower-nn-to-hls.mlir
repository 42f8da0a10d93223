// RUN: nnhls-opt %s --split-input-file --verify-diagnostics -p 'lower-nn-to-hls{io-type=io_parallel}' | filecheck %s
// RUN: nnhls-opt %s --split-input-file --verify-diagnostics -p 'lower-nn-to-hls{io-type=io_stream}' | filecheck %s --check-prefix=STREAM
// RUN: not nnhls-opt %s --split-input-file -p 'lower-nn-to-hls{io-type=io_serial}' 2>&1 | filecheck %s --check-prefix=BADIO
// RUN: nnhls-opt %s --split-input-file --verify-diagnostics -p 'lower-nn-to-hls' 2>&1 >/dev/null | filecheck %s --check-prefix=WARN

// BADIO: error: lower-nn-to-hls: io-type must be io_parallel or io_stream, got 'io_serial'

// A dense layer: weights become mantissas of weight_t (fixed<8,3>: 5 fractional bits, so 0.5 -> 16,
// -0.25 -> -8, 1.0 -> 32, 0.125 -> 4), the input op becomes the argument, typed by its precision.
// Every weight is +-2^k: weight_encoding = "po2" (shift codes, a multiplier-free kernel).
func.func @dense(%a: tensor<2xf32>) -> tensor<2xf32> attributes {nn.pipeline_style = #hls<pipeline_style pipeline>, nn.pipeline_interval = 2 : i64} {
  %x = nn.input %a {layer = "input_1", precision = {result = !hls.fixed<10, 4>}} : (tensor<2xf32>) -> tensor<2xf32>
  %d = nn.dense %x {layer = "fc1", precision = {weight = !hls.fixed<8, 3>, bias = !hls.fixed<8, 3>, accum = !hls.fixed<20, 8>, result = !hls.fixed<12, 5>}, reuse_factor = 1 : i64, multipliers = 0 : i64, latency = 4 : i64, ii = 1 : i64, weight = dense<[[0.5, -0.25], [1.0, 0.125]]> : tensor<2x2xf32>, bias = dense<[0.0625, -1.0]> : tensor<2xf32>} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %d : tensor<2xf32>
}
// CHECK-LABEL: hls.func @dense io_parallel pipeline interval 2 {
// CHECK-NEXT:  ^bb0(%input: !hls.array<2x!hls.fixed<10, 4>>):
// CHECK-NEXT:    %fc1 = hls.dense %input {layer = "fc1", reuse_factor = 1 : i64, multipliers = 0 : i64, latency = 4 : i64, ii = 1 : i64, weight = dense<{{\[}}[16, -8], [32, 4]]> : tensor<2x2xi64>, weight_t = !hls.fixed<8, 3>, weight_encoding = "po2", bias = dense<[2, -32]> : tensor<2xi64>, bias_t = !hls.fixed<8, 3>, accum_t = !hls.fixed<20, 8>, strategy = #hls<strategy latency>} : (!hls.array<2x!hls.fixed<10, 4>>) -> !hls.array<2x!hls.fixed<12, 5>>
// CHECK-NEXT:    hls.return %fc1 : !hls.array<2x!hls.fixed<12, 5>>
// STREAM-LABEL: hls.func @dense io_stream dataflow {
// STREAM-NEXT:  ^bb0(%input: !hls.stream<2x!hls.fixed<10, 4>, depth 1>):

// -----

// A compressed dense layer (sparse triplets) whose weights are 0 or +-2^-1: the triplets hold the
// non-zero weights only, as shift codes: weight_encoding binary (1 bit: the sign), not ternary.
func.func @compressed(%a: tensor<3xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in", precision = {result = !hls.fixed<10, 4>}} : (tensor<3xf32>) -> tensor<3xf32>
  %d = nn.dense %x {layer = "fc", precision = {weight = !hls.fixed<4, 1>, bias = !hls.fixed<8, 3>, accum = !hls.fixed<12, 5>, result = !hls.fixed<12, 5>}, weight = dense<[[0.5, 0.0], [0.0, -0.5], [-0.5, 0.0]]> : tensor<3x2xf32>, compression} : (tensor<3xf32>) -> tensor<2xf32>
  func.return %d : tensor<2xf32>
}
// CHECK-LABEL: hls.func @compressed io_parallel pipeline {
// CHECK:         %fc = hls.dense %in {layer = "fc", weight = dense<{{\[}}[4, 0], [0, -4], [-4, 0]]> : tensor<3x2xi64>, weight_t = !hls.fixed<4, 1>, weight_encoding = "binary", {{.*}}compression}

// -----

// 'same' convolution: in io_stream an explicit zero padding precedes it; FIFO depth = pixels.
func.func @conv(%a: tensor<4x4x1xf32>) -> tensor<4x4x2xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<4x4x1xf32>) -> tensor<4x4x1xf32>
  %c = nn.conv2d %x {layer = "conv", parallelization_factor = 2 : i64, weight = dense<0.5> : tensor<3x3x1x2xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<4x4x1xf32>) -> tensor<4x4x2xf32>
  func.return %c : tensor<4x4x2xf32>
}
// CHECK-LABEL: hls.func @conv io_parallel pipeline {
// CHECK-NEXT:  ^bb0(%in: !hls.array<4x4x1x!hls.fixed<16, 6>>):
// CHECK-NEXT:    %conv = hls.conv2d %in {layer = "conv", weight = dense<512> : tensor<3x3x1x2xi64>, weight_t = !hls.fixed<16, 6>, weight_encoding = "binary", bias = dense<0> : tensor<2xi64>, bias_t = !hls.fixed<16, 6>, accum_t = !hls.fixed<16, 6>, strategy = #hls<strategy latency>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, parallelization_factor = 2 : i64}
// STREAM-LABEL: hls.func @conv io_stream dataflow {
// STREAM-NEXT:  ^bb0(%in: !hls.stream<4x4x1x!hls.fixed<16, 6>, depth 16>):
// STREAM-NEXT:    %conv_pad = hls.pad %in {layer = "conv_pad", pads = array<i64: 1, 1, 1, 1>} : (!hls.stream<4x4x1x!hls.fixed<16, 6>, depth 16>) -> !hls.stream<6x6x1x!hls.fixed<16, 6>, depth 36>
// STREAM-NEXT:    %conv = hls.conv2d %conv_pad {{.*}}pads = array<i64: 0, 0, 0, 0>{{.*}} : (!hls.stream<6x6x1x!hls.fixed<16, 6>, depth 36>) -> !hls.stream<4x4x2x!hls.fixed<16, 6>, depth 16>

// -----

// A tensor read twice: in io_stream it goes through a clone (one stream per reader); a three-way
// add becomes a chain of binary merges with an exact intermediate type.
func.func @branches(%a: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %x = nn.input %a {layer = "in", precision = {result = !hls.fixed<8, 3>}} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %r = nn.activation %x {layer = "relu", precision = {result = !hls.ufixed<7, 2>}, kind = #hls<activation relu>} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %s = nn.add %x, %r, %x {layer = "add", precision = {result = !hls.fixed<10, 5>}} : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  func.return %s : tensor<2x2xf32>
}
// CHECK-LABEL: hls.func @branches io_parallel pipeline {
// CHECK:         %relu = hls.activation %in {layer = "relu", kind = #hls<activation relu>}
// CHECK-NEXT:    %add_part1 = hls.merge %in, %relu {layer = "add_part1", kind = #hls<merge add>} : (!hls.array<2x2x!hls.fixed<8, 3>>, !hls.array<2x2x!hls.ufixed<7, 2>>) -> !hls.array<2x2x!hls.fixed<9, 4>>
// CHECK-NEXT:    %add = hls.merge %add_part1, %in {layer = "add", kind = #hls<merge add>} : ({{.*}}) -> !hls.array<2x2x!hls.fixed<10, 5>>
// STREAM-LABEL: hls.func @branches io_stream dataflow {
// STREAM-NEXT:  ^bb0(%in: !hls.stream<2x2x!hls.fixed<8, 3>, depth 2>):
// STREAM-NEXT:    %in_cpy1, %in_cpy2, %in_cpy3 = hls.clone %in {layer = "in_clone"} : (!hls.stream<2x2x!hls.fixed<8, 3>, depth 2>) -> (!hls.stream<2x2x!hls.fixed<8, 3>, depth 2>, !hls.stream<2x2x!hls.fixed<8, 3>, depth 2>, !hls.stream<2x2x!hls.fixed<8, 3>, depth 2>)
// STREAM-NEXT:    %relu = hls.activation %in_cpy1
// STREAM-NEXT:    %add_part1 = hls.merge %in_cpy2, %relu
// STREAM-NEXT:    %add = hls.merge %add_part1, %in_cpy3

// -----

// BramFactor (nn.bram_factor from the config): dense/conv kernels with more weights than it keep
// them in BRAM; smaller ones do not.
func.func @bram(%a: tensor<4xf32>) -> tensor<1xf32> attributes {nn.bram_factor = 6 : i64} {
  %x = nn.input %a {layer = "in"} : (tensor<4xf32>) -> tensor<4xf32>
  %d1 = nn.dense %x {layer = "wide", weight = dense<0.5> : tensor<4x2xf32>} : (tensor<4xf32>) -> tensor<2xf32>
  %d2 = nn.dense %d1 {layer = "narrow", weight = dense<0.5> : tensor<2x1xf32>} : (tensor<2xf32>) -> tensor<1xf32>
  func.return %d2 : tensor<1xf32>
}
// CHECK-LABEL: hls.func @bram io_parallel pipeline {
// CHECK:         %wide = hls.dense %in {layer = "wide"
// CHECK-SAME:    store_weights_in_bram}
// CHECK-NEXT:    %narrow = hls.dense %wide {layer = "narrow"
// CHECK-NOT:     store_weights_in_bram
// CHECK:         hls.return
// STREAM-LABEL: hls.func @bram io_stream dataflow {
// STREAM:         %wide = hls.dense %in {layer = "wide"
// STREAM-SAME:    store_weights_in_bram}

// -----

// A fan-out wider than the widest clone kernel (6 outputs) becomes a chain of clones: the last
// output of the first clone feeds the second.
func.func @wide_fanout(%a: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %x = nn.input %a {layer = "in", precision = {result = !hls.fixed<8, 3>}} : (tensor<4xf32>) -> tensor<4xf32>
  %r1 = nn.activation %x {layer = "relu1", kind = #hls<activation relu>} : (tensor<4xf32>) -> tensor<4xf32>
  %r2 = nn.activation %x {layer = "relu2", kind = #hls<activation relu>} : (tensor<4xf32>) -> tensor<4xf32>
  %r3 = nn.activation %x {layer = "relu3", kind = #hls<activation relu>} : (tensor<4xf32>) -> tensor<4xf32>
  %r4 = nn.activation %x {layer = "relu4", kind = #hls<activation relu>} : (tensor<4xf32>) -> tensor<4xf32>
  %r5 = nn.activation %x {layer = "relu5", kind = #hls<activation relu>} : (tensor<4xf32>) -> tensor<4xf32>
  %r6 = nn.activation %x {layer = "relu6", kind = #hls<activation relu>} : (tensor<4xf32>) -> tensor<4xf32>
  %r7 = nn.activation %x {layer = "relu7", kind = #hls<activation relu>} : (tensor<4xf32>) -> tensor<4xf32>
  %r8 = nn.activation %x {layer = "relu8", kind = #hls<activation relu>} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %r1, %r2, %r3, %r4, %r5, %r6, %r7, %r8 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
// CHECK-LABEL: hls.func @wide_fanout io_parallel pipeline {
// CHECK-NOT:     hls.clone
// STREAM-LABEL: hls.func @wide_fanout io_stream dataflow {
// STREAM:         %in_cpy1, %in_cpy2, %in_cpy3, %in_cpy4, %in_cpy5, %in_clone_next = hls.clone %in {layer = "in_clone"}
// STREAM-NEXT:    %in_cpy6, %in_cpy7, %in_cpy8 = hls.clone %in_clone_next {layer = "in_clone2"}
// STREAM-NEXT:    %relu1 = hls.activation %in_cpy1
// STREAM:         %relu8 = hls.activation %in_cpy8

// -----

// Activation constants: alpha rounded to param_t (fixed<8,2>: 0.3 -> 19/64 = 0.296875); a table
// activation gets its table: sigmoid over [-8, 8) in 8 bins, at the centres -7, -5, ..., 7, in
// ufixed<8,0> (truncated: 0.00091 -> 0, 0.0067 -> 1, 0.047 -> 12, 0.269 -> 68, 0.731 -> 187,
// 0.953 -> 243, 0.9933 -> 254, 0.99909 -> 255).
func.func @activations(%a: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %x = nn.input %a {layer = "in"} : (tensor<4xf32>) -> tensor<4xf32>
  %l = nn.activation %x {layer = "leaky", precision = {result = !hls.fixed<16, 6>, param = !hls.fixed<8, 2>}, kind = #hls<activation leaky_relu>, alpha = 0.3 : f64} : (tensor<4xf32>) -> tensor<4xf32>
  %s = nn.activation %x {layer = "sig", precision = {result = !hls.ufixed<8, 0>, table = !hls.ufixed<8, 0>}, kind = #hls<activation sigmoid>, table_size = 8 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %l, %s : tensor<4xf32>, tensor<4xf32>
}
// CHECK-LABEL: hls.func @activations
// CHECK:         hls.activation %in {layer = "leaky", kind = #hls<activation leaky_relu>, param_t = !hls.fixed<8, 2>, alpha = 2.968750e-01 : f64}
// CHECK:         hls.activation %in {layer = "sig", kind = #hls<activation sigmoid>, table = dense<[0, 1, 12, 68, 187, 243, 254, 255]> : tensor<8xi64>, table_size = 8 : i64, table_t = !hls.ufixed<8, 0>, table_min = -8.000000e+00 : f64, table_max = 8.000000e+00 : f64}

// -----

// Softmax tables: exp table ufixed<8,1> (7 fractional bits) covers d = max - x up to
// (7 + 1) * ln 2 = 5.5 -> exp_range 8, entries exp(-(i + 0.5)) * 128 truncated, entry 0 = 1;
// 4 entries of at most 1 sum to 4 -> inv_range 8, entries 1 / (j + 0.5) in ufixed<12,5> (* 128).
func.func @softmax(%a: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %x = nn.input %a {layer = "in"} : (tensor<4xf32>) -> tensor<4xf32>
  %s = nn.softmax %x {layer = "sm", precision = {result = !hls.ufixed<9, 1>, exp_table = !hls.ufixed<8, 1>, inv_table = !hls.ufixed<12, 5>, accum = !hls.ufixed<10, 3>}, exp_table_size = 8 : i64, inv_table_size = 8 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  %m = nn.softmax %x {layer = "am", implementation = #hls<softmax_impl argmax>} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %s, %m : tensor<4xf32>, tensor<4xf32>
}
// CHECK-LABEL: hls.func @softmax
// CHECK:         hls.softmax %in {layer = "sm", implementation = #hls<softmax_impl stable>, exp_table_size = 8 : i64, exp_table_t = !hls.ufixed<8, 1>, inv_table_size = 8 : i64, inv_table_t = !hls.ufixed<12, 5>, accum_t = !hls.ufixed<10, 3>, exp_table = dense<[128, 28, 10, 3, 1, 0, 0, 0]> : tensor<8xi64>, exp_range = 8.000000e+00 : f64, inv_table = dense<[256, 85, 51, 36, 28, 23, 19, 17]> : tensor<8xi64>, inv_range = 8.000000e+00 : f64}
// CHECK:         hls.softmax %in {layer = "am", implementation = #hls<softmax_impl argmax>, exp_table_size = 1024 : i64, exp_table_t = !hls.fixed<16, 6>, inv_table_size = 1024 : i64, inv_table_t = !hls.fixed<16, 6>, accum_t = !hls.fixed<16, 6>}

// -----

// Pooling, batchnorm and shape ops map one to one; a dropout that changes the type is a cast.
func.func @misc(%a: tensor<4x4x2xf32>) -> tensor<8x2xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<4x4x2xf32>) -> tensor<4x4x2xf32>
  %p = nn.pool %x {layer = "pool", op = #hls<pool_op average>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<4x4x2xf32>) -> tensor<2x2x2xf32>
  %b = nn.batchnorm %p {layer = "bn", precision = {scale = !hls.fixed<8, 2>, bias = !hls.fixed<8, 2>}, scale = dense<[0.5, 1.5]> : tensor<2xf32>, bias = dense<[0.25, -1.0]> : tensor<2xf32>} : (tensor<2x2x2xf32>) -> tensor<2x2x2xf32>
  %u = nn.upsample %b {layer = "up", factors = array<i64: 2, 1>} : (tensor<2x2x2xf32>) -> tensor<4x2x2xf32>
  %r = nn.reshape %u {layer = "reshape"} : (tensor<4x2x2xf32>) -> tensor<8x2xf32>
  %d = nn.dropout %r {layer = "drop", precision = {result = !hls.fixed<8, 4>}} : (tensor<8x2xf32>) -> tensor<8x2xf32>
  func.return %d : tensor<8x2xf32>
}
// CHECK-LABEL: hls.func @misc
// CHECK-NEXT:  ^bb0
// CHECK-NEXT:    %pool = hls.pool %in {layer = "pool", op = #hls<pool_op average>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, accum_t = !hls.fixed<16, 6>}
// CHECK-NEXT:    %bn = hls.batchnorm %pool {layer = "bn", scale = dense<[32, 96]> : tensor<2xi64>, scale_t = !hls.fixed<8, 2>, bias = dense<[16, -64]> : tensor<2xi64>, bias_t = !hls.fixed<8, 2>, accum_t = !hls.fixed<16, 6>}
// CHECK-NEXT:    %up = hls.upsample %bn {layer = "up", factors = array<i64: 2, 1>}
// CHECK-NEXT:    %reshape = hls.reshape %up {layer = "reshape"} : (!hls.array<4x2x2x!hls.fixed<16, 6>>) -> !hls.array<8x2x!hls.fixed<16, 6>>
// CHECK-NEXT:    %drop = hls.cast %reshape {layer = "drop"} : (!hls.array<8x2x!hls.fixed<16, 6>>) -> !hls.array<8x2x!hls.fixed<8, 4>>
// CHECK-NEXT:    hls.return %drop

// -----

// Constants are supported only as per-channel operands of add, sub and mul.
func.func @bad_constant(%a: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %x = nn.input %a {layer = "x"} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %k = nn.constant {layer = "k", value = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %m = nn.mul %x, %k {layer = "mul"} : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  func.return %m : tensor<2x2xf32>
}
// CHECK: nn.mul 'mul': constant 'k' varies over the spatial axes; only per-channel constants are supported
// STREAM: nn.mul 'mul': constant 'k' varies over the spatial axes; only per-channel constants are supported

// -----

func.func @foreign(%a: tensor<2xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "x"} : (tensor<2xf32>) -> tensor<2xf32>
  %c = arith.constant 1.0 : f32
  func.return %x : tensor<2xf32>
}
// CHECK: cannot lower arith.constant: only nn ops and func.return are supported

// -----

func.func @constant_elsewhere(%a: tensor<2xf32>) -> (tensor<4xf32>, tensor<2xf32>) {
  %x = nn.input %a {layer = "x"} : (tensor<2xf32>) -> tensor<2xf32>
  %k = nn.constant {layer = "k", value = dense<1.0> : tensor<2xf32>} : tensor<2xf32>
  %c = nn.concat %x, %k {layer = "cat", axis = 0 : i64} : (tensor<2xf32>, tensor<2xf32>) -> tensor<4xf32>
  func.return %c, %x : tensor<4xf32>, tensor<2xf32>
}
// CHECK: nn.concat 'cat': reads the constant 'k'; constants are only supported as per-channel operands of add, sub and mul

// -----

func.func @constant_in_three_way_add(%a: tensor<2xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "x"} : (tensor<2xf32>) -> tensor<2xf32>
  %k = nn.constant {layer = "k", value = dense<1.0> : tensor<2xf32>} : tensor<2xf32>
  %s = nn.add %x, %k, %x {layer = "add3"} : (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  func.return %s : tensor<2xf32>
}
// CHECK: nn.add 'add3': constants are only supported in two-input add, sub and mul

// -----

func.func @two_constants(%a: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>) {
  %x = nn.input %a {layer = "x"} : (tensor<2xf32>) -> tensor<2xf32>
  %k = nn.constant {layer = "k", value = dense<1.0> : tensor<2xf32>} : tensor<2xf32>
  %m = nn.mul %k, %k {layer = "kk"} : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  func.return %m, %x : tensor<2xf32>, tensor<2xf32>
}
// CHECK: nn.mul 'kk': a merge of two constants should be folded

// -----

// Concatenation along any axis; io_stream along a spatial axis sends whole pixels.
func.func @concat_rows(%a: tensor<2x3xf32>, %b: tensor<1x3xf32>) -> tensor<3x3xf32> {
  %x = nn.input %a {layer = "x"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %y = nn.input %b {layer = "y"} : (tensor<1x3xf32>) -> tensor<1x3xf32>
  %c = nn.concat %x, %y {layer = "rows", axis = 0 : i64} : (tensor<2x3xf32>, tensor<1x3xf32>) -> tensor<3x3xf32>
  func.return %c : tensor<3x3xf32>
}
// CHECK-LABEL: hls.func @concat_rows io_parallel
// CHECK:         hls.concat %x, %y {layer = "rows", axis = 0 : i64} : (!hls.array<2x3x!hls.fixed<16, 6>>, !hls.array<1x3x!hls.fixed<16, 6>>) -> !hls.array<3x3x!hls.fixed<16, 6>>
// STREAM-LABEL: hls.func @concat_rows io_stream
// STREAM:         hls.concat %x, %y {layer = "rows", axis = 0 : i64} : (!hls.stream<2x3x!hls.fixed<16, 6>, depth 2>, !hls.stream<1x3x!hls.fixed<16, 6>, depth 1>) -> !hls.stream<3x3x!hls.fixed<16, 6>, depth 3>

// -----

// Weights outside a pinned weight type are reported and saturate (a constant never wraps):
// fixed<8,2> holds [-2, 1.98] with 6 fractional bits, so 5.0 becomes 127 and -3.0 becomes -128.
func.func @narrow_weights(%a: tensor<2xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "x"} : (tensor<2xf32>) -> tensor<2xf32>
  %d = nn.dense %x {layer = "fc", precision = {weight = !hls.fixed<8, 2>}, weight = dense<[[5.0, 0.5], [-3.0, 1.0]]> : tensor<2x2xf32>} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %d : tensor<2xf32>
}
// CHECK-LABEL: hls.func @narrow_weights
// CHECK:         weight = dense<{{\[}}[127, 32], [-128, 64]]>
// WARN: warning: nn.dense 'fc' weight: 2 of 4 values lie outside fixed<8,2> [-2, 1.98438]; saturated to its range

// -----

// A per-channel power-of-two grid (QONNX per-channel Quant, HGQ): hls.quantize with one parameter
// set per channel: frac = -log2(scale), lo / hi the codes (a zero point folded in).
func.func @quantize_per_channel(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %x = nn.input %a {layer = "in", precision = {result = !hls.fixed<10, 4>}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %q = nn.quantize %x {layer = "q", quantizer = #nn.quant<uniform, shape = [3], bits = [4, 3, 0], signed = [true, false, true], scale = [0.25, 1.0, 1.0], zero_point = [0.0, 1.0, 0.0]>, precision = {result = !hls.fixed<8, 4>}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return %q : tensor<2x3xf32>
}
// CHECK-LABEL: hls.func @quantize_per_channel
// CHECK:         %q = hls.quantize %in {layer = "q", {{.*}}frac = dense<[2, 0, 0]> : tensor<3xi64>, lo = dense<[-8, -1, 0]> : tensor<3xi64>, hi = dense<[7, 6, 0]> : tensor<3xi64>, rounding = "RND_CONV", saturate}
// STREAM-LABEL: hls.func @quantize_per_channel
// STREAM:        hls.quantize {{.*}} -> !hls.stream<2x3x!hls.fixed<8, 4>, depth 2>

// -----

// A binary activation after a folded batchnorm (x * 2 - 1 >= 0): hls.threshold, per channel, with
// its threshold on the input grid (0.5 -> mantissa 32 of fixed<10,4>) and its levels -1, 1.
func.func @threshold(%a: tensor<2xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in", precision = {result = !hls.fixed<10, 4>}} : (tensor<2xf32>) -> tensor<2xf32>
  %q = nn.quantize %x {layer = "sign", quantizer = #nn.quant<binary>, input_scale = dense<[2.0, 1.0]> : tensor<2xf32>, input_bias = dense<[-1.0, 0.0]> : tensor<2xf32>, precision = {result = !hls.fixed<2, 2>}} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %q : tensor<2xf32>
}
// CHECK-LABEL: hls.func @threshold
// CHECK:         %sign = hls.threshold %in {layer = "sign", {{.*}}thresholds = dense<{{\[}}[32], [0]]> : tensor<2x1xi64>, threshold_t = !hls.fixed<10, 4>, levels = dense<{{\[}}[-1, 1], [-1, 1]]> : tensor<2x2xi64>, level_t = !hls.fixed<2, 2>}
