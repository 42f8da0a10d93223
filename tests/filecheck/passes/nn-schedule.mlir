// RUN: nnhls-opt %s --split-input-file --verify-diagnostics -p nn-schedule 2>/dev/null | filecheck %s
// RUN: nnhls-opt %s --split-input-file --verify-diagnostics -p nn-schedule 2>&1 >/dev/null | filecheck %s --check-prefix=WARN

// Latency strategy: any reuse factor. 8 x 4 weights of 0.3 (not a power of two) need 32
// multipliers, shared by RF = 3: ceil(32 / 3) = 11; II = RF; latency = RF + ceil(log2 8) + 2.
// Weights 0, 1, 0.5 and -2 need none. Without Resource layers, auto picks the pipeline style.
// BOPs: the 32 products of a fixed<16,6> input by fixed<16,6> weights, 32 * 16 * 16 = 8192.
func.func @latency(%a: tensor<8xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<1xf32>) {
  %x = nn.input %a {layer = "in"} : (tensor<8xf32>) -> tensor<8xf32>
  %d = nn.dense %x {layer = "fc", reuse_factor = 3 : i64, strategy = #hls<strategy latency>, weight = dense<0.3> : tensor<8x4xf32>} : (tensor<8xf32>) -> tensor<4xf32>
  %y = nn.input %b {layer = "in2"} : (tensor<4xf32>) -> tensor<4xf32>
  %e = nn.dense %y {layer = "pow2", weight = dense<[[0.0], [1.0], [0.5], [-2.0]]> : tensor<4x1xf32>} : (tensor<4xf32>) -> tensor<1xf32>
  func.return %d, %e : tensor<4xf32>, tensor<1xf32>
}
// The model: latency = the longest path (8 cycles), II = the slowest layer's (3).
// CHECK-LABEL: func.func @latency
// CHECK-SAME:    nn.latency = 8 : i64, nn.ii = 3 : i64, nn.pipeline_style = #hls<pipeline_style pipeline>
// CHECK:         nn.dense %x {layer = "fc", reuse_factor = 3 : i64, {{.*}}multipliers = 11 : i64, latency = 8 : i64, ii = 3 : i64, bops = 8192 : i64
// CHECK:         nn.dense %y {layer = "pow2", {{.*}}reuse_factor = 1 : i64, multipliers = 0 : i64, latency = 5 : i64, ii = 1 : i64, bops = 0 : i64

// -----

// BOPs follow the operand widths, not the reuse factor. In fixed<4,1> the weights truncate to
// 0.25, 0, 0.625, -0.375, 0.5, 0.25: only 0.625 and -0.375 need a multiplier (zero and powers of
// two are free), each by a fixed<6,2> input: 2 * 6 * 4 = 48 BOPs, with RF 5 as with RF 1.
func.func @bops(%a: tensor<3xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in", precision = {result = !hls.fixed<6, 2>}} : (tensor<3xf32>) -> tensor<3xf32>
  %d = nn.dense %x {layer = "fc", reuse_factor = 5 : i64, precision = {weight = !hls.fixed<4, 1>, result = !hls.fixed<12, 4>}, weight = dense<[[0.3, 0.0], [0.7, -0.3], [0.6, 0.3]]> : tensor<3x2xf32>} : (tensor<3xf32>) -> tensor<2xf32>
  func.return %d : tensor<2xf32>
}
// CHECK-LABEL: func.func @bops
// CHECK:         nn.dense %x {layer = "fc", {{.*}}multipliers = 1 : i64, latency = 9 : i64, ii = 5 : i64, bops = 48 : i64

// -----

// A layer norm's BOPs, per row of n = 3: the squares 3 x 10 x 10 (accum fixed<10,4>), d * inv
// 3 x 10 x 8 (inv_sqrt ufixed<8,4>), (d * inv) * scale 2 x 18 x 8 (in fixed<8,2> the scale 1.0 is
// a power of two, free; 0.75 and 0.3 are not), and, n not being a power of two, the sum and the
// squares times 1/n (ufixed<32,1>): (10 + 12) x 32 (variance ufixed<12,6>). 1532 per row, two
// rows: 3064; 3 + 3 + 2 + 2 = 10 multipliers, shared by the rows.
func.func @layernorm_bops(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %ln = nn.layernorm %x {layer = "ln", axes = 1 : i64, epsilon = 1.000000e-03 : f64, precision = {scale = !hls.fixed<8, 2>, accum = !hls.fixed<10, 4>, variance = !hls.ufixed<12, 6>, inv_sqrt = !hls.ufixed<8, 4>}, scale = dense<[1.0, 0.75, 0.3]> : tensor<3xf32>, bias = dense<0.0> : tensor<3xf32>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return %ln : tensor<2x3xf32>
}
// CHECK-LABEL: func.func @layernorm_bops
// CHECK:         nn.layernorm %x {layer = "ln", {{.*}}multipliers = 10 : i64, {{.*}}bops = 3064 : i64

// -----

// Resource strategy with a legal reuse factor (n_in = 8, n_out = 4, RF = 4): dataflow top.
func.func @resource(%a: tensor<8xf32>) -> tensor<4xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<8xf32>) -> tensor<8xf32>
  %d = nn.dense %x {layer = "fc", reuse_factor = 4 : i64, strategy = #hls<strategy resource>, weight = dense<0.3> : tensor<8x4xf32>} : (tensor<8xf32>) -> tensor<4xf32>
  func.return %d : tensor<4xf32>
}
// CHECK-LABEL: func.func @resource
// CHECK-SAME:    nn.pipeline_style = #hls<pipeline_style dataflow>
// CHECK:         multipliers = 8 : i64, latency = 9 : i64, ii = 4 : i64

// -----

// n_in = 3, n_out = 4: RF 4 is not legal for Resource (4 >= n_in but not a multiple of it).
func.func @bad_rf(%a: tensor<3xf32>) -> tensor<4xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<3xf32>) -> tensor<3xf32>
  %d = nn.dense %x {layer = "fc", reuse_factor = 4 : i64, strategy = #hls<strategy resource>, weight = dense<0.3> : tensor<3x4xf32>} : (tensor<3xf32>) -> tensor<4xf32>
  func.return %d : tensor<4xf32>
}
// CHECK: nn.dense 'fc': reuse factor 4 is not legal for the resource strategy with n_in = 3, n_out = 4; nearest legal values: 3, 6; or let nnhls use the nearest one with a warning, as hls4ml does, with HLSConfig.Model.SnapReuseFactor: true

