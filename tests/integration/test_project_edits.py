"""Editing a written project: parameters.h edits take effect on rebuild (issue 13).

The configuration document promises that a value edited in firmware/parameters.h takes effect
when the project is rebuilt. A project reopened from disk (link_existing_project, `nnhls predict
DIR`) is built as it is on disk, and fields derived from others (multiplier_limit, n_nonzeros) are
expressions of them. Checked on the bundled jet tagger: an edited accumulator precision gives
exactly the outputs of a model converted with that precision (the numpy emulator of a fresh
conversion), an edited reuse factor reaches the C++ (its derived fields follow) without changing
the arithmetic, and the numpy emulator, which runs the IR, says that it does not see the edits.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nnhls import converters
from nnhls.compiler.hls_model import HLSModel, link_existing_project
from nnhls.tools.nnhls import main as cli_main

REPO = Path(__file__).resolve().parent.parent.parent
EXAMPLE = REPO / "examples" / "jet_tagger"
BASE = {"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"}}


def _convert(config: dict[str, Any], output_dir: Path) -> HLSModel:
    return converters.convert_from_keras_model(
        str(EXAMPLE / "jet_tagger.keras"), hls_config=config, output_dir=str(output_dir), project_name="jet_edit"
    )


@pytest.fixture(scope="module")
def inputs() -> np.ndarray:
    return np.load(EXAMPLE / "inputs.npy")[:300].astype(np.float64) * 3.0


@pytest.fixture(scope="module", autouse=True)
def build_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ.setdefault("NNHLS_CACHE_DIR", str(tmp_path_factory.mktemp("nnhls-cache")))


def _edit_field(path: Path, struct: str, field: str, new: str) -> None:
    """Replace `field` (a typedef or a static const) inside `struct config_<struct>` of a header."""
    text = path.read_text()
    start = text.index(f"struct config_{struct} ")
    end = text.index("};", start)
    body = text[start:end]
    if field.endswith("_t"):
        edited = re.sub(rf"typedef [^;]+ {field};", f"typedef {new} {field};", body)
    else:
        edited = re.sub(rf"(static const \w+ {field} = )[^;]+;", rf"\g<1>{new};", body)
    assert edited != body, f"{field} not found in config_{struct}"
    path.write_text(text[:start] + edited + text[end:])


def test_edited_accumulator_takes_effect(inputs: np.ndarray, tmp_path: Path) -> None:
    root = tmp_path / "prj"
    model = _convert(BASE, root)
    model.write()
    model.compile()
    before = np.asarray(model.predict(inputs))
    _edit_field(root / "firmware" / "parameters.h", "fc1", "accum_t", "ap_fixed<10,4>")

    reopened = link_existing_project(root)
    reopened.compile()
    after = np.asarray(reopened.predict(inputs))
    # the same precision set through the configuration, run by the numpy emulator of the IR
    config = {**BASE, "LayerName": {"fc1": {"Precision": {"accum": "fixed<10,4>"}}}}
    expected = np.asarray(_convert(config, tmp_path / "expected").predict(inputs, emulator="numpy"))
    assert not np.array_equal(after, before)
    np.testing.assert_array_equal(after, expected)

    # the command line rebuilds the project as it is on disk too
    np.save(tmp_path / "x.npy", inputs)
    assert cli_main(["predict", str(root), "-i", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), expected)

    # compile() of the object that wrote the project keeps the edit as well
    model.compile()
    np.testing.assert_array_equal(np.asarray(model.predict(inputs)), expected)

    # the numpy emulator runs the IR: it says that it does not see the edit
    with pytest.warns(UserWarning, match=r"parameters\.h"):
        np.testing.assert_array_equal(np.asarray(reopened.predict(inputs, emulator="numpy")), before)

    # an explicit write() regenerates every file from the model and names the edited one
    with pytest.warns(UserWarning, match=r"firmware/parameters\.h"):
        model.write()
    model.compile()
    np.testing.assert_array_equal(np.asarray(model.predict(inputs)), before)


def _probe(root: Path, layer: str, fields: tuple[str, ...], tmp_path: Path) -> dict[str, int]:
    """The values of config_<layer> fields as g++ computes them from parameters.h."""
    source = tmp_path / "probe.cpp"
    prints = "".join(f'  std::printf("{f} %u\\n", (unsigned)config_{layer}::{f});\n' for f in fields)
    source.write_text(f'#include <cstdio>\n#include "parameters.h"\nint main() {{\n{prints}  return 0;\n}}\n')
    exe = tmp_path / "probe"
    includes = [f"-I{root / 'firmware' / 'ap_types'}", f"-I{root / 'firmware'}"]
    subprocess.run(["g++", "-std=c++11", *includes, str(source), "-o", str(exe)], check=True, capture_output=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return {name: int(value) for name, value in (line.split() for line in out.splitlines())}


def test_edited_reuse_factor_takes_effect(inputs: np.ndarray, tmp_path: Path) -> None:
    root = tmp_path / "prj"
    config = {"Model": {**BASE["Model"], "Strategy": "Resource"}}
    model = _convert(config, root)
    model.write()
    first = model.compile()
    before = np.asarray(model.predict(inputs))
    fields = ("n_in", "n_out", "n_zeros", "n_nonzeros", "reuse_factor", "multiplier_limit")
    original = _probe(root, "fc2", fields, tmp_path)
    assert original["reuse_factor"] == 1 and original["multiplier_limit"] == original["n_nonzeros"]

    _edit_field(root / "firmware" / "parameters.h", "fc2", "reuse_factor", "4")
    edited = _probe(root, "fc2", fields, tmp_path)
    assert edited["reuse_factor"] == 4
    assert edited["n_nonzeros"] == edited["n_in"] * edited["n_out"] - edited["n_zeros"]
    assert edited["multiplier_limit"] == math.ceil(edited["n_nonzeros"] / 4)

    reopened = link_existing_project(root)
    rebuilt = reopened.compile()
    assert rebuilt != first  # the edit reached the C++ build
    # the Resource kernel now runs 4 pipelined passes of block_factor products: same arithmetic
    np.testing.assert_array_equal(np.asarray(reopened.predict(inputs)), before)


def test_untouched_project_is_not_rewritten(tmp_path: Path) -> None:
    root = tmp_path / "prj"
    model = _convert(BASE, root)
    model.write()
    stamp = (root / "firmware" / "parameters.h").stat().st_mtime_ns
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        link_existing_project(root).compile()
    assert (root / "firmware" / "parameters.h").stat().st_mtime_ns == stamp
