"""Ops with several results, end to end: ONNX `Split` -> `nn.split` (two results) -> `hls.split`
-> nnet::split, through the front end, every pass, both interpreters and the g++ build.

Checked against onnxruntime (numerically) and between the C++ build and the numpy emulator (bit
for bit), in both io types; a split into three parts is a chain of two-result splits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from nnhls import converters
from nnhls.dialects import nn
from nnhls.frontends.onnx import import_onnx
from nnhls.interpreters.reference import run_reference
from nnhls.ops.base import LoweringError
from nnhls.ops.split import SplitOp


def channel_split_model() -> onnx.ModelProto:
    """x (N, 3, 4, 4) -> Conv1x1 to 5 channels -> Split(axis=1, [2, 3]) -> (Relu(part 0),
    Conv1x1(part 1)); after the first convolution the data is channels-last, so the split is
    along the channel axis there, which io_stream supports."""
    rng = np.random.default_rng(3)
    w0 = (rng.integers(-32, 33, (5, 3, 1, 1)) / 32).astype(np.float32)
    w1 = (rng.integers(-32, 33, (2, 3, 1, 1)) / 32).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w0"], ["h"], name="conv0"),
        helper.make_node("Split", ["h", "sizes"], ["a", "b"], axis=1, name="split"),
        helper.make_node("Relu", ["a"], ["y0"], name="relu"),
        helper.make_node("Conv", ["b", "w1"], ["y1"], name="conv1"),
    ]
    graph = helper.make_graph(
        nodes,
        "split_net",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4, 4])],
        [
            helper.make_tensor_value_info("y0", TensorProto.FLOAT, ["N", 2, 4, 4]),
            helper.make_tensor_value_info("y1", TensorProto.FLOAT, ["N", 2, 4, 4]),
        ],
        [
            numpy_helper.from_array(np.array([2, 3], np.int64), "sizes"),
            numpy_helper.from_array(w0, "w0"),
            numpy_helper.from_array(w1, "w1"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def three_way_model(axis: int = 2, sizes: tuple[int, ...] = (1, 2, 3)) -> onnx.ModelProto:
    """x (N, 4, 6) -> Split(axis, sizes) into len(sizes) outputs (no spatial op: the data stays
    as laid out by ONNX, (4, 6) per sample)."""
    outputs = ["p", "q", "r"][: len(sizes)]
    node = helper.make_node("Split", ["x", "sizes"], outputs, axis=axis, name="cut")
    graph = helper.make_graph(
        [node],
        "three_way",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 6])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
        [numpy_helper.from_array(np.array(sizes, np.int64), "sizes")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def onnx_outputs(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return [np.asarray(o) for o in session.run(None, {"x": x.astype(np.float32)})]


def test_the_front_end_builds_two_result_ops() -> None:
    module = import_onnx(three_way_model())
    splits = [op for op in module.walk() if isinstance(op, SplitOp)]
    assert [(op.layer_name, op.size.value.data, [nn.shape_of(r) for r in op.results]) for op in splits] == [
        ("cut", 1, [(4, 1), (4, 5)]),
        ("cut_1", 2, [(4, 2), (4, 3)]),
    ]
    x = np.random.default_rng(0).uniform(-4, 4, (5, 4, 6))
    for got, want in zip(run_reference(module, [x]), onnx_outputs(three_way_model(), x), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
def test_channel_split_end_to_end(io_type: str, tmp_path: Path) -> None:
    model = converters.convert_from_onnx_model(
        channel_split_model(),
        output_dir=str(tmp_path / "prj"),
        project_name="split_net",
        io_type=io_type,
        hls_config={"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1}},
    )
    hls_ir = model.ir("hls")
    assert "hls.split" in hls_ir
    model.compile()
    x = np.random.default_rng(1).uniform(-4, 4, (32, 3, 4, 4))
    y_cpp = model.predict(x)
    y_numpy = model.predict(x, emulator="numpy")
    assert isinstance(y_cpp, list) and isinstance(y_numpy, list) and len(y_cpp) == 2
    for a, b in zip(y_cpp, y_numpy, strict=True):
        np.testing.assert_array_equal(a, b)
    expected = onnx_outputs(channel_split_model(), x)
    for got, want in zip(y_numpy, expected, strict=True):  # outputs transposed back to ONNX's layout
        np.testing.assert_allclose(np.asarray(got), want, atol=8 * 2.0**-10)


@pytest.mark.slow
@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
def test_three_way_split_end_to_end(io_type: str, tmp_path: Path) -> None:
    model = converters.convert_from_onnx_model(
        three_way_model(), output_dir=str(tmp_path / "prj"), project_name="three_way", io_type=io_type
    )
    model.compile()
    x = np.random.default_rng(2).uniform(-4, 4, (16, 4, 6))
    y_cpp, y_numpy = model.predict(x), model.predict(x, emulator="numpy")
    assert isinstance(y_cpp, list) and isinstance(y_numpy, list) and len(y_cpp) == 3
    for a, b, want in zip(y_cpp, y_numpy, onnx_outputs(three_way_model(), x), strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(np.asarray(a), want, atol=2.0**-10)


def test_io_stream_splits_only_channels(tmp_path: Path) -> None:
    """A split of the first per-sample axis of (4, 6) data (rows of a stream) is io_parallel only."""
    model = converters.convert_from_onnx_model(
        three_way_model(axis=1, sizes=(1, 3)), output_dir=str(tmp_path / "prj"), project_name="rows", io_type="io_stream"
    )
    with pytest.raises(LoweringError, match=r"nn\.split 'cut': io_stream splits along the channel"):
        model.ir("hls")
