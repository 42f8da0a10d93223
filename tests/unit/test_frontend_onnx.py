"""ONNX front end: small real graphs built with onnx.helper, run by onnxruntime and by our reference."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects.builtin import ModuleOp

from nnhls.dialects import nn
from nnhls.dialects.nn import model_function
from nnhls.frontends.common import FrontendError, ModelFileError, UnsupportedLayerError
from nnhls.frontends.onnx import import_onnx
from nnhls.interpreters.reference import run_reference

RNG = np.random.default_rng(7)
BATCH = 3


def _rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _model(
    nodes: Sequence[onnx.NodeProto],
    inputs: dict[str, Sequence[int]],
    outputs: Sequence[str],
    inits: dict[str, np.ndarray] | None = None,
    opset: int = 17,
) -> onnx.ModelProto:
    """A model whose inputs have a symbolic batch axis followed by the given per-sample shape."""
    graph = helper.make_graph(
        list(nodes),
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", *s]) for n, s in inputs.items()],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in (inits or {}).items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def _ort(model: onnx.ModelProto, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return [np.asarray(o) for o in session.run(None, dict(zip(names, arrays, strict=True)))]


def _check(model: onnx.ModelProto, *arrays: np.ndarray, **options: Any) -> ModuleOp:
    """Import the model and compare the reference with onnxruntime on `arrays` (ONNX layout)."""
    module = import_onnx(model, **options)
    expected = _ort(model, arrays)
    ours = run_reference(module, list(arrays))
    assert len(ours) == len(expected)
    for got, want in zip(ours, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    return module


def _ops(module: ModuleOp) -> list[str]:
    return [op.name for op in model_function(module).body.block.ops][:-1]


def _count(module: ModuleOp, name: str) -> int:
    return _ops(module).count(name)


# ----- dense ------------------------------------------------------------------------------------------


def test_gemm_trans_alpha_beta() -> None:
    node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1, alpha=0.5, beta=2.0)
    model = _model([node], {"x": [6]}, ["y"], {"w": _rand(4, 6), "b": _rand(1, 4)})
    module = _check(model, _rand(BATCH, 6))
    assert _ops(module) == ["nn.input", "nn.dense"]


def test_matmul_add_fuses_into_one_dense() -> None:
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["m"], name="fc"),
        helper.make_node("Add", ["m", "b"], ["y"]),
        helper.make_node("Relu", ["y"], ["z"]),
    ]
    model = _model(nodes, {"x": [5]}, ["z"], {"w": _rand(5, 3), "b": _rand(3)})
    module = _check(model, _rand(BATCH, 5))
    assert _ops(module) == ["nn.input", "nn.dense", "nn.activation"]


def test_matmul_on_3d_input() -> None:
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    _check(_model([node], {"x": [4, 5]}, ["y"], {"w": _rand(5, 2)}), _rand(BATCH, 4, 5))


# ----- convolution and pooling -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "attrs",
    [
        {"pads": [1, 0, 2, 1], "strides": [2, 1], "dilations": [1, 2]},
        {"auto_pad": "SAME_UPPER", "strides": [2, 2]},
        {"auto_pad": "SAME_LOWER"},
        {"auto_pad": "VALID"},
    ],
)
def test_conv2d(attrs: dict[str, Any]) -> None:
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["y"], **attrs)]
    model = _model(nodes, {"x": [3, 7, 8]}, ["y"], {"w": _rand(4, 3, 3, 2), "b": _rand(4)})
    module = _check(model, _rand(BATCH, 3, 7, 8))
    # one transpose after the input, one to give the output back in NCHW
    assert _count(module, "nn.transpose") == 2


def test_conv1d_and_depthwise() -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["a"], pads=[1, 1], strides=[2]),
        helper.make_node("Conv", ["a", "w2", "b2"], ["y"], group=4, pads=[2, 0], dilations=[2]),
    ]
    inits = {"w1": _rand(4, 2, 3), "w2": _rand(8, 1, 3), "b2": _rand(8)}
    module = _check(_model(nodes, {"x": [2, 11]}, ["y"], inits), _rand(BATCH, 2, 11))
    assert "nn.depthwise_conv1d" in _ops(module)


def test_depthwise_conv2d_multiplier() -> None:
    node = helper.make_node("Conv", ["x", "w"], ["y"], group=3, pads=[1, 1, 1, 1])
    module = _check(
        _model([node], {"x": [3, 5, 5]}, ["y"], {"w": _rand(6, 1, 3, 3)}), _rand(2, 3, 5, 5)
    )
    assert "nn.depthwise_conv2d" in _ops(module)


def test_grouped_conv_is_unsupported() -> None:
    node = helper.make_node("Conv", ["x", "w"], ["y"], group=2, name="grouped")
    model = _model([node], {"x": [4, 5, 5]}, ["y"], {"w": _rand(4, 2, 3, 3)})
    with pytest.raises(UnsupportedLayerError, match=r"grouped.*group=2"):
        import_onnx(model)


@pytest.mark.parametrize(
    ("op", "attrs"),
    [
        ("MaxPool", {"kernel_shape": [3, 2], "strides": [2, 2], "pads": [1, 0, 1, 1]}),
        ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}),
        ("AveragePool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
        ("AveragePool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "count_include_pad": 1}),
        ("AveragePool", {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}),
        ("GlobalAveragePool", {}),
        ("GlobalMaxPool", {}),
    ],
)
def test_pooling_2d(op: str, attrs: dict[str, Any]) -> None:
    model = _model([helper.make_node(op, ["x"], ["y"], **attrs)], {"x": [2, 7, 5]}, ["y"])
    _check(model, _rand(BATCH, 2, 7, 5))


def test_pooling_1d() -> None:
    nodes = [
        helper.make_node("MaxPool", ["x"], ["a"], kernel_shape=[2], strides=[2]),
        helper.make_node("AveragePool", ["a"], ["y"], kernel_shape=[3], pads=[1, 1]),
    ]
    _check(_model(nodes, {"x": [3, 10]}, ["y"]), _rand(BATCH, 3, 10))


def test_global_pool_flatten_gemm_has_no_layout_ops() -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("GlobalAveragePool", ["c"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], transB=1),
    ]
    inits = {"w": _rand(5, 2, 3, 3), "fw": _rand(3, 5), "fb": _rand(3)}
    module = _check(_model(nodes, {"x": [2, 6, 6]}, ["y"], inits), _rand(BATCH, 2, 6, 6))
    assert _ops(module) == ["nn.input", "nn.transpose", "nn.conv2d", "nn.global_pool", "nn.dense"]


def test_batchnorm_nchw_and_vector() -> None:
    stats = {
        f"{k}{i}": (np.abs(_rand(3)) + 0.5 if k == "v" else _rand(3))
        for k in "sbmv"
        for i in (1, 2)
    }
    nodes = [
        helper.make_node("BatchNormalization", ["x", "s1", "b1", "m1", "v1"], ["a"], epsilon=1e-3),
        helper.make_node("Flatten", ["a"], ["f"]),
        helper.make_node("MatMul", ["f", "w"], ["d"]),
        helper.make_node("BatchNormalization", ["d", "s2", "b2", "m2", "v2"], ["y"]),
    ]
    model = _model(nodes, {"x": [3, 4, 2]}, ["y"], {**stats, "w": _rand(24, 3)})
    module = _check(model, _rand(BATCH, 3, 4, 2))
    assert _count(module, "nn.batchnorm") == 2


# ----- activations ----------------------------------------------------------------------------------------

_ACTIVATIONS: list[tuple[str, dict[str, Any]]] = [
    ("Relu", {}),
    ("LeakyRelu", {}),
    ("LeakyRelu", {"alpha": 0.2}),
    ("Elu", {"alpha": 0.5}),
    ("Selu", {}),
    ("ThresholdedRelu", {"alpha": 0.3}),
    ("Sigmoid", {}),
    ("HardSigmoid", {}),
    ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}),
    ("HardSwish", {}),
    ("Tanh", {}),
    ("Softplus", {}),
    ("Softsign", {}),
    ("Gelu", {}),
    ("Identity", {}),
    ("Dropout", {}),
]


@pytest.mark.parametrize(("op", "attrs"), _ACTIVATIONS, ids=[f"{o}{a}" for o, a in _ACTIVATIONS])
def test_activation(op: str, attrs: dict[str, Any]) -> None:
    opset = 20 if op == "Gelu" else 17
    model = _model(
        [helper.make_node(op, ["x"], ["y"], **attrs)], {"x": [2, 3, 4]}, ["y"], opset=opset
    )
    _check(model, 3 * _rand(BATCH, 2, 3, 4))


@pytest.mark.parametrize(
    ("low", "high", "kind"), [(0.0, 6.0, "relu6"), (-0.5, 1.0, "clip"), (0.0, None, "relu")]
)
def test_clip(low: float, high: float | None, kind: str) -> None:
    inits = {"lo": np.array(low, np.float32)}
    if high is not None:
        inits["hi"] = np.array(high, np.float32)
    node = helper.make_node("Clip", ["x", "lo", "hi" if high is not None else ""], ["y"])
    module = _check(_model([node], {"x": [5]}, ["y"], inits), 4 * _rand(BATCH, 5))
    op = list(model_function(module).body.block.ops)[1]
    assert isinstance(op, nn.ActivationOp) and op.activation.value == kind


def test_clip_attributes_in_old_opset() -> None:
    node = helper.make_node("Clip", ["x"], ["y"], min=-1.0, max=2.0)
    _check(_model([node], {"x": [5]}, ["y"], opset=6), 4 * _rand(BATCH, 5))


@pytest.mark.parametrize("slope_shape", [(3, 1, 1), (1,)])
def test_prelu(slope_shape: tuple[int, ...]) -> None:
    node = helper.make_node("PRelu", ["x", "s"], ["y"])
    model = _model([node], {"x": [3, 2, 2]}, ["y"], {"s": _rand(*slope_shape)})
    _check(model, _rand(BATCH, 3, 2, 2))


def test_prelu_opset6_slope_is_per_channel() -> None:
    """Opset <= 6 PRelu applies a 1-D slope along axis 1 (later opsets: along the last axis)."""
    slope = np.array([0.1, 0.2, 0.3], dtype=np.float32)
    node = helper.make_node("PRelu", ["x", "s"], ["y"])
    module = import_onnx(_model([node], {"x": [3, 4, 5]}, ["y"], {"s": slope}, opset=6))
    x = _rand(BATCH, 3, 4, 5)
    want = np.where(x > 0, x, x * slope.reshape(3, 1, 1))
    got = run_reference(module, [x])[0]
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-6, atol=1e-6)


def test_softmax_axes() -> None:
    nodes = [
        helper.make_node("Softmax", ["x"], ["a"], axis=1),
        helper.make_node("Softmax", ["x"], ["b"]),
    ]
    _check(_model(nodes, {"x": [3, 4]}, ["a", "b"]), _rand(BATCH, 3, 4))


# ----- arithmetic and merges --------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("shape", [(3, 1, 1), (), (1, 3, 4, 4), (4,)])
def test_binary_with_constant(op: str, shape: tuple[int, ...]) -> None:
    const = _rand(*shape) + (3.0 if op == "Div" else 0.0)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node(op, ["c", "k"], ["y"]),
    ]
    model = _model(nodes, {"x": [2, 4, 4]}, ["y"], {"w": _rand(3, 2, 3, 3), "k": const})
    module = _check(model, _rand(BATCH, 2, 4, 4))
    per_channel = shape in [(3, 1, 1), ()]
    assert ("nn.batchnorm" in _ops(module)) == per_channel


def test_constant_minus_tensor() -> None:
    node = helper.make_node("Sub", ["k", "x"], ["y"])
    _check(_model([node], {"x": [4]}, ["y"], {"k": _rand(4)}), _rand(BATCH, 4))


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Max", "Min", "Sum", "Mean"])
def test_merge_of_tensors(op: str) -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["a"]),
        helper.make_node("Conv", ["x", "w2"], ["b"]),
        helper.make_node(op, ["a", "b"], ["y"]),
    ]
    model = _model(
        nodes, {"x": [2, 5, 5]}, ["y"], {"w1": _rand(3, 2, 1, 1), "w2": _rand(3, 2, 1, 1)}
    )
    module = _check(model, _rand(BATCH, 2, 5, 5))
    assert _count(module, "nn.transpose") == 2  # the input conversion is shared, plus the output


def test_max_with_constant() -> None:
    node = helper.make_node("Max", ["x", "k"], ["y"])
    _check(_model([node], {"x": [2, 3]}, ["y"], {"k": _rand(2, 3)}), _rand(BATCH, 2, 3))


def test_concat_channels_stays_channels_last() -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["a"]),
        helper.make_node("Conv", ["x", "w2"], ["b"]),
        helper.make_node("Concat", ["a", "b"], ["c"], axis=1),
        helper.make_node("Conv", ["c", "w3"], ["y"]),
    ]
    inits = {"w1": _rand(3, 2, 1, 1), "w2": _rand(2, 2, 1, 1), "w3": _rand(2, 5, 1, 1)}
    module = _check(_model(nodes, {"x": [2, 4, 4]}, ["y"], inits), _rand(BATCH, 2, 4, 4))
    assert _count(module, "nn.transpose") == 2


# ----- shapes and layouts ------------------------------------------------------------------------------------


def test_flatten_after_conv_permutes_dense_rows() -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Flatten", ["r"], ["f"], name="flat"),
        helper.make_node("Relu", ["f"], ["g"]),
        helper.make_node("Gemm", ["g", "fw"], ["y"]),
    ]
    model = _model(nodes, {"x": [2, 4, 5]}, ["y"], {"w": _rand(3, 2, 2, 2), "fw": _rand(36, 4)})
    module = _check(model, _rand(BATCH, 2, 4, 5))
    assert _ops(module).count("nn.transpose") == 1  # only the input conversion
    assert "nn.flatten" in _ops(module)


def test_flatten_to_output_keeps_onnx_order() -> None:
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]), helper.make_node("Flatten", ["c"], ["y"])]
    model = _model(nodes, {"x": [2, 4, 5]}, ["y"], {"w": _rand(3, 2, 2, 2)})
    _check(model, _rand(BATCH, 2, 4, 5))


def test_reshape_from_folded_shape_computation() -> None:
    """torch's x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze -> Concat -> Reshape."""
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"]),
        helper.make_node("Shape", ["c"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "ax"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
        helper.make_node("Reshape", ["c", "shape"], ["f"]),
        helper.make_node("MatMul", ["f", "fw"], ["y"]),
    ]
    inits = {
        "w": _rand(3, 2, 1, 1),
        "zero": np.array(0, np.int64),
        "ax": np.array([0], np.int64),
        "minus1": np.array([-1], np.int64),
        "fw": _rand(27, 2),
    }
    module = _check(_model(nodes, {"x": [2, 3, 3]}, ["y"], inits), _rand(1, 2, 3, 3))
    assert _ops(module) == ["nn.input", "nn.transpose", "nn.conv2d", "nn.flatten", "nn.dense"]


def test_squeeze_unsqueeze_reshape() -> None:
    nodes = [
        helper.make_node("Unsqueeze", ["x", "ax"], ["u"]),
        helper.make_node("Relu", ["u"], ["r"]),
        helper.make_node("Squeeze", ["r", "ax"], ["s"]),
        helper.make_node("Reshape", ["s", "shape"], ["y"]),
    ]
    inits = {"ax": np.array([2], np.int64), "shape": np.array([0, 3, 4], np.int64)}
    _check(_model(nodes, {"x": [12]}, ["y"], inits), _rand(BATCH, 12))


def test_transposes_in_the_graph() -> None:
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
        helper.make_node("Relu", ["t"], ["r"]),
        helper.make_node("Transpose", ["r"], ["y"], perm=[0, 2, 1, 3]),
    ]
    module = _check(_model(nodes, {"x": [2, 3, 4]}, ["y"]), _rand(BATCH, 2, 3, 4))
    assert _count(module, "nn.transpose") == 1  # composed into one


