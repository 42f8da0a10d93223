"""Whole models through the default pipeline, emulated, against the float reference interpreter.

Keras and ONNX (via PyTorch) models -> nn IR -> nn-apply-config, nn-canonicalize,
nn-infer-precision, nn-schedule, lower-nn-to-hls -> run_hls, in io_parallel and io_stream:
- with fixed<32,12> everywhere (and big lookup tables) every output is within 1e-3 of
  nnhls.interpreters.reference.run_reference on the imported nn IR;
- with the config `config_from_keras_model(model, granularity='name')` generates (accumulators
  `auto`), no dense or convolution accumulator overflows on the worst-case inputs of its input
  type: each such kernel, run alone by the emulator on inputs that maximise and minimise every
  output, gives the same accumulator as with 40 more integer bits.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import pytest
import torch
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Region

from nnhls.compiler.context import make_context
from nnhls.compiler.pipeline import default_pipeline, parse_pipeline, run_pipeline
from nnhls.dialects import hls, nn
from nnhls.dialects.fixed import FixedPrecision
from nnhls.dialects.types import ArrayType, StreamType, fixed_type
from nnhls.frontends.keras import import_keras
from nnhls.frontends.pytorch import import_pytorch
from nnhls.interpreters.emulator import hls_function, run_hls, run_hls_fixed
from nnhls.interpreters.reference import run_reference
from nnhls.passes.nn_apply_config import ApplyConfigPass
from nnhls.utils import config_from_keras_model

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:keras"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:torch"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:nnhls.frontends.pytorch"),
]

IO_TYPES = ["io_parallel", "io_stream"]
RNG = np.random.default_rng(2024)
BIG_TABLES = 1 << 16


def lower(module: ModuleOp, config: dict[str, Any], io_type: str) -> ModuleOp:
    """The default pipeline with `config` given to nn-apply-config."""
    passes = parse_pipeline(default_pipeline(io_type))
    assert passes[0].name == "nn-apply-config"
    full = {"IOType": io_type, "HLSConfig": config}
    passes = (ApplyConfigPass(config_json=json.dumps(full)), *passes[1:])
    return run_pipeline(make_context(), module, passes)


def wide_config(module: ModuleOp) -> dict[str, Any]:
    """fixed<32,12> everywhere; lookup tables of 2**16 entries (their step is then ~2e-4)."""
    layers = {
        op.layer_name: {"TableSize": BIG_TABLES}
        for op in module.walk()
        if isinstance(op, nn.ActivationOp | nn.SoftmaxOp)
    }
    config: dict[str, Any] = {
        "Model": {"Precision": "fixed<32,12>", "ReuseFactor": 1, "Strategy": "Latency"}
    }
    if layers:
        config["LayerName"] = layers
    return config


def check_close_to_reference(nn_module: ModuleOp, inputs: list[np.ndarray], io_type: str) -> None:
    reference = run_reference(nn_module.clone(), inputs)
    hls_module = lower(nn_module, wide_config(nn_module), io_type)
    outputs = run_hls(hls_module, inputs)
    assert len(outputs) == len(reference)
    for got, expected in zip(outputs, reference, strict=True):
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, atol=1e-3, rtol=0)


# ----- models ---------------------------------------------------------------------------------------------------


def randomize_batchnorms(model: keras.Model) -> keras.Model:
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.get_weights()[0].shape[0]
            gamma, beta = RNG.uniform(0.5, 1.5, n), RNG.normal(size=n) * 0.2
            mean, var = RNG.normal(size=n) * 0.2, RNG.uniform(0.5, 1.5, n)
            layer.set_weights([gamma, beta, mean, var])
    return model


def mlp() -> keras.Model:
    inp = keras.Input((16,), name="x")
    h = keras.layers.Dense(32, activation="relu", name="fc1")(inp)
    h = keras.layers.Dense(16, activation="tanh", name="fc2")(h)
    h = keras.layers.Dense(8, activation="sigmoid", name="fc3")(h)
    out = keras.layers.Dense(5, activation="softmax", name="out")(h)
    return keras.Model(inp, out, name="mlp")


def cnn2d() -> keras.Model:
    inp = keras.Input((10, 10, 3), name="img")
    h = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1")(inp)
    h = keras.layers.BatchNormalization(name="bn1")(h)
    h = keras.layers.MaxPooling2D(2, name="pool1")(h)
    h = keras.layers.Conv2D(6, 2, activation="relu", name="conv2")(h)
    h = keras.layers.AveragePooling2D(2, name="pool2")(h)
    h = keras.layers.Flatten(name="flat")(h)
    out = keras.layers.Dense(4, activation="softmax", name="out")(h)
    return randomize_batchnorms(keras.Model(inp, out, name="cnn2d"))


def cnn1d() -> keras.Model:
    inp = keras.Input((20, 2), name="seq")
    h = keras.layers.Conv1D(5, 3, strides=2, padding="same", activation="relu", name="conv1")(inp)
    h = keras.layers.Conv1D(4, 3, name="conv2")(h)
    h = keras.layers.LeakyReLU(negative_slope=0.125, name="leaky")(h)
    h = keras.layers.GlobalAveragePooling1D(name="gap")(h)
    out = keras.layers.Dense(3, name="out")(h)
    return keras.Model(inp, out, name="cnn1d")


def branched() -> keras.Model:
    a = keras.Input((12,), name="a")
    b = keras.Input((12,), name="b")
    ha = keras.layers.Dense(8, activation="relu", name="da")(a)
    hb = keras.layers.Dense(8, name="db")(b)
    s = keras.layers.Add(name="add")([ha, hb])
    m = keras.layers.Multiply(name="mul")([ha, hb])
    c = keras.layers.Concatenate(name="cat")([s, m])
    out = keras.layers.Dense(4, name="out")(c)
    return keras.Model([a, b], out, name="branched")


def depthwise() -> keras.Model:
    inp = keras.Input((6, 6, 2), name="img")
    h = keras.layers.ZeroPadding2D(((1, 0), (0, 1)), name="zp")(inp)
    h = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="dw")(h)
    h = keras.layers.UpSampling2D(2, name="up")(h)
    h = keras.layers.GlobalMaxPooling2D(name="gmp")(h)
    out = keras.layers.Dense(3, name="out")(h)
    return keras.Model(inp, out, name="depthwise")


KERAS_MODELS: dict[str, tuple[Callable[[], keras.Model], list[tuple[int, ...]]]] = {
    "mlp": (mlp, [(16,)]),
    "cnn2d": (cnn2d, [(10, 10, 3)]),
    "cnn1d": (cnn1d, [(20, 2)]),
    "branched": (branched, [(12,), (12,)]),
    "depthwise": (depthwise, [(6, 6, 2)]),
}


def inputs_for(shapes: list[tuple[int, ...]], batch: int = 64) -> list[np.ndarray]:
    return [RNG.normal(size=(batch, *s)).astype(np.float32) for s in shapes]


@pytest.fixture(scope="module", params=list(KERAS_MODELS))
def keras_model(request: pytest.FixtureRequest) -> tuple[keras.Model, list[tuple[int, ...]]]:
    build, shapes = KERAS_MODELS[request.param]
    keras.utils.set_random_seed(7)
    return build(), shapes


@pytest.mark.parametrize("io_type", IO_TYPES)
def test_keras_models_with_wide_precision_match_the_reference(
    keras_model: tuple[keras.Model, list[tuple[int, ...]]], io_type: str
) -> None:
    model, shapes = keras_model
    check_close_to_reference(import_keras(model), inputs_for(shapes), io_type)


def test_an_empty_batch_gives_empty_outputs(
    keras_model: tuple[keras.Model, list[tuple[int, ...]]],
) -> None:
    model, shapes = keras_model
    hls_module = lower(import_keras(model), wide_config(import_keras(model)), "io_parallel")
    outputs = run_hls(hls_module, [np.zeros((0, *s)) for s in shapes])
    assert [o.shape[0] for o in outputs] == [0] * len(model.outputs)


class TorchCNN(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.pool = torch.nn.MaxPool2d(2)
        self.fc = torch.nn.Linear(4 * 4 * 4, 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(torch.relu(self.bn(self.conv(x))))
        return torch.softmax(self.fc(torch.flatten(h, 1)), dim=1)


@pytest.mark.parametrize("io_type", IO_TYPES)
def test_onnx_model_with_wide_precision_matches_the_reference(io_type: str) -> None:
    torch.manual_seed(3)
    net = TorchCNN().eval()
    mean, var = net.bn.running_mean, net.bn.running_var
    assert mean is not None and var is not None
    with torch.no_grad():
        mean.uniform_(-0.2, 0.2)
        var.uniform_(0.5, 1.5)
    module = import_pytorch(net, (2, 8, 8))
    shape = hls_shape(module)
    check_close_to_reference(module, [RNG.normal(size=(64, *shape))], io_type)


def hls_shape(nn_module: ModuleOp) -> tuple[int, ...]:
    """The (channels-last) shape of the imported model's single input."""
    function = next(op for op in nn_module.ops if op.name == "func.func")
    arg = function.regions[0].block.args[0]
    return tuple(arg.type.get_shape())  # pyright: ignore[reportAttributeAccessIssue]


