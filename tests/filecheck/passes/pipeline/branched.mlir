// RUN: nnhls-opt %s -p 'nn-apply-config,nn-canonicalize,nn-infer-precision,nn-schedule,lower-nn-to-hls{io-type=io_parallel}' | filecheck %s
// RUN: nnhls-opt %s -p 'nn-apply-config,nn-canonicalize,nn-infer-precision,nn-schedule,lower-nn-to-hls{io-type=io_stream}' | filecheck %s --check-prefix=STREAM

// A branched model with two inputs and two outputs: a residual block (the input read by two
// convolutions and the add), a concatenation, global average pooling.
func.func @branched(%a: tensor<4x4x2xf32>, %b: tensor<2xf32>) -> (tensor<4x4x2xf32>, tensor<3xf32>) {
  %x = nn.input %a {layer = "image"} : (tensor<4x4x2xf32>) -> tensor<4x4x2xf32>
  %v = nn.input %b {layer = "extra"} : (tensor<2xf32>) -> tensor<2xf32>
  %c1 = nn.conv2d %x {layer = "conv_a", weight = dense<0.5> : tensor<1x1x2x2xf32>, bias = dense<0.0> : tensor<2xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<4x4x2xf32>) -> tensor<4x4x2xf32>
  %c2 = nn.conv2d %x {layer = "conv_b", weight = dense<0.25> : tensor<3x3x2x2xf32>, bias = dense<0.0> : tensor<2xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<4x4x2xf32>) -> tensor<4x4x2xf32>
  %s = nn.add %c1, %c2, %x {layer = "residual"} : (tensor<4x4x2xf32>, tensor<4x4x2xf32>, tensor<4x4x2xf32>) -> tensor<4x4x2xf32>
  %r = nn.activation %s {layer = "relu", kind = #hls<activation relu>} : (tensor<4x4x2xf32>) -> tensor<4x4x2xf32>
  %g = nn.global_pool %r {layer = "gap", op = #hls<pool_op average>} : (tensor<4x4x2xf32>) -> tensor<2xf32>
  %cat = nn.concat %g, %v {layer = "concat", axis = 0 : i64} : (tensor<2xf32>, tensor<2xf32>) -> tensor<4xf32>
  %d = nn.dense %cat {layer = "head", weight = dense<0.5> : tensor<4x3xf32>, bias = dense<0.0> : tensor<3xf32>} : (tensor<4xf32>) -> tensor<3xf32>
  func.return %r, %d : tensor<4x4x2xf32>, tensor<3xf32>
}

// CHECK-LABEL: hls.func @branched io_parallel pipeline attributes {
// CHECK-NEXT:  ^bb0(%image: !hls.array<4x4x2x!hls.fixed<16, 6>>, %extra: !hls.array<2x!hls.fixed<16, 6>>):
// CHECK-NEXT:    %conv_a = hls.conv2d %image
// CHECK-NEXT:    %conv_b = hls.conv2d %image
// CHECK-NEXT:    %residual_part1 = hls.merge %conv_a, %conv_b {layer = "residual_part1", {{.*}}kind = #hls<merge add>} : ({{.*}}) -> !hls.array<4x4x2x!hls.fixed<17, 7>>
// CHECK-NEXT:    %residual = hls.merge %residual_part1, %image {layer = "residual", {{.*}}kind = #hls<merge add>} : ({{.*}}) -> !hls.array<4x4x2x!hls.fixed<16, 6>>
// CHECK-NEXT:    %relu = hls.activation %residual
// CHECK-NEXT:    %gap = hls.global_pool %relu {layer = "gap", {{.*}}op = #hls<pool_op average>
// CHECK-NEXT:    %concat = hls.concat %gap, %extra {layer = "concat", {{.*}}axis = 0 : i64}
// CHECK-NEXT:    %head = hls.dense %concat
// CHECK-NEXT:    hls.return %relu, %head : !hls.array<4x4x2x!hls.fixed<16, 6>>, !hls.array<3x!hls.fixed<16, 6>>
// CHECK-NOT:     hls.clone

// io_stream: the image is read three times (two convolutions and the add) and the relu twice
// (the pooling and the model output): one clone each.
// STREAM-LABEL: hls.func @branched io_stream dataflow attributes {
// STREAM-NEXT:  ^bb0(%image: !hls.stream<4x4x2x!hls.fixed<16, 6>, depth 16>, %extra: !hls.stream<2x!hls.fixed<16, 6>, depth 1>):
// STREAM-NEXT:    %image_cpy1, %image_cpy2, %image_cpy3 = hls.clone %image {layer = "image_clone"}
// STREAM-NEXT:    %conv_a = hls.conv2d %image_cpy1
// STREAM-NEXT:    %conv_b_pad = hls.pad %image_cpy2
// STREAM-NEXT:    %conv_b = hls.conv2d %conv_b_pad
// STREAM-NEXT:    %residual_part1 = hls.merge %conv_a, %conv_b
// STREAM-NEXT:    %residual = hls.merge %residual_part1, %image_cpy3
// STREAM-NEXT:    %relu = hls.activation %residual
// STREAM-NEXT:    %relu_cpy1, %relu_cpy2 = hls.clone %relu {layer = "relu_clone"}
// STREAM-NEXT:    %gap = hls.global_pool %relu_cpy1
// STREAM-NEXT:    %concat = hls.concat %gap, %extra
// STREAM-NEXT:    %head = hls.dense %concat
// STREAM-NEXT:    hls.return %relu_cpy2, %head
