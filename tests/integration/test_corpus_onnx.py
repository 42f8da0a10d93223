"""Every plain ONNX model of the corpus imports and matches its stored predictions.

Inputs are the generated `*_input_features.dat` rows (flattened channels-last samples, which is the
layout of the Keras exports' NHWC inputs); expected outputs are the Keras 3 or onnxruntime
predictions stored next to them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnhls.dialects import nn
from nnhls.dialects.nn import model_function
from nnhls.frontends.onnx import import_onnx
from nnhls.interpreters.reference import run_reference

# ONNX file -> stem of its generated data (the Keras twin's data where the README names one).
MODELS = {
    "two_layer_keras": "KERAS_1layer",
    "three_layer_keras": "KERAS_3layer",
    "dense_big_keras": "KERAS_dense_16x100x100x100x100x100x5",
    "conv1d_small_keras": "KERAS_conv1d_small",
    "conv2d_small_keras": "KERAS_conv2d_model",
    "conv2d_small_mp_keras": "conv2d_small_mp_keras",
    "two_layer_pytorch": "two_layer_pytorch",
    "three_layer_pytorch": "three_layer_pytorch",
    "three_layer_bn_pytorch": "three_layer_bn_pytorch",
    # onnxruntime rejects this file (argument-less Transposes around BN on (1, N)); we treat those
    # Transposes as identities and match the Keras model it was exported from.
    "three_layer_bn_keras": "KERAS_3layer_batch_norm",
}


def _data(corpus: Path, stem: str) -> tuple[np.ndarray, np.ndarray]:
    inputs = np.loadtxt(corpus / "generated" / f"{stem}_input_features.dat", ndmin=2)
    predictions = sorted((corpus / "generated").glob(f"{stem}_predictions_*.dat"))
    assert predictions, f"no predictions for {stem}"
    return inputs, np.loadtxt(predictions[0], ndmin=2)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_corpus_onnx_matches_predictions(corpus: Path, model: str) -> None:
    module = import_onnx(corpus / "onnx" / f"{model}.onnx")
    inputs, expected = _data(corpus, MODELS[model])
    shape = nn.shape_of(model_function(module).body.block.args[0])
    outputs = run_reference(module, inputs.reshape(len(inputs), *shape))
    assert len(outputs) == 1
    np.testing.assert_allclose(outputs[0].reshape(expected.shape), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "model", ["conv1d_small_keras", "conv2d_small_keras", "conv2d_small_mp_keras"]
)
def test_corpus_keras_exports_have_no_transposes(corpus: Path, model: str) -> None:
    """The exporters' NHWC->NCHW input Transpose cancels against our channels-last layout."""
    module = import_onnx(corpus / "onnx" / f"{model}.onnx")
    ops = list(model_function(module).body.block.ops)
    assert not any(isinstance(op, nn.TransposeOp | nn.ReshapeOp) for op in ops)
