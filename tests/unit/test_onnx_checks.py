"""Nonsense ONNX graphs stop with one line naming the node and attribute (nnhls/frontends/onnx_checks.py).

Each model is valid protobuf that onnx's own checker (without full shape inference) lets through;
before these checks nnhls converted several of them silently (opset 99, complex64 inputs, an
int64 Gemm weight with a float input, Flatten axis 99, Div by a zero constant) or reported a
generic "inconsistent ONNX graph" (a self loop, Conv stride 0, Softmax axis 5).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from nnhls.errors import UserError
from nnhls.frontends.onnx import import_onnx


def _model(
    nodes: list[onnx.NodeProto],
    initializers: list[onnx.TensorProto] = [],  # noqa: B006 - never mutated
    in_shape: tuple[int, ...] = (1, 4),
    in_type: int = TensorProto.FLOAT,
    opset: int = 13,
) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", in_type, list(in_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", "m"])],
        initializer=initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _const(name: str, array: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(array, name)


CASES: dict[str, tuple[onnx.ModelProto, str]] = {
    "opset 99": (
        _model([helper.make_node("Relu", ["x"], ["y"], name="r")], opset=99),
        "declares opset 99 of the ONNX domain; nnhls reads opsets 1 to",
    ),
    "complex64 input": (
        _model([helper.make_node("Relu", ["x"], ["y"], name="r")], in_type=TensorProto.COMPLEX64),
        "input 'x' has element type complex64",
    ),
    "complex64 through a shape-only op": (
        _model([helper.make_node("Flatten", ["x"], ["y"], name="f")], in_type=TensorProto.COMPLEX64),
        "input 'x' has element type complex64",
    ),
    "string initializer": (
        _model(
            [helper.make_node("Add", ["x", "s"], ["y"], name="a")],
            [numpy_helper.from_array(np.array([b"4"], dtype=object), "s")],
        ),
        "initializer 's' holds string values, not real numbers",
    ),
    "int64 Gemm weight, float input": (
        _model([helper.make_node("Gemm", ["x", "W"], ["y"], name="fc")], [_const("W", np.ones((4, 3), np.int64))]),
        "node 'fc' (Gemm): input 'W' (B) is int64 but input 'x' (A) is float32",
    ),
    "float64 bias with float32 Gemm": (
        _model(
            [helper.make_node("Gemm", ["x", "W", "b"], ["y"], name="fc")],
            [_const("W", np.ones((4, 3), np.float32)), _const("b", np.ones(3, np.float64))],
        ),
        "node 'fc' (Gemm): input 'b' (C) is float64 but input 'x' (A) is float32",
    ),
    "Flatten axis 99": (
        _model([helper.make_node("Flatten", ["x"], ["y"], name="flat", axis=99)]),
        "node 'flat' (Flatten): attribute axis=99 is out of range for its rank-2 input 'x' (allowed -2..2)",
    ),
    "Softmax axis 5": (
        _model([helper.make_node("Softmax", ["x"], ["y"], name="sm", axis=5)]),
        "node 'sm' (Softmax): attribute axis=5 is out of range for its rank-2 input 'x' (allowed -2..1)",
    ),
    "Concat axis -3": (
        _model([helper.make_node("Concat", ["x", "x"], ["y"], name="cat", axis=-3)]),
        "node 'cat' (Concat): attribute axis=-3 is out of range",
    ),
    "self loop": (
        _model([helper.make_node("Relu", ["x"], ["h"], name="r"), helper.make_node("Add", ["h", "y"], ["y"], name="loop")]),
        "node 'loop' (Add) reads its own output 'y' (a self loop)",
    ),
    "cycle": (
        _model([helper.make_node("Relu", ["z"], ["h"], name="a"), helper.make_node("Relu", ["h"], ["z"], name="b")]),
        "node 'a' (Relu): input 'z' is produced by a later node",
    ),
    "undefined input": (
        _model([helper.make_node("Relu", ["nowhere"], ["y"], name="r")]),
        "node 'r' (Relu): input 'nowhere' is not a graph input, an initializer or the output of any node",
    ),
    "value produced twice": (
        _model([helper.make_node("Relu", ["x"], ["y"], name="a"), helper.make_node("Sigmoid", ["x"], ["y"], name="b")]),
        "node 'b' (Sigmoid): output 'y' is already produced by node 'a' (Relu)",
    ),
    "Conv stride 0": (
        _model(
            [helper.make_node("Conv", ["x", "K"], ["y"], name="conv", strides=[0, 0])],
            [_const("K", np.ones((2, 1, 3, 3), np.float32))],
            in_shape=(1, 1, 8, 8),
        ),
        "node 'conv' (Conv): attribute strides=[0, 0] must hold positive integers",
    ),
    "Conv dilation -1": (
        _model(
            [helper.make_node("Conv", ["x", "K"], ["y"], name="conv", dilations=[1, -1])],
            [_const("K", np.ones((2, 1, 3, 3), np.float32))],
            in_shape=(1, 1, 8, 8),
        ),
        "node 'conv' (Conv): attribute dilations=[1, -1] must hold positive integers",
    ),
    "Conv group 0": (
        _model(
            [helper.make_node("Conv", ["x", "K"], ["y"], name="conv", group=0)],
            [_const("K", np.ones((2, 1, 3, 3), np.float32))],
            in_shape=(1, 1, 8, 8),
        ),
        "node 'conv' (Conv): attribute group=0 must hold positive integers",
    ),
    "MaxPool negative pads": (
        _model(
            [helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[2, 2], pads=[0, -1, 0, 0])],
            in_shape=(1, 1, 8, 8),
        ),
        "node 'pool' (MaxPool): attribute pads=[0, -1, 0, 0] must hold an even number of non-negative integers",
    ),
    "MaxPool kernel of the wrong rank": (
        _model([helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[2, 2, 2])], in_shape=(1, 1, 8, 8)),
        "node 'pool' (MaxPool): attribute kernel_shape=[2, 2, 2] needs 2 values for its rank-4 input",
    ),
    "Div by a zero constant": (
        _model([helper.make_node("Div", ["x", "z"], ["y"], name="div")], [_const("z", np.zeros(4, np.float32))]),
        "layer 'div' (Div): the divisor 'z' holds zero at index (0,); the quotient would be infinite",
    ),
    "Div by a constant with one zero": (
        _model([helper.make_node("Div", ["x", "z"], ["y"], name="div")], [_const("z", np.array([1, 2, 0, 4], np.float32))]),
        "layer 'div' (Div): the divisor 'z' holds zero at index (2,)",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_nonsense_graph_is_one_line_naming_the_problem(case: str, tmp_path: Path) -> None:
    model, expected = CASES[case]
    for source in (model, tmp_path / "m.onnx"):
        if isinstance(source, Path):
            onnx.save(model, source)
        with pytest.raises(UserError) as info:
            import_onnx(source)
        message = str(info.value)
        assert expected in message, message
        assert "\n" not in message and "inconsistent ONNX graph" not in message


def test_checks_accept_what_they_should() -> None:
    """Negative axes, a Flatten axis equal to the rank, integer shape operands, a nonzero
    divisor and explicit default window attributes all convert."""
    model = _model(
        [
            helper.make_node("Div", ["x", "d"], ["h"], name="div"),
            helper.make_node("Softmax", ["h"], ["s"], name="sm", axis=-1),
            helper.make_node("Reshape", ["s", "shape"], ["r"], name="reshape"),
            helper.make_node("Flatten", ["r"], ["y"], name="flat", axis=2),
        ],
        [_const("d", np.array([1, -2, 0.5, 4], np.float32)), _const("shape", np.array([1, 2, 2], np.int64))],
    )
    module = import_onnx(model)
    assert "nn.softmax" in str(module)