// -----

// With SnapReuseFactor, the nearest legal value is used (ties go to the smaller) with a warning.
func.func @snap(%a: tensor<3xf32>) -> tensor<4xf32> attributes {nn.snap_reuse_factor} {
  %x = nn.input %a {layer = "in"} : (tensor<3xf32>) -> tensor<3xf32>
  %d = nn.dense %x {layer = "fc", reuse_factor = 5 : i64, strategy = #hls<strategy unrolled>, weight = dense<0.3> : tensor<3x4xf32>} : (tensor<3xf32>) -> tensor<4xf32>
  func.return %d : tensor<4xf32>
}
// CHECK-LABEL: func.func @snap
// CHECK:         nn.dense %x {layer = "fc", reuse_factor = 6 : i64, {{.*}}multipliers = 2 : i64
// WARN: warning: nn.dense 'fc': reuse factor 5 is not legal for the unrolled strategy with n_in = 3, n_out = 4; using 6

// -----

// A convolution's parallelization factor must divide its 6 x 6 = 36 output pixels.
func.func @bad_pf(%a: tensor<8x8x1xf32>) -> tensor<6x6x2xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<8x8x1xf32>) -> tensor<8x8x1xf32>
  %c = nn.conv2d %x {layer = "conv", parallelization_factor = 5 : i64, weight = dense<0.3> : tensor<3x3x1x2xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<8x8x1xf32>) -> tensor<6x6x2xf32>
  func.return %c : tensor<6x6x2xf32>
}
// CHECK: nn.conv2d 'conv': parallelization factor 5 does not divide the 36 output pixels; nearest legal values: 4, 6