def test_transpose_of_batch_is_unsupported() -> None:
    node = helper.make_node("Transpose", ["x"], ["y"], perm=[1, 0, 2], name="swap")
    with pytest.raises(UnsupportedLayerError, match=r"swap.*batch"):
        import_onnx(_model([node], {"x": [2, 3]}, ["y"]))


def test_keras_style_nhwc_input_has_no_transposes() -> None:
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["t", "w"], ["c"]),
        helper.make_node("Transpose", ["c"], ["y"], perm=[0, 2, 3, 1]),
    ]
    model = _model(nodes, {"x": [5, 5, 2]}, ["y"], {"w": _rand(3, 2, 2, 2)})
    for conversion in ("full", "internal", "off"):
        module = _check(model, _rand(BATCH, 5, 5, 2), channels_last_conversion=conversion)
        assert _ops(module) == ["nn.input", "nn.conv2d"]


@pytest.mark.parametrize(
    ("pads", "crop"), [([0, 0, 1, 2, 0, 0, 2, 0], False), ([0, 0, 1, -1, 0, 0, -1, 2], True)]
)
def test_pad_and_negative_pad(pads: list[int], crop: bool) -> None:
    node = helper.make_node("Pad", ["x", "p"], ["y"])
    model = _model([node], {"x": [2, 4, 5]}, ["y"], {"p": np.array(pads, np.int64)})
    module = _check(model, _rand(BATCH, 2, 4, 5))
    assert ("nn.crop" in _ops(module)) == crop


