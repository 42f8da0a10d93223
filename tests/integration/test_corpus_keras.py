"""Keras front end on the real corpus models (skipped when the corpus is absent).

Every plain Keras model imports from its files (no Keras needed) and the float reference interpreter
reproduces the stored Keras 3 predictions; models with custom or quantized layers raise a clear
`UnsupportedLayerError` naming the layer class.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects.builtin import ModuleOp

from nnhls.dialects import nn
from nnhls.dialects.nn import model_function
from nnhls.frontends.common import UnsupportedLayerError
from nnhls.frontends.keras import import_keras
from nnhls.interpreters.reference import run_reference

RTOL, ATOL = 1e-5, 1e-6

# model -> (model file, weights file or None), all under corpus/keras.
LOADABLE: dict[str, tuple[str, str | None]] = {
    "KERAS_1layer": ("KERAS_1layer.json", "KERAS_1layer_weights.h5"),
    "KERAS_3layer": ("KERAS_3layer.json", "KERAS_3layer_weights.h5"),
    "KERAS_3layer/full_model": ("KERAS_3layer_full_model.h5", None),
    "KERAS_3layer_70pruned_retrained": (
        "KERAS_3layer.json",
        "KERAS_3layer_70pruned_retrained_weights.h5",
    ),
    "KERAS_3layer_95pruned_retrained": (
        "KERAS_3layer.json",
        "KERAS_3layer_95pruned_retrained_weights.h5",
    ),
    "KERAS_3layer_batch_norm": (
        "KERAS_3layer_batch_norm.json",
        "KERAS_3layer_batch_norm_weights.h5",
    ),
    "KERAS_3layer_batch_norm/full_model": ("KERAS_3layer_batch_norm_full_model.h5", None),
    **{
        f"KERAS_dense_16x{w}x{w}x{w}x{w}x{w}x5": (
            f"KERAS_dense_16x{w}x{w}x{w}x{w}x{w}x5.json",
            f"KERAS_dense_16x{w}x{w}x{w}x{w}x{w}x5_weights.h5",
        )
        for w in (100, 200, 500)
    },
    "KERAS_conv1d_small": ("KERAS_conv1d_small.json", "KERAS_conv1d_small_weights.h5"),
    "KERAS_conv1d": ("KERAS_conv1d.json", "KERAS_conv1d_weights.h5"),
    "KERAS_conv2d_model": ("KERAS_conv2d_model.json", "KERAS_conv2d_model_weights.h5"),
    "KERAS_conv2d_model/full_model": ("KERAS_conv2d_model_full_model.h5", None),
    "jetTagger_Conv2D_Small": ("jetTagger_Conv2D_Small.json", "jetTagger_Conv2D_Small_weights.h5"),
    "jetTagger_Conv2D_Small/full_model": ("jetTagger_Conv2D_Small_full_model.h5", None),
    "jetTagger_Conv2D_Small_NoBatchNorm": (
        "jetTagger_Conv2D_Small_NoBatchNorm.json",
        "jetTagger_Conv2D_Small_NoBatchNorm_weights.h5",
    ),
}

# model -> (model file, weights file or None, a layer class the error must name).
UNSUPPORTED: dict[str, tuple[str, str | None, str]] = {
    # Quantization-aware models (QKeras, HGQ, binary / ternary) are read: tests/integration/test_quant_*.
    "garnet_1layer": ("garnet_1layer.json", "garnet_1layer_weights.h5", "GarNet"),
    "garnet_3layer": ("garnet_3layer.json", "garnet_3layer_weights.h5", "GarNetStack"),
}


@cache
def _load_module(corpus: Path, model_file: str, weights: str | None) -> ModuleOp:
    folder = corpus / "keras"
    return import_keras(folder / model_file, None if weights is None else folder / weights)


@cache
def _load_data(corpus: Path, model: str) -> tuple[np.ndarray, np.ndarray]:
    folder = corpus / "generated"
    inputs = np.loadtxt(folder / f"{model}_input_features.dat", dtype=np.float64, ndmin=2)
    outputs = np.loadtxt(folder / f"{model}_predictions_keras3.dat", dtype=np.float64, ndmin=2)
    return inputs, outputs


def worst_diff(corpus: Path, case: str) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(max abs diff, max rel diff, reference output, Keras 3 predictions) of one corpus case."""
    model_file, weights = LOADABLE[case]
    module = _load_module(corpus, model_file, weights)
    inputs, expected = _load_data(corpus, case.split("/")[0])
    shape = nn.shape_of(model_function(module).body.block.args[0])
    (actual,) = run_reference(module, inputs.reshape(-1, *shape))
    actual = actual.reshape(len(inputs), -1)
    diff = np.abs(actual - expected)
    return (
        float(diff.max()),
        float((diff / np.maximum(np.abs(expected), ATOL)).max()),
        actual,
        expected,
    )


@pytest.mark.parametrize("case", list(LOADABLE))
def test_corpus_model_matches_keras3(corpus: Path, case: str) -> None:
    max_abs, max_rel, actual, expected = worst_diff(corpus, case)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(
        actual, expected, rtol=RTOL, atol=ATOL, err_msg=f"worst abs {max_abs:.3g} rel {max_rel:.3g}"
    )


def test_json_and_full_model_agree(corpus: Path) -> None:
    """The same network from Keras 2 JSON + weights and from the full-model .h5: identical IR."""
    for case in ("KERAS_3layer", "KERAS_conv2d_model", "jetTagger_Conv2D_Small"):
        from_json = _load_module(corpus, *LOADABLE[case])
        from_full = _load_module(corpus, *LOADABLE[f"{case}/full_model"])
        ops_json = [
            op for op in model_function(from_json).body.block.ops if isinstance(op, nn.NNLayerOp)
        ]
        ops_full = [
            op for op in model_function(from_full).body.block.ops if isinstance(op, nn.NNLayerOp)
        ]
        assert [op.name for op in ops_json] == [op.name for op in ops_full]


def test_corpus_layer_names(corpus: Path) -> None:
    """Layer names from the model, fused activations as separate `<layer>_<activation>` ops."""
    module = _load_module(corpus, *LOADABLE["KERAS_3layer"])
    names = [
        op.layer_name
        for op in model_function(module).body.block.ops
        if isinstance(op, nn.NNLayerOp)
    ]
    assert names == [
        "input_1", "fc1_relu", "fc1_relu_relu", "fc2_relu", "fc2_relu_relu", "fc3_relu",
        "fc3_relu_relu", "output_softmax", "output_softmax_softmax",
    ]  # fmt: skip


@pytest.mark.parametrize("case", list(UNSUPPORTED))
def test_corpus_custom_layers_rejected(corpus: Path, case: str) -> None:
    model_file, weights, layer_class = UNSUPPORTED[case]
    folder = corpus / "keras"
    with pytest.raises(UnsupportedLayerError) as info:
        import_keras(folder / model_file, None if weights is None else folder / weights)
    message = str(info.value)
    assert f"of type '{layer_class}'" in message
    assert "supported types:" in message and "Dense" in message
