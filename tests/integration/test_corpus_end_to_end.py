"""Every loadable corpus model (Keras and ONNX) through the whole flow, in both io types.

Config as `config_from_*_model(granularity="name")` generates it (all `auto`), with the corpus
inputs as InputData (so the `auto` input type holds their range: jetTagger_Conv2D_Small's jet
images reach 1206, far beyond the default fixed<16,6>): the g++ build must equal the numpy
emulator bit for bit, and the outputs must stay close to the stored Keras / onnxruntime predictions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nnhls import converters, utils

pytestmark = pytest.mark.slow

ONNX = {
    "two_layer_keras": "KERAS_1layer",
    "three_layer_keras": "KERAS_3layer",
    "dense_big_keras": "KERAS_dense_16x100x100x100x100x100x5",
    "conv1d_small_keras": "KERAS_conv1d_small",
    "conv2d_small_keras": "KERAS_conv2d_model",
    "conv2d_small_mp_keras": "conv2d_small_mp_keras",
    "two_layer_pytorch": "two_layer_pytorch",
    "three_layer_pytorch": "three_layer_pytorch",
    "three_layer_bn_pytorch": "three_layer_bn_pytorch",
    "three_layer_bn_keras": "KERAS_3layer_batch_norm",
}
KERAS = {
    "KERAS_1layer": "KERAS_1layer",
    "KERAS_3layer": "KERAS_3layer",
    "KERAS_3layer_70pruned_retrained": "KERAS_3layer_70pruned_retrained",
    "KERAS_3layer_batch_norm": "KERAS_3layer_batch_norm",
    "KERAS_conv1d_small": "KERAS_conv1d_small",
    "KERAS_conv1d": "KERAS_conv1d",
    "KERAS_conv2d_model": "KERAS_conv2d_model",
    "jetTagger_Conv2D_Small": "jetTagger_Conv2D_Small",
    "jetTagger_Conv2D_Small_NoBatchNorm": "jetTagger_Conv2D_Small_NoBatchNorm",
}
N_SAMPLES = 100


def _data(corpus: Path, stem: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.loadtxt(corpus / "generated" / f"{stem}_input_features.dat", ndmin=2)[:N_SAMPLES]
    predictions = sorted((corpus / "generated").glob(f"{stem}_predictions_*.dat"))
    return x, np.loadtxt(predictions[0], ndmin=2)[:N_SAMPLES]


def _convert(corpus: Path, kind: str, name: str, stem: str, io_type: str, out: Path) -> Any:
    data = str(corpus / "generated" / f"{stem}_input_features.dat")
    common = {"output_dir": str(out), "project_name": "corpus_model", "io_type": io_type, "input_data_tb": data}
    if kind == "onnx":
        model: Any = str(corpus / "onnx" / f"{name}.onnx")
        config = utils.config_from_onnx_model(model, granularity="name")
        return converters.convert_from_onnx_model(model, hls_config=config, **common)
    architecture = name.removesuffix("_70pruned_retrained")
    model = (str(corpus / "keras" / f"{architecture}.json"), str(corpus / "keras" / f"{name}_weights.h5"))
    config = utils.config_from_keras_model(model, granularity="name")
    return converters.convert_from_keras_model(model, hls_config=config, **common)


CASES = [("onnx", name, stem) for name, stem in ONNX.items()] + [("keras", name, stem) for name, stem in KERAS.items()]


@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
@pytest.mark.parametrize(("kind", "name", "stem"), CASES, ids=[f"{k}-{n}" for k, n, _ in CASES])
def test_corpus_model_end_to_end(corpus: Path, tmp_path: Path, kind: str, name: str, stem: str, io_type: str) -> None:
    x, expected = _data(corpus, stem)
    hls_model = _convert(corpus, kind, name, stem, io_type, tmp_path / "prj")
    hls_model.compile()
    x = x.reshape(len(x), *hls_model.firmware.inputs[0].shape)
    predicted = np.asarray(hls_model.predict(x))
    np.testing.assert_array_equal(predicted, np.asarray(hls_model.predict(x, emulator="numpy")))
    predicted = predicted.reshape(expected.shape)
    assert np.max(np.abs(predicted - expected)) < 0.06
    if expected.shape[1] > 1:
        # near-ties in the float outputs may flip; real errors flip many
        assert np.mean(predicted.argmax(1) == expected.argmax(1)) >= 0.8
