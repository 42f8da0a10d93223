"""Real Keras models -> nnhls project -> g++ -> predict, in io_parallel/io_stream and Latency/Resource.

Two promises are checked on every model and configuration:
- with wide precisions (fixed<32,12>) every output is within 1e-3 of Keras' float output;
- the C++ build and the numpy emulator agree bit for bit, also with narrow precisions whose
  rounding and saturation modes make every cast matter.
Builds are shared per (model, io type, strategy, precision) through a session-scoped cache.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

keras = pytest.importorskip("keras")

from nnhls import converters, utils  # noqa: E402
from nnhls.errors import InputRangeWarning, NnhlsWarning  # noqa: E402

pytestmark = pytest.mark.slow

N_SAMPLES = 64


def mlp() -> Any:
    inputs = keras.Input((16,), name="inputs")
    x = keras.layers.Dense(32, activation="relu", name="fc1")(inputs)
    x = keras.layers.Dense(16, activation="tanh", name="fc2")(x)
    x = keras.layers.Dense(6, name="fc3")(x)
    outputs = keras.layers.Softmax(name="prob")(x)
    return keras.Model(inputs, outputs, name="mlp")


def conv1d_net() -> Any:
    inputs = keras.Input((32, 3), name="inputs")
    x = keras.layers.Conv1D(8, 3, activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling1D(2, name="pool1")(x)
    x = keras.layers.Conv1D(4, 3, padding="same", activation="sigmoid", name="conv2")(x)
    x = keras.layers.Flatten(name="flat")(x)
    outputs = keras.layers.Dense(4, name="out")(x)
    return keras.Model(inputs, outputs, name="conv1d_net")


def conv2d_net() -> Any:
    inputs = keras.Input((12, 12, 3), name="inputs")
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv1")(inputs)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.AveragePooling2D(2, name="pool2")(x)
    x = keras.layers.Flatten(name="flat")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="out")(x)
    return keras.Model(inputs, outputs, name="conv2d_net")


def branched() -> Any:
    inputs = keras.Input((16,), name="inputs")
    a = keras.layers.Dense(16, activation="relu", name="branch_a")(inputs)
    b = keras.layers.Dense(16, name="branch_b")(inputs)
    added = keras.layers.Add(name="add")([a, b])
    joined = keras.layers.Concatenate(name="concat")([added, a])
    outputs = keras.layers.Dense(4, name="out")(joined)
    return keras.Model(inputs, outputs, name="branched")


def fanout() -> Any:
    """One tensor read by eight layers: in io_stream a chain of clones (the widest clone has 6)."""
    inputs = keras.Input((8,), name="inputs")
    branches = [keras.layers.Dense(3, activation="relu", name=f"fc{i}")(inputs) for i in range(8)]
    joined = keras.layers.Concatenate(name="concat")(branches)
    outputs = keras.layers.Dense(4, name="out")(joined)
    return keras.Model(inputs, outputs, name="fanout")


MODELS: dict[str, Callable[[], Any]] = {
    "mlp": mlp,
    "conv1d": conv1d_net,
    "conv2d": conv2d_net,
    "branched": branched,
    "fanout": fanout,
}


def _randomise_batchnorm(model: Any, rng: np.random.Generator) -> None:
    """Give BatchNormalization layers non-trivial statistics, as a trained model has."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([
                rng.uniform(0.5, 1.5, n), rng.normal(0, 0.3, n), rng.normal(0, 0.3, n), rng.uniform(0.5, 2.0, n)
            ])  # fmt: skip


@pytest.fixture(scope="session")
def keras_models() -> dict[str, tuple[Any, np.ndarray, np.ndarray]]:
    """Each model with fixed random weights, sample inputs and Keras' float outputs."""
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    built = {}
    for name, make in MODELS.items():
        model = make()
        _randomise_batchnorm(model, rng)
        x = rng.normal(0, 1, (N_SAMPLES, *model.input_shape[1:])).astype(np.float32)
        built[name] = (model, x, np.asarray(model.predict(x, verbose=0), dtype=np.float64))
    return built


_BUILDS: dict[tuple[str, str, str, str], Any] = {}


