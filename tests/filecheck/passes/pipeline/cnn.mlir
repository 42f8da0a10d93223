// RUN: nnhls-opt %s -p 'nn-apply-config,nn-canonicalize,nn-infer-precision,nn-schedule,lower-nn-to-hls{io-type=io_parallel}' | filecheck %s
// RUN: nnhls-opt %s -p 'nn-apply-config,nn-canonicalize,nn-infer-precision,nn-schedule,lower-nn-to-hls{io-type=io_stream}' | filecheck %s --check-prefix=STREAM

// A small CNN: 'same' conv + batchnorm + relu, max pooling, a 'valid' conv, flatten, dense, softmax.
func.func @cnn(%arg: tensor<8x8x1xf32>) -> tensor<3xf32> {
  %x = nn.input %arg {layer = "input_1"} : (tensor<8x8x1xf32>) -> tensor<8x8x1xf32>
  %c1 = nn.conv2d %x {layer = "conv1", weight = dense<0.25> : tensor<3x3x1x4xf32>, bias = dense<0.0> : tensor<4xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<8x8x1xf32>) -> tensor<8x8x4xf32>
  %bn = nn.batchnorm %c1 {layer = "bn1", scale = dense<[1.0, 0.5, 2.0, 1.5]> : tensor<4xf32>, bias = dense<0.125> : tensor<4xf32>} : (tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
  %r1 = nn.activation %bn {layer = "relu1", kind = #hls<activation relu>} : (tensor<8x8x4xf32>) -> tensor<8x8x4xf32>
  %p1 = nn.pool %r1 {layer = "pool1", op = #hls<pool_op max>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<8x8x4xf32>) -> tensor<4x4x4xf32>
  %c2 = nn.conv2d %p1 {layer = "conv2", weight = dense<-0.125> : tensor<3x3x4x2xf32>, bias = dense<0.5> : tensor<2xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<4x4x4xf32>) -> tensor<2x2x2xf32>
  %f = nn.flatten %c2 {layer = "flatten"} : (tensor<2x2x2xf32>) -> tensor<8xf32>
  %d = nn.dense %f {layer = "fc", weight = dense<0.5> : tensor<8x3xf32>, bias = dense<0.0> : tensor<3xf32>} : (tensor<8xf32>) -> tensor<3xf32>
  %s = nn.softmax %d {layer = "softmax"} : (tensor<3xf32>) -> tensor<3xf32>
  func.return %s : tensor<3xf32>
}

// io_parallel: arrays, the batchnorm folded into conv1 (0.25 * scale: 256, 128, 512, 384 in
// fixed<16,6>; bias 0 * scale + 0.125 = 128), padding kept on the convolution. Only the weight
// 0.375 (384) is not a power of two: 9 kernel positions need a multiplier.
// The model latency is the sum of the layer latencies on the path (70 + 1 + 3 + 12 + 0 + 6 + 8),
// its II the slowest layer's (conv1: 64 pixels, one per cycle).
// CHECK-LABEL: hls.func @cnn io_parallel pipeline attributes {latency = 100 : i64, ii = 64 : i64} {
// CHECK-NEXT:  ^bb0(%input: !hls.array<8x8x1x!hls.fixed<16, 6>>):
// CHECK-NEXT:    %conv1 = hls.conv2d %input {layer = "conv1", {{.*}}multipliers = 9 : i64, {{.*}}weight = dense<{{\[\[\[\[}}256, 128, 512, 384]],{{.*}}bias = dense<128> : tensor<4xi64>{{.*}}pads = array<i64: 1, 1, 1, 1>, parallelization_factor = 1 : i64} : (!hls.array<8x8x1x!hls.fixed<16, 6>>) -> !hls.array<8x8x4x!hls.fixed<16, 6>>
// CHECK-NEXT:    %relu1 = hls.activation %conv1 {{{.*}}latency = 1 : i64, ii = 1 : i64
// CHECK-NEXT:    %pool1 = hls.pool %relu1 {layer = "pool1", {{.*}}op = #hls<pool_op max>{{.*}} -> !hls.array<4x4x4x!hls.fixed<16, 6>>
// CHECK-NEXT:    %conv2 = hls.conv2d %pool1 {{.*}} -> !hls.array<2x2x2x!hls.fixed<16, 6>>
// CHECK-NEXT:    %flatten = hls.reshape %conv2 {{.*}} -> !hls.array<8x!hls.fixed<16, 6>>
// CHECK-NEXT:    %fc = hls.dense %flatten
// CHECK-NEXT:    %softmax = hls.softmax %fc
// CHECK-NEXT:    hls.return %softmax

// io_stream: streams of pixels (FIFO depth = pixels), explicit zero padding before the 'same'
// convolution, dataflow top.
// STREAM-LABEL: hls.func @cnn io_stream dataflow attributes {latency = 100 : i64, ii = 64 : i64} {
// STREAM-NEXT:  ^bb0(%input: !hls.stream<8x8x1x!hls.fixed<16, 6>, depth 64>):
// STREAM-NEXT:    %conv1_pad = hls.pad %input {layer = "conv1_pad", pads = array<i64: 1, 1, 1, 1>} : (!hls.stream<8x8x1x!hls.fixed<16, 6>, depth 64>) -> !hls.stream<10x10x1x!hls.fixed<16, 6>, depth 100>
// STREAM-NEXT:    %conv1 = hls.conv2d %conv1_pad {{.*}}pads = array<i64: 0, 0, 0, 0>{{.*}} -> !hls.stream<8x8x4x!hls.fixed<16, 6>, depth 64>
// STREAM-NEXT:    %relu1 = hls.activation %conv1
// STREAM-NEXT:    %pool1 = hls.pool %relu1 {{.*}} -> !hls.stream<4x4x4x!hls.fixed<16, 6>, depth 16>
// STREAM-NEXT:    %conv2 = hls.conv2d %pool1 {{.*}} -> !hls.stream<2x2x2x!hls.fixed<16, 6>, depth 4>
// STREAM-NEXT:    %flatten = hls.reshape %conv2 {{.*}} -> !hls.stream<8x!hls.fixed<16, 6>, depth 1>
// STREAM-NEXT:    %fc = hls.dense %flatten
// STREAM-NEXT:    %softmax = hls.softmax %fc
// STREAM-NEXT:    hls.return %softmax : !hls.stream<3x!hls.fixed<16, 6>, depth 1>
