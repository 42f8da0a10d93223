"""Documents and models too large to be real are refused before anything is allocated (issue 12):
YAML alias bombs and duplicate keys, ONNX inputs and intermediate tensors beyond 2^24 elements
(declared, inferred, or made by constant folding), Keras models with huge inputs."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from nnhls import converters
from nnhls.config import MAX_YAML_NODES, ConfigError, load_yaml_text
from nnhls.frontends.common import MAX_TENSOR_ELEMENTS, ModelTooLargeError
from nnhls.frontends.onnx import import_onnx

LAUGHS = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(9)
)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (LAUGHS, f"more than {MAX_YAML_NODES} values"),
        ("x: &x [*x]\n", "recursive alias"),
        ("ProjectName: a\nProjectName: b\n", "duplicate key 'ProjectName'"),
        ("HLSConfig:\n  Model:\n    ReuseFactor: 1\n    ReuseFactor: 2\n", "line 4: duplicate key 'ReuseFactor'"),
        ("x: !!python/object/apply:os.system ['touch PWNED']\n", "could not determine a constructor"),
        ("x: !!python/name:os.system\n", "could not determine a constructor"),
        ("a: [" * 3000, "cannot read YAML"),
        ("a: b: c\n", "cannot read YAML"),
    ],
)
def test_yaml_refused(text: str, fragment: str, tmp_path: Path) -> None:
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(")) as error:
        load_yaml_text(text, "'c.yml'")
    assert "\n" not in str(error.value)
    assert time.perf_counter() - start < 10
    # through the public entry point too (a file)
    (tmp_path / "c.yml").write_text(text)
    with pytest.raises(ConfigError):
        converters.convert_from_config(str(tmp_path / "c.yml"))
    assert not (tmp_path / "PWNED").exists()


def test_yaml_merge_keys_and_aliases_still_work() -> None:
    data = load_yaml_text("base: &b {ReuseFactor: 2}\nfc1: {<<: *b, ReuseFactor: 4}\nfc2: *b\n", "'c.yml'")
    assert data == {"base": {"ReuseFactor": 2}, "fc1": {"ReuseFactor": 4}, "fc2": {"ReuseFactor": 2}}


def _vi(name: str, shape: list[int] | None) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _model(nodes: list[onnx.NodeProto], shape: list[int], inits: list[onnx.TensorProto] | None = None) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", [_vi("x", shape)], [_vi("y", None)], inits or [])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _init(name: str, values: list[float] | list[int], dtype: type) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(values, dtype=dtype), name)


BOMBS = {
    "input 1e9": _model([helper.make_node("Relu", ["x"], ["y"])], [1, 1_000_000_000]),
    "input 3x50000x50000": _model([helper.make_node("Relu", ["x"], ["y"])], [1, 3, 50000, 50000]),
    "resize x1000": _model([helper.make_node("Resize", ["x", "", "s"], ["y"], mode="nearest")], [1, 3, 32, 32],
                           [_init("s", [1, 1, 1000, 1000], np.float32)]),
    "pad 100000": _model([helper.make_node("Pad", ["x", "p"], ["y"], mode="constant")], [1, 3, 32, 32],
                         [_init("p", [0, 0, 100000, 100000, 0, 0, 100000, 100000], np.int64)]),
    "constant of shape": _model([helper.make_node("ConstantOfShape", ["s"], ["c"]), helper.make_node("Add", ["x", "c"], ["y"])],
                                [1, 4], [_init("s", [100000, 100000], np.int64)]),
    "negative dim": _model([helper.make_node("Relu", ["x"], ["y"])], [1, -5]),
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_onnx_bombs_refused_before_allocation(name: str) -> None:
    start = time.perf_counter()
    with pytest.raises(ModelTooLargeError) as error:
        import_onnx(BOMBS[name])
    assert str(MAX_TENSOR_ELEMENTS) in str(error.value) or "negative" in str(error.value)
    assert time.perf_counter() - start < 10


def test_largest_allowed_tensor_still_imports() -> None:
    side = int(np.sqrt(MAX_TENSOR_ELEMENTS // 4))
    import_onnx(_model([helper.make_node("Relu", ["x"], ["y"])], [1, 4, side, side]))
