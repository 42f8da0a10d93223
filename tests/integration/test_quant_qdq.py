"""ONNX QDQ models written by onnxruntime's static quantization, read by nnhls.

Float models (a small CNN and an MLP, random weights) are quantized by
`onnxruntime.quantization.quantize_static` (QDQ format, int8 weights, int8 or uint8 activations,
per tensor or per channel), calibrated on random data, then run by onnxruntime and by nnhls.
Every output value must agree within one quantization step of the output.

onnxruntime's fully optimised session fuses the QDQ pairs into integer kernels; for per-channel
weights its fused result departs from the QDQ graph's own semantics (the unfused session,
`ORT_ENABLE_BASIC`, runs each Quantize/DequantizeLinear as written), so per-channel models are
compared with the unfused session. (So does its fused kernel for the padded convolution with uint8
activations, by up to 39 steps on 0.6 % of the outputs of the per-tensor model, measured with
onnxruntime 1.32; the padded model is compared with the unfused session too, as is the residual
MLP, whose fused uint8 Add departs by up to 8 steps.)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import nnhls
from nnhls.dialects import nn
from nnhls.dialects.types import FixedPointType
from nnhls.errors import OverflowWarning, PrecisionWarning
from nnhls.frontends.onnx import import_onnx
from nnhls.interpreters.reference import run_reference
from nnhls.ops.dense import accumulated_terms

quantization = pytest.importorskip("onnxruntime.quantization")


def _cnn(rng: np.random.Generator, pad: int = 0) -> onnx.ModelProto:
    """pad = 1: the convolution pads its input with zeros (in the integer-code domain the padded
    value must be the zero point's code, i.e. 0 after subtracting it)."""
    side = (8 + 2 * pad - 2) // 2
    w1 = rng.normal(0, 0.5, (4, 1, 3, 3)).astype(np.float32)
    b1 = rng.normal(0, 0.1, 4).astype(np.float32)
    w2 = rng.normal(0, 0.3, (10, 4 * side * side)).astype(np.float32)
    b2 = rng.normal(0, 0.1, 10).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "W1", "B1"], ["c"], kernel_shape=[3, 3], pads=[pad] * 4),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "W2", "B2"], ["y"], transB=1),
    ]
    inits = [
        numpy_helper.from_array(a, n) for a, n in ((w1, "W1"), (b1, "B1"), (w2, "W2"), (b2, "B2"))
    ]
    graph = helper.make_graph(
        nodes, "cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 10])], inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _mlp(rng: np.random.Generator) -> onnx.ModelProto:
    w1 = rng.normal(0, 0.4, (16, 32)).astype(np.float32)
    w2 = rng.normal(0, 0.3, (32, 5)).astype(np.float32)
    b2 = rng.normal(0, 0.1, 5).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "W1"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("MatMul", ["r", "W2"], ["m"]),
        helper.make_node("Add", ["m", "B2"], ["y"]),
    ]
    return _vector_model("mlp", nodes, {"W1": w1, "W2": w2, "B2": b2})


def _residual_mlp(rng: np.random.Generator) -> onnx.ModelProto:
    """A residual branch: the quantized value `h` is read by a MatMul and by the Add that skips it
    (uint8 activations give it a non-zero zero point)."""
    w1 = rng.normal(0, 0.4, (16, 32)).astype(np.float32)
    w2 = rng.normal(0, 0.2, (32, 32)).astype(np.float32)
    w3 = rng.normal(0, 0.3, (32, 5)).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "W1"], ["h"]),
        helper.make_node("MatMul", ["h", "W2"], ["h2"]),
        helper.make_node("Relu", ["h2"], ["r2"]),
        helper.make_node("Add", ["h", "r2"], ["s"]),
        helper.make_node("MatMul", ["s", "W3"], ["y"]),
    ]
    return _vector_model("residual", nodes, {"W1": w1, "W2": w2, "W3": w3})


def _vector_model(name: str, nodes: list[onnx.NodeProto], weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    """A graph from x (16 features) to y (5 outputs) with the given initializers."""
    inits = [numpy_helper.from_array(a, n) for n, a in weights.items()]
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 5])], inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


class _Calibration(quantization.CalibrationDataReader):
    def __init__(self, shape: tuple[int, ...], rng: np.random.Generator):
        self.batches = iter(
            [{"x": rng.normal(size=(1, *shape)).astype(np.float32)} for _ in range(32)]
        )

    def get_next(self) -> dict | None:
        return next(self.batches, None)


@dataclass(frozen=True)
class QDQCase:
    path: Path
    x: np.ndarray
    expected: np.ndarray
    """onnxruntime's outputs."""
    step: float
    """The output quantizer's scale: one quantization step of the output."""

    def steps(self, ours: np.ndarray) -> np.ndarray:
        return np.abs(ours.reshape(self.expected.shape) - self.expected) / self.step


