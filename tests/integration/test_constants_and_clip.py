"""Clip as ONNX defines it, and constants that saturate (never wrap), in the C++ build and the
numpy emulator alike, checked against onnxruntime rather than against our own rules.

One ONNX model holds every Clip variant as a separate output, so one g++ build covers them all.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from nnhls import converters
from nnhls.errors import PrecisionWarning

NARROW_PARAM = "fixed<12,4>"
"""The bound type of 'max_beyond_param_type': [-8, 7.996], narrower than the input fixed<16,6>."""


def _clip_model() -> tuple[onnx.ModelProto, list[str]]:
    """x -> one Clip per variant (opset 13: bounds are inputs, '' when absent)."""
    scalars = {
        "lo": -0.5, "hi": 0.5, "big_lo": -100.0, "big_hi": 100.0, "inv_lo": 0.7, "inv_hi": 0.2,
        "hi20": 20.0,
    }  # fmt: skip
    variants = {
        "only_max": ["", "hi"],
        "only_min": ["lo"],
        "no_bounds": [],
        "outside_type": ["big_lo", "big_hi"],
        "min_above_max": ["inv_lo", "inv_hi"],
        "both": ["lo", "hi"],
        "max_in_input_range": ["", "hi20"],
        "max_beyond_param_type": ["", "hi20"],
    }
    nodes = [helper.make_node("Clip", ["x", *ins], [name], name=name) for name, ins in variants.items()]
    graph = helper.make_graph(
        nodes,
        "clips",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", 16]) for n in variants],
        [numpy_helper.from_array(np.array(v, dtype=np.float32), k) for k, v in scalars.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, list(variants)


def _ort(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return [np.asarray(y, dtype=np.float64) for y in session.run(None, {"x": x})]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    model, names = _clip_model()
    config: dict[str, Any] = {
        "Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1},
        "LayerName": {"max_beyond_param_type": {"Precision": {"param": NARROW_PARAM}}},
    }
    out = tmp_path_factory.mktemp("clips") / "prj"
    hls_model = converters.convert_from_onnx_model(
        model, hls_config=config, output_dir=str(out), project_name="clips"
    )
    hls_model.compile()
    x = np.random.default_rng(0).uniform(-31.0, 31.0, (64, 16)).astype(np.float32)
    x[0, :4] = [-0.5, 0.5, 0.2, 0.7]
    cpp = hls_model.predict(x)
    return {
        "names": names,
        "x": x,
        "cpp": dict(zip(names, cpp, strict=True)),
        "numpy": dict(zip(names, hls_model.predict(x, emulator="numpy"), strict=True)),
        "onnxruntime": dict(zip(names, _ort(model, x), strict=True)),
        "hls_model": hls_model,
    }


STEP = 2.0**-10
"""One LSB of fixed<16,6>, the input, result and bound type."""


@pytest.mark.parametrize(
    "name",
    ["only_max", "only_min", "no_bounds", "outside_type", "min_above_max", "both", "max_in_input_range"],
)
def test_clip_matches_onnxruntime(clips: dict[str, Any], name: str) -> None:
    """A missing bound is no bound, bounds beyond the type do nothing, and min > max gives max
    everywhere: the g++ build and the numpy emulator give the same bits, within a quantization
    step of onnxruntime."""
    cpp, emulated, want = clips["cpp"][name], clips["numpy"][name], clips["onnxruntime"][name]
    np.testing.assert_array_equal(cpp, emulated)
    np.testing.assert_allclose(cpp, want, rtol=0, atol=STEP)


def test_min_above_max_is_max_everywhere(clips: dict[str, Any]) -> None:
    y = clips["cpp"]["min_above_max"]
    assert np.all(np.abs(y - 0.2) <= STEP)


def test_bound_beyond_the_parameter_type_saturates(clips: dict[str, Any]) -> None:
    """max = 20 is within the input's range (fixed<16,6>) but not the bound's type (fixed<12,4>,
    at most 7.996): it saturates there (wrapping would give 20 - 16 = 4), an approximation the
    conversion reported naming the layer."""
    name = "max_beyond_param_type"
    cpp, emulated = clips["cpp"][name], clips["numpy"][name]
    np.testing.assert_array_equal(cpp, emulated)
    want = np.minimum(clips["x"].astype(np.float64), 8.0 - 2.0**-8)
    np.testing.assert_allclose(cpp, want, rtol=0, atol=STEP)


def test_saturated_bound_warning_names_the_layer(tmp_path: Path) -> None:
    model, _ = _clip_model()
    config = {
        "Model": {"Precision": "fixed<16,6>"},
        "LayerName": {"max_beyond_param_type": {"Precision": {"param": NARROW_PARAM}}},
    }
    hls_model = converters.convert_from_onnx_model(model, hls_config=config, output_dir=str(tmp_path / "p"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hls_model.ir("hls")
    messages = [str(w.message) for w in caught if issubclass(w.category, PrecisionWarning)]
    assert any(
        f"'max_beyond_param_type' beta: 1 of 1 values lie outside {NARROW_PARAM}" in m
        and "saturated to its range" in m
        for m in messages
    ), messages
    assert not [m for m in messages if "outside_type" in m]  # beyond the input type: dropped


def test_weights_saturate_never_wrap(tmp_path: Path) -> None:
    """A weight of 5 in fixed<8,2> (range [-2, 1.984]) becomes 1.984, not -3 (its wrap), in the
    C++ build and the emulator, with a warning naming the layer."""
    w = np.array([[5.0, 0.5], [-3.0, 1.0]], dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")],
        "narrow",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])],
        [numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    config = {
        "Model": {"Precision": "fixed<16,6>"},
        "LayerName": {"fc": {"Precision": {"weight": "fixed<8,2>"}}},
    }
    hls_model = converters.convert_from_onnx_model(
        model, hls_config=config, output_dir=str(tmp_path / "prj"), project_name="narrow"
    )
    with pytest.warns(PrecisionWarning, match="nn.dense 'fc' weight: 2 of 4 values lie outside fixed<8,2>"):
        hls_model.ir("hls")
    hls_model.compile()
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, -0.25]], dtype=np.float32)
    saturated = np.array([[2.0 - 2.0**-6, 0.5], [-2.0, 1.0]])
    cpp = hls_model.predict(x)
    np.testing.assert_array_equal(cpp, hls_model.predict(x, emulator="numpy"))
    np.testing.assert_allclose(cpp, x.astype(np.float64) @ saturated, rtol=0, atol=2.0**-10)


def test_torch_clamp(tmp_path: Path) -> None:
    """torch.clamp with one bound (exported as a Clip with an empty input), and min > max."""
    torch = pytest.importorskip("torch")

    class Clamps(torch.nn.Module):
        def forward(self, x: Any) -> Any:
            return torch.clamp(x, max=0.5), torch.clamp(x, min=-0.5), torch.clamp(x, 0.7, 0.2)

    module = Clamps()
    hls_model = converters.convert_from_pytorch_model(
        module, (8,), hls_config={"Model": {"Precision": "fixed<16,6>"}}, output_dir=str(tmp_path / "p")
    )
    x = np.random.default_rng(1).uniform(-3.0, 3.0, (32, 8)).astype(np.float32)
    wants = [y.numpy().astype(np.float64) for y in module(torch.tensor(x))]
    for got, want in zip(hls_model.predict(x, emulator="numpy"), wants, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=STEP)