def test_pad_with_nonzero_value_is_unsupported() -> None:
    node = helper.make_node("Pad", ["x", "p", "v"], ["y"])
    inits = {"p": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "v": np.array(1.0, np.float32)}
    with pytest.raises(UnsupportedLayerError, match="pad value"):
        import_onnx(_model([node], {"x": [2, 4, 5]}, ["y"], inits))


@pytest.mark.parametrize("mode", ["half_pixel", "asymmetric"])
def test_resize_nearest(mode: str) -> None:
    nearest = "floor" if mode == "asymmetric" else "round_prefer_floor"
    node = helper.make_node(
        "Resize",
        ["x", "", "s"],
        ["y"],
        mode="nearest",
        coordinate_transformation_mode=mode,
        nearest_mode=nearest,
    )
    model = _model([node], {"x": [2, 3, 4]}, ["y"], {"s": np.array([1, 1, 2, 3], np.float32)})
    module = _check(model, _rand(BATCH, 2, 3, 4))
    assert "nn.upsample" in _ops(module)


def test_resize_with_sizes_and_old_upsample() -> None:
    node = helper.make_node("Resize", ["x", "", "", "sz"], ["y"], mode="nearest")
    model = _model([node], {"x": [2, 3]}, ["y"], {"sz": np.array([1, 2, 6], np.int64)})
    _check(model, _rand(1, 2, 3))
    node = helper.make_node("Upsample", ["x", "s"], ["y"], mode="nearest")
    model = _model(
        [node], {"x": [2, 3, 3]}, ["y"], {"s": np.array([1, 1, 2, 2], np.float32)}, opset=9
    )
    _check(model, _rand(BATCH, 2, 3, 3))


