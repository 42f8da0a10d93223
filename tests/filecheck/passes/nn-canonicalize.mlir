// RUN: nnhls-opt %s --split-input-file -p nn-canonicalize | filecheck %s

// Dropout and identity are the identity at inference.
func.func @noops(%a: tensor<4xf32>) -> tensor<4xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<4xf32>) -> tensor<4xf32>
  %d = nn.dropout %x {layer = "drop"} : (tensor<4xf32>) -> tensor<4xf32>
  %i = nn.identity %d {layer = "id"} : (tensor<4xf32>) -> tensor<4xf32>
  %r = nn.activation %i {layer = "relu", kind = #hls<activation relu>} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %r : tensor<4xf32>
}
// CHECK-LABEL: func.func @noops
// CHECK-NEXT:    %x = nn.input %a
// CHECK-NEXT:    %r = nn.activation %x {layer = "relu"
// CHECK-NEXT:    func.return %r

// -----

// A batchnorm folds into the dense before it: W' = W * scale, b' = b * scale + bias
// ([[1, 2]] * [2, 0.5] = [[2, 1]]; [0, 1] * [2, 0.5] + [1, 0] = [1, 0.5]).
func.func @fold_dense(%a: tensor<1xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<1xf32>) -> tensor<1xf32>
  %d = nn.dense %x {layer = "fc1", weight = dense<[[1.0, 2.0]]> : tensor<1x2xf32>, bias = dense<[0.0, 1.0]> : tensor<2xf32>} : (tensor<1xf32>) -> tensor<2xf32>
  %b = nn.batchnorm %d {layer = "bn", precision = {result = !hls.fixed<12, 4>}, scale = dense<[2.0, 0.5]> : tensor<2xf32>, bias = dense<[1.0, 0.0]> : tensor<2xf32>} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %b : tensor<2xf32>
}
// CHECK-LABEL: func.func @fold_dense
// CHECK-NEXT:    %x = nn.input
// CHECK-NEXT:    %d = nn.dense %x {layer = "fc1", weight = dense<{{\[}}[2.000000e+00, 1.000000e+00]]> : tensor<1x2xf32>, bias = dense<[1.000000e+00, 5.000000e-01]> : tensor<2xf32>, precision = {result = !hls.fixed<12, 4>}}
// CHECK-NEXT:    func.return %d

// -----

// A pinned weight type does not keep the batchnorm apart: it types the folded weights (hls4ml's
// rule; data calibration chooses it for the folded layer).
func.func @fold_pinned_weight(%a: tensor<1xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<1xf32>) -> tensor<1xf32>
  %d = nn.dense %x {layer = "fc1", precision = {weight = !hls.fixed<8, 3>}, weight = dense<[[1.0, 2.0]]> : tensor<1x2xf32>} : (tensor<1xf32>) -> tensor<2xf32>
  %b = nn.batchnorm %d {layer = "bn", precision = {result = !hls.fixed<12, 4>}, scale = dense<[2.0, 0.5]> : tensor<2xf32>, bias = dense<[1.0, 0.0]> : tensor<2xf32>} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %b : tensor<2xf32>
}
// CHECK-LABEL: func.func @fold_pinned_weight
// CHECK-NEXT:    %x = nn.input
// CHECK-NEXT:    %d = nn.dense %x {layer = "fc1", precision = {weight = !hls.fixed<8, 3>, result = !hls.fixed<12, 4>}, weight = dense<{{\[}}[2.000000e+00, 1.000000e+00]]>
// CHECK-NEXT:    func.return %d

// -----