# ----- worst-case accumulators ----------------------------------------------------------------------------------


def element_type(value_type: ArrayType | StreamType, p: FixedPrecision) -> ArrayType | StreamType:
    element = fixed_type(p)
    if isinstance(value_type, StreamType):
        return StreamType(value_type.get_shape(), element, value_type.depth.data)  # pyright: ignore[reportCallIssue]
    return ArrayType(value_type.get_shape(), element)  # pyright: ignore[reportCallIssue]


def alone(op: hls.DenseOp | hls.ConvBaseOp, acc: FixedPrecision) -> ModuleOp:
    """A function running a copy of `op` with accumulator `acc`, returning the accumulator itself
    (the result type is acc with 40 more integer bits, so the final cast changes nothing)."""
    in_type = hls.value_type(op.input)
    block = Block(arg_types=[in_type])
    wide = FixedPrecision(acc.width + 40, acc.integer + 40)
    properties = dict(op.properties) | {"accum_t": fixed_type(acc)}
    copy = type(op).create(
        operands=[block.args[0]],
        result_types=[element_type(hls.value_type(op.output), wide)],
        properties=properties,
    )
    block.add_ops([copy, hls.ReturnOp(copy.results[0])])
    source = hls_function(op.get_toplevel_object())  # pyright: ignore[reportArgumentType]
    function = hls.FuncOp.create(
        properties={
            "sym_name": source.sym_name,
            "io_type": source.io_type,
            "pipeline_style": source.pipeline_style,
        },
        regions=[Region(block)],
    )
    module = ModuleOp([function])
    module.verify()
    return module


