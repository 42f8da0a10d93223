"""Corpus models with the config `config_from_keras_model(granularity='name')` generates, left as is.

hls4ml 1.3's as-generated config keeps 0.2%, 46% and 0% of the float argmax on these three models
(its `auto` softmax input stays unresolved and the table truncates); precision inference must
keep at least 99%, with no type wider than the default cap on auto types (fixed<24,12,RND,SAT>).
Each model is converted, built with g++ and predicted on the corpus' generated inputs; the numpy
emulator must give the same bits as the C++ build.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nnhls import converters, utils
from nnhls.dialects.bitgrowth import DEFAULT_MAXIMUM
from nnhls.dialects.fixed import FixedPrecision
from nnhls.dialects.types import FixedPointType

MODELS = ["KERAS_3layer", "KERAS_3layer_batch_norm", "KERAS_conv2d_model"]
INPUT_SHAPES = {"KERAS_conv2d_model": (8, 8, 1)}


def _load(corpus: Path, name: str) -> tuple[tuple[str, str], np.ndarray, np.ndarray]:
    model = (str(corpus / "keras" / f"{name}.json"), str(corpus / "keras" / f"{name}_weights.h5"))
    x = np.loadtxt(corpus / "generated" / f"{name}_input_features.dat", dtype=np.float64, ndmin=2)
    y = np.loadtxt(corpus / "generated" / f"{name}_predictions_keras3.dat", dtype=np.float64, ndmin=2)
    if name in INPUT_SHAPES:
        x = x.reshape(len(x), *INPUT_SHAPES[name])
    return model, x, y


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_as_generated_name_config_keeps_the_argmax(corpus: Path, name: str, tmp_path: Path) -> None:
    model, x, y = _load(corpus, name)
    config = utils.config_from_keras_model(model, granularity="name")
    hls_model = converters.convert_from_keras_model(
        model, hls_config=config, output_dir=str(tmp_path / name), project_name=name
    )
    hls_model.compile()
    predicted = np.asarray(hls_model.predict(x))
    assert predicted.shape == y.shape
    agreement = float(np.mean(predicted.argmax(axis=1) == y.argmax(axis=1)))
    assert agreement >= 0.99, f"{name}: argmax agreement {agreement:.2%}"
    emulated = np.asarray(hls_model.predict(x, emulator="numpy"))
    np.testing.assert_array_equal(predicted, emulated)
    # No type of the default flow exceeds the default cap on auto types (Precision.maximum).
    widest = max(widths(hls_model.hls_module), key=lambda p: p.width)
    tallest = max(widths(hls_model.hls_module), key=lambda p: p.integer)
    assert widest.width <= DEFAULT_MAXIMUM.width and tallest.integer <= DEFAULT_MAXIMUM.integer, (widest, tallest)


def widths(module: Any) -> list[FixedPrecision]:
    """Every fixed-point type of an hls module: its values' element types and its ops' `*_t`s."""
    found: list[FixedPrecision] = []
    for op in module.walk():
        for value in op.results:
            element = getattr(value.type, "element_type", None)
            if isinstance(element, FixedPointType):
                found.append(element.precision)
        found += [attr.precision for attr in op.properties.values() if isinstance(attr, FixedPointType)]
    return found