// Not folded: the dense's result type is pinned (not the model default: the user typed the value
// folding would remove), or the conv has another user.
func.func @no_fold(%a: tensor<1xf32>, %c: tensor<3x1xf32>) -> (tensor<2xf32>, tensor<3x1xf32>, tensor<3x1xf32>) {
  %x = nn.input %a {layer = "in"} : (tensor<1xf32>) -> tensor<1xf32>
  %d = nn.dense %x {layer = "fc1", precision = {result = !hls.fixed<8, 2>}, weight = dense<[[1.0, 2.0]]> : tensor<1x2xf32>} : (tensor<1xf32>) -> tensor<2xf32>
  %b = nn.batchnorm %d {layer = "bn", scale = dense<[2.0, 0.5]> : tensor<2xf32>, bias = dense<[1.0, 0.0]> : tensor<2xf32>} : (tensor<2xf32>) -> tensor<2xf32>
  %y = nn.input %c {layer = "in2"} : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %k = nn.conv1d %y {layer = "conv", weight = dense<0.5> : tensor<1x1x1xf32>, strides = array<i64: 1>, dilations = array<i64: 1>, pads = array<i64: 0, 0>} : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %b2 = nn.batchnorm %k {layer = "bn2", scale = dense<2.0> : tensor<1xf32>, bias = dense<1.0> : tensor<1xf32>} : (tensor<3x1xf32>) -> tensor<3x1xf32>
  func.return %b, %b2, %k : tensor<2xf32>, tensor<3x1xf32>, tensor<3x1xf32>
}
// CHECK-LABEL: func.func @no_fold
// CHECK:         nn.dense
// CHECK-NEXT:    nn.batchnorm {{.*}}layer = "bn"
// CHECK:         nn.conv1d
// CHECK-NEXT:    nn.batchnorm {{.*}}layer = "bn2"

// -----

// Consecutive batchnorms fuse: scale 2 * 3 = 6, bias 1 * 3 + (-1) = 2; the first one's name stays.
func.func @fuse_bn(%a: tensor<2xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<2xf32>) -> tensor<2xf32>
  %b1 = nn.batchnorm %x {layer = "bn1", scale = dense<2.0> : tensor<2xf32>, bias = dense<1.0> : tensor<2xf32>} : (tensor<2xf32>) -> tensor<2xf32>
  %b2 = nn.batchnorm %b1 {layer = "bn2", scale = dense<3.0> : tensor<2xf32>, bias = dense<-1.0> : tensor<2xf32>} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %b2 : tensor<2xf32>
}
// CHECK-LABEL: func.func @fuse_bn
// CHECK-NEXT:    %x = nn.input
// CHECK-NEXT:    %b2 = nn.batchnorm %x {layer = "bn1", scale = dense<6.000000e+00> : tensor<2xf32>, bias = dense<2.000000e+00> : tensor<2xf32>}
// CHECK-NEXT:    func.return %b2

// -----

// Transposes that cancel, identity transposes, same-shape reshapes and reshape chains.
func.func @shapes(%a: tensor<2x3x4xf32>) -> tensor<24xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %t1 = nn.transpose %x {layer = "t1", perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %t2 = nn.transpose %t1 {layer = "t2", perm = array<i64: 2, 0, 1>} : (tensor<3x4x2xf32>) -> tensor<2x3x4xf32>
  %t3 = nn.transpose %t2 {layer = "t3", perm = array<i64: 0, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %r0 = nn.reshape %t3 {layer = "same"} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %r1 = nn.reshape %r0 {layer = "r1"} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %f = nn.flatten %r1 {layer = "flat"} : (tensor<6x4xf32>) -> tensor<24xf32>
  func.return %f : tensor<24xf32>
}
// CHECK-LABEL: func.func @shapes
// CHECK-NEXT:    %x = nn.input
// CHECK-NEXT:    %f = nn.flatten %x {layer = "flat"} : (tensor<2x3x4xf32>) -> tensor<24xf32>
// CHECK-NEXT:    func.return %f

// -----

// Linear activations: removed without a type, their type moved onto an "auto" producer, kept
// when they change a pinned type.
func.func @linear(%a: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>) {
  %x = nn.input %a {layer = "in"} : (tensor<2xf32>) -> tensor<2xf32>
  %l0 = nn.activation %x {layer = "plain", kind = #hls<activation linear>} : (tensor<2xf32>) -> tensor<2xf32>
  %d = nn.dense %l0 {layer = "fc", precision = {result = "auto"}, weight = dense<0.5> : tensor<2x2xf32>} : (tensor<2xf32>) -> tensor<2xf32>
  %q = nn.activation %d {layer = "quant", precision = {result = !hls.fixed<8, 3>}, kind = #hls<activation linear>} : (tensor<2xf32>) -> tensor<2xf32>
  %k = nn.activation %q {layer = "keep", precision = {result = !hls.fixed<6, 2>}, kind = #hls<activation linear>} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %k, %q : tensor<2xf32>, tensor<2xf32>
}
// CHECK-LABEL: func.func @linear
// CHECK-NEXT:    %x = nn.input
// CHECK-NEXT:    %d = nn.dense %x {layer = "fc", precision = {result = !hls.fixed<8, 3>}
// CHECK-NEXT:    %k = nn.activation %d {layer = "keep"
// CHECK-NEXT:    func.return %k, %d