def converted(
    keras_models: dict[str, tuple[Any, np.ndarray, np.ndarray]],
    root: Path,
    name: str,
    io_type: str,
    strategy: str,
    precision: str,
) -> Any:
    """The compiled HLSModel for one configuration, built once per session."""
    key = (name, io_type, strategy, precision)
    if key in _BUILDS:
        return _BUILDS[key]
    model = keras_models[name][0]
    as_generated = precision == AS_GENERATED
    default = "fixed<16,6>" if as_generated else precision
    config = utils.config_from_keras_model(model, granularity="name", default_precision=default)
    config["Model"]["Strategy"] = strategy
    config["Model"]["ReuseFactor"] = 2 if strategy == "Resource" else 1
    # RF 2 is illegal for some conv layers (n_in = 27): snap those to their nearest legal value.
    config["Model"]["SnapReuseFactor"] = True
    for layer in config["LayerName"].values():
        layer.pop("ReuseFactor", None)
        if not as_generated and "Precision" in layer:
            layer["Precision"] = {var: precision for var in layer["Precision"]}
        if "TableSize" in layer:
            layer["TableSize"] = 1 << 16 if precision == WIDE else 1024
    out = root / "_".join(key).replace("<", "").replace(">", "").replace(",", "_")
    hls_model = converters.convert_from_keras_model(
        model, hls_config=config, output_dir=str(out), project_name=name, io_type=io_type
    )
    hls_model.compile()
    _BUILDS[key] = hls_model
    return hls_model


WIDE = "fixed<32,12>"
NARROW = "fixed<10,4,RND_CONV,SAT>"
AS_GENERATED = "as-generated"
"""Keep the `auto` precisions config_from_keras_model writes (resolved by nn-infer-precision)."""
CONFIGS = [(io, strategy) for io in ("io_parallel", "io_stream") for strategy in ("Latency", "Resource")]


@pytest.fixture(scope="session")
def build_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize(("io_type", "strategy"), CONFIGS)
def test_wide_precision_matches_keras(keras_models: Any, build_root: Path, name: str, io_type: str, strategy: str) -> None:
    _, x, expected = keras_models[name]
    hls_model = converted(keras_models, build_root, name, io_type, strategy, WIDE)
    predicted = np.asarray(hls_model.predict(x))
    np.testing.assert_allclose(predicted.reshape(expected.shape), expected, atol=1e-3, rtol=0)
    np.testing.assert_array_equal(predicted, np.asarray(hls_model.predict(x, emulator="numpy")))


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize(("io_type", "strategy"), CONFIGS)
def test_narrow_precision_cpp_and_emulator_agree_bit_for_bit(
    keras_models: Any, build_root: Path, name: str, io_type: str, strategy: str
) -> None:
    _, x, _ = keras_models[name]
    hls_model = converted(keras_models, build_root, name, io_type, strategy, NARROW)
    scaled = x * 4.0  # drive values into saturation and rounding
    predicted = np.asarray(hls_model.predict(scaled))
    np.testing.assert_array_equal(predicted, np.asarray(hls_model.predict(scaled, emulator="numpy")))


def test_vendor_ap_types_build_agrees_bit_for_bit(keras_models: Any, build_root: Path, vendor_ap_types: Any) -> None:
    """conv2d in io_stream with the Resource strategy and the narrow rounding, saturating
    types (convolutions, batchnorm, max and average pooling, the softmax's exp and inverse tables),
    the project above built a second time as the vendor's C simulation against the vendor's ap
    types headers (vendor_csim.py): the same bits as our emulation build and the numpy emulator."""
    from vendor_csim import vendor_csim

    _, x, _ = keras_models["conv2d"]
    hls_model = converted(keras_models, build_root, "conv2d", "io_stream", "Resource", NARROW)
    scaled = x * 4.0
    ours = np.asarray(hls_model.predict(scaled, emulator="numpy"))
    np.testing.assert_array_equal(np.asarray(hls_model.predict(scaled)), ours)
    vendor = vendor_csim(Path(hls_model.config.get_output_dir()), scaled[:16], vendor_ap_types)  # -O0: 0.05 s a sample
    np.testing.assert_array_equal(vendor, ours[:16].reshape(vendor.shape))


@pytest.mark.parametrize("name", list(MODELS))
def test_inferred_precision_stays_close_and_exact(keras_models: Any, build_root: Path, name: str) -> None:
    """The as-generated `auto` config (fixed<16,6> default) keeps the float argmax and the bits agree."""
    _, x, expected = keras_models[name]
    hls_model = converted(keras_models, build_root, name, "io_parallel", "Latency", AS_GENERATED)
    predicted = np.asarray(hls_model.predict(x)).reshape(expected.shape)
    np.testing.assert_array_equal(predicted, np.asarray(hls_model.predict(x, emulator="numpy")).reshape(expected.shape))
    assert np.mean(predicted.argmax(-1) == expected.argmax(-1)) >= 0.9
    assert np.max(np.abs(predicted - expected)) < 0.1