def worst_case_inputs(op: hls.DenseOp | hls.ConvBaseOp) -> np.ndarray:
    """Inputs at the extremes of the input type that maximise, then minimise, each output
    (for convolutions: one output pixel whose window lies inside the input)."""
    p = hls.value_type(op.input).element_type.precision
    w = hls.mantissas(op.weight)
    in_shape = hls.shape_of(op.input)

    def extreme(weights: np.ndarray, sign: int) -> np.ndarray:
        return np.where(sign * weights > 0, p.max_value, p.min_value)

    samples: list[np.ndarray] = []
    for sign in (1, -1):
        if isinstance(op, hls.DenseOp):
            samples += [
                np.broadcast_to(extreme(w[:, j], sign), in_shape) for j in range(w.shape[1])
            ]
            continue
        origin = inner_window(op)
        rank = op.RANK
        dilations = hls.ints(op.dilations)
        for c_out in range(w.shape[-1] * (w.shape[-2] if op.DEPTHWISE else 1)):
            x = np.zeros(in_shape)
            for k in itertools.product(*(range(n) for n in w.shape[:rank])):
                at = tuple(origin[a] + k[a] * dilations[a] for a in range(rank))
                if op.DEPTHWISE:
                    c, m = divmod(c_out, w.shape[-1])
                    x[(*at, c)] = extreme(w[(*k, c, m)], sign)
                else:
                    x[at] = extreme(w[k][:, c_out], sign)
            samples.append(x)
    return np.stack(samples)


def inner_window(op: hls.ConvBaseOp) -> tuple[int, ...]:
    """Input origin of the first output pixel whose whole window lies inside the input."""
    in_shape = hls.shape_of(op.input)
    kernel = hls.mantissas(op.weight).shape[: op.RANK]
    strides, dilations, pads = hls.ints(op.strides), hls.ints(op.dilations), hls.ints(op.pads)
    origin = []
    for a in range(op.RANK):
        span = (kernel[a] - 1) * dilations[a]
        starts = [
            q * strides[a] - pads[2 * a]
            for q in range(hls.shape_of(op.output)[a])
            if q * strides[a] - pads[2 * a] >= 0
            and q * strides[a] - pads[2 * a] + span < in_shape[a]
        ]
        assert starts, f"{op.layer_name}: no output pixel reads a window inside the input"
        origin.append(starts[0])
    return tuple(origin)


def accumulators_overflowing(hls_module: ModuleOp) -> list[str]:
    """Dense / conv layers whose accumulator changes with 40 more integer bits on worst-case inputs."""
    bad = []
    for op in hls_function(hls_module).body.block.ops:
        if not isinstance(op, hls.DenseOp | hls.ConvBaseOp):
            continue
        acc = op.accum_t.precision
        x = worst_case_inputs(op)
        narrow = run_hls_fixed(alone(op, acc), x)[0]
        wide = run_hls_fixed(alone(op, FixedPrecision(acc.width + 40, acc.integer + 40)), x)[0]
        if not np.array_equal(narrow.m.astype(object), wide.m.astype(object)):
            bad.append(op.layer_name)
    return bad


@pytest.mark.parametrize("io_type", IO_TYPES)
def test_inferred_accumulators_never_overflow(
    keras_model: tuple[keras.Model, list[tuple[int, ...]]], io_type: str
) -> None:
    model, _ = keras_model
    # Exact bit growth (no cap): the default Precision.maximum may cap deep accumulators, which
    # then can overflow on worst-case inputs by design (with a warning naming the layer).
    config = config_from_keras_model(model, granularity="name", max_precision="none")
    hls_module = lower(import_keras(model), config, io_type)
    kernels = [
        op
        for op in hls_function(hls_module).body.block.ops
        if isinstance(op, hls.DenseOp | hls.ConvBaseOp)
    ]
    assert kernels
    assert accumulators_overflowing(hls_module) == []


def test_a_narrow_pinned_accumulator_is_caught() -> None:
    model = mlp()
    config = config_from_keras_model(model, granularity="name", max_precision="none")
    config["LayerName"]["fc1"]["Precision"]["accum"] = "fixed<12,4>"
    hls_module = lower(import_keras(model), config, "io_parallel")
    assert accumulators_overflowing(hls_module) == ["fc1"]
