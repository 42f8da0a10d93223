// RUN: nnhls-opt %s -p 'nn-apply-config' | filecheck %s --check-prefix=DEFAULT
// RUN: nnhls-opt %s -p 'nn-apply-config{config_file="%S/inputs/apply_config_model.yml"}' | filecheck %s --check-prefix=MODEL
// RUN: nnhls-opt %s -p 'nn-apply-config{config_file="%S/inputs/apply_config_layers.yml"}' | filecheck %s --check-prefix=LAYERS
// RUN: nnhls-opt %s -p 'nn-apply-config{config_json="{\"LayerType\": {\"pool\": {\"Precision\": \"fixed<8,3>\"}}}"}' 2>&1 | filecheck %s --check-prefix=JSON
// RUN: not nnhls-opt %s -p 'nn-apply-config{config_file="%S/inputs/apply_config_bad_key.yml"}' 2>&1 | filecheck %s --check-prefix=BADKEY
// RUN: not nnhls-opt %s -p 'nn-apply-config{config_file="%S/inputs/apply_config_not_applicable.yml"}' 2>&1 | filecheck %s --check-prefix=NOTAPPLY
// RUN: not nnhls-opt %s -p 'nn-apply-config{config_file="%S/inputs/apply_config_bad_precision.yml"}' 2>&1 | filecheck %s --check-prefix=BADPREC
// RUN: not nnhls-opt %s -p 'nn-apply-config{config_file="%S/inputs/apply_config_bad_name.yml"}' 2>&1 | filecheck %s --check-prefix=BADNAME
// RUN: not nnhls-opt %s -p 'nn-apply-config{config_file="%S/inputs/apply_config_bad_strategy.yml"}' 2>&1 | filecheck %s --check-prefix=BADSTRAT
// RUN: not nnhls-opt %s -p 'nn-apply-config{config_file="%S/inputs/missing.yml"}' 2>&1 | filecheck %s --check-prefix=MISSING

// nn-apply-config resolves LayerName > LayerType > Model per key and per precision variable and
// writes the result on every op; model-level settings go on the function.

func.func @m(%x: tensor<2x2x1xf32>) -> tensor<2xf32> {
  %in = nn.input %x {layer = "input_1"} : (tensor<2x2x1xf32>) -> tensor<2x2x1xf32>
  %c = nn.conv2d %in {layer = "conv", weight = dense<1.0> : tensor<1x1x1x1xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<2x2x1xf32>) -> tensor<2x2x1xf32>
  %p = nn.pool %c {layer = "pool", op = #hls<pool_op max>, pool_size = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<2x2x1xf32>) -> tensor<2x2x1xf32>
  %f = nn.flatten %p {layer = "flatten"} : (tensor<2x2x1xf32>) -> tensor<4xf32>
  %d = nn.dense %f {layer = "fc1", weight = dense<0.5> : tensor<4x2xf32>, bias = dense<0.0> : tensor<2xf32>} : (tensor<4xf32>) -> tensor<2xf32>
  %s = nn.softmax %d {layer = "softmax"} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %s : tensor<2xf32>
}

// An empty config: hls4ml's defaults (fixed<16,6>, reuse factor 1, Latency, io_parallel), and
// our cap on auto types, fixed<24,12,RND,SAT>.
// DEFAULT: func.func @m{{.*}} attributes {nn.default_precision = !hls.fixed<16, 6>, nn.max_precision = !hls.fixed<24, 12, RND, SAT>, nn.io_type = #hls<io_type io_parallel>, nn.pipeline_style = #hls<pipeline_style auto>}
// DEFAULT: nn.dense {{.*}}precision = {weight = !hls.fixed<16, 6>, bias = !hls.fixed<16, 6>, accum = !hls.fixed<16, 6>, result = !hls.fixed<16, 6>}, reuse_factor = 1 : i64, strategy = #hls<strategy latency>}
// DEFAULT: nn.softmax {{.*}}exp_table_size = 1024 : i64, inv_table_size = 1024 : i64, implementation = #hls<softmax_impl stable>

// Granularity 'model': one precision string types every variable of every layer.
// MODEL: nn.input {{.*}}precision = {result = !hls.fixed<16, 6>}, reuse_factor = 1 : i64}
// MODEL: nn.conv2d {{.*}}precision = {weight = !hls.fixed<16, 6>, bias = !hls.fixed<16, 6>, accum = !hls.fixed<16, 6>, result = !hls.fixed<16, 6>}, reuse_factor = 1 : i64, strategy = #hls<strategy latency>, parallelization_factor = 1 : i64}
// MODEL: nn.softmax {{.*}}precision = {result = !hls.fixed<16, 6>, exp_table = !hls.fixed<16, 6>, inv_table = !hls.fixed<16, 6>, accum = !hls.fixed<16, 6>, inv_inp = !hls.fixed<16, 6>, table = !hls.fixed<16, 6>}

// A full top-level config with Model, LayerType and LayerName sections.
// LAYERS: func.func @m{{.*}} attributes {nn.default_precision = !hls.fixed<16, 6>, nn.max_precision = !hls.fixed<32, 16>, nn.io_type = #hls<io_type io_stream>, nn.pipeline_style = #hls<pipeline_style dataflow>, nn.snap_reuse_factor}
// LAYERS: nn.conv2d {{.*}}reuse_factor = 16 : i64, trace, strategy = #hls<strategy latency>, parallelization_factor = 4 : i64}
// LAYERS: nn.dense {{.*}}precision = {weight = !hls.fixed<14, 2>, bias = "auto", accum = !hls.fixed<14, 5>, result = !hls.fixed<14, 5>}, reuse_factor = 12 : i64, strategy = #hls<strategy resource>}
// LAYERS: nn.softmax {{.*}}exp_table_size = 2048 : i64, inv_table_size = 2048 : i64, implementation = #hls<softmax_impl latency>}

// The HLSConfig as JSON text; LayerType matches our op kinds too.
// JSON: nn.pool {{.*}}precision = {accum = !hls.fixed<8, 3>, result = !hls.fixed<8, 3>}
// JSON: nn.dense {{.*}}precision = {weight = !hls.fixed<16, 6>

// BADKEY: error: HLSConfig.LayerName.fc1: unknown key 'ReuseFactr' (did you mean 'ReuseFactor'?); applicable keys: Precision, ReuseFactor, Trace, Strategy, Compression
// NOTAPPLY: error: HLSConfig.LayerName.fc1: key 'ParallelizationFactor' does not apply to layer 'fc1' (nn.dense); applicable keys: Precision, ReuseFactor, Trace, Strategy, Compression
// BADPREC: error: HLSConfig.LayerName.fc1.Precision.weight: cannot read precision 'fixd<8,4>': expected fixed<W,I>
// BADNAME: error: HLSConfig.LayerName.fc2: no layer named 'fc2' (did you mean 'fc1'?); layers: input_1, conv, pool, flatten, fc1, softmax
// BADSTRAT: error: HLSConfig.Model.Strategy: invalid value 'Fast'; valid values: Latency, Resource, Unrolled
// MISSING: error: nn-apply-config: config file '{{.*}}missing.yml' not found
