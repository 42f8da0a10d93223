// RUN: nnhls-opt %s --split-input-file --verify-diagnostics -p nn-infer-precision | filecheck %s
// RUN: nnhls-opt %s --split-input-file --verify-diagnostics -p 'nn-infer-precision{report=true}' 2>&1 >/dev/null | filecheck %s --check-prefix=REPORT

// Dense: product fixed<16,6> x fixed<16,6> = fixed<32,12>; 8 products + the bias = 9 terms need
// ceil(log2 9) = 4 more bits. Absent variables take the model default.
func.func @dense(%a: tensor<8xf32>) -> tensor<3xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<8xf32>) -> tensor<8xf32>
  %d = nn.dense %x {layer = "fc", precision = {accum = "auto", result = "auto"}, weight = dense<0.5> : tensor<8x3xf32>, bias = dense<0.25> : tensor<3xf32>} : (tensor<8xf32>) -> tensor<3xf32>
  func.return %d : tensor<3xf32>
}
// CHECK-LABEL: func.func @dense
// CHECK:         nn.input %a {layer = "in", precision = {result = !hls.fixed<16, 6>}}
// CHECK:         nn.dense %x {layer = "fc", precision = {weight = !hls.fixed<16, 6>, bias = !hls.fixed<16, 6>, accum = !hls.fixed<36, 16>, result = !hls.fixed<36, 16>}
// REPORT: in: result fixed<16,6> (default)
// REPORT: fc: weight fixed<16,6> (default), bias fixed<16,6> (default), accum fixed<36,16> (auto), result fixed<36,16> (auto)

// -----

