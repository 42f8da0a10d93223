"""hls4ml scripts run unchanged with `import nnhls as hls4ml`.

Each test is written the way hls4ml's documentation and tutorials write their scripts (config
dicts edited by hand, loops over `get_layers()`, `hls_model.config.get_config_value(...)`,
`compile()`, `predict()`, `trace()`, report reading), on models built here (a Keras MLP trained
on scikit-learn's digits, CNNs, PyTorch and ONNX graphs) and compared with the frameworks' own
outputs. Where hls4ml would silently accept nonsense, nnhls must still stop with a clear error.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

keras = pytest.importorskip("keras")
datasets = pytest.importorskip("sklearn.datasets")

import nnhls as hls4ml  # noqa: E402  (the one-line change this module is about)
from nnhls.config import ConfigError  # noqa: E402
from nnhls.model.types import FixedPrecisionType, IntegerPrecisionType  # noqa: E402

pytestmark = pytest.mark.slow


# ----- a model trained on material we did not make -----------------------------------------------------


@pytest.fixture(scope="session")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits scaled to [0, 1], shuffled (seed 0), split 1500 / 297."""
    data = datasets.load_digits()
    order = np.random.default_rng(0).permutation(len(data.target))
    x = (data.data[order] / 16.0).astype(np.float32)
    y = data.target[order].astype(np.int64)
    return x[:1500], y[:1500], x[1500:], y[1500:]


@pytest.fixture(scope="session")
def digits_mlp(digits: tuple[np.ndarray, ...]) -> Any:
    """The tutorial's model shape (Dense layers, a separate Activation layer, a softmax), with
    weights trained by scikit-learn's MLPClassifier (much faster than Keras' fit here)."""
    from sklearn.neural_network import MLPClassifier

    x_train, y_train, _, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: a short training is enough
        clf = MLPClassifier(hidden_layer_sizes=(32, 16), max_iter=60, random_state=0).fit(x_train, y_train)
    model = keras.Sequential(
        [
            keras.Input((64,), name="input_1"),
            keras.layers.Dense(32, name="fc1"),
            keras.layers.Activation("relu", name="relu1"),
            keras.layers.Dense(16, activation="relu", name="fc2"),
            keras.layers.Dense(10, name="output"),
            keras.layers.Activation("softmax", name="softmax"),
        ]
    )
    for name, kernel, bias in zip(("fc1", "fc2", "output"), clf.coefs_, clf.intercepts_, strict=True):
        model.get_layer(name).set_weights([kernel, bias])
    return model


def _accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(scores, axis=1) == labels))


# ----- tutorial part 1: model granularity, compile, predict, accuracy ------------------------------------


