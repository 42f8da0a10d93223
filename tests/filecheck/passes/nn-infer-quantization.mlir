// RUN: nnhls-opt %s --split-input-file --verify-diagnostics -p nn-infer-quantization | filecheck %s

// QKeras: quantized weights get their exact narrowest types; a per-tensor power-of-two quantizer
// after a dense folds into the dense's result type (round half to even, saturate) and disappears.
// `quantizer_typed` lists the types a quantizer set (a result saturating there is by design).
func.func @qkeras_dense(%a: tensor<2xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<2xf32>) -> tensor<2xf32>
  %d = nn.dense %x {layer = "fc1", weight = dense<[[0.5, -0.25], [0.96875, -1.0]]> : tensor<2x2xf32>, bias = dense<[0.125, 0.0]> : tensor<2xf32>, weight_quantizer = #nn.quant<uniform, bits = 6, scale = 0.03125>, bias_quantizer = #nn.quant<uniform, bits = 6, scale = 0.03125>} : (tensor<2xf32>) -> tensor<2xf32>
  %q = nn.quantize %d {layer = "relu1", quantizer = #nn.quant<uniform, bits = 6, signed = false, scale = 0.015625>} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %q : tensor<2xf32>
}
// CHECK-LABEL: func.func @qkeras_dense
// CHECK:         %d = nn.dense %x {layer = "fc1", {{.*}}precision = {weight = !hls.fixed<6, 1>, bias = !hls.ufixed<3, 0>, result = !hls.ufixed<6, 0, RND_CONV, SAT>}, quantizer_typed = ["weight", "bias", "result"]}
// CHECK-NOT:     nn.quantize
// CHECK:         func.return %d

// -----

// A quantizer on the input becomes the input type; a narrow (symmetric) range is SAT_SYM.
func.func @input(%a: tensor<3xf32>) -> tensor<3xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<3xf32>) -> tensor<3xf32>
  %q = nn.quantize %x {layer = "q", quantizer = #nn.quant<uniform, bits = 4, scale = 0.0625, narrow = true>} : (tensor<3xf32>) -> tensor<3xf32>
  func.return %q : tensor<3xf32>
}
// CHECK-LABEL: func.func @input
// CHECK:         nn.input %a {layer = "in", precision = {result = !hls.fixed<4, 0, RND_CONV, SAT_SYM>}, quantizer_typed = ["result"]}
// CHECK-NOT:     nn.quantize

// -----

