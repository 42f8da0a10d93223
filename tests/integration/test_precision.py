"""Precision that fits the chip: the overflow report on a deliberately narrow layer, the warning
predict gives for it, and the CLI's `report --data`.

The model is the bundled jet tagger (a Keras MLP trained by examples/make_example.py) with the
inputs shipped beside it. `fc2`'s result is pinned to fixed<6,1>, which holds [-1, 0.97] while fc2
computes values up to about 4.4 on these inputs (its accumulator is wide: the result cast
overflows); `fc1`'s accumulator is pinned to fixed<8,2> (its sums reach about 3).
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nnhls import converters, utils
from nnhls.errors import OverflowWarning

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jet_tagger"
MODEL = str(EXAMPLE / "jet_tagger.keras")


@pytest.fixture(scope="session")
def jet_data() -> tuple[np.ndarray, np.ndarray]:
    return np.load(EXAMPLE / "inputs.npy"), np.load(EXAMPLE / "float_outputs.npy")


@pytest.fixture(scope="session")
def narrow(tmp_path_factory: pytest.TempPathFactory) -> Any:
    config = utils.config_from_keras_model(MODEL, granularity="name")
    config["LayerName"]["fc2"]["Precision"]["result"] = "fixed<6,1>"
    config["LayerName"]["fc1"]["Precision"]["accum"] = "fixed<8,2>"
    model = converters.convert_from_keras_model(
        MODEL, hls_config=config, output_dir=str(tmp_path_factory.mktemp("narrow") / "prj"), project_name="narrow"
    )
    model.write()
    return model


def test_overflow_report_finds_the_narrow_layer(narrow: Any, jet_data: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = jet_data
    rows = narrow.overflow_report(x)
    by_key = {(r["layer"], r["var"]): r for r in rows}
    bad = {key for key, r in by_key.items() if r["overflows"]}
    # fc1's result type is its (auto) accumulator's: the sums would not fit it either.
    assert bad == {("fc1", "accum"), ("fc1", "result"), ("fc2", "result")}, bad
    fc2 = by_key["fc2", "result"]
    assert fc2["type"] == "fixed<6,1>" and fc2["mode"] == "wrapped" and fc2["checked"] == len(x) * 32
    assert fc2["range"] == "[-1, 0.96875]"
    low, high = (float(v) for v in fc2["observed"].strip("[]").split(","))
    assert high > 2 and low < -1 and fc2["excess"] == pytest.approx(max(-1 - low, high - 0.96875))
    # The proposed integer bits hold the observed range (with fc2's 5 fractional bits) and no fewer do.
    bits = fc2["proposed_integer_bits"]
    assert 2 ** (bits - 1) > high >= 2 ** (bits - 2) or -(2 ** (bits - 1)) <= low < -(2 ** (bits - 2))
    assert by_key["fc1", "accum"]["type"] == "fixed<8,2>" and by_key["fc1", "accum"]["overflows"] > 0
    assert by_key["fc3", "result"]["overflows"] == by_key["input", "input"]["overflows"] == 0


def test_predict_warns_once_naming_the_layer(narrow: Any, jet_data: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = jet_data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        narrow.predict(x, emulator="numpy")
    overflow = [w for w in caught if issubclass(w.category, OverflowWarning)]
    assert len(overflow) == 1
    message = str(overflow[0].message)
    assert "'fc2' result" in message and "'fc1' accum" in message and "wrapped" in message
    assert "fc3" not in message


def test_cli_report_with_data(narrow: Any, jet_data: tuple[np.ndarray, np.ndarray], tmp_path: Path) -> None:
    x, _ = jet_data
    data = tmp_path / "x.npy"
    np.save(data, x[:50])
    result = subprocess.run(
        [sys.executable, "-m", "nnhls.tools.nnhls", "report", str(narrow.output_dir), "--data", str(data)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "overflow report on 50 samples" in result.stdout
    assert "values saturated or wrapped in: fc1, fc2" in result.stdout
