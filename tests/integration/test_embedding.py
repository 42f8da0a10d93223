"""Embeddings: Keras Embedding, PyTorch nn.Embedding (an ONNX Gather on a constant table) and
ONNX Gather through the compiler. The float reference equals the framework; the emulator returns
the table rows quantized to their type (within one step: fixed<16,6> truncates); out-of-range indices
are clamped. The C++ kernel is checked bit for bit in test_recurrent_torch_onnx.py's build.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

from nnhls import converters  # noqa: E402
from nnhls.errors import NnhlsError, PrecisionWarning  # noqa: E402
from nnhls.frontends.keras import import_keras_model  # noqa: E402
from nnhls.frontends.pytorch import import_pytorch  # noqa: E402
from nnhls.interpreters.reference import run_reference  # noqa: E402

T, V, D = 7, 50, 4
CONFIG = {"Model": {"Precision": "fixed<16,6>"}, "LayerName": {"ids": {"Precision": "ufixed<6,6>"}}}


def _ids(n: int = 32) -> np.ndarray:
    return np.random.default_rng(0).integers(0, V, (n, T)).astype(np.float64)


def test_keras_embedding(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((T,), name="ids"), keras.layers.Embedding(V, D, name="embed")])
    ids = _ids()
    want = np.asarray(keras.ops.convert_to_numpy(model(ids)), dtype=np.float64)
    np.testing.assert_allclose(run_reference(import_keras_model(model), [ids])[0], want, atol=1e-7)
    hls_model = converters.convert_from_keras_model(model, output_dir=str(tmp_path / "prj"), hls_config=CONFIG)
    got = np.asarray(hls_model.predict(ids, emulator="numpy"))
    step = 2.0**-10  # fixed<16,6> truncates the table to 10 fractional bits
    assert np.max(np.abs(got - want)) <= step


def test_indices_are_floored_and_clamped(tmp_path: Path) -> None:
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,), name="ids"), keras.layers.Embedding(V, D, name="embed")])
    table = model.layers[-1].get_weights()[0]
    config = {"Model": {"Precision": "fixed<16,8>"}}
    hls_model = converters.convert_from_keras_model(model, output_dir=str(tmp_path / "prj"), hls_config=config)
    got = np.asarray(hls_model.predict(np.array([[2.75, -3.0, 99.0]]), emulator="numpy"))
    np.testing.assert_allclose(got[0], table[[2, 0, V - 1]], atol=2.0**-8)  # fixed<16,8>


class Embed(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(V, D)

    def forward(self, ids: Any) -> Any:
        return self.embed(ids)


def test_pytorch_embedding(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = Embed().eval()
    ids = _ids()
    with torch.no_grad():
        want = module(torch.tensor(ids.astype(np.int64))).numpy().astype(np.float64)
    np.testing.assert_allclose(run_reference(import_pytorch(module, (T,)), [ids])[0], want, atol=1e-6)
    config = {"Model": {"Precision": "fixed<16,6>"}, "LayerName": {"input": {"Precision": "ufixed<6,6>"}}}
    hls_model = converters.convert_from_pytorch_model(module, (T,), output_dir=str(tmp_path / "prj"), hls_config=config)
    got = np.asarray(hls_model.predict(ids, emulator="numpy"))
    step = 2.0**-10  # fixed<16,6> truncates the table to 10 fractional bits
    assert np.max(np.abs(got - want)) <= step


def test_narrow_index_type_warns_and_masking_stops(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((T,), name="ids"), keras.layers.Embedding(V, D, name="embed")])
    config = {"Model": {"Precision": "fixed<16,6>"}, "LayerName": {"ids": {"Precision": "ufixed<4,4>"}}}
    hls_model = converters.convert_from_keras_model(model, output_dir=str(tmp_path / "prj"), hls_config=config)
    with pytest.warns(PrecisionWarning, match=r"nn.embedding 'embed': its input type .* the table has 50 rows"):
        hls_model.ir("hls")
    masked = keras.Sequential([keras.Input((T,)), keras.layers.Embedding(V, D, mask_zero=True)])
    with pytest.raises(NnhlsError, match="mask_zero"):
        import_keras_model(masked)