def test_part1_model_granularity(digits_mlp: Any, digits: tuple[np.ndarray, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, _, x_test, y_test = digits
    config = hls4ml.utils.config_from_keras_model(digits_mlp, granularity="model", backend="Vitis")
    print("-----------------------------------")
    print("Configuration")
    hls4ml.utils.print_dict(config)
    printed = capsys.readouterr().out
    assert "Precision" in printed and "ReuseFactor" in printed
    hls_model = hls4ml.converters.convert_from_keras_model(
        digits_mlp, hls_config=config, backend="Vitis", output_dir=str(tmp_path / "model_1" / "hls4ml_prj"), part="xcu250-figd2104-2L-e"
    )
    dot = hls4ml.utils.plot_model(hls_model, show_shapes=True, show_precision=True, to_file=None)
    assert dot is not None and "fc1: Dense" in dot and "output: (32)" in dot
    hls_model.compile()
    x = np.ascontiguousarray(x_test)
    y_keras = digits_mlp.predict(x, verbose=0)
    y_hls = hls_model.predict(x)
    assert y_hls.shape == y_keras.shape
    acc_keras, acc_hls = _accuracy(y_keras, y_test), _accuracy(y_hls, y_test)
    assert acc_keras > 0.93, "the training in the fixture did not converge"
    assert abs(acc_keras - acc_hls) < 0.02, (acc_keras, acc_hls)
    assert hls_model.config.get_config_value("Part") == "xcu250-figd2104-2L-e"
    assert hls_model.config.get_config_value("IOType") == "io_parallel"
    assert hls_model.config.get_output_dir().endswith("hls4ml_prj")
    assert hls_model.config.get_project_name() == "myproject"
    assert hls_model.config.backend.name == "Vitis"


# ----- tutorial part 2: name granularity, per-layer precisions, trace ------------------------------------


def test_part2_name_granularity_and_trace(digits_mlp: Any, digits: tuple[np.ndarray, ...], tmp_path: Path) -> None:
    _, _, x_test, y_test = digits
    config = hls4ml.utils.config_from_keras_model(digits_mlp, granularity="name", backend="Vitis")
    config["LayerName"]["softmax"]["Precision"]["exp_table"] = "ap_fixed<18,8>"
    config["LayerName"]["softmax"]["Precision"]["inv_table"] = "ap_fixed<18,4>"
    for layer in config["LayerName"]:
        config["LayerName"][layer]["Trace"] = True
    config["LayerName"]["fc1"]["Precision"]["weight"] = "ap_fixed<10,2>"
    hls_model = hls4ml.converters.convert_from_keras_model(digits_mlp, hls_config=config, output_dir=str(tmp_path / "model_2"), backend="Vitis")

    # the loops scripts write over the converted layers
    seen = {}
    for layer in hls_model.get_layers():
        precision = layer.get_output_variable().type.precision
        assert isinstance(precision, FixedPrecisionType | IntegerPrecisionType)
        assert precision.width >= 1 and str(precision) != "auto"
        seen[layer.name] = layer.class_name
    assert seen == {"input_1": "Input", "fc1": "Dense", "relu1": "Activation", "fc2": "Dense", "fc2_relu": "Activation", "output": "Dense", "softmax": "Softmax"}
    fc1 = hls_model.graph["fc1"]
    assert fc1.get_attr("n_in") == 64 and fc1.get_attr("n_out") == 32
    weight = fc1.get_weights("weight")
    assert str(weight.type.precision) == "fixed<10,2>" and weight.shape == (64, 32)
    np.testing.assert_array_equal(weight.data, digits_mlp.get_layer("fc1").get_weights()[0])
    softmax = hls_model.graph["softmax"]
    assert str(softmax.get_attr("exp_table_t").precision) == "fixed<18,8>"
    assert str(softmax.get_attr("inv_table_t").precision) == "fixed<18,4>"
    assert hls_model.inputs == ["input_1"] and hls_model.get_input_variables()[0].shape == (64,)
    assert hls_model.outputs == ["softmax"] and hls_model.get_output_variables()[0].size() == 10
    assert len(hls_model.get_weight_variables()) == 6

    hls_model.compile()
    x = np.ascontiguousarray(x_test[:100])
    hls4ml_pred, hls4ml_trace = hls_model.trace(x)
    np.testing.assert_array_equal(hls4ml_pred, hls_model.predict(x))
    assert _accuracy(hls4ml_pred, y_test[:100]) > 0.9
    # Keras with fc1's weights truncated to ap_fixed<10,2> as the firmware holds them
    reference = keras.models.clone_model(digits_mlp)
    reference.set_weights(digits_mlp.get_weights())
    kernel, bias = digits_mlp.get_layer("fc1").get_weights()
    reference.get_layer("fc1").set_weights([np.clip(np.floor(kernel * 2**8) / 2**8, -2, 2 - 2**-8), bias])
    for name in ("fc1", "relu1", "output"):
        keras_out = keras.Model(reference.inputs, reference.get_layer(name).output).predict(x, verbose=0)
        np.testing.assert_allclose(hls4ml_trace[name], keras_out, atol=0.02, err_msg=name)
    # hls4ml splits Dense(activation="relu") into fc2 (before the activation) and fc2_relu
    fc2 = keras.Model(reference.inputs, reference.get_layer("fc2").output).predict(x, verbose=0)
    np.testing.assert_allclose(hls4ml_trace["fc2_relu"], fc2, atol=0.02)
    np.testing.assert_allclose(np.maximum(hls4ml_trace["fc2"], 0), fc2, atol=0.02)
    # the same result keeps working as nnhls's {layer: output} dict
    assert set(hls4ml_trace.keys()) >= {"fc1", "relu1", "softmax"} and "softmax" in hls4ml_trace

    # reopened from disk (a later notebook session): the same layer graph, built as on disk
    reopened = hls4ml.utils.link_existing_project(str(tmp_path / "model_2"))
    assert [(layer.name, layer.class_name) for layer in reopened.get_layers()] == list(seen.items())
    assert str(reopened.graph["fc1"].get_weights("weight").type.precision) == "fixed<10,2>"
    np.testing.assert_array_equal(reopened.graph["fc1"].get_weights("weight").data, weight.data)
    assert reopened.outputs == ["softmax"] and reopened.config.get_project_name() == "myproject"
    reopened.compile()
    np.testing.assert_array_equal(reopened.predict(x), hls4ml_pred)


# ----- predict's shapes ------------------------------------------------------------------------------------


def test_predict_shapes_follow_hls4ml(digits_mlp: Any, digits: tuple[np.ndarray, ...], tmp_path: Path) -> None:
    _, _, x_test, _ = digits
    hls_model = hls4ml.converters.convert_from_keras_model(digits_mlp, output_dir=str(tmp_path / "prj"))
    hls_model.compile()
    batch = hls_model.predict(x_test[:5])
    assert batch.shape == (5, 10)
    one = hls_model.predict(x_test[0])
    assert one.shape == (10,)
    np.testing.assert_array_equal(one, batch[0])
    assert hls_model.predict(x_test[:1]).shape == (1, 10)


# ----- tutorial part 6: a CNN in io_stream, the per-layer loop over every layer --------------------------


def _digits_cnn() -> Any:
    """Two conv branches concatenated on the channels, pooling, a dense softmax (random weights)."""
    keras.utils.set_random_seed(11)
    inputs = keras.Input((8, 8, 1), name="input_1")
    a = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_a")(inputs)
    b = keras.layers.Conv2D(2, 1, name="conv_b")(inputs)
    x = keras.layers.Concatenate(name="concat")([a, b])
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(10, name="output")(x)
    outputs = keras.layers.Activation("softmax", name="output_softmax")(x)
    return keras.Model(inputs, outputs, name="digits_cnn")


def test_part6_cnn_io_stream_layer_loop(digits: tuple[np.ndarray, ...], tmp_path: Path) -> None:
    _, _, x_test, _ = digits
    model = _digits_cnn()
    hls_config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis", default_precision="ap_fixed<16,6>")
    hls_config["Model"]["Strategy"] = "Latency"
    for layer in hls_config["LayerName"].keys():  # noqa: SIM118  (as the tutorial writes it)
        hls_config["LayerName"][layer]["Strategy"] = "Latency"
        hls_config["LayerName"][layer]["ReuseFactor"] = 1
    hls_config["LayerName"]["output_softmax"]["Strategy"] = "Stable"
    hls_model = hls4ml.converters.convert_from_keras_model(
        model, hls_config=hls_config, backend="Vitis", output_dir=str(tmp_path / "cnn"), part="xcu250-figd2104-2L-e", io_type="io_stream"
    )
    assert hls_model.config.get_config_value("IOType") == "io_stream"
    assert hls_model.graph["output_softmax"].get_attr("implementation") == "stable"
    hls_model.compile()
    x = np.ascontiguousarray(x_test[:64].reshape(-1, 8, 8, 1))
    y_keras = model.predict(x, verbose=0)
    y_hls = hls_model.predict(x)
    np.testing.assert_allclose(y_hls, y_keras, atol=0.02)
    assert np.mean(np.argmax(y_hls, 1) == np.argmax(y_keras, 1)) > 0.95


@pytest.mark.parametrize("axis", [1, 2, -1])
def test_io_stream_concatenates_along_any_axis(axis: int, tmp_path: Path) -> None:
    keras.utils.set_random_seed(5)
    a, b = keras.Input((6, 5, 3), name="a"), keras.Input((4 if axis == 1 else 6, 2 if axis == 2 else 5, 3), name="b")
    x = keras.layers.Conv2D(4, 1, name="conv_a")(a)
    y = keras.layers.Conv2D(4, 1, activation="relu", name="conv_b")(b)
    model = keras.Model([a, b], keras.layers.Concatenate(axis=axis, name="cat")([x, y]))
    config = {"Model": {"Precision": "ap_fixed<24,10>", "ReuseFactor": 1}}
    rng = np.random.default_rng(axis + 10)
    xs = [rng.uniform(-1, 1, (16, *shape[1:])) for shape in (a.shape, b.shape)]
    expected = model.predict(xs, verbose=0)
    for io_type in ("io_parallel", "io_stream"):
        hls_model = hls4ml.converters.convert_from_keras_model(model, hls_config=config, output_dir=str(tmp_path / io_type), io_type=io_type)
        hls_model.compile()
        y = hls_model.predict(xs)
        np.testing.assert_allclose(y, expected, atol=1e-3, err_msg=io_type)
        np.testing.assert_array_equal(y, hls_model.predict(xs, emulator="numpy"))


# ----- accepted spellings: the same design as the canonical config, bit for bit ------------------------


def test_hls4ml_spellings_give_the_same_design(digits_mlp: Any, digits: tuple[np.ndarray, ...], tmp_path: Path) -> None:
    _, _, x_test, _ = digits
    canonical = hls4ml.utils.config_from_keras_model(digits_mlp, granularity="name")
    canonical["Model"]["Strategy"] = "Unrolled"
    canonical["LayerName"]["fc1"]["Precision"].update(weight="fixed<12,4,RND,SAT>", result="int<12>")
    canonical["LayerName"]["fc1"]["ReuseFactor"] = 2
    canonical["LayerName"]["softmax"]["Implementation"] = "argmax"
    canonical["LayerName"]["softmax"]["Precision"].update(exp_table="fixed<18,8>", inv_table="fixed<18,4>")
    canonical["LayerName"]["output"]["Precision"]["result"] = "fixed<20,8>"

    spelt = hls4ml.utils.config_from_keras_model(digits_mlp, granularity="name")
    spelt["Model"]["Strategy"] = "resource_unrolled"
    spelt["LayerName"]["fc1"]["Precision"]["weight"] = "ac_fixed<12,4,true,AC_RND,AC_SAT>"
    spelt["LayerName"]["fc1"]["Precision"]["result"] = "ac_int<12,true>"
    spelt["LayerName"]["fc1"]["ReuseFactor"] = 2
    spelt["LayerName"]["softmax"]["Strategy"] = "argmax"
    spelt["LayerName"]["softmax"]["exp_table_t"] = "ap_fixed<18,8>"
    spelt["LayerName"]["softmax"]["Precision"]["inv_table_t"] = "ap_fixed<18,4>"
    spelt["LayerName"]["output_linear"] = {"Precision": {"result": "fixed<20,8>"}, "Trace": False}

    x = np.ascontiguousarray(x_test[:50])
    outputs = []
    for name, config in (("canonical", canonical), ("spelt", spelt)):
        hls_model = hls4ml.converters.convert_from_keras_model(digits_mlp, hls_config=config, output_dir=str(tmp_path / name))
        hls_model.compile()
        outputs.append(hls_model.predict(x))
        assert hls_model.graph["softmax"].get_attr("implementation") == "argmax"
        assert hls_model.graph["fc1"].get_attr("strategy") == "unrolled"
        assert str(hls_model.graph["output"].get_output_variable().type.precision) == "fixed<20,8>"
    np.testing.assert_array_equal(outputs[0], outputs[1])
    assert set(np.unique(outputs[0])) <= {0.0, 1.0}  # argmax: one-hot


def test_softmax_skip_leaves_the_scores(digits_mlp: Any, digits: tuple[np.ndarray, ...], tmp_path: Path) -> None:
    _, _, x_test, _ = digits
    config = hls4ml.utils.config_from_keras_model(digits_mlp, granularity="name")
    config["LayerName"]["softmax"]["Skip"] = True
    hls_model = hls4ml.converters.convert_from_keras_model(digits_mlp, hls_config=config, output_dir=str(tmp_path / "skip"))
    assert "softmax" not in hls_model.graph and hls_model.outputs == ["output"]
    hls_model.compile()
    x = np.ascontiguousarray(x_test[:50])
    logits = keras.Model(digits_mlp.inputs, digits_mlp.get_layer("output").output).predict(x, verbose=0)
    np.testing.assert_allclose(hls_model.predict(x), logits, atol=0.05)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["LayerName"]["fc1"]["Precision"].update(weight="ac_fixed<12,4,maybe>"), "ac_fixed<12,4,maybe>"),
        (lambda c: c["LayerName"]["fc1"]["Precision"].update(weight="ac_fixed<12,4,true,AC_RND_CONV_ODD>"), "AC_RND_CONV_ODD"),
        (lambda c: c["LayerName"]["softmax"].update(Strategy="Stabel"), "did you mean 'stable'"),
        (lambda c: c["LayerName"]["softmax"].update(exp_table_t="fixed<18"), "exp_table_t"),
        (lambda c: c["LayerName"]["softmax"].update(exp_table_t="fixed<18,8>", Precision={"exp_table_t": "fixed<16,6>"}), "disagrees"),
        (lambda c: c["LayerName"]["fc1"].update(tabel_t="fixed<18,8>"), "tabel_t"),
        (lambda c: c["LayerName"].update(fc9_linear={"Trace": True}), "fc9_linear"),
        (lambda c: c["LayerName"].update(relu1_linear={"Trace": True}), "relu1_linear"),
        (lambda c: c["LayerName"]["relu1"].update(Skip=True), "Skip"),
        (lambda c: c["Model"].update(ConvImplementation="Pixelwise"), "Pixelwise"),
        (lambda c: c["Model"].update(Strategy="distributed_arithmetic"), "distributed_arithmetic"),
    ],
)
def test_nonsense_is_still_refused(digits_mlp: Any, edit: Any, message: str, tmp_path: Path) -> None:
    config = hls4ml.utils.config_from_keras_model(digits_mlp, granularity="name")
    edit(config)
    with pytest.raises(ConfigError, match=message.replace("<", ".").replace(">", ".").replace("(", ".").replace(")", ".")) as error:
        hls4ml.converters.convert_from_keras_model(digits_mlp, hls_config=config, output_dir=str(tmp_path / "prj"))
    assert "\n" not in str(error.value)


