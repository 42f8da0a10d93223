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
import warnings
from pathlib import Path

import numpy as np
import pytest

import nnhls
from nnhls.errors import InputRangeWarning, OverflowWarning

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


@pytest.mark.slow
def test_qkeras_corpus_built_against_the_vendors_ap_types(corpus: Path, vendor_ap_types, tmp_path: Path) -> None:
    """qkeras_3layer's project (the configuration above: its emulation build comes from the cache)
    built a second time as the vendor's C simulation, against the vendor's ap types headers
    (vendor_csim.py): the same bits as our emulation build and the numpy emulator."""
    from vendor_csim import vendor_csim

    shape, input_layer = MODELS["qkeras_3layer"]
    x = np.loadtxt(corpus / "generated" / "qkeras_3layer_input_features.dat").reshape(-1, *shape)[:200]
    config = {"Model": {"Precision": "fixed<16,6>"}, "LayerName": {input_layer: {"Precision": "fixed<48,8>"}}}
    model = nnhls.converters.convert_from_keras_model(
        (corpus / "keras" / "qkeras_3layer.json", corpus / "keras" / "qkeras_3layer_weights.h5"),
        hls_config=config, output_dir=str(tmp_path / "prj"),
    )  # fmt: skip
    ours = model.predict(x, emulator="numpy")
    model.compile()
    assert np.array_equal(model.predict(x), ours)
    vendor = vendor_csim(tmp_path / "prj", x, vendor_ap_types)
    assert np.array_equal(vendor, ours.reshape(vendor.shape)), f"max |diff| {np.abs(vendor - ours.reshape(vendor.shape)).max()}"


# ----- HGQ proxies and binary / ternary nets: the quantize and threshold kernels ----------------------------

KERNEL_MODELS = [
    # (name, input data, input shape, io type, kernel that must appear)
    ("hgq_mnist_heterogeneous", "qkeras_mnist_dense", (28, 28), "io_parallel", "hls.quantize"),
    ("hgq_mnist_heterogeneous", "qkeras_mnist_dense", (28, 28), "io_stream", "hls.quantize"),
    ("hgq_jet_classifier", "qkeras_3layer", (16,), "io_stream", None),
    ("keras_bnn", "KERAS_3layer", (16,), "io_parallel", "hls.threshold"),
    ("KERAS_3layer_ternary_small", "KERAS_3layer", (16,), "io_stream", "hls.threshold"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "data", "shape", "io_type", "kernel"), KERNEL_MODELS, ids=[f"{m[0]}-{m[3]}" for m in KERNEL_MODELS]
)
def test_hgq_and_binary_corpus_through_cpp_and_emulator(
    corpus: Path, tmp_path: Path, name: str, data: str, shape: tuple[int, ...], io_type: str, kernel: str | None
) -> None:
    """C++ equals the emulator; against the reference written from the documented semantics
    (tests/integration/quant_reference.py): HGQ bit for bit (every op is followed by a quantizer;
    the heterogeneous model's per-element quantizers are hls.quantize kernels, built in both io types),
    the binary / ternary nets (float batchnorms, approximated in 16-bit constants) within 1e-3 and
    equal in argmax."""
    import quant_reference

    x = np.loadtxt(corpus / "generated" / f"{data}_input_features.dat", dtype=np.float32)
    x = x.reshape(-1, *shape)[:200].astype(np.float64)
    hgq = name.startswith("hgq")
    path = corpus / "keras" / (f"{name}.h5" if hgq else f"{name}.json")
    weights = None if hgq else corpus / "keras" / f"{name}_weights.h5"
    layers, arrays = quant_reference.load(path, weights)
    expected = list(quant_reference.forward(layers, arrays, x).values())[-1]
    config = {"Model": {"Precision": "fixed<16,6>"}, "LayerType": {"InputLayer": {"Precision": "fixed<48,8>"}}}
    model = nnhls.converters.convert_from_keras_model(
        path if weights is None else (path, weights), hls_config=config,
        output_dir=str(tmp_path / "prj"), io_type=io_type,
    )  # fmt: skip
    if kernel is not None:
        assert kernel in model.ir("hls")
    numpy_out = model.predict(x, emulator="numpy")
    model.compile()
    cpp_out = model.predict(x)
    assert np.array_equal(cpp_out, numpy_out)
    ours = numpy_out.reshape(expected.shape)
    if hgq:
        assert np.array_equal(ours, expected), f"max |diff| {np.abs(ours - expected).max()}"
    else:
        assert np.abs(ours - expected).max() < 1e-3
        assert (ours.argmax(1) == expected.argmax(1)).all()


