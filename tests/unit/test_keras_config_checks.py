"""Nonsense in a Keras model config stops with one line naming the layer, the key and the value
(nnhls/frontends/keras_config.py), never a traceback and never a silent coercion.

Each case starts from a real `.keras` file saved by Keras 3 and edits its config.json the way a
careless or hostile user could: Dense `units` that disagree with the weights (0, -1, 1e9, "64",
64.5, null), a NaN literal (Python's json accepts it, JSON does not), models nested hundreds deep,
bools and paddings of the wrong type.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nnhls.errors import FrontendError, UserError
from nnhls.frontends.keras import MAX_MODEL_NESTING, import_keras
from nnhls.frontends.keras_config import LayerConfig

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

Json = dict[str, Any]


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small Sequential model (input 6, Dense 5 relu, Dense 3), saved as `.keras`."""
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(5, activation="relu", name="fc1"), keras.layers.Dense(3, name="fc2")]
    )
    path = tmp_path_factory.mktemp("keras") / "model.keras"
    model.save(path)
    return path


def _edited(saved: Path, tmp_path: Path, edit: Callable[[Json], Any] | None = None, text: Callable[[str], str] | None = None) -> Path:
    """`saved` with its config.json edited (as a dict, or as text), everything else unchanged."""
    out = tmp_path / "edited.keras"
    with zipfile.ZipFile(saved) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "config.json":
                if edit is not None:
                    config = json.loads(data)
                    edit(config)
                    limit = sys.getrecursionlimit()
                    sys.setrecursionlimit(max(limit, 20_000))  # writing a deeply nested config
                    try:
                        data = json.dumps(config).encode()
                    finally:
                        sys.setrecursionlimit(limit)
                if text is not None:
                    data = text(data.decode()).encode()
            dst.writestr(item, data)
    return out


def _layer(config: Json, name: str) -> Json:
    return next(entry for entry in config["config"]["layers"] if entry["config"].get("name") == name)


def _one_line_error(path: Path) -> str:
    with pytest.raises(UserError) as caught:
        import_keras(path)
    message = str(caught.value)
    assert "\n" not in message and message
    return message


def test_the_unedited_file_converts(saved: Path, tmp_path: Path) -> None:
    import_keras(_edited(saved, tmp_path, lambda c: None))


@pytest.mark.parametrize("units", [0, -1, 10**9, "64", 64.5, None, True, 4])
def test_dense_units_that_disagree_with_the_weights(saved: Path, tmp_path: Path, units: Any) -> None:
    def edit(config: Json) -> None:
        _layer(config, "fc1")["config"]["units"] = units

    message = _one_line_error(_edited(saved, tmp_path, edit))
    assert "layer 'fc1' (Dense)" in message
    assert f"units={units!r}" in message


def test_nan_literal_in_the_config(saved: Path, tmp_path: Path) -> None:
    path = _edited(saved, tmp_path, text=lambda s: s.replace('"units": 3', '"units": NaN', 1))
    message = _one_line_error(path)
    assert "NaN" in message and "config.json" in message


@pytest.mark.parametrize("literal", ["Infinity", "-Infinity"])
def test_infinite_literals_in_the_config(saved: Path, tmp_path: Path, literal: str) -> None:
    path = _edited(saved, tmp_path, text=lambda s: s.replace('"units": 3', f'"units": {literal}', 1))
    assert literal in _one_line_error(path)


def _nest(config: Json, depth: int) -> Json:
    """The model wrapped in `depth` Sequential models, each holding the previous one."""
    inner = config
    for level in range(depth):
        inner = {
            "module": "keras",
            "class_name": "Sequential",
            "config": {"name": f"wrap{level}", "layers": [{**inner, "config": {**inner["config"], "name": f"m{level}"}}]},
        }
    return inner


@pytest.mark.parametrize("depth", [MAX_MODEL_NESTING + 1, 400])
def test_models_nested_too_deep(saved: Path, tmp_path: Path, depth: int) -> None:
    def edit(config: Json) -> None:
        nested = _nest(json.loads(json.dumps(config)), depth)
        config.clear()
        config.update(nested)

    message = _one_line_error(_edited(saved, tmp_path, edit))
    assert "nested" in message


def test_json_nested_deeper_than_the_parser_allows(saved: Path, tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    path = _edited(saved, tmp_path, text=lambda s: s.replace('"units": 3', f'"units": 3, "junk": {deep}', 1))
    assert "nested too deeply" in _one_line_error(path)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("use_bias", "yes", "use_bias='yes' must be true or false"),
        ("use_bias", 1, "use_bias=1 must be true or false"),
        ("units", [3], "units=[3] must be an integer >= 1"),
    ],
)
def test_wrongly_typed_values(saved: Path, tmp_path: Path, key: str, value: Any, expected: str) -> None:
    def edit(config: Json) -> None:
        _layer(config, "fc2")["config"][key] = value

    message = _one_line_error(_edited(saved, tmp_path, edit))
    assert message.endswith(expected) and "layer 'fc2' (Dense)" in message


# ----- the accessors on their own (every layer kind uses them) ----------------------------------------------


def _values(**config: Any) -> LayerConfig:
    return LayerConfig("l", "Conv2D", config)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda v: v.ints("strides", 1, 2), "strides=0 must be an integer >= 1 or a list of 2 of them"),
        (lambda v: v.pairs("padding", 1, 2), "padding=-1 must be a non-negative integer, one per axis, or (begin, end) pairs"),
        (lambda v: v.float("epsilon"), "epsilon=nan must be a finite number"),
        (lambda v: v.int_list("dims"), "dims=[] must be a list of integers"),
        (lambda v: v.int("units"), "the config has no 'units'"),
    ],
)
def test_accessors_refuse_with_layer_key_and_value(call: Callable[[LayerConfig], Any], expected: str) -> None:
    values = _values(strides=0, padding=-1, epsilon=float("nan"), dims=[])
    with pytest.raises(FrontendError) as caught:
        call(values)
    assert str(caught.value) == f"layer 'l' (Conv2D): {expected}"


def test_accessors_accept_what_keras_writes() -> None:
    values = _values(strides=[2, 1], padding=[[1, 2], [0, 3]], epsilon=1e-3, dims=[2, 1], negative_slope=None)
    assert values.ints("strides", 1, 2) == (2, 1)
    assert values.pairs("padding", 1, 2) == [1, 2, 0, 3]
    assert values.float("epsilon") == 1e-3
    assert values.int_list("dims") == [2, 1]
    assert values.float("negative_slope", 0.0, none_is_default=True) == 0.0
    assert values.ints("pool_size", 2, 2) == (2, 2)