# ----- reuse factors hls4ml would adjust ---------------------------------------------------------------------


def test_snap_reuse_factor(digits_mlp: Any, digits: tuple[np.ndarray, ...], tmp_path: Path) -> None:
    _, _, x_test, _ = digits
    config = hls4ml.utils.config_from_keras_model(digits_mlp, granularity="model")
    config["Model"]["Strategy"] = "Resource"
    config["Model"]["ReuseFactor"] = 3  # illegal for fc1 (64 x 32): hls4ml silently uses 2
    hls_model = hls4ml.converters.convert_from_keras_model(digits_mlp, hls_config=config, output_dir=str(tmp_path / "strict"))
    with pytest.raises(Exception, match=r"SnapReuseFactor.*True") as error:
        hls_model.compile()
    assert "nearest legal values" in str(error.value)
    config["Model"]["SnapReuseFactor"] = True
    hls_model = hls4ml.converters.convert_from_keras_model(digits_mlp, hls_config=config, output_dir=str(tmp_path / "snap"))
    hls_model.compile()
    assert hls_model.graph["fc1"].get_attr("reuse_factor") == 2
    x = np.ascontiguousarray(x_test[:20])
    np.testing.assert_allclose(hls_model.predict(x), digits_mlp.predict(x, verbose=0), atol=0.05)