# ----- QONNX (Brevitas exports) ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "io_type", "kernel"),
    [("bnn_model_fc_1layer", "io_stream", "hls.threshold"), ("branched_model_ch_last", "io_parallel", None)],
)
def test_qonnx_corpus_bit_identical_through_cpp_and_emulator(
    corpus: Path, tmp_path: Path, name: str, io_type: str, kernel: str | None
) -> None:
    """C++, emulator and qonnx's executor (outputs stored in the corpus) agree bit for bit: binary
    (BipolarQuant) activations as thresholds, 4-bit Quant after depthwise-separable convolutions,
    upsampling and concatenated skips."""
    if name == "bnn_model_fc_1layer":
        x = np.loadtxt(corpus / "generated" / f"{name}_input_features.dat").reshape(-1, 3)
        expected = np.loadtxt(corpus / "generated" / f"{name}_predictions_qonnx.dat")
    else:
        x = np.load(corpus / "generated" / f"{name}_input_1sample.npy").astype(np.float64)
        expected = np.load(corpus / "generated" / f"{name}_output_1sample_qonnx.npy")
    config = {"Model": {"Precision": "fixed<16,6>"}, "LayerType": {"Input": {"Precision": "fixed<48,8>"}}}
    model = nnhls.converters.convert_from_onnx_model(
        str(corpus / "qonnx" / f"{name}.onnx"), hls_config=config,
        output_dir=str(tmp_path / "prj"), io_type=io_type,
    )  # fmt: skip
    if kernel is not None:
        assert kernel in model.ir("hls")
    with warnings.catch_warnings():  # the 4-bit Quants saturate by design: no OverflowWarning
        warnings.simplefilter("error", OverflowWarning)
        numpy_out = model.predict(x, emulator="numpy")
    model.compile()
    assert np.array_equal(model.predict(x), numpy_out)
    assert np.array_equal(numpy_out.reshape(expected.shape), expected)


# ----- the README's quick-start examples ---------------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_quick_start_quantized_examples_are_bit_identical_in_the_emulator(tmp_path: Path) -> None:
    """The README's QKeras and QONNX examples (with the default configuration): QKeras's logits
    and qonnx's outputs, bit for bit (the README runs them through C++ as well)."""
    qkeras = EXAMPLES / "qkeras_jet_tagger"
    model = nnhls.converters.convert_from_keras_model(str(qkeras / "model.keras"), output_dir=str(tmp_path / "k"))
    assert "nn.quantize" not in model.ir("typed")
    x = np.load(qkeras / "inputs.npy")
    logits = model.trace(x, layers=["output"], emulator="numpy")["output"]
    assert np.array_equal(logits, np.load(qkeras / "qkeras_logits.npy"))
    assert "quantized_inputs = [0 : i64]" in model.ir("hls")
    with warnings.catch_warnings():  # the input's quantizer saturates large inputs by design
        warnings.simplefilter("error", InputRangeWarning)
        model.predict(8 * x, emulator="numpy")
    qonnx = EXAMPLES / "qonnx_jet_tagger"
    omodel = nnhls.converters.convert_from_onnx_model(
        str(qonnx / "model.onnx"), output_dir=str(tmp_path / "o"), io_type="io_stream"
    )
    y = omodel.predict(np.load(qonnx / "inputs.npy"), emulator="numpy")
    assert np.array_equal(y, np.load(qonnx / "qonnx_outputs.npy"))


# ----- non-power-of-two weight scales (QKeras alpha): integer codes + a scale layer, never capped ----------


