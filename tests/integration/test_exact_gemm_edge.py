"""The numpy emulator's float64 matrix product at the 53-bit edge, against the C++ build.

A dense or convolution layer runs as one float64 GEMM on the integer mantissas while every
partial sum provably stays below 2**53 (max |x| in the batch times the largest column sum of |w|),
and as an integer product beyond. One Dense(2 -> 1) layer with hand-picked mantissas: a batch whose
bound is just under 2**53 (the float path; the sum needs all 53 bits) and one just past it (the
sum 2**53 + 1, which float64 would round to 2**53). The result type drops one bit with rounding,
so that the lowest bit of the sum shows in the output; C++ and numpy must agree with the exact
value computed here with Python integers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from nnhls import converters, utils  # noqa: E402
from nnhls.ops import exact  # noqa: E402

FRAC = 27
"""Fractional bits of the input and the weights (fixed<30,3>): products have 54."""


def _model() -> Any:
    i = keras.Input((2,), name="x")
    o = keras.layers.Dense(1, use_bias=False, name="fc")(i)
    model = keras.Model(i, o)
    # weight mantissas 2**27 and 1 (float32-exact): column sum of |w| = 2**27 + 1
    model.get_layer("fc").set_weights([np.array([[1.0], [2.0**-FRAC]], dtype=np.float32)])
    return model


def _expected(x_m: tuple[int, int]) -> tuple[int, float]:
    """(the exact sum's mantissa at 54 fractional bits, the output after rounding off one bit)."""
    s = x_m[0] * (1 << FRAC) + x_m[1] * 1
    return s, ((s + 1) // 2) * 2.0**-53  # AP_RND: ties towards plus infinity


def test_float_gemm_just_below_and_integer_product_just_past_53_bits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NNHLS_CACHE_DIR", str(tmp_path / "cache"))
    model = _model()
    config = utils.config_from_keras_model(model, granularity="name")
    config["LayerName"]["x"]["Precision"]["result"] = "fixed<30,3>"
    config["LayerName"]["fc"]["Precision"].update(
        {"weight": "fixed<30,3>", "bias": "fixed<30,3>", "accum": "fixed<58,4>", "result": "fixed<57,4,RND>"}
    )
    hls_model = converters.convert_from_keras_model(model, hls_config=config, output_dir=str(tmp_path / "prj"))
    hls_model.compile()
    hls_model.OVERFLOW_CHECK_SAMPLES = 0  # predict's first-call overflow scan runs the emulator again: count one run
    seen: list[np.dtype[Any]] = []
    original = exact._contract_as  # pyright: ignore[reportPrivateUsage]

    def spy(x: Any, w: Any) -> Any:
        seen.append(x.dtype)
        return original(x, w)

    monkeypatch.setattr(exact, "_contract_as", spy)
    cases = {
        # bound (2**26 - 1) * (2**27 + 1) = 2**53 - 2**26 - 1: float64, and the sum 2**53 - 2**26 - 1 needs 53 bits
        "just below": ((1 << 26) - 1, (1 << 26) - 1),
        # bound 2**26 * (2**27 + 1) > 2**53: integers; the sum 2**53 + 1 is not a float64
        "just past": (1 << 26, 1),
    }
    for name, x_m in cases.items():
        s, expected = _expected(x_m)
        assert s.bit_length() == 53 if name == "just below" else s == (1 << 53) + 1
        x = np.array([[x_m[0] * 2.0**-FRAC, x_m[1] * 2.0**-FRAC]])
        seen.clear()
        emulated = np.asarray(hls_model.predict(x, emulator="numpy")).reshape(-1)
        assert seen == [np.dtype(np.float64) if name == "just below" else np.dtype(np.int64)], name
        native = np.asarray(hls_model.predict(x)).reshape(-1)
        assert native[0] == expected, name
        assert emulated[0] == expected, name
    # float64 itself would have lost the last bit past the edge (what the integer path avoids)
    past = np.array([[2.0**26, 1.0]]) @ np.array([[2.0**27], [1.0]])
    assert past[0, 0] == 2.0**53
