"""A value edited in a written project's firmware/parameters.h takes effect when it is rebuilt.

hls4ml's configuration document promises that an edit of `parameters.h` (a precision, a reuse
factor) is what the next build uses. Here a project is written, the first layer's `accum_t` and
`reuse_factor` are edited by hand, and the project is reopened and compiled with g++ the way
`nnhls predict DIR` does: the C++ outputs must be exactly those of a model converted with that
accumulator type (computed by the numpy emulator), the edit must still be on disk, and the
derived `multiplier_limit` must follow the edited reuse factor (a static_assert compiled against
the edited header). write() regenerates, keeping the edited file aside.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from nnhls import converters
from nnhls.codegen.build import compiler
from nnhls.codegen.project import EditedProjectWarning, UserFileMovedWarning
from nnhls.compiler.hls_model import link_existing_project

EDITED_ACCUM = "ap_fixed<10,4>"


def _model() -> onnx.ModelProto:
    rng = np.random.default_rng(7)
    w1 = rng.normal(0, 0.8, (6, 4)).astype(np.float32)
    w2 = rng.normal(0, 0.8, (4, 3)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["x", "w1"], ["h"], name="fc1"),
            helper.make_node("Relu", ["h"], ["r"], name="relu1"),
            helper.make_node("Gemm", ["r", "w2"], ["y"], name="fc2"),
        ],
        "edited",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def _config(accum: str | None = None) -> dict[str, object]:
    layer: dict[str, object] = {"Precision": {"result": "fixed<16,6>", "weight": "fixed<10,3>"}}
    if accum is not None:
        layer["Precision"] = {**layer["Precision"], "accum": accum}  # type: ignore[dict-item]
    return {"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1}, "LayerName": {"fc1": layer}}


def _struct(text: str, layer: str) -> tuple[int, int]:
    start = text.index(f"struct config_{layer} ")
    return start, text.index("};", start)


def test_edited_parameters_take_effect(tmp_path: Path) -> None:
    x = np.random.default_rng(3).uniform(-4, 4, (64, 6))
    out = tmp_path / "prj"
    written = converters.convert_from_onnx_model(_model(), hls_config=_config(), output_dir=str(out), project_name="edited")
    written.compile()
    before = written.predict(x)

    params = out / "firmware" / "parameters.h"
    text = params.read_text()
    start, end = _struct(text, "fc1")
    struct = text[start:end]
    struct = re.sub(r"typedef [^;]+ accum_t;", f"typedef {EDITED_ACCUM} accum_t;", struct)
    struct = re.sub(r"reuse_factor = \d+;", "reuse_factor = 3;", struct)
    params.write_text(text[:start] + struct + text[end:])

    reopened = link_existing_project(out)
    with pytest.warns(EditedProjectWarning, match="parameters.h"):
        reopened.compile()
    after = reopened.predict(x)
    assert params.read_text() == text[:start] + struct + text[end:], "the build rewrote the edited file"

    pinned = converters.convert_from_onnx_model(
        _model(), hls_config=_config("fixed<10,4>"), output_dir=str(tmp_path / "pinned"), project_name="edited"
    )
    expected = pinned.predict(x, emulator="numpy")
    np.testing.assert_array_equal(after, expected)
    assert not np.array_equal(after, before), "a 10-bit accumulator should change some outputs"

    # multiplier_limit is an expression of reuse_factor: 24 non-zero weights / 3 = 8.
    check = tmp_path / "check.cpp"
    check.write_text(
        '#include "parameters.h"\n'
        "static_assert(config_fc1::reuse_factor == 3, \"edited reuse factor\");\n"
        "static_assert(config_fc1::multiplier_limit == (config_fc1::n_nonzeros + 2) / 3, \"derived field\");\n"
    )
    flags = [f"-I{out / 'firmware' / 'ap_types'}", f"-I{out / 'firmware'}", f"-I{out}"]
    result = subprocess.run([compiler(), "-std=c++17", "-fsyntax-only", *flags, str(check)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr

    # write() regenerates parameters.h and keeps the edited one aside.
    with pytest.warns(UserFileMovedWarning, match="parameters.h"):
        reopened.write()
    assert params.read_text() == text
    assert (params.parent / "parameters.h.before-nnhls").read_text() == text[:start] + struct + text[end:]
