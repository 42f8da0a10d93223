"""predict() and `nnhls predict` take inputs of exactly the model's shape (or one unbatched sample)
holding real numbers; everything else is one clear error (issue 12). The numpy emulator runs the
checks here (the same `_batch` feeds the C++ library), so no g++ build is needed."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nnhls import converters
from nnhls.compiler.hls_model import HLSModel
from nnhls.errors import InputDataError as InputError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jet_tagger"
NNHLS = [sys.executable, "-m", "nnhls.tools.nnhls"]


@pytest.fixture(scope="module")
def jet(tmp_path_factory: pytest.TempPathFactory) -> HLSModel:
    out = tmp_path_factory.mktemp("inputs") / "prj"
    model = converters.convert_from_keras_model(str(EXAMPLE / "jet_tagger.keras"), output_dir=str(out), project_name="jet")
    model.write()
    return model


def test_exact_shapes_and_one_unbatched_sample(jet: HLSModel) -> None:
    x = np.random.default_rng(0).uniform(-1, 1, (20, 16))
    y = jet.predict(x, emulator="numpy")
    assert y.shape == (20, 5)
    np.testing.assert_array_equal(jet.predict(x[3], emulator="numpy"), y[3])  # hls4ml: one unbatched sample gives 1-D
    np.testing.assert_array_equal(jet.predict(x.astype(np.float32).tolist(), emulator="numpy"), jet.predict(x.astype(np.float32), emulator="numpy"))
    np.testing.assert_array_equal(jet.predict([x], emulator="numpy"), y)
    assert jet.predict(np.zeros((0, 16)), emulator="numpy").shape == (0, 5)
    assert jet.predict(np.ones((2, 16), dtype=np.int16), emulator="numpy").shape == (2, 5)


def _generator():
    yield np.zeros(16)


@pytest.mark.parametrize(
    ("x", "fragment"),
    [
        (np.zeros((10, 32)), "shape (10, 32)"),  # two samples per row
        (np.zeros((16, 20)), "shape (16, 20)"),  # transposed
        (np.zeros((20, 16, 1)), "shape (20, 16, 1)"),
        (np.zeros(15), "shape (15,)"),
        (np.zeros((4, 16), dtype=np.complex128), "dtype complex128"),
        (np.zeros((4, 16), dtype=np.complex64), "dtype complex64"),
        (np.zeros((4, 16), dtype="datetime64[s]"), "dtype datetime64"),
        (np.array([["a"] * 16]), "dtype <U1"),
        (np.zeros((4, 16), dtype=object), "dtype object"),
        (3.0, "a scalar"),
        (np.float64(2), "a scalar"),
        ({"x": np.zeros((1, 16))}, "got a dict"),
        ("1 2 3", "got a str"),
        (_generator(), "got a generator"),
        ([[1.0] * 16, [1.0] * 15], "not a regular array"),
        (np.full((2, 16), np.nan), "NaN or infinite"),
        (np.full((2, 16), np.inf), "NaN or infinite"),
        (None, "got a NoneType"),
    ],
)
def test_bad_inputs_are_one_clear_error(jet: HLSModel, x: object, fragment: str) -> None:
    for emulator in ("numpy", "cpp"):
        with pytest.raises(InputError) as error:  # checked before the library is needed
            jet.predict(x, emulator=emulator)  # pyright: ignore[reportArgumentType]
        assert fragment in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(InputError, match="input 'input'"):
        jet.trace(x, emulator="numpy")  # pyright: ignore[reportArgumentType]


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run([*NNHLS, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env, check=False)


def test_cli_rejects_bad_input_files(jet: HLSModel, tmp_path: Path) -> None:
    files = {
        "wide.npy": lambda p: np.save(p, np.zeros((10, 32))),
        "complex.npy": lambda p: np.save(p, np.zeros((3, 16), dtype=np.complex128)),
        "pickled.npy": lambda p: np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True),
        "raw_pickle.npy": lambda p: p.write_bytes(pickle.dumps([1.0] * 16)),
        "truncated.npy": lambda p: p.write_bytes(_npy_bytes()[:100]),
        "empty.txt": lambda p: p.write_text(""),
        "blank.txt": lambda p: p.write_text("\n\n  \n"),
        "words.txt": lambda p: p.write_text("a b c\n"),
        "binary.txt": lambda p: p.write_bytes(b"\xff\xfe\x00\x01"),
    }
    for name, make in files.items():
        make(tmp_path / name)
        result = _cli(tmp_path, "predict", str(jet.output_dir), "-i", name, "-o", "y.npy", "--emulator", "numpy")
        assert result.returncode == 2, (name, result.stderr)
        assert "Traceback" not in result.stderr, (name, result.stderr)
        errors = [line for line in result.stderr.splitlines() if line.startswith("nnhls: error:")]
        assert len(errors) == 1, (name, result.stderr)
    np.savetxt(tmp_path / "good.txt", np.zeros((3, 16)))
    result = _cli(tmp_path, "predict", str(jet.output_dir), "-i", "good.txt", "-o", "y.npy", "--emulator", "numpy")
    assert result.returncode == 0, result.stderr
    assert np.load(tmp_path / "y.npy").shape == (3, 5)


def _npy_bytes() -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.zeros((50, 16)))
    return buffer.getvalue()