// -----

// PipelineInterval goes with the pipeline style only.
func.func @interval(%a: tensor<2xf32>) -> tensor<2xf32> attributes {nn.pipeline_style = #hls<pipeline_style dataflow>, nn.pipeline_interval = 4 : i64} {
  %x = nn.input %a {layer = "in"} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %x : tensor<2xf32>
}
// CHECK: model 'interval': PipelineInterval needs PipelineStyle pipeline, not dataflow

// -----

// io_stream: auto picks dataflow, and the convolution handles one pixel per RF cycles: II = 36.
func.func @stream(%a: tensor<8x8x1xf32>) -> tensor<6x6x2xf32> attributes {nn.io_type = #hls<io_type io_stream>, nn.pipeline_interval = 2 : i64} {
  %x = nn.input %a {layer = "in"} : (tensor<8x8x1xf32>) -> tensor<8x8x1xf32>
  %c = nn.conv2d %x {layer = "conv", weight = dense<0.3> : tensor<3x3x1x2xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<8x8x1xf32>) -> tensor<6x6x2xf32>
  func.return %c : tensor<6x6x2xf32>
}
// CHECK-LABEL: func.func @stream
// CHECK-SAME:    nn.pipeline_style = #hls<pipeline_style dataflow>
// CHECK-NOT:     nn.pipeline_interval
// CHECK:         nn.conv2d %x {layer = "conv", {{.*}}ii = 36 : i64
// WARN: warning: model 'stream': PipelineInterval is ignored: the auto pipeline style chose dataflow

// -----

// Snapping applies to the parallelization factor too (5 is between the divisors 4 and 6 of 36:
// the tie goes to the smaller).
func.func @snap_pf(%a: tensor<8x8x1xf32>) -> tensor<6x6x2xf32> attributes {nn.snap_reuse_factor} {
  %x = nn.input %a {layer = "in"} : (tensor<8x8x1xf32>) -> tensor<8x8x1xf32>
  %c = nn.conv2d %x {layer = "conv", parallelization_factor = 5 : i64, weight = dense<0.3> : tensor<3x3x1x2xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<8x8x1xf32>) -> tensor<6x6x2xf32>
  func.return %c : tensor<6x6x2xf32>
}
// CHECK-LABEL: func.func @snap_pf
// CHECK:         nn.conv2d %x {{.*}}parallelization_factor = 4 : i64
// WARN: warning: nn.conv2d 'conv': parallelization factor 5 does not divide the 36 output pixels; using 4

// -----

// io_stream convolutions compute one output pixel at a time: a ParallelizationFactor is reported
// and reset to 1 (it would otherwise reach parameters.h without effect).
func.func @stream_pf(%a: tensor<8x8x1xf32>) -> tensor<6x6x2xf32> attributes {nn.io_type = #hls<io_type io_stream>} {
  %x = nn.input %a {layer = "in"} : (tensor<8x8x1xf32>) -> tensor<8x8x1xf32>
  %c = nn.conv2d %x {layer = "conv", parallelization_factor = 4 : i64, weight = dense<0.3> : tensor<3x3x1x2xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<8x8x1xf32>) -> tensor<6x6x2xf32>
  func.return %c : tensor<6x6x2xf32>
}
// CHECK-LABEL: func.func @stream_pf
// CHECK:         nn.conv2d %x {{.*}}parallelization_factor = 1 : i64
// WARN: warning: nn.conv2d 'conv': ParallelizationFactor 4 is ignored in io_stream (it applies to io_parallel convolutions); using 1