def _qdq_case(directory: Path, model: str, activation: str, per_channel: bool) -> QDQCase:
    rng = np.random.default_rng(3)
    builders = {"mlp": _mlp, "residual": _residual_mlp}
    float_model = builders[model](rng) if model in builders else _cnn(rng, pad=int(model == "cnn_pad"))
    shape = (16,) if model in builders else (1, 8, 8)
    float_path, qdq_path = directory / "float.onnx", directory / "qdq.onnx"
    onnx.save(float_model, float_path)
    quantization.quantize_static(
        str(float_path), str(qdq_path), _Calibration(shape, rng),
        quant_format=quantization.QuantFormat.QDQ, per_channel=per_channel,
        activation_type=getattr(quantization.QuantType, activation),
        weight_type=quantization.QuantType.QInt8,
    )  # fmt: skip
    qdq = onnx.load(qdq_path)
    options = ort.SessionOptions()
    if per_channel or model == "residual":  # its fused uint8 Add departs by up to 8 steps too
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    x = rng.normal(size=(300, *shape)).astype(np.float32)
    expected = ort.InferenceSession(str(qdq_path), options).run(None, {"x": x})[0]
    output_scale = next(
        numpy_helper.to_array(i) for i in qdq.graph.initializer if i.name.startswith("y_scale")
    )
    return QDQCase(qdq_path, x, expected, float(output_scale))


CASES = [("cnn", "QInt8", False), ("cnn", "QUInt8", False), ("cnn", "QUInt8", True),
         ("cnn_pad", "QUInt8", True), ("mlp", "QInt8", False), ("mlp", "QUInt8", True),
         ("residual", "QInt8", False), ("residual", "QUInt8", False)]  # fmt: skip


@pytest.mark.parametrize(("model", "activation", "per_channel"), CASES)
def test_qdq_models_agree_with_onnxruntime_within_one_step(
    tmp_path: Path, model: str, activation: str, per_channel: bool
) -> None:
    """The imported graph (reference interpreter) and the compiled model with the default
    configuration (numpy emulator of the generated C++): every output within one step of
    onnxruntime's. The compiled model differs only where a float value lies within the rounding
    of the scale constants (24 significant bits) of a code boundary. The integer-code layers
    compute on the 8-bit codes: exact accumulators of 8 + 8 bits plus the growth of the sum."""
    case = _qdq_case(tmp_path, model, activation, per_channel)
    ours = run_reference(import_onnx(onnx.load(case.path)), case.x.astype(np.float64))[0]
    steps = case.steps(ours)
    assert steps.max() <= 1 + 1e-4
    assert (steps < 1e-4).mean() > 0.99  # nearly always identical up to float32 output rounding
    compiled = nnhls.converters.convert_from_onnx_model(str(case.path), output_dir=str(tmp_path / "prj"))
    with warnings.catch_warnings():  # nothing capped: the float bias Add of the MLPs neither
        warnings.simplefilter("error", PrecisionWarning)
        typed = compiled.module("typed")
    layers = [op for op in typed.walk() if isinstance(op, nn.DenseOp | nn.ConvBaseOp)]
    assert len(layers) == (3 if model == "residual" else 2)
    for op in layers:
        accum = op.get_precision("accum")
        assert isinstance(accum, FixedPointType) and accum.precision.fractional == 0
        fan_in = accumulated_terms(op)
        assert accum.precision.width <= 8 + 8 + int(np.ceil(np.log2(fan_in))) + 1, op.layer_name
    with warnings.catch_warnings():  # the int8 / uint8 codes saturate by design: no OverflowWarning
        warnings.simplefilter("error", OverflowWarning)
        steps = case.steps(compiled.predict(case.x.astype(np.float64), emulator="numpy"))
    assert steps.max() <= 1 + 1e-4
    # the same code as onnxruntime (up to the float32 rounding of its dequantized output) nearly
    # everywhere: measured on every value of these cases with the integer-only layers
    assert (steps < 1e-3).mean() > 0.99


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "activation", "per_channel", "io_type"),
    [("cnn", "QUInt8", True, "io_stream"), ("cnn", "QInt8", False, "io_parallel"), ("mlp", "QInt8", False, "io_stream"),
     ("residual", "QUInt8", False, "io_stream")],
)
def test_qdq_models_through_cpp(
    tmp_path: Path, model: str, activation: str, per_channel: bool, io_type: str
) -> None:
    """The g++-built C++ equals the numpy emulator bit for bit and stays within one step of
    onnxruntime (default configuration: the integer-code layers and their scale layers keep
    exact bit growth, no maximum-precision cap)."""
    case = _qdq_case(tmp_path, model, activation, per_channel)
    compiled = nnhls.converters.convert_from_onnx_model(
        str(case.path), output_dir=str(tmp_path / "prj"), io_type=io_type
    )
    x = case.x.astype(np.float64)
    emulated = compiled.predict(x, emulator="numpy")
    compiled.compile()
    built = compiled.predict(x)
    assert np.array_equal(built, emulated)
    steps = case.steps(built)
    assert steps.max() <= 1 + 1e-4
    assert (steps < 1e-4).mean() > 0.95
