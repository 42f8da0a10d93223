"""lower-nn-to-hls: structure of the hls IR in both io types, quantized constants, stream plumbing,
and the emulated hls IR against the float reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from nnhls.compiler.context import make_context
from nnhls.compiler.pipeline import parse_pipeline, run_pipeline
from nnhls.dialects import hls, nn
from nnhls.dialects.fixed import to_mantissa
from nnhls.dialects.kinds import IOType, PipelineStyle
from nnhls.dialects.types import ArrayType, FixedPointType, StreamType
from nnhls.interpreters.reference import run_reference
from nnhls.passes.lower_nn_to_hls import LoweringError, lower_module

MLP = """
func.func @mlp(%a: tensor<4xf32>) -> tensor<3xf32> {
  %x = nn.input %a {layer = "input_1", precision = {result = !hls.fixed<10, 4>}} : (tensor<4xf32>) -> tensor<4xf32>
  %d = nn.dense %x {layer = "fc1", precision = {weight = !hls.fixed<8, 2, RND, SAT>, bias = "auto", accum = "auto", result = "auto"}, reuse_factor = 2 : i64, strategy = #hls<strategy resource>, weight = dense<[[0.7, -1.3, 0.1, 2.2, -0.01, 0.5], [0.3, 0.2, -0.6, 1.1, 0.9, -0.4], [-0.8, 0.05, 1.7, -1.9, 0.25, 0.33], [1.2, -0.7, 0.4, 0.6, -1.5, 0.8]]> : tensor<4x6xf32>, bias = dense<[0.1, -0.2, 0.3, 0.0, 0.5, -0.6]> : tensor<6xf32>} : (tensor<4xf32>) -> tensor<6xf32>
  %r = nn.activation %d {layer = "relu", precision = {result = "auto"}, kind = #hls<activation relu>} : (tensor<6xf32>) -> tensor<6xf32>
  %t = nn.activation %r {layer = "sig", precision = {result = "auto", table = "auto"}, kind = #hls<activation sigmoid>} : (tensor<6xf32>) -> tensor<6xf32>
  %e = nn.dense %t {layer = "fc2", precision = {weight = "auto", bias = "auto", accum = "auto", result = "auto"}, weight = dense<[[0.5, -1.0, 0.25], [1.5, 0.75, -0.5], [-0.3, 0.6, 0.9], [0.2, -0.8, 1.1], [0.4, 0.1, -0.2], [-1.2, 0.3, 0.7]]> : tensor<6x3xf32>, bias = dense<[0.0, 0.1, -0.1]> : tensor<3xf32>} : (tensor<6xf32>) -> tensor<3xf32>
  %s = nn.softmax %e {layer = "softmax", precision = {result = "auto", exp_table = "auto", inv_table = "auto", accum = "auto"}} : (tensor<3xf32>) -> tensor<3xf32>
  func.return %s : tensor<3xf32>
}
"""

BRANCHED = """
func.func @branched(%a: tensor<6x6x2xf32>) -> (tensor<6x6x3xf32>, tensor<3xf32>) {
  %x = nn.input %a {layer = "in"} : (tensor<6x6x2xf32>) -> tensor<6x6x2xf32>
  %c1 = nn.conv2d %x {layer = "c1", weight = dense<0.25> : tensor<3x3x2x3xf32>, bias = dense<0.5> : tensor<3xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<6x6x2xf32>) -> tensor<6x6x3xf32>
  %c2 = nn.conv2d %x {layer = "c2", weight = dense<-0.5> : tensor<1x1x2x3xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<6x6x2xf32>) -> tensor<6x6x3xf32>
  %s = nn.add %c1, %c2, %c1 {layer = "add"} : (tensor<6x6x3xf32>, tensor<6x6x3xf32>, tensor<6x6x3xf32>) -> tensor<6x6x3xf32>
  %g = nn.global_pool %s {layer = "gap", op = #hls<pool_op average>} : (tensor<6x6x3xf32>) -> tensor<3xf32>
  func.return %s, %g : tensor<6x6x3xf32>, tensor<3xf32>
}
"""


def parse(text: str) -> ModuleOp:
    return Parser(make_context(), text).parse_module()


def compile_ir(text: str, io_type: str = "io_parallel", stop: str | None = None) -> ModuleOp:
    module = parse(text)
    spec = f"nn-apply-config,nn-canonicalize,nn-infer-precision,nn-schedule,lower-nn-to-hls{{io-type={io_type}}}"
    return run_pipeline(make_context(), module, parse_pipeline(spec), stop_after=stop)


def kernels(module: ModuleOp) -> list[hls.HLSKernelOp]:
    return [op for op in module.walk() if isinstance(op, hls.HLSKernelOp)]


def by_layer(module: ModuleOp, name: str) -> hls.HLSKernelOp:
    return next(op for op in kernels(module) if op.layer_name == name)


def test_mlp_io_parallel_structure() -> None:
    module = parse(MLP)
    typed = run_pipeline(make_context(), module, parse_pipeline("nn-infer-precision,nn-schedule"))
    fc1_nn = next(op for op in typed.walk() if isinstance(op, nn.DenseOp))
    expected_acc = fc1_nn.get_precision("accum")
    weights = nn.to_numpy(fc1_nn.weight)
    lower_module(typed, "io_parallel")
    typed.verify()
    (top,) = [op for op in typed.ops if isinstance(op, hls.FuncOp)]
    assert top.sym_name.data == "mlp" and top.io_type.data == IOType.IO_PARALLEL
    assert top.pipeline_style.data == PipelineStyle.DATAFLOW  # a Resource layer
    (arg,) = top.body.block.args
    assert arg.type == ArrayType([4], hls_fixed("fixed<10,4>"))  # pyright: ignore[reportCallIssue]
    assert [op.name for op in kernels(typed)] == [
        "hls.dense",
        "hls.activation",
        "hls.activation",
        "hls.dense",
        "hls.softmax",
    ]
    fc1 = by_layer(typed, "fc1")
    assert isinstance(fc1, hls.DenseOp)
    assert fc1.accum_t == expected_acc
    np.testing.assert_array_equal(
        hls.mantissas(fc1.weight), to_mantissa(weights, fc1.weight_t.precision)
    )
    assert fc1.reuse_factor is not None and fc1.reuse_factor.value.data == 2
    assert fc1.ii is not None and fc1.multipliers is not None  # estimates carried over
    # Every value's element type is its layer's result precision.
    assert hls.value_type(fc1.output).element_type == fc1.accum_t


def hls_fixed(text: str) -> FixedPointType:
    from nnhls.dialects.fixed import parse_precision
    from nnhls.dialects.types import fixed_type

    return fixed_type(parse_precision(text))


def test_emulated_mlp_follows_the_float_reference() -> None:
    emulator = pytest.importorskip("nnhls.interpreters.emulator")
    module = parse(MLP)
    x = np.random.default_rng(1).uniform(-3, 3, (64, 4))
    (reference,) = run_reference(module, x)
    lowered = run_pipeline(
        make_context(), module, parse_pipeline("nn-infer-precision,nn-schedule,lower-nn-to-hls")
    )
    (y,) = emulator.run_hls(lowered, x)
    # Inputs are quantized to fixed<10,4> (step 1/64), the result to 10 fractional bits, softmax
    # goes through tables: a few hundredths at most.
    assert np.max(np.abs(y - reference)) < 0.05
    assert np.mean(np.argmax(y, axis=1) == np.argmax(reference, axis=1)) >= 0.95
    assert np.all((y >= 0) & (y <= 1.0))


def test_io_stream_plumbing() -> None:
    module = compile_ir(BRANCHED, "io_stream")
    module.verify()
    (top,) = [op for op in module.ops if isinstance(op, hls.FuncOp)]
    assert top.pipeline_style.data == PipelineStyle.DATAFLOW
    names = [op.name for op in kernels(module)]
    # the input feeds c1 (after explicit padding) and c2: one clone with two outputs; c1 is read
    # twice by the add chain: a clone with two outputs; the add result feeds gap and the return.
    assert names.count("hls.clone") == 3
    assert names.index("hls.pad") < names.index("hls.conv2d")
    conv = by_layer(module, "c1")
    assert isinstance(conv, hls.Conv2DOp) and not any(hls.ints(conv.pads))
    for op in module.walk():
        for value in op.results:
            if isinstance(value.type, StreamType):
                assert len(list(value.uses)) == 1, (
                    f"{value.name_hint} is read {len(list(value.uses))} times"
                )
                shape = value.type.get_shape()
                assert value.type.depth.data == int(np.prod(shape[:-1]))  # one slot per pixel
    assert [op.name for op in kernels(module)].count("hls.merge") == 2  # 3-input add -> 2 merges


def test_io_parallel_keeps_padding_on_the_convolution() -> None:
    module = compile_ir(BRANCHED, "io_parallel")
    assert "hls.pad" not in [op.name for op in kernels(module)]
    assert "hls.clone" not in [op.name for op in kernels(module)]
    conv = by_layer(module, "c1")
    assert isinstance(conv, hls.Conv2DOp) and hls.ints(conv.pads) == (1, 1, 1, 1)


def test_average_of_three_and_constant_merges() -> None:
    text = """
func.func @m(%a: tensor<2x2xf32>, %b: tensor<2x2xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
  %x = nn.input %a {layer = "x"} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %y = nn.input %b {layer = "y"} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %avg = nn.average %x, %y, %x {layer = "avg"} : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %k = nn.constant {layer = "k", value = dense<[[1.5, -2.0], [1.5, -2.0]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %m = nn.sub %k, %y {layer = "sub"} : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  func.return %avg, %m : tensor<2x2xf32>, tensor<2x2xf32>
}"""
    module = parse(text)
    inputs = [np.random.default_rng(2).uniform(-4, 4, (8, 2, 2)) for _ in range(2)]
    reference = run_reference(module, inputs)
    lowered = compile_ir(text)
    names = [op.name for op in kernels(lowered)]
    assert names == ["hls.merge", "hls.merge", "hls.batchnorm", "hls.batchnorm"]
    emulator = pytest.importorskip("nnhls.interpreters.emulator")
    for got, want in zip(emulator.run_hls(lowered, inputs), reference, strict=True):
        assert np.max(np.abs(got - want)) < 0.01


def test_spatially_varying_constant_is_rejected() -> None:
    text = """
func.func @m(%a: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %x = nn.input %a {layer = "x"} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %k = nn.constant {layer = "k", value = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %m = nn.mul %x, %k {layer = "mul"} : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  func.return %m : tensor<2x2xf32>
}"""
    with pytest.raises(
        LoweringError, match=r"nn\.mul 'mul': constant 'k' varies over the spatial axes"
    ):
        compile_ir(text)


def test_unknown_io_type() -> None:
    with pytest.raises(
        LoweringError, match="io-type must be io_parallel or io_stream, got 'io_serial'"
    ):
        lower_module(parse(MLP), "io_serial")


# Every nn op kind once (depthwise conv with padding, average pooling with and without counted
# padding, max pooling with padding, all merges, table and exact activations, shape ops, conv1d
# with dilation, softmax), lowered in both io types and emulated against the float reference.
ZOO = """
func.func @zoo(%a: tensor<6x6x2xf32>, %b: tensor<4xf32>) -> (tensor<6x6x4xf32>, tensor<3x3x4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<6x12xf32>, tensor<4xf32>) {
  %x = nn.input %a {layer = "img"} : (tensor<6x6x2xf32>) -> tensor<6x6x2xf32>
  %v = nn.input %b {layer = "vec"} : (tensor<4xf32>) -> tensor<4xf32>
  %dw = nn.depthwise_conv2d %x {layer = "dw", weight = dense<[[[[0.5, -0.25], [1.0, 0.75]], [[0.2, 0.1], [-0.3, 0.4]]], [[[0.6, -0.5], [0.2, 0.9]], [[-0.7, 0.3], [0.25, -0.125]]]]> : tensor<2x2x2x2xf32>, bias = dense<[0.1, 0.2, -0.1, 0.0]> : tensor<4xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 1, 0, 1>} : (tensor<6x6x2xf32>) -> tensor<6x6x4xf32>
  %e = nn.activation %dw {layer = "elu", kind = #hls<activation elu>, alpha = 1.0 : f64} : (tensor<6x6x4xf32>) -> tensor<6x6x4xf32>
  %ap = nn.pool %e {layer = "avgpad", op = #hls<pool_op average>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<6x6x4xf32>) -> tensor<3x3x4xf32>
  %ap2 = nn.pool %e {layer = "avgcnt", op = #hls<pool_op average>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, count_pad} : (tensor<6x6x4xf32>) -> tensor<3x3x4xf32>
  %mp = nn.pool %e {layer = "maxpad", op = #hls<pool_op max>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<6x6x4xf32>) -> tensor<3x3x4xf32>
  %s1 = nn.sub %ap, %mp {layer = "sub"} : (tensor<3x3x4xf32>, tensor<3x3x4xf32>) -> tensor<3x3x4xf32>
  %m1 = nn.maximum %s1, %ap2 {layer = "max"} : (tensor<3x3x4xf32>, tensor<3x3x4xf32>) -> tensor<3x3x4xf32>
  %m2 = nn.minimum %m1, %ap {layer = "min"} : (tensor<3x3x4xf32>, tensor<3x3x4xf32>) -> tensor<3x3x4xf32>
  %av = nn.average %m2, %ap, %ap2 {layer = "avg3"} : (tensor<3x3x4xf32>, tensor<3x3x4xf32>, tensor<3x3x4xf32>) -> tensor<3x3x4xf32>
  %ml = nn.mul %av, %ap2 {layer = "mul"} : (tensor<3x3x4xf32>, tensor<3x3x4xf32>) -> tensor<3x3x4xf32>
  %sp = nn.activation %ml {layer = "softplus", kind = #hls<activation softplus>} : (tensor<3x3x4xf32>) -> tensor<3x3x4xf32>
  %lr = nn.activation %v {layer = "leaky", kind = #hls<activation leaky_relu>, alpha = 0.2 : f64} : (tensor<4xf32>) -> tensor<4xf32>
  %pr = nn.activation %lr {layer = "prelu", kind = #hls<activation prelu>, param = dense<[0.1, 0.2, 0.3, 0.4]> : tensor<4xf32>} : (tensor<4xf32>) -> tensor<4xf32>
  %hs = nn.activation %pr {layer = "hsig", kind = #hls<activation hard_sigmoid>} : (tensor<4xf32>) -> tensor<4xf32>
  %sl = nn.activation %v {layer = "selu", kind = #hls<activation selu>} : (tensor<4xf32>) -> tensor<4xf32>
  %cl = nn.activation %sl {layer = "clip", kind = #hls<activation clip>, alpha = -0.5 : f64, beta = 1.0 : f64} : (tensor<4xf32>) -> tensor<4xf32>
  %tr = nn.activation %v {layer = "thr", kind = #hls<activation thresholded_relu>, alpha = 0.5 : f64} : (tensor<4xf32>) -> tensor<4xf32>
  %ss = nn.activation %tr {layer = "softsign", kind = #hls<activation softsign>} : (tensor<4xf32>) -> tensor<4xf32>
  %sw = nn.activation %v {layer = "swish", kind = #hls<activation swish>} : (tensor<4xf32>) -> tensor<4xf32>
  %ta = nn.activation %sw {layer = "tanh", kind = #hls<activation tanh>} : (tensor<4xf32>) -> tensor<4xf32>
  %dot = nn.dot %hs, %cl {layer = "dot"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<1xf32>
  %t = nn.transpose %sp {layer = "tr", perm = array<i64: 1, 0, 2>} : (tensor<3x3x4xf32>) -> tensor<3x3x4xf32>
  %cr = nn.crop %t {layer = "crop", crops = array<i64: 0, 1, 1, 0>} : (tensor<3x3x4xf32>) -> tensor<2x2x4xf32>
  %up = nn.upsample %cr {layer = "up", factors = array<i64: 2, 3>} : (tensor<2x2x4xf32>) -> tensor<4x6x4xf32>
  %pd = nn.pad %up {layer = "pad", pads = array<i64: 1, 1, 0, 0>} : (tensor<4x6x4xf32>) -> tensor<6x6x4xf32>
  %cc = nn.concat %pd, %dw {layer = "cat", axis = 2 : i64} : (tensor<6x6x4xf32>, tensor<6x6x4xf32>) -> tensor<6x6x8xf32>
  %gm = nn.global_pool %cc {layer = "gmax", op = #hls<pool_op max>} : (tensor<6x6x8xf32>) -> tensor<8xf32>
  %rs = nn.reshape %cr {layer = "rs"} : (tensor<2x2x4xf32>) -> tensor<4x4xf32>
  %c1 = nn.conv1d %rs {layer = "c1", weight = dense<0.3> : tensor<3x4x4xf32>, strides = array<i64: 1>, dilations = array<i64: 2>, pads = array<i64: 4, 4>} : (tensor<4x4xf32>) -> tensor<8x4xf32>
  %k = nn.constant {layer = "k", value = dense<[[0.5, -1.0, 2.0, 0.25]]> : tensor<1x4xf32>} : tensor<1x4xf32>
  %r8 = nn.reshape %gm {layer = "r8"} : (tensor<8xf32>) -> tensor<2x4xf32>
  %c2 = nn.concat %c1, %c1, %c1 {layer = "cat2", axis = 1 : i64} : (tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<8x12xf32>
  %cr2 = nn.crop %c2 {layer = "crop2", crops = array<i64: 1, 1>} : (tensor<8x12xf32>) -> tensor<6x12xf32>
  %sm = nn.softmax %ta {layer = "sm"} : (tensor<4xf32>) -> tensor<4xf32>
  %ss2 = nn.add %ss, %sm {layer = "add2"} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %dw, %sp, %ss2, %dot, %cr2, %cl : tensor<6x6x4xf32>, tensor<3x3x4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<6x12xf32>, tensor<4xf32>
}
"""

PIPELINE_MODELS = Path(__file__).resolve().parents[1] / "filecheck" / "passes" / "pipeline"
WIDE = '{\\"Model\\": {\\"Precision\\": \\"fixed<24,10>\\"}}'


def emulate_against_reference(text: str, io_type: str) -> list[float]:
    emulator = pytest.importorskip("nnhls.interpreters.emulator")
    from nnhls.dialects.nn import model_function

    module = parse(text)
    rng = np.random.default_rng(0)
    xs = [rng.uniform(-2, 2, (16, *hls_shape(a))) for a in model_function(module).body.block.args]
    reference = run_reference(module, xs)
    spec = f'nn-apply-config{{config_json="{WIDE}"}},nn-canonicalize,nn-infer-precision,nn-schedule,lower-nn-to-hls{{io-type={io_type}}}'
    lowered = run_pipeline(make_context(), module, parse_pipeline(spec))
    return [
        float(np.max(np.abs(y - r)))
        for y, r in zip(emulator.run_hls(lowered, xs), reference, strict=True)
    ]


def hls_shape(value: object) -> tuple[int, ...]:
    return tuple(value.type.get_shape())  # pyright: ignore[reportAttributeAccessIssue]


@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
def test_every_op_follows_the_reference(io_type: str) -> None:
    # fixed<24,10> everywhere: the exact layers agree to ~1e-3, table activations (1024 bins over
    # [-8, 8)) and softmax to ~1e-2.
    assert max(emulate_against_reference(ZOO, io_type)) < 0.02


@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
@pytest.mark.parametrize("model", ["mlp", "cnn", "branched"])
def test_pipeline_models_follow_the_reference(model: str, io_type: str) -> None:
    text = (PIPELINE_MODELS / f"{model}.mlir").read_text()
    assert max(emulate_against_reference(text, io_type)) < 0.002


def test_stream_concat_along_rows() -> None:
    text = ZOO.replace(
        "axis = 1 : i64} : (tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<8x12xf32>",
        "axis = 0 : i64} : (tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<24x4xf32>",
    )
    text = text.replace(
        "(tensor<8x12xf32>) -> tensor<6x12xf32>", "(tensor<24x4xf32>) -> tensor<22x4xf32>"
    ).replace("tensor<6x12xf32>", "tensor<22x4xf32>")
    module = compile_ir(text, "io_stream")
    concats = [op for op in module.walk() if isinstance(op, hls.ConcatOp)]
    assert any(op.axis.value.data == 0 for op in concats)
