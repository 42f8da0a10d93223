// RUN: nnhls-opt %s -p 'nn-apply-config,nn-canonicalize,nn-infer-precision,nn-schedule,lower-nn-to-hls{io-type=io_parallel}' | filecheck %s
// RUN: nnhls-opt %s -p 'nn-apply-config,nn-canonicalize,nn-infer-precision,nn-schedule,lower-nn-to-hls{io-type=io_stream}' | filecheck %s --check-prefix=STREAM
// The IR between stages and the final hls IR (estimates included) parse back unchanged:
// RUN: nnhls-opt %s -p 'nn-apply-config,nn-canonicalize,nn-infer-precision,nn-schedule' > %t.nn.mlir && nnhls-opt %t.nn.mlir > %t.nn2.mlir && diff %t.nn.mlir %t.nn2.mlir
// RUN: nnhls-opt %t.nn.mlir -p 'lower-nn-to-hls{io-type=io_stream}' > %t.hls.mlir && nnhls-opt %t.hls.mlir > %t.hls2.mlir && diff %t.hls.mlir %t.hls2.mlir
// RUN: nnhls-opt %s -p 'nn-apply-config{config_json="{\"LayerType\": {\"Dense\": {\"Precision\": {\"accum\": \"auto\", \"result\": \"auto\"}}, \"Activation\": {\"Precision\": \"auto\"}}}"},nn-canonicalize,nn-infer-precision,nn-schedule,lower-nn-to-hls{io-type=io_parallel}' 2>/dev/null | filecheck %s --check-prefix=AUTO
// RUN: nnhls-opt %s -p 'nn-apply-config{config_json="{\"Model\": {\"Precision\": {\"default\": \"fixed<16,6>\", \"maximum\": \"none\"}}, \"LayerType\": {\"Dense\": {\"Precision\": {\"accum\": \"auto\", \"result\": \"auto\"}}, \"Activation\": {\"Precision\": \"auto\"}}}"},nn-canonicalize,nn-infer-precision,nn-schedule,lower-nn-to-hls{io-type=io_parallel}' | filecheck %s --check-prefix=EXACT