# ----- writer options ----------------------------------------------------------------------------------------


def test_write_weights_txt(digits_mlp: Any, tmp_path: Path) -> None:
    hls_model = hls4ml.converters.convert_from_keras_model(digits_mlp, output_dir=str(tmp_path / "txt"), write_weights_txt=True)
    hls_model.write()
    weights = tmp_path / "txt" / "firmware" / "weights"
    layer = hls_model.graph["fc1"]
    w = layer.get_weights("weight")
    values = np.array([float(v) for v in (weights / f"{w.var_name}.txt").read_text().split(",")])
    step = 2.0 ** -w.type.precision.fractional
    assert values.size == w.data.size
    assert np.all(np.abs(values - w.data.ravel()) <= step) and np.all(np.round(values / step) == values / step)
    hls_model = hls4ml.converters.convert_from_keras_model(digits_mlp, output_dir=str(tmp_path / "notxt"), write_weights_txt=False)
    hls_model.write()
    assert not list((tmp_path / "notxt" / "firmware" / "weights").glob("*.txt"))


# ----- build and reports ---------------------------------------------------------------------------------------


def test_build_then_read_reports(digits_mlp: Any, fake_vitis: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "model_1" / "hls4ml_prj"
    hls_model = hls4ml.converters.convert_from_keras_model(digits_mlp, output_dir=str(out), part="xcu250-figd2104-2L-e")
    report = hls_model.build(csim=True, synth=True, reset=True)
    assert report["CSynthesisReport"]["BestLatency"] == 7
    hls4ml.report.read_vivado_report(str(out))
    printed = capsys.readouterr().out
    assert "CSim done with 0 errors" in printed
    parsed = hls4ml.report.parse_vivado_report(str(out))
    assert parsed["CSynthesisReport"] == report["CSynthesisReport"]
    with pytest.raises(ConfigError, match="fifo_opt"):
        hls_model.build(fifo_opt=True)


# ----- PyTorch and ONNX, as hls4ml's documentation converts them ---------------------------------------


def _torch_mlp(digits_mlp: Any) -> Any:
    """The trained digits MLP as a torch module (the same weights, so the same accuracy)."""
    torch = pytest.importorskip("torch")
    module = torch.nn.Sequential(
        torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16), torch.nn.ReLU(), torch.nn.Linear(16, 10), torch.nn.Softmax(dim=1)
    )
    for index, name in ((0, "fc1"), (2, "fc2"), (4, "output")):
        kernel, bias = digits_mlp.get_layer(name).get_weights()
        module[index].weight.data = torch.from_numpy(kernel.T.copy())
        module[index].bias.data = torch.from_numpy(bias.copy())
    return module.eval()


