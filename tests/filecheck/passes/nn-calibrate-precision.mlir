// The calibration inputs: 300 samples of N(0, 1), made here with a fixed seed.
// RUN: python -c "import numpy as np; np.save('%t.npy', np.random.default_rng(0).normal(size=(300, 4)))"
// RUN: nnhls-opt %s -p 'nn-apply-config{config_json="{\"LayerType\": {\"Activation\": {\"Precision\": \"auto\"}}}"},nn-calibrate-precision{data="%t.npy" report=true}' 2>%t.report | filecheck %s
// RUN: filecheck %s --check-prefix=REPORT < %t.report
// RUN: not nnhls-opt %s -p 'nn-apply-config,nn-calibrate-precision{data="%t.missing.npy"}' 2>&1 | filecheck %s --check-prefix=MISSING

// nn-calibrate-precision pins the input's, the dense layers' weights, biases, accumulators and
// results from the data (RND, SAT results and weights; exact wrapping accumulators), chosen so
// that 99% of the samples keep the float model's argmax at the fewest BOPs. The ReLU stays auto
// (it follows its input); fc2 has no bias: its (unused) bias type stays as configured. Types narrower than fixed<16,6>: the BOPs fall
// well below the 6144 of every type fixed<16,6> (4 x 4 + 4 x 3 products, 16 x 16 bits each).
func.func @mlp(%arg: tensor<4xf32>) -> tensor<3xf32> {
  %x = nn.input %arg {layer = "in"} : (tensor<4xf32>) -> tensor<4xf32>
  %d = nn.dense %x {layer = "fc1", weight = dense<[[0.5, -1.25, 0.75, 0.3], [1.5, 0.2, -0.6, 0.9], [-0.4, 0.8, 1.1, -1.3], [0.7, -0.9, 0.25, 0.6]]> : tensor<4x4xf32>, bias = dense<[0.1, -0.2, 0.05, 0.3]> : tensor<4xf32>} : (tensor<4xf32>) -> tensor<4xf32>
  %r = nn.activation %d {layer = "relu", kind = #hls<activation relu>} : (tensor<4xf32>) -> tensor<4xf32>
  %o = nn.dense %r {layer = "fc2", weight = dense<[[0.9, -0.7, 0.3], [-0.5, 1.2, 0.4], [0.6, 0.1, -1.1], [-0.3, 0.5, 0.8]]> : tensor<4x3xf32>} : (tensor<4xf32>) -> tensor<3xf32>
  func.return %o : tensor<3xf32>
}
// CHECK-LABEL: func.func @mlp
// CHECK:         nn.input %arg {layer = "in", precision = {result = !hls.fixed<{{[0-9]+}}, 3, RND, SAT>}
// CHECK:         nn.dense %x {layer = "fc1", {{.*}}precision = {weight = !hls.fixed<{{[0-9]+}}, 2, RND, SAT>, bias = !hls.fixed<{{[0-9]+}}, 0, RND, SAT>, accum = !hls.fixed<{{[0-9]+}}, 6>, result = !hls.fixed<{{[0-9]+}}, 4, RND, SAT>}
// CHECK:         nn.activation %d {layer = "relu", {{.*}}precision = {result = "auto"
// CHECK:         nn.dense %r {layer = "fc2", {{.*}}precision = {weight = !hls.fixed<{{[0-9]+}}, 2, RND, SAT>, bias = !hls.fixed<16, 6>, accum = !hls.fixed<{{[0-9]+}}, 6>, result = !hls.fixed<{{[0-9]+}}, 4, RND, SAT>}

// REPORT: calibrated: {{(99|100)\.[0-9]+}}% argmax agreement, {{[0-9]+}} BOPs ({{[0-9]\.[0-9]|[1-4][0-9]\.[0-9]}}% of 6144 with every type fixed<16,6>)
// REPORT-NEXT: in: result fixed<
// REPORT-NEXT: fc1: weight fixed<
// REPORT-NEXT: fc2: weight fixed<

// MISSING: nn-calibrate-precision: no such data file: {{.*}}missing.npy