def test_linear_resize_is_unsupported() -> None:
    node = helper.make_node("Resize", ["x", "", "s"], ["y"], mode="linear")
    model = _model([node], {"x": [2, 3, 4]}, ["y"], {"s": np.array([1, 1, 2, 2], np.float32)})
    with pytest.raises(UnsupportedLayerError, match="nearest"):
        import_onnx(model)


# ----- conversion modes, inputs and outputs ------------------------------------------------------------------


def _two_convs() -> onnx.ModelProto:
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["a"]),
        helper.make_node("Conv", ["x", "w2"], ["b"]),
        helper.make_node("Add", ["a", "b"], ["y"]),
    ]
    return _model(
        nodes, {"x": [2, 4, 4]}, ["y"], {"w1": _rand(3, 2, 1, 1), "w2": _rand(3, 2, 1, 1)}
    )


def test_internal_conversion_takes_channels_last_data() -> None:
    model = _two_convs()
    module = import_onnx(model, channels_last_conversion="internal", transpose_outputs=False)
    assert "nn.transpose" not in _ops(module)
    args = model_function(module).body.block.args
    assert nn.shape_of(args[0]) == (4, 4, 2)
    x = _rand(BATCH, 2, 4, 4)
    (ours,) = run_reference(module, x.transpose(0, 2, 3, 1))
    np.testing.assert_allclose(
        ours, _ort(model, [x])[0].transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-6
    )


