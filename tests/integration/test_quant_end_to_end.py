"""QKeras corpus models through the whole compiler: bit-identical to QKeras before the softmax.

The models go through the default pipeline (quantizers folded into types by
nn-infer-quantization, exact bit growth elsewhere) to the numpy emulator and to the g++-built C++,
which must agree with each other and, before the final float softmax, with Keras 3 + qkeras-v3 on
every sample; after the softmax the argmax agrees everywhere.

The inputs are float32 features: the input layer is given `fixed<48,8>` (40 fractional bits), so
that the first quantized dense sees the inputs as Keras does (float32 values down to 2**-17 are
exact in it), which is a user's choice of input type, not a quantizer.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import nnhls

MODELS = {
    "qkeras_3layer": ((16,), "fc1_input"),
    "qkeras_mnist_dense": ((784,), None),
    "qkeras_mnist_cnn": ((28, 28, 1), "input_1"),
}


@pytest.fixture(scope="module")
def keras_pre_softmax():
    pytest.importorskip("qkeras", reason="qkeras-v3 (test dependency) not installed")
    keras = pytest.importorskip("keras")
    from keras.src.legacy.saving import saving_utils
    from qkeras.utils import _add_supported_quantized_objects

    objects: dict = {}
    _add_supported_quantized_objects(objects)

    def run(corpus: Path, name: str, x: np.ndarray) -> tuple[np.ndarray, str]:
        config = json.loads((corpus / "keras" / f"{name}.json").read_text())
        model = saving_utils.model_from_config(config, custom_objects=objects)
        model.load_weights(corpus / "keras" / f"{name}_weights.h5")
        cut = keras.Model(model.inputs, model.layers[-2].output)
        return np.asarray(cut.predict(x, verbose=0), np.float64), model.layers[-2].name

    return run


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MODELS))
def test_qkeras_corpus_bit_identical_through_cpp_and_emulator(
    corpus: Path, keras_pre_softmax, tmp_path: Path, name: str
) -> None:
    shape, input_layer = MODELS[name]
    x = np.loadtxt(corpus / "generated" / f"{name}_input_features.dat", dtype=np.float32)
    x = x.reshape(-1, *shape)
    expected, last = keras_pre_softmax(corpus, name, x)
    config: dict = {"Model": {"Precision": "fixed<16,6>"}}
    if input_layer is not None:
        config["LayerName"] = {input_layer: {"Precision": "fixed<48,8>"}}
    model = nnhls.converters.convert_from_keras_model(
        (corpus / "keras" / f"{name}.json", corpus / "keras" / f"{name}_weights.h5"),
        hls_config=config, output_dir=str(tmp_path / "prj"),
    )  # fmt: skip
    typed = model.ir("typed")
    assert "nn.quantize" not in typed  # every quantizer folded into a layer's result type
    model.compile()
    xs = x.astype(np.float64)
    traced_cpp = model.trace(xs, layers=[last])[last]
    traced_numpy = model.trace(xs, layers=[last], emulator="numpy")[last]
    assert np.array_equal(traced_cpp, traced_numpy)
    assert np.array_equal(traced_cpp.reshape(expected.shape), expected)
    probabilities = model.predict(xs)
    reference = np.loadtxt(corpus / "generated" / f"{name}_predictions_keras3.dat")
    assert (probabilities.argmax(1) == reference.argmax(1)).all()
