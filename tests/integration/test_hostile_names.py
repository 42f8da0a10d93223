"""Hostile layer and input names end to end: nothing they contain runs, everything compiles.

The exact payload of issue 12 (a Keras layer name that, pasted into a C++ string literal, calls
system("touch PWNED") when the library loads) goes through `nnhls convert`, `compile` and
`predict` as a user runs them; the marker file must never appear. The other names break naive
generated code in every way we know: quotes, a trailing backslash, a newline, keywords and
alternative tokens, macros of the standard headers, our own generated names (`fc1_w`), names
equal up to case, ONNX-style `_0_Gemm`, the bridge's locals (`in`, `pixel`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nnhls import converters

keras = pytest.importorskip("keras")

PAYLOAD = 'x" + 0 * [](){ extern int s(const char*) __asm__("system"); return s("touch PWNED"); }() + 0 * sizeof "'
LAYER_NAMES = [
    PAYLOAD, 'q"uote', "back\\", "new\nline", "tri??=", "fc1_w", "size", "INFINITY", "stdin", "pixel",
    "and_eq", "concept", "static_cast", "_0_Gemm", "0:Gemm_1", "Dense", "dense", "fc1", "ap_fixed", "x" * 300,
]
NNHLS = [sys.executable, "-m", "nnhls.tools.nnhls"]


def _model(input_name: str) -> keras.Model:
    inp = keras.Input((4,), name=input_name)
    x = inp
    for name in LAYER_NAMES:
        x = keras.layers.Dense(3, name=name, activation="relu" if name == "size" else None)(x)
    model = keras.Model(inp, x)
    model.set_weights([np.random.default_rng(i).uniform(-1, 1, w.shape) for i, w in enumerate(model.get_weights())])
    return model


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run([*NNHLS, *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env, check=False)
    assert result.returncode == 0, result.stderr
    return result


def _identifiers_are_legal(root: Path, project: str) -> None:
    """No identifier the project declares starts with '_' or holds '__'."""
    text = "".join(p.read_text() for p in (root / "firmware").glob("*.[ch]*"))
    declared = re.findall(r"(?:typedef [^;]* |struct |static const unsigned )(\w+)", text)
    assert declared
    assert not [d for d in declared if d.startswith("_") or "__" in d]


def test_issue_payload_through_the_cli(tmp_path: Path) -> None:
    """convert, compile, predict from a .keras file in a scratch working directory."""
    _model("in").save(tmp_path / "hostile.keras")
    x = np.random.default_rng(0).uniform(-2, 2, (5, 4))
    np.save(tmp_path / "x.npy", x)
    _run(tmp_path, "convert", "hostile.keras", "-o", "prj")
    _run(tmp_path, "compile", "prj")
    _run(tmp_path, "predict", "prj", "-i", "x.npy", "-o", "y.npy")
    _run(tmp_path, "predict", "prj", "-i", "x.npy", "-o", "y_numpy.npy", "--emulator", "numpy")
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), np.load(tmp_path / "y_numpy.npy"))
    assert not (tmp_path / "PWNED").exists()
    assert not Path("PWNED").exists()
    _identifiers_are_legal(tmp_path / "prj", "hostile")


def test_hostile_names_in_streams_and_trace(tmp_path: Path) -> None:
    """io_stream (stream objects are named by string), an input named like the bridge's
    parameter, and trace() keyed by the original names."""
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        model = _model('in"pu t\\')
        hls_model = converters.convert_from_keras_model(model, output_dir=str(tmp_path / "prj"), project_name="hostile", io_type="io_stream")
        hls_model.compile()
        x = np.random.default_rng(1).uniform(-2, 2, (4, 4))
        y = hls_model.predict(x)
        np.testing.assert_array_equal(y, hls_model.predict(x, emulator="numpy"))
        np.testing.assert_allclose(y, model.predict(x, verbose=0), atol=0.5)
        traced = hls_model.trace(x)
        assert set(LAYER_NAMES) <= set(traced.keys())
        np.testing.assert_array_equal(traced[LAYER_NAMES[-1]], y)
        np.testing.assert_array_equal(traced[PAYLOAD], hls_model.trace(x, emulator="numpy")[PAYLOAD])
        assert not (tmp_path / "PWNED").exists()
    finally:
        os.chdir(cwd)