def test_off_conversion_rejects_channels_first_convs() -> None:
    with pytest.raises(FrontendError, match="channels_last_conversion='off'"):
        import_onnx(_two_convs(), channels_last_conversion="off")
    with pytest.raises(ValueError, match="must be one of"):
        import_onnx(_two_convs(), channels_last_conversion="sideways")


def test_multiple_inputs_and_outputs() -> None:
    nodes = [
        helper.make_node("Add", ["a", "b"], ["s"]),
        helper.make_node("Relu", ["s"], ["y1"]),
        helper.make_node("Sigmoid", ["b"], ["y2"]),
    ]
    module = _check(
        _model(nodes, {"a": [4], "b": [4]}, ["y1", "y2"]), _rand(BATCH, 4), _rand(BATCH, 4)
    )
    assert len(model_function(module).body.block.args) == 2


def test_layer_names_are_unique_with_fallbacks() -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="act"),
        helper.make_node("Sigmoid", ["a"], ["b"], name="act"),
        helper.make_node("Tanh", ["b"], ["y"]),
    ]
    module = import_onnx(_model(nodes, {"x": [3]}, ["y"]), name="my-net")
    layers = [
        op.layer.data
        for op in model_function(module).body.block.ops
        if isinstance(op, nn.NNLayerOp)
    ]
    assert layers == ["x", "act", "act_1", "Tanh_2"]
    assert model_function(module).sym_name.data == "my_net"