// Activations are inferred too: ReLU gives the unsigned input type, sigmoid [0, 1] and tanh
// [-1, 1] with the default's 10 fractional bits; softmax sums 4 exp entries into 2 more bits.
func.func @activations(%a: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %x = nn.input %a {layer = "in"} : (tensor<4xf32>) -> tensor<4xf32>
  %r = nn.activation %x {layer = "relu", precision = {result = "auto"}, kind = #hls<activation relu>} : (tensor<4xf32>) -> tensor<4xf32>
  %s = nn.activation %r {layer = "sig", precision = {result = "auto", table = "auto"}, kind = #hls<activation sigmoid>} : (tensor<4xf32>) -> tensor<4xf32>
  %t = nn.activation %x {layer = "tanh", precision = {result = "auto"}, kind = #hls<activation tanh>} : (tensor<4xf32>) -> tensor<4xf32>
  %m = nn.softmax %t {layer = "sm", precision = {result = "auto", exp_table = "auto", accum = "auto"}} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %s, %m : tensor<4xf32>, tensor<4xf32>
}
// CHECK-LABEL: func.func @activations
// CHECK:         layer = "relu", precision = {result = !hls.ufixed<15, 5>
// CHECK:         layer = "sig", precision = {result = !hls.ufixed<11, 1>, table = !hls.ufixed<11, 1>
// CHECK:         layer = "tanh", precision = {result = !hls.fixed<12, 2>
// CHECK:         layer = "sm", precision = {result = !hls.ufixed<11, 1>, exp_table = !hls.ufixed<11, 1>, inv_table = !hls.fixed<16, 6>, accum = !hls.ufixed<13, 3>

// -----

// Pooling: a 2x2 average sums 4 values (2 bits) and divides exactly; a 3x3 one sums 9 (4 bits) and
// gets a guard bit in its result; max pooling keeps the input type.
func.func @pooling(%a: tensor<6x6x1xf32>) -> (tensor<3x3x1xf32>, tensor<2x2x1xf32>, tensor<3x3x1xf32>) {
  %x = nn.input %a {layer = "in", precision = {result = !hls.fixed<8, 3>}} : (tensor<6x6x1xf32>) -> tensor<6x6x1xf32>
  %p = nn.pool %x {layer = "avg2", precision = {accum = "auto", result = "auto"}, op = #hls<pool_op average>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<6x6x1xf32>) -> tensor<3x3x1xf32>
  %q = nn.pool %x {layer = "avg3", precision = {accum = "auto", result = "auto"}, op = #hls<pool_op average>, pool_size = array<i64: 3, 3>, strides = array<i64: 3, 3>, pads = array<i64: 0, 0, 0, 0>} : (tensor<6x6x1xf32>) -> tensor<2x2x1xf32>
  %m = nn.pool %x {layer = "max", precision = {accum = "auto", result = "auto"}, op = #hls<pool_op max>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<6x6x1xf32>) -> tensor<3x3x1xf32>
  func.return %p, %q, %m : tensor<3x3x1xf32>, tensor<2x2x1xf32>, tensor<3x3x1xf32>
}
// CHECK-LABEL: func.func @pooling
// CHECK:         layer = "avg2", precision = {accum = !hls.fixed<10, 5>, result = !hls.fixed<8, 3>}
// CHECK:         layer = "avg3", precision = {accum = !hls.fixed<12, 7>, result = !hls.fixed<9, 4>}
// CHECK:         layer = "max", precision = {accum = !hls.fixed<8, 3>, result = !hls.fixed<8, 3>}

// -----

// Merges: three addends (union fixed<16,6> of fixed<16,6> and ufixed<8,3>) need 2 more bits;
// a product adds widths and integer bits; concatenation takes the union.
func.func @merges(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<8xf32>) {
  %x = nn.input %a {layer = "x"} : (tensor<4xf32>) -> tensor<4xf32>
  %y = nn.input %b {layer = "y", precision = {result = !hls.ufixed<8, 3>}} : (tensor<4xf32>) -> tensor<4xf32>
  %s = nn.add %x, %y, %x {layer = "add", precision = {result = "auto"}} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %m = nn.mul %x, %y {layer = "mul", precision = {result = "auto"}} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %c = nn.concat %x, %y {layer = "cat", precision = {result = "auto"}, axis = 0 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<8xf32>
  func.return %s, %m, %c : tensor<4xf32>, tensor<4xf32>, tensor<8xf32>
}
// CHECK-LABEL: func.func @merges
// CHECK:         layer = "add", precision = {accum = !hls.fixed<16, 6>, result = !hls.fixed<18, 8>}
// CHECK:         layer = "mul", precision = {accum = !hls.fixed<16, 6>, result = !hls.fixed<24, 9>}
// CHECK:         layer = "cat", precision = {result = !hls.fixed<16, 6>}

// -----

// max_precision caps widths and integer bits (with its modes), with a warning naming the layer
// when integer bits go (fc: 12 -> 10); a cap that only drops fractional bits rounds without one
// (fc2: fixed<35,12> -> fixed<30,12>). Auto weights get the fewest integer bits holding their
// largest magnitude (3.0 -> 3 integer bits) at the default's width.
func.func @capped(%a: tensor<8xf32>) -> tensor<3xf32> attributes {nn.default_precision = !hls.fixed<16, 6>, nn.max_precision = !hls.fixed<24, 10, RND, SAT>} {
  %x = nn.input %a {layer = "in"} : (tensor<8xf32>) -> tensor<8xf32>
  %d = nn.dense %x {layer = "fc", precision = {weight = "auto", accum = "auto", result = "auto"}, weight = dense<3.0> : tensor<8x3xf32>} : (tensor<8xf32>) -> tensor<3xf32>
  func.return %d : tensor<3xf32>
}
// CHECK-LABEL: func.func @capped
// CHECK:         precision = {weight = !hls.fixed<16, 3>, bias = !hls.fixed<16, 6>, accum = !hls.fixed<24, 10, RND, SAT>, result = !hls.fixed<24, 10, RND, SAT>}
// (product fixed<32,9>, 8 terms: fixed<35,12>)
// REPORT: warning: nn.dense 'fc': accum needs fixed<35,12> in the worst case; capped to fixed<24,10,RND,SAT> by the maximum precision: values beyond [-512, 512] saturate
// REPORT-NOT: warning
// REPORT: fc: weight fixed<16,3> (auto), bias fixed<16,6> (default), accum fixed<24,10,RND,SAT> (auto, capped)

// -----

func.func @rounded(%a: tensor<8xf32>) -> tensor<3xf32> attributes {nn.default_precision = !hls.fixed<16, 6>, nn.max_precision = !hls.fixed<30, 16, RND, SAT>} {
  %x = nn.input %a {layer = "in"} : (tensor<8xf32>) -> tensor<8xf32>
  %d = nn.dense %x {layer = "fc2", precision = {weight = "auto", accum = "auto", result = "auto"}, weight = dense<3.0> : tensor<8x3xf32>} : (tensor<8xf32>) -> tensor<3xf32>
  func.return %d : tensor<3xf32>
}
// CHECK-LABEL: func.func @rounded
// CHECK:         accum = !hls.fixed<30, 12, RND, SAT>, result = !hls.fixed<30, 12, RND, SAT>}
// REPORT-NOT: warning
// REPORT: fc2: weight fixed<16,3> (auto), bias fixed<16,6> (default), accum fixed<30,12,RND,SAT> (auto, capped)

// -----

// A type wider than 1024 bits is an error naming the layer.
func.func @too_wide(%a: tensor<4xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in", precision = {result = !hls.fixed<600, 6>}} : (tensor<4xf32>) -> tensor<4xf32>
  %d = nn.dense %x {layer = "wide", precision = {weight = !hls.fixed<600, 6>, accum = "auto"}, weight = dense<0.5> : tensor<4x2xf32>} : (tensor<4xf32>) -> tensor<2xf32>
  func.return %d : tensor<2xf32>
}
// CHECK: nn.dense 'wide': inferred accum type is wider than 1024 bits; pin a narrower type or set a maximum precision
