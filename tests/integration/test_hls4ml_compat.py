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
    assert [v.name for v in hls_model.get_input_variables()] == ["input_1"]
    assert hls_model.outputs == ["softmax"] and hls_model.get_output_variables()[0].size() == 10
    assert len(hls_model.get_weight_variables()) == 6

    hls_model.compile()
    x = np.ascontiguousarray(x_test[:100])
    hls4ml_pred, hls4ml_trace = hls_model.trace(x)
    np.testing.assert_array_equal(hls4ml_pred, hls_model.predict(x))
    assert _accuracy(hls4ml_pred, y_test[:100]) > 0.9
    for name in ("fc1", "relu1", "fc2", "output"):
        keras_out = keras.Model(digits_mlp.inputs, digits_mlp.get_layer(name).output).predict(x, verbose=0)
        np.testing.assert_allclose(hls4ml_trace[name], keras_out, atol=0.05, err_msg=name)
    # the split activation hls4ml names <layer>_<activation>
    fc2 = keras.Model(digits_mlp.inputs, digits_mlp.get_layer("fc2").output).predict(x, verbose=0)
    np.testing.assert_allclose(hls4ml_trace["fc2_relu"], fc2, atol=0.05)
    # the same result keeps working as nnhls's {layer: output} dict
    assert set(hls4ml_trace.keys()) >= {"fc1", "relu1", "softmax"} and "softmax" in hls4ml_trace


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