def test_trace_returns_every_layer(keras_models: Any, build_root: Path) -> None:
    _, x, expected = keras_models["mlp"]
    hls_model = converted(keras_models, build_root, "mlp", "io_parallel", "Latency", WIDE)
    traced = hls_model.trace(x)
    for layer in ("fc1", "fc1_relu", "fc2", "fc2_tanh", "fc3", "prob"):
        assert layer in traced, sorted(traced)
        assert len(traced[layer]) == len(x)
    np.testing.assert_allclose(np.asarray(traced["prob"]).reshape(expected.shape), expected, atol=1e-3)


def test_inputs_beyond_the_input_type_are_reported(keras_models: Any, build_root: Path) -> None:
    _, x, _ = keras_models["mlp"]
    hls_model = converted(keras_models, build_root, "mlp", "io_parallel", "Latency", NARROW)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NnhlsWarning)
        hls_model.predict(x / 8)
    with pytest.warns(InputRangeWarning) as record:
        hls_model.predict(x * 100, emulator="numpy")
    err = "\n".join(str(w.message) for w in record)
    assert "input 'inputs' holds values in" in err
    assert "outside its type fixed<10,4,RND_CONV,SAT>" in err and "saturate" in err


def test_auto_input_type_holds_the_input_data(keras_models: Any, tmp_path: Path) -> None:
    """With InputData, an `auto` input type gets the integer bits its values need (signed here)."""
    model, x, _ = keras_models["mlp"]
    data = x * 50
    np.save(tmp_path / "x.npy", data)
    config = utils.config_from_keras_model(model, granularity="name")
    hls_model = converters.convert_from_keras_model(
        model, hls_config=config, output_dir=str(tmp_path / "prj"), project_name="mlp", input_data_tb=str(tmp_path / "x.npy")
    )
    magnitude = float(np.abs(data).max())
    integer = int(np.ceil(np.log2(magnitude + 2.0**-10))) + 1
    assert hls_model.config["HLSConfig"]["LayerName"]["inputs"]["Precision"]["result"] == f"fixed<{integer + 10},{integer}>"
    assert config["LayerName"]["inputs"]["Precision"]["result"] == "auto"  # the caller's dict is untouched
    hls_model.compile()
    with warnings.catch_warnings():
        warnings.simplefilter("error", NnhlsWarning)
        hls_model.predict(data)


def test_several_inputs_and_outputs(tmp_path: Path) -> None:
    """Two inputs and two outputs: predict takes and returns one array per model input/output."""
    keras.utils.set_random_seed(11)
    a = keras.Input((6,), name="a")
    b = keras.Input((4,), name="b")
    left = keras.layers.Dense(5, activation="relu", name="left")(a)
    right = keras.layers.Dense(5, name="right")(b)
    joined = keras.layers.Add(name="join")([left, right])
    out1 = keras.layers.Dense(3, name="head1")(joined)
    out2 = keras.layers.Dense(2, activation="sigmoid", name="head2")(joined)
    model = keras.Model([a, b], [out1, out2], name="two_heads")
    rng = np.random.default_rng(5)
    xs = [rng.normal(0, 1, (32, 6)).astype(np.float32), rng.normal(0, 1, (32, 4)).astype(np.float32)]
    expected = [np.asarray(y, dtype=np.float64) for y in model.predict(xs, verbose=0)]
    config = utils.config_from_keras_model(model, granularity="model", default_precision=WIDE)
    for io_type in ("io_parallel", "io_stream"):
        hls_model = converters.convert_from_keras_model(
            model, hls_config=config, output_dir=str(tmp_path / io_type), project_name="two_heads", io_type=io_type
        )
        hls_model.compile()
        predicted = hls_model.predict(xs)
        assert isinstance(predicted, list) and len(predicted) == 2
        np.testing.assert_allclose(predicted[0], expected[0], atol=1e-3)
        np.testing.assert_allclose(predicted[1], expected[1], atol=1e-2)  # sigmoid table, 1024 entries
        for cpp, emulated in zip(predicted, hls_model.predict(xs, emulator="numpy"), strict=True):
            np.testing.assert_array_equal(cpp, emulated)