// HGQ: a per-element quantizer stays, typed with the narrowest type holding every element's grid;
// a traced quantizer is never folded.
func.func @hgq(%a: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %x = nn.input %a {layer = "in"} : (tensor<3xf32>) -> tensor<3xf32>
  %q = nn.quantize %x {layer = "inp_q", quantizer = #nn.quant<uniform, shape = [3], bits = [4, 3, 0], signed = [true, false, false], scale = [0.25, 0.5, 1.0], rounding = TRN, overflow = WRAP>} : (tensor<3xf32>) -> tensor<3xf32>
  %r = nn.activation %x {layer = "relu", kind = #hls<activation relu>} : (tensor<3xf32>) -> tensor<3xf32>
  %t = nn.quantize %r {layer = "traced", trace, quantizer = #nn.quant<uniform, bits = 8, signed = false, scale = 0.125>} : (tensor<3xf32>) -> tensor<3xf32>
  func.return %q, %t : tensor<3xf32>, tensor<3xf32>
}
// CHECK-LABEL: func.func @hgq
// CHECK:         nn.quantize %x {layer = "inp_q", {{.*}}precision = {result = !hls.fixed<5, 3>}, quantizer_typed = ["result"]}
// CHECK:         nn.quantize %r {layer = "traced", {{.*}}precision = {result = !hls.ufixed<8, 5, RND_CONV, SAT>}, quantizer_typed = ["result"]}

// -----

// Binary weights and a binary activation (old Keras BinaryDense / binary_tanh): +-1, fixed<2,2>.
func.func @binary(%a: tensor<2xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<2xf32>) -> tensor<2xf32>
  %d = nn.dense %x {layer = "bd", weight = dense<[[1.0, -1.0], [-1.0, -1.0]]> : tensor<2x2xf32>, weight_quantizer = #nn.quant<binary, zero_positive = false>} : (tensor<2xf32>) -> tensor<2xf32>
  %q = nn.quantize %d {layer = "act", quantizer = #nn.quant<binary, zero_positive = false>} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %q : tensor<2xf32>
}
// CHECK-LABEL: func.func @binary
// CHECK:         nn.dense %x {layer = "bd", {{.*}}precision = {weight = !hls.fixed<2, 2>}, quantizer_typed = ["weight"]}
// CHECK:         nn.quantize %d {layer = "act", {{.*}}precision = {result = !hls.fixed<2, 2>}, quantizer_typed = ["result"]}

// -----

// ONNX QDQ: a scale that is not a power of two becomes two explicit scale layers around the
// integer codes (uint8, round half to even, saturating); int8 weights with per-channel scales
// keep their codes and move the scale and the bias to a per-channel scale layer. The dense reads
// the codes minus the zero point (128: an int8), the scale layer multiplies by s_x * s_w (exact
// float32 constants, 24 significant bits); the bias (0.5, 0.25) is not on the grid s_x * s_w
// (0.25 / 0.004 = 62.5), so it stays in the scale layer. The rest is auto, and the
// quantizer-typed constants exempt the layers from the cap.
func.func @qdq(%a: tensor<2xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<2xf32>) -> tensor<2xf32>
  %q = nn.quantize %x {layer = "xq", quantizer = #nn.quant<uniform, bits = 8, signed = false, scale = 0.02, zero_point = 128.0>} : (tensor<2xf32>) -> tensor<2xf32>
  %d = nn.dense %q {layer = "fc", weight = dense<[[0.3, -0.2], [0.1, 0.4]]> : tensor<2x2xf32>, bias = dense<[0.5, 0.25]> : tensor<2xf32>, weight_quantizer = #nn.quant<uniform, shape = [2], bits = 8, scale = [0.1, 0.2]>} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %d : tensor<2xf32>
}
// CHECK-LABEL: func.func @qdq
// CHECK:         %[[C:.*]] = nn.batchnorm %x {layer = "xq_codes", {{.*}}precision = {result = !hls.ufixed<8, 8, RND_CONV, SAT>, scale = !hls.ufixed<5, 6>, bias = !hls.ufixed<1, 8>, accum = "auto"}, quantizer_typed = ["result", "scale", "bias"]}
// CHECK:         %[[V:.*]] = nn.batchnorm %[[C]] {layer = "xq", scale = dense<1.000000e+00> : tensor<2xf32>, bias = dense<-1.280000e+02> : tensor<2xf32>, precision = {scale = !hls.ufixed<1, 1>, bias = !hls.fixed<1, 8>, accum = "auto", result = !hls.fixed<8, 8>}, quantizer_typed = ["scale", "bias", "result"]}
// CHECK:         %[[D:.*]] = nn.dense %[[V]] {layer = "fc", weight = dense<{{\[\[}}3.000000e+00, -1.000000e+00], [1.000000e+00, 2.000000e+00]]> : tensor<2x2xf32>, {{.*}}precision = {weight = !hls.fixed<3, 3>}, quantizer_typed = ["weight"]}
// CHECK:         %[[S:.*]] = nn.batchnorm %[[D]] {layer = "fc_scale", scale = dense<[2.000000e-03, 4.000000e-03]> : tensor<2xf32>, bias = dense<[5.000000e-01, 2.500000e-01]> : tensor<2xf32>, precision = {scale = !hls.fixed<25, -6>, bias = !hls.ufixed<2, 0>, accum = "auto", result = "auto"}
// CHECK:         func.return %[[S]]

// -----

// QDQ integer-only inference (onnxruntime's requantization): int8 activations (zero point 0) feed
// the dense's codes directly (no dequantizing layer left), the bias on the grid s_x * s_w
// (0.5 / 0.002 = 250, 0.2 / 0.004 = 50) becomes integer codes in the dense, and the scales merge
// into the next quantizer's `_codes` layer: one multiplier per channel s_x * s_w / s_y
// (0.02 * 0.1 / 0.05 = 0.04) plus its zero point. The float bias Add between two quantizers keeps
// its float32 constants exactly and its sum auto, never capped; its result keeps the sum's 25
// fractional bits (yq's scale 24, the bias 25) and the integer bits of zq's range one step beyond
// its end codes ((255 + 2 - 3) * 0.03 = 7.6: 4 integer bits), saturating like zq itself.
func.func @qdq_integer(%a: tensor<2xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<2xf32>) -> tensor<2xf32>
  %q = nn.quantize %x {layer = "xq", quantizer = #nn.quant<uniform, bits = 8, signed = true, scale = 0.02>} : (tensor<2xf32>) -> tensor<2xf32>
  %d = nn.dense %q {layer = "fc", weight = dense<[[0.3, -0.2], [0.1, 0.4]]> : tensor<2x2xf32>, bias = dense<[0.5, 0.2]> : tensor<2xf32>, weight_quantizer = #nn.quant<uniform, shape = [2], bits = 8, scale = [0.1, 0.2]>} : (tensor<2xf32>) -> tensor<2xf32>
  %y = nn.quantize %d {layer = "yq", quantizer = #nn.quant<uniform, bits = 8, signed = false, scale = 0.05, zero_point = 10.0>} : (tensor<2xf32>) -> tensor<2xf32>
  %b = nn.batchnorm %y {layer = "add", scale = dense<1.0> : tensor<2xf32>, bias = dense<[0.1, -0.3]> : tensor<2xf32>} : (tensor<2xf32>) -> tensor<2xf32>
  %z = nn.quantize %b {layer = "zq", quantizer = #nn.quant<uniform, bits = 8, signed = false, scale = 0.03, zero_point = 3.0>} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %z : tensor<2xf32>
}
// CHECK-LABEL: func.func @qdq_integer
// CHECK:         %[[C:.*]] = nn.batchnorm %x {layer = "xq_codes", {{.*}}result = !hls.fixed<8, 8, RND_CONV, SAT>
// CHECK-NEXT:    %[[D:.*]] = nn.dense %[[C]] {layer = "fc", {{.*}}precision = {weight = !hls.fixed<3, 3>, bias = !hls.ufixed<7, 8>}, quantizer_typed = ["weight", "bias"], bias = dense<[2.500000e+02, 5.000000e+01]>
// CHECK-NEXT:    %[[Y:.*]] = nn.batchnorm %[[D]] {layer = "yq_codes", scale = dense<[4.000000e-02, 8.000000e-02]> : tensor<2xf32>, bias = dense<1.000000e+01> : tensor<2xf32>, precision = {result = !hls.ufixed<8, 8, RND_CONV, SAT>, scale = !hls.fixed<25, -2>
// CHECK-NEXT:    %[[V:.*]] = nn.batchnorm %[[Y]] {layer = "yq",
// CHECK-NEXT:    %[[A:.*]] = nn.batchnorm %[[V]] {layer = "add", {{.*}}precision = {scale = !hls.ufixed<1, 1>, bias = !hls.fixed<25, 0>, accum = "auto", result = !hls.fixed<29, 4, TRN, SAT>}, quantizer_typed = ["scale", "bias", "result"]}
// CHECK-NEXT:    nn.batchnorm %[[A]] {layer = "zq_codes",

// -----

// A residual branch: the dequantized xq (uint8, zero point 128) is read by the dense and by the
// skip add. The add keeps the float values; the dense gets its own `code - zero point` layer
// (xq_for_fc, an exact int8) and computes on integers.
func.func @qdq_residual(%a: tensor<2xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<2xf32>) -> tensor<2xf32>
  %q = nn.quantize %x {layer = "xq", quantizer = #nn.quant<uniform, bits = 8, signed = false, scale = 0.02, zero_point = 128.0>} : (tensor<2xf32>) -> tensor<2xf32>
  %d = nn.dense %q {layer = "fc", weight = dense<[[0.3, -0.2], [0.1, 0.4]]> : tensor<2x2xf32>, weight_quantizer = #nn.quant<uniform, shape = [2], bits = 8, scale = [0.1, 0.2]>} : (tensor<2xf32>) -> tensor<2xf32>
  %y = nn.quantize %d {layer = "yq", quantizer = #nn.quant<uniform, bits = 8, signed = false, scale = 0.05, zero_point = 10.0>} : (tensor<2xf32>) -> tensor<2xf32>
  %s = nn.add %q, %y {layer = "skip"} : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  func.return %s : tensor<2xf32>
}
// CHECK-LABEL: func.func @qdq_residual
// CHECK:         %[[C:.*]] = nn.batchnorm %x {layer = "xq_codes", {{.*}}result = !hls.ufixed<8, 8, RND_CONV, SAT>
// CHECK-NEXT:    %[[V:.*]] = nn.batchnorm %[[C]] {layer = "xq", scale = dense<2.000000e-02>
// CHECK-NEXT:    %[[I:.*]] = nn.batchnorm %[[C]] {layer = "xq_for_fc", scale = dense<1.000000e+00> : tensor<2xf32>, bias = dense<-1.280000e+02> : tensor<2xf32>, precision = {{{.*}}result = !hls.fixed<8, 8>}
// CHECK-NEXT:    %[[D:.*]] = nn.dense %[[I]] {layer = "fc",
// CHECK-NEXT:    %[[Y:.*]] = nn.batchnorm %[[D]] {layer = "yq_codes", scale = dense<[4.000000e-02, 8.000000e-02]>
// CHECK-NEXT:    %[[W:.*]] = nn.batchnorm %[[Y]] {layer = "yq",
// CHECK-NEXT:    nn.add %[[V]], %[[W]] {layer = "skip"}

// -----

// The same through a move the skip reads too (int8, zero point 0): the dense reads its own copy
// of the flatten applied to the codes.
func.func @qdq_residual_moves(%a: tensor<1x2xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<1x2xf32>) -> tensor<1x2xf32>
  %q = nn.quantize %x {layer = "xq", quantizer = #nn.quant<uniform, bits = 8, signed = true, scale = 0.02>} : (tensor<1x2xf32>) -> tensor<1x2xf32>
  %f = nn.flatten %q {layer = "flat"} : (tensor<1x2xf32>) -> tensor<2xf32>
  %d = nn.dense %f {layer = "fc", weight = dense<[[0.3, -0.2], [0.1, 0.4]]> : tensor<2x2xf32>, weight_quantizer = #nn.quant<uniform, shape = [2], bits = 8, scale = [0.1, 0.2]>} : (tensor<2xf32>) -> tensor<2xf32>
  %s = nn.add %f, %d {layer = "skip"} : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  func.return %s : tensor<2xf32>
}
// CHECK-LABEL: func.func @qdq_residual_moves
// CHECK:         %[[C:.*]] = nn.batchnorm %x {layer = "xq_codes",
// CHECK-NEXT:    %[[V:.*]] = nn.batchnorm %[[C]] {layer = "xq",
// CHECK-NEXT:    %[[F:.*]] = nn.flatten %[[V]] {layer = "flat"}
// CHECK-NEXT:    %[[G:.*]] = nn.flatten %[[C]] {layer = "flat_for_fc"}
// CHECK-NEXT:    %[[D:.*]] = nn.dense %[[G]] {layer = "fc",
// CHECK-NEXT:    %[[S:.*]] = nn.batchnorm %[[D]] {layer = "fc_scale", scale = dense<[2.000000e-03, 4.000000e-03]>
// CHECK-NEXT:    nn.add %[[F]], %[[S]] {layer = "skip"}

// -----

// A configured type wins over the quantizer (with a warning on stderr).
func.func @pinned(%a: tensor<2xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<2xf32>) -> tensor<2xf32>
  %d = nn.dense %x {layer = "fc", precision = {weight = !hls.fixed<8, 2>}, weight = dense<0.5> : tensor<2x2xf32>, weight_quantizer = #nn.quant<uniform, bits = 4, scale = 0.125>} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %d : tensor<2xf32>
}
// CHECK-LABEL: func.func @pinned
// CHECK:         nn.dense %x {layer = "fc", precision = {weight = !hls.fixed<8, 2>}
