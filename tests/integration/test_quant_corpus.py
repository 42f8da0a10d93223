"""Quantization-aware corpus models, read by nnhls, against the frameworks that trained them.

Stage checked here: the `nn` IR the front end builds (quantizers as `nn.quantize` ops and weight
quantizers), run by the float64 reference interpreter with the quantizers' exact semantics. Its
outputs before the final softmax must equal, bit for bit:

* QKeras models: Keras 3 + qkeras-v3 running the same files (the model cut before its softmax);
* HGQ proxies and the old binary / ternary nets (which no installable framework runs): the
  independent reference forward pass in tests/quant_reference.py, written from their documented
  semantics.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import quant_reference
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

from nnhls.dialects import nn
from nnhls.frontends.keras import import_keras
from nnhls.interpreters.reference import run_reference

QKERAS_MODELS = {
    "qkeras_3layer": (16,),
    "qkeras_mnist_dense": (784,),
    "qkeras_mnist_cnn": (28, 28, 1),
}


def pre_softmax(module: ModuleOp) -> ModuleOp:
    """The module with its final softmax removed (the function returns the softmax input)."""
    function = next(op for op in module.walk() if isinstance(op, func.FuncOp))
    ops = list(function.body.block.ops)
    softmax = [op for op in ops if isinstance(op, nn.SoftmaxOp)]
    if not softmax:
        return module
    ret = ops[-1]
    assert isinstance(ret, func.ReturnOp)
    ret.operands = [softmax[-1].input]
    softmax[-1].detach()
    softmax[-1].erase()
    function.function_type = func.FunctionType.from_lists(
        list(function.function_type.inputs.data), [v.type for v in ret.operands]
    )
    module.verify()
    return module


def _inputs(corpus: Path, name: str, shape: tuple[int, ...]) -> np.ndarray:
    return np.loadtxt(
        corpus / "generated" / f"{name}_input_features.dat", dtype=np.float32
    ).reshape(-1, *shape)


@pytest.fixture(scope="module")
def qkeras_keras():
    qkeras = pytest.importorskip("qkeras", reason="qkeras-v3 (test dependency) not installed")
    keras = pytest.importorskip("keras")
    from keras.src.legacy.saving import saving_utils
    from qkeras.utils import _add_supported_quantized_objects

    objects: dict = {}
    _add_supported_quantized_objects(objects)

    def load(corpus: Path, name: str):
        if name.endswith(".keras"):
            return keras.models.load_model(corpus / "keras" / name, custom_objects=objects)
        config = json.loads((corpus / "keras" / f"{name}.json").read_text())
        model = saving_utils.model_from_config(config, custom_objects=objects)
        model.load_weights(corpus / "keras" / f"{name}_weights.h5")
        return model

    assert qkeras is not None
    return keras, load


@pytest.mark.parametrize("name", [*QKERAS_MODELS, "qkeras-v3_3layer.keras"])
def test_qkeras_corpus_ir_is_bit_identical_to_qkeras(corpus: Path, qkeras_keras, name: str) -> None:
    keras, load = qkeras_keras
    base = "qkeras-v3_3layer" if name.endswith(".keras") else name
    x = _inputs(corpus, base, QKERAS_MODELS.get(base, (16,)))
    model = load(corpus, name)
    cut = keras.Model(model.inputs, model.layers[-2].output)
    expected = np.asarray(cut.predict(x, verbose=0), dtype=np.float64)
    if name.endswith(".keras"):
        module = import_keras(corpus / "keras" / name)
    else:
        module = import_keras(
            corpus / "keras" / f"{name}.json", corpus / "keras" / f"{name}_weights.h5"
        )
    ours = run_reference(pre_softmax(module), x.astype(np.float64))[0]
    assert np.array_equal(ours, expected), f"{name}: max |diff| {np.abs(ours - expected).max()}"


HGQ_AND_BNN = {
    "hgq_jet_classifier": ("qkeras_3layer", (16,)),
    "hgq_mnist_homogeneous": ("qkeras_mnist_dense", (28, 28)),
    "hgq_mnist_heterogeneous": ("qkeras_mnist_dense", (28, 28)),
    "KERAS_3layer_binary_smaller": ("KERAS_3layer", (16,)),
    "KERAS_3layer_binarydense_relu_max": ("KERAS_3layer", (16,)),
    "KERAS_3layer_ternary_small": ("KERAS_3layer", (16,)),
    "keras_bnn": ("KERAS_3layer", (16,)),
}


@pytest.mark.parametrize("name", list(HGQ_AND_BNN))
def test_hgq_and_binary_corpus_ir_matches_the_documented_semantics(corpus: Path, name: str) -> None:
    """No framework runs these; the reference forward pass from the documented formulas does."""
    data, shape = HGQ_AND_BNN[name]
    x = _inputs(corpus, data, shape).astype(np.float64)
    if name.startswith("hgq"):
        path, weights = corpus / "keras" / f"{name}.h5", None
    else:
        path, weights = corpus / "keras" / f"{name}.json", corpus / "keras" / f"{name}_weights.h5"
    layers, arrays = quant_reference.load(path, weights)
    expected = list(quant_reference.forward(layers, arrays, x).values())[-1]
    module = import_keras(path, weights)
    ours = run_reference(pre_softmax(module), x)[0]
    if name.startswith("hgq"):
        # Every op is followed by a quantizer: exact arithmetic on both sides.
        assert np.array_equal(ours, expected), f"{name}: max |diff| {np.abs(ours - expected).max()}"
    else:
        # BatchNormalization is float in these models; nnhls folds it (scale, bias) in float32
        # where the reference evaluates gamma * (x - mean) / sqrt(var + eps) + beta in float64.
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)
        assert (ours.argmax(1) == expected.argmax(1)).all()


# ----- QONNX (Brevitas exports) ---------------------------------------------------------------------------


def test_qonnx_binary_fc_is_bit_identical_to_qonnx(corpus: Path) -> None:
    from nnhls.frontends.onnx import import_onnx

    x = np.loadtxt(corpus / "generated" / "bnn_model_fc_1layer_input_features.dat").reshape(-1, 3)
    expected = np.loadtxt(corpus / "generated" / "bnn_model_fc_1layer_predictions_qonnx.dat")
    ours = run_reference(import_onnx(corpus / "qonnx" / "bnn_model_fc_1layer.onnx"), x)[0]
    assert np.array_equal(ours, expected.reshape(ours.shape))


@pytest.mark.parametrize("name", ["branched_model_ch_last", "tiny_unet_ch_last"])
def test_qonnx_channels_last_models_are_bit_identical_to_qonnx(corpus: Path, name: str) -> None:
    """Channels-last wrapped Conv / MaxPool, Resize and Concat skips, 4-bit Quant everywhere."""
    from nnhls.frontends.onnx import import_onnx

    x = np.load(corpus / "generated" / f"{name}_input_1sample.npy").astype(np.float64)
    expected = np.load(corpus / "generated" / f"{name}_output_1sample_qonnx.npy")
    ours = run_reference(import_onnx(corpus / "qonnx" / f"{name}.onnx"), x)[0]
    assert ours.shape == expected.shape
    assert np.array_equal(ours, expected)


def test_qonnx_separable_conv_is_bit_identical_to_qonnx_execution(corpus: Path) -> None:
    """No stored output (512 x 512 x 16), so qonnx itself runs the model here, on a 64 x 64 image
    (the graph is fully convolutional: same weights and ops, declared shapes scaled down)."""
    pytest.importorskip("qonnx")
    import onnx
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model

    from nnhls.frontends.onnx import import_onnx

    proto = onnx.load(corpus / "qonnx" / "separable_conv_model_ch_last.onnx")
    for info in [*proto.graph.input, *proto.graph.output, *proto.graph.value_info]:
        for dim in info.type.tensor_type.shape.dim:
            if dim.dim_value == 512:
                dim.dim_value = 64
    # As the corpus notes: the channels-last domain needs its opset declared for qonnx.
    proto.opset_import.append(onnx.helper.make_opsetid("qonnx.custom_op.channels_last", 17))
    model = cleanup_model(ModelWrapper(proto))
    rng = np.random.default_rng(5)
    x = (rng.integers(0, 256, size=(1, 64, 64, 3)) / 255.0).astype(np.float32)
    name_in, name_out = model.graph.input[0].name, model.graph.output[0].name
    expected = execute_onnx(model, {name_in: x})[name_out]
    ours = run_reference(import_onnx(proto), x.astype(np.float64))[0]
    assert np.array_equal(ours, np.asarray(expected, dtype=np.float64))