def test_qkeras_numeric_and_auto_alpha_agree_with_qkeras(tmp_path: Path) -> None:
    """QDense layers whose weights have a non-power-of-two scale (alpha=0.75, alpha="auto") keep
    8-bit integer codes and a `<layer>_scale` layer; their sums need up to 20 integer bits, beyond
    the default cap fixed<24,12>, which must not apply to them (it used to: outputs off by up to
    12.75). Against Keras 3 + qkeras-v3: the quantized relu bit for bit on nearly every value, the
    output within one step of its quantizer (QKeras sums in float32)."""
    pytest.importorskip("qkeras", reason="qkeras-v3 (test dependency) not installed")
    keras = pytest.importorskip("keras")
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu

    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(5)
    inputs = keras.Input(shape=(16,), name="x")
    h = QDense(32, kernel_quantizer=quantized_bits(8, 0, alpha=0.75), bias_quantizer=quantized_bits(8, 3), name="fc1")(inputs)
    h = QActivation(quantized_relu(8, 3), name="relu1")(h)
    h = QDense(5, kernel_quantizer=quantized_bits(8, 0, alpha="auto"), bias_quantizer=quantized_bits(8, 3), name="fc2")(h)
    outputs = QActivation(quantized_bits(10, 5), name="out")(h)
    reference = keras.Model(inputs, outputs)
    for layer in reference.layers:
        if isinstance(layer, QDense):
            w, b = layer.get_weights()
            layer.set_weights([rng.normal(0, 0.6, w.shape).astype(np.float32), rng.normal(0, 1, b.shape).astype(np.float32)])
    reference.save(tmp_path / "alpha.keras")
    x = rng.normal(0, 2, (500, 16)).astype(np.float32)
    relu1 = np.asarray(keras.Model(inputs, reference.get_layer("relu1").output).predict(x, verbose=0), np.float64)
    expected = np.asarray(reference.predict(x, verbose=0), np.float64)
    model = nnhls.converters.convert_from_keras_model(
        str(tmp_path / "alpha.keras"), hls_config={"LayerName": {"x": {"Precision": "fixed<48,8>"}}},
        output_dir=str(tmp_path / "prj"),
    )  # fmt: skip
    typed = model.ir("typed")
    assert "fc1_scale" in typed and "fc2_scale" in typed
    xs = x.astype(np.float64)
    ours_relu1 = model.trace(xs, layers=["relu1"], emulator="numpy")["relu1"]
    assert (ours_relu1.reshape(relu1.shape) == relu1).mean() > 0.999
    diff = np.abs(model.predict(xs, emulator="numpy").reshape(expected.shape) - expected)
    assert diff.max() <= 2.0**-4
    assert (diff == 0).mean() > 0.99


# ----- predict's overflow check: a quantizer's saturation is by design, a real overflow still warns ----------


def _qkeras_3layer(corpus: Path, tmp_path: Path, config: dict | None = None):
    x = np.loadtxt(corpus / "generated" / "qkeras_3layer_input_features.dat", dtype=np.float32)[:200]
    model = nnhls.converters.convert_from_keras_model(
        (corpus / "keras" / "qkeras_3layer.json", corpus / "keras" / "qkeras_3layer_weights.h5"),
        hls_config=config, output_dir=str(tmp_path / "prj"),
    )  # fmt: skip
    return model, x.astype(np.float64)


def test_quantizer_saturation_is_reported_as_by_design_not_warned(corpus: Path, tmp_path: Path) -> None:
    """qkeras_3layer's quantized_relu(6, 0) results saturate at 1 on most samples: QKeras's own
    semantics (its outputs are bit-identical to ours). predict does not warn; overflow_report
    still counts those values, labelled as the quantizer's design, and proposes no wider type."""
    model, x = _qkeras_3layer(corpus, tmp_path)
    assert model.ir("nn").count('quantizer_typed = ["weight", "bias", "result"]') >= 3
    assert "quantized_result" in model.ir("hls")
    with warnings.catch_warnings():
        warnings.simplefilter("error", OverflowWarning)
        model.predict(x, emulator="numpy")
    rows = {(r["layer"], r["var"]): r for r in model.overflow_report(x)}
    fc1 = rows[("fc1", "result")]
    assert fc1["overflows"] > 0 and fc1["by_design"]
    assert fc1["mode"] == "saturated by its quantizer (by design)"
    assert fc1["proposed_integer_bits"] == fc1["integer_bits"]
    assert not rows[("fc1", "accum")]["by_design"]


def test_real_overflow_in_a_quantized_model_still_warns(corpus: Path, tmp_path: Path) -> None:
    """The same model with fc2's accumulator pinned too narrow by the user: that overflow is
    real and predict names it (and only it: the quantizers' saturation stays out of the warning)."""
    config = {"LayerName": {"fc2": {"Precision": {"accum": "fixed<10,2,RND,SAT>"}}}}
    model, x = _qkeras_3layer(corpus, tmp_path, config)
    with pytest.warns(OverflowWarning) as caught:
        model.predict(x, emulator="numpy")
    message = str(caught[0].message)
    assert "'fc2' accum" in message
    assert "'fc1' result" not in message and "'fc3' result" not in message
    rows = {(r["layer"], r["var"]): r for r in model.overflow_report(x)}
    assert rows[("fc2", "accum")]["overflows"] > 0 and not rows[("fc2", "accum")]["by_design"]
    assert rows[("fc2", "accum")]["proposed_integer_bits"] > 2