# ----- files and errors -------------------------------------------------------------------------------------------


def test_file_round_trip(tmp_path: Path) -> None:
    node = helper.make_node("Gemm", ["x", "w", "b"], ["y"])
    model = _model([node], {"x": [3]}, ["y"], {"w": _rand(3, 2), "b": _rand(2)})
    model.graph.output[0].type.tensor_type.shape.dim.add().dim_param = "N"
    model.graph.output[0].type.tensor_type.shape.dim.add().dim_value = 2
    path = tmp_path / "net.onnx"
    onnx.save(model, str(path))
    for source in (path, str(path)):
        module = import_onnx(source)
        assert model_function(module).sym_name.data == "net"
        x = _rand(BATCH, 3)
        np.testing.assert_allclose(
            run_reference(module, x)[0], _ort(model, [x])[0], rtol=1e-5, atol=1e-6
        )


def test_truncated_and_missing_files(tmp_path: Path) -> None:
    node = helper.make_node("Gemm", ["x", "w", "b"], ["y"])
    data = _model(
        [node], {"x": [3]}, ["y"], {"w": _rand(3, 40), "b": _rand(40)}
    ).SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match=r"cut\.onnx"):
        import_onnx(path)
    with pytest.raises(ModelFileError, match="no such file"):
        import_onnx(tmp_path / "absent.onnx")


def test_unsupported_op_names_node_type_and_list() -> None:
    node = helper.make_node("LpNormalization", ["x"], ["y"], name="norm")
    with pytest.raises(UnsupportedLayerError) as info:
        import_onnx(_model([node], {"x": [3]}, ["y"]))
    message = str(info.value)
    assert "layer 'norm' of type 'LpNormalization' is not supported" in message
    assert "Conv" in message and "Gemm" in message


def test_custom_domain_op_is_unsupported() -> None:
    node = helper.make_node("MultiThreshold", ["x"], ["y"], domain="qonnx.custom_op.general", name="q")
    model = _model([node], {"x": [3]}, ["y"])
    model.opset_import.append(helper.make_opsetid("qonnx.custom_op.general", 1))
    with pytest.raises(UnsupportedLayerError, match=r"'q'.*custom-domain op; supported: QONNX Quant"):
        import_onnx(model)


def test_symbolic_per_sample_dimension_is_rejected() -> None:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "L"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    with pytest.raises(FrontendError, match="fixed per-sample"):
        import_onnx(helper.make_model(graph))