// The whole default pipeline on an MLP as the front ends emit it (dropout, a batchnorm after a
// dense, a fused-activation split into its own op).
func.func @mlp(%arg: tensor<16xf32>) -> tensor<4xf32> {
  %x = nn.input %arg {layer = "input_1"} : (tensor<16xf32>) -> tensor<16xf32>
  %d1 = nn.dense %x {layer = "fc1", weight = dense<0.125> : tensor<16x8xf32>, bias = dense<0.5> : tensor<8xf32>} : (tensor<16xf32>) -> tensor<8xf32>
  %r1 = nn.activation %d1 {layer = "fc1_relu", kind = #hls<activation relu>} : (tensor<8xf32>) -> tensor<8xf32>
  %dr = nn.dropout %r1 {layer = "dropout"} : (tensor<8xf32>) -> tensor<8xf32>
  %d2 = nn.dense %dr {layer = "fc2", weight = dense<-0.25> : tensor<8x4xf32>, bias = dense<0.0> : tensor<4xf32>} : (tensor<8xf32>) -> tensor<4xf32>
  %bn = nn.batchnorm %d2 {layer = "bn", scale = dense<2.0> : tensor<4xf32>, bias = dense<1.0> : tensor<4xf32>} : (tensor<4xf32>) -> tensor<4xf32>
  %s = nn.softmax %bn {layer = "softmax"} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %s : tensor<4xf32>
}

// Model defaults (fixed<16,6>) everywhere; dropout removed, batchnorm folded into fc2
// (-0.25 * 2 = -0.5 -> mantissa -512 with 10 fractional bits; bias 0 * 2 + 1 = 1 -> 1024).
// CHECK-LABEL: hls.func @mlp io_parallel pipeline attributes {
// CHECK-NEXT:  ^bb0(%input: !hls.array<16x!hls.fixed<16, 6>>):
// CHECK-NEXT:    %fc1 = hls.dense %input {layer = "fc1", reuse_factor = 1 : i64, multipliers = 0 : i64, {{.*}}weight = dense<128> : tensor<16x8xi64>, weight_t = !hls.fixed<16, 6>, weight_encoding = "binary", bias = dense<512> : tensor<8xi64>, {{.*}}strategy = #hls<strategy latency>}
// CHECK-NEXT:    %fc1_relu = hls.activation %fc1 {layer = "fc1_relu", {{.*}}kind = #hls<activation relu>} : (!hls.array<8x!hls.fixed<16, 6>>) -> !hls.array<8x!hls.fixed<16, 6>>
// CHECK-NEXT:    %fc2 = hls.dense %fc1_relu {layer = "fc2", {{.*}}weight = dense<-512> : tensor<8x4xi64>, weight_t = !hls.fixed<16, 6>, weight_encoding = "binary", bias = dense<1024> : tensor<4xi64>
// CHECK-NEXT:    %softmax = hls.softmax %fc2 {layer = "softmax", {{.*}}implementation = #hls<softmax_impl stable>, exp_table_size = 1024 : i64
// CHECK-NEXT:    hls.return %softmax : !hls.array<4x!hls.fixed<16, 6>>

// STREAM-LABEL: hls.func @mlp io_stream dataflow attributes {
// STREAM-NEXT:  ^bb0(%input: !hls.stream<16x!hls.fixed<16, 6>, depth 1>):
// STREAM-NEXT:    %fc1 = hls.dense %input
// STREAM-NEXT:    %fc1_relu = hls.activation %fc1 {{.*}} -> !hls.stream<8x!hls.fixed<16, 6>, depth 1>
// STREAM-NEXT:    %fc2 = hls.dense %fc1_relu
// STREAM-NEXT:    %softmax = hls.softmax %fc2
// STREAM-NEXT:    hls.return %softmax : !hls.stream<4x!hls.fixed<16, 6>, depth 1>

// With auto accumulators and activations and exact bit growth (Precision.maximum: none): fc1
// sums 16 products of fixed<16,6> and a bias (17 terms, 5 bits): fixed<37,17>; ReLU makes it
// ufixed<36,16>; fc2's product with fixed<16,6> weights is fixed<52,22> (signed), 8 products +
// bias (9 terms, 4 bits): fixed<56,26>; the folded batchnorm's result type (the default) is
// fc2's result.
// EXACT-LABEL: hls.func @mlp io_parallel pipeline attributes {
// EXACT:         hls.dense %input {{.*}} -> !hls.array<8x!hls.fixed<37, 17>>
// EXACT-NEXT:    hls.activation {{.*}} -> !hls.array<8x!hls.ufixed<36, 16>>
// EXACT-NEXT:    hls.dense {{.*}}accum_t = !hls.fixed<56, 26>{{.*}} -> !hls.array<4x!hls.fixed<16, 6>>
// EXACT-NEXT:    hls.softmax {{.*}} -> !hls.array<4x!hls.fixed<16, 6>>

// The same under the default maximum precision fixed<24,12,RND,SAT>: each type is capped to at
// most 24 bits and 12 integer bits, taking the maximum's rounding and saturation.
// AUTO-LABEL: hls.func @mlp io_parallel pipeline attributes {
// AUTO:         hls.dense %input {{.*}} -> !hls.array<8x!hls.fixed<24, 12, RND, SAT>>
// AUTO-NEXT:    hls.activation {{.*}} -> !hls.array<8x!hls.ufixed<23, 11, RND, SAT>>
// AUTO-NEXT:    hls.dense {{.*}}accum_t = !hls.fixed<24, 12, RND, SAT>{{.*}} -> !hls.array<4x!hls.fixed<16, 6>>
// AUTO-NEXT:    hls.softmax {{.*}} -> !hls.array<4x!hls.fixed<16, 6>>