def test_pytorch_with_none_batch_axis(digits_mlp: Any, digits: tuple[np.ndarray, ...], tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    _, _, x_test, y_test = digits
    model = _torch_mlp(digits_mlp)
    config = hls4ml.utils.config_from_pytorch_model(model, input_shape=(None, 64), granularity="name", backend="Vitis")
    hls_model = hls4ml.converters.convert_from_pytorch_model(model, hls_config=config, output_dir=str(tmp_path / "torch"), backend="Vitis")
    hls_model.compile()
    x = np.ascontiguousarray(x_test)
    y_torch = model(torch.from_numpy(x)).detach().numpy()
    y_hls = hls_model.predict(x)
    np.testing.assert_allclose(y_hls, y_torch, atol=0.03)
    assert abs(_accuracy(y_hls, y_test) - _accuracy(y_torch, y_test)) < 0.02


def test_torch_cat_on_channels_with_internal_conversion(tmp_path: Path) -> None:
    """torch.cat of two (3, 10, 10) tensors along dim 1, channels_last_conversion='internal': the
    design takes channels-last data and concatenates along its last axis."""
    torch = pytest.importorskip("torch")

    class Cat(torch.nn.Module):
        def forward(self, x: Any, y: Any) -> Any:
            return torch.cat([x, torch.relu(y)], dim=1)

    model = Cat().eval()
    rng = np.random.default_rng(4)
    xs = [rng.uniform(-2, 2, (8, 3, 10, 10)).astype(np.float32) for _ in range(2)]
    expected = model(*(torch.from_numpy(x) for x in xs)).numpy().transpose(0, 2, 3, 1)
    config = hls4ml.utils.config_from_pytorch_model(
        model, [(None, 3, 10, 10), (None, 3, 10, 10)], channels_last_conversion="internal", default_precision="fixed<24,10>"
    )
    hls_model = hls4ml.converters.convert_from_pytorch_model(model, hls_config=config, output_dir=str(tmp_path / "cat"), io_type="io_stream")
    hls_model.compile()
    y = hls_model.predict([np.ascontiguousarray(x.transpose(0, 2, 3, 1)) for x in xs])
    assert y.shape == (8, 10, 10, 6)
    np.testing.assert_allclose(y, expected, atol=1e-3)


def test_onnx_and_qonnx_model_wrapper(digits_mlp: Any, digits: tuple[np.ndarray, ...], tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    ort = pytest.importorskip("onnxruntime")
    modelwrapper = pytest.importorskip("qonnx.core.modelwrapper")
    _, _, x_test, _ = digits
    path = tmp_path / "mlp.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _torch_mlp(digits_mlp), (torch.zeros(1, 64),), str(path), input_names=["x"], dynamic_axes={"x": {0: "batch"}}, dynamo=False
        )
    x = np.ascontiguousarray(x_test[:100])
    (expected,) = ort.InferenceSession(str(path)).run(None, {"x": x})
    model = modelwrapper.ModelWrapper(str(path))
    config = hls4ml.utils.config_from_onnx_model(model, granularity="name", backend="Vitis", default_precision="fixed<16,6>")
    hls_model = hls4ml.converters.convert_from_onnx_model(model, hls_config=config, output_dir=str(tmp_path / "onnx"), backend="Vitis")
    hls_model.compile()
    np.testing.assert_allclose(hls_model.predict(x), expected, atol=0.03)
    assert [layer.class_name for layer in hls_model.get_layers()].count("Dense") == 3
