"""Every nnet kernel through real g++ builds, in io_parallel and io_stream.

Small Keras models cover dense, conv1d/conv2d (strides, dilation, same padding), depthwise and
separable convolutions, max/average/global pooling (with padding), batchnorm, every activation
kind (exact and table), softmax, all merges, concatenation, reshape, permute, zero padding,
cropping and upsampling. Each is converted with the `name`-granularity config as generated (narrow
`auto` types: every cast matters) and the C++ result must equal the numpy emulator bit for bit;
with wide types (fixed<32,12>) it must stay close to Keras.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
L = keras.layers

from nnhls import converters, utils  # noqa: E402
from nnhls.codegen.build import translation_units  # noqa: E402
from nnhls.compiler.hls_model import HLSModel  # noqa: E402

N_SAMPLES = 32


def conv2d_net() -> Any:
    i = keras.Input((11, 11, 3), name="image")
    x = L.Conv2D(4, 3, activation="relu", padding="same", name="conv_a")(i)
    x = L.BatchNormalization(name="bn")(x)
    x = L.MaxPooling2D(2, padding="same", name="pool_a")(x)
    x = L.Conv2D(6, 3, strides=2, name="conv_b")(x)
    x = L.AveragePooling2D(2, padding="same", name="pool_b")(x)
    x = L.Flatten(name="flat")(x)
    return keras.Model(i, L.Dense(5, activation="softmax", name="out")(x))


def conv1d_net() -> Any:
    i = keras.Input((20, 4), name="series")
    x = L.Conv1D(5, 3, activation="tanh", dilation_rate=2, padding="same", name="conv")(i)
    x = L.MaxPooling1D(2, name="pool")(x)
    x = L.UpSampling1D(2, name="up")(x)
    x = L.ZeroPadding1D((1, 2), name="pad")(x)
    x = L.Cropping1D((2, 1), name="crop")(x)
    x = L.GlobalAveragePooling1D(name="gap")(x)
    return keras.Model(i, L.Dense(3, activation="sigmoid", name="out")(x))


def branched_net() -> Any:
    i = keras.Input((10,), name="features")
    a = L.Dense(8, activation="elu", name="a")(i)
    b = L.LeakyReLU(0.25, name="b_act")(L.Dense(8, name="b")(i))
    c = L.Add(name="add")([a, b])
    d = L.Concatenate(name="cat1")([a, c])
    e = L.Subtract(name="sub")([a, b])
    f = L.Multiply(name="mul")([c, e])
    g = L.Average(name="avg")([f, c])
    h = L.Maximum(name="max")([g, a])
    k = L.Minimum(name="min")([h, b])
    z = L.Concatenate(name="cat2")([d, k])
    z = L.Dense(4, activation="softplus", name="d1")(z)
    z = L.Activation("selu", name="selu")(z)
    return keras.Model(i, L.Dense(3, activation="softsign", name="out")(z))


def misc_net() -> Any:
    i = keras.Input((6, 6, 2), name="image")
    x = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw")(i)
    x = L.PReLU(name="prelu")(x)
    x = L.UpSampling2D(2, name="up")(x)
    x = L.ZeroPadding2D(((1, 0), (0, 2)), name="pad")(x)
    x = L.Cropping2D(((1, 1), (2, 0)), name="crop")(x)
    x = L.GlobalMaxPooling2D(name="gmp")(x)
    x = L.Reshape((2, 2), name="reshape")(x)
    x = L.Permute((2, 1), name="permute")(x)
    x = L.Flatten(name="flat")(x)
    return keras.Model(i, L.ReLU(max_value=6.0, name="relu6")(L.Dense(3, name="out")(x)))


def separable_net() -> Any:
    i = keras.Input((8, 8, 3), name="image")
    x = L.SeparableConv2D(4, 3, activation="hard_sigmoid", name="sep")(i)
    x = L.Conv2D(3, 1, activation="gelu", name="pw")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(i, L.Dense(2, activation="swish", name="out")(x))


MODELS: dict[str, Callable[[], Any]] = {
    "conv2d": conv2d_net,
    "conv1d": conv1d_net,
    "branched": branched_net,
    "misc": misc_net,
    "separable": separable_net,
}
IO_TYPES = ("io_parallel", "io_stream")


@pytest.fixture(scope="module", autouse=True)
def build_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ.setdefault("NNHLS_CACHE_DIR", str(tmp_path_factory.mktemp("nnhls-cache")))


@pytest.fixture(scope="module")
def keras_models() -> dict[str, tuple[Any, np.ndarray, np.ndarray]]:
    out: dict[str, tuple[Any, np.ndarray, np.ndarray]] = {}
    keras.utils.set_random_seed(7)
    for name, factory in MODELS.items():
        model = factory()
        x = np.random.default_rng(1).normal(size=(N_SAMPLES, *model.inputs[0].shape[1:]))
        out[name] = (model, x, np.asarray(model.predict(x, verbose=0), dtype=np.float64))
    return out


def _convert(model: Any, config: dict[str, Any], out: Path, io_type: str) -> HLSModel:
    hls_model = converters.convert_from_keras_model(model, hls_config=config, output_dir=str(out), project_name="net", io_type=io_type)
    hls_model.compile()
    return hls_model


@pytest.mark.parametrize("io_type", IO_TYPES)
@pytest.mark.parametrize("name", list(MODELS))
def test_cpp_bit_exact_with_emulator(name: str, io_type: str, keras_models: dict[str, Any], tmp_path: Path) -> None:
    model, x, _ = keras_models[name]
    config = utils.config_from_keras_model(model, granularity="name")
    hls_model = _convert(model, config, tmp_path / "prj", io_type)
    np.testing.assert_array_equal(hls_model.predict(x), hls_model.predict(x, emulator="numpy"))
    traced = hls_model.trace(x[:4])
    reference = hls_model.trace(x[:4], emulator="numpy")
    assert traced.keys() == reference.keys()
    for layer, value in reference.items():
        np.testing.assert_array_equal(traced[layer], value, err_msg=layer)


@pytest.mark.parametrize("io_type", IO_TYPES)
@pytest.mark.parametrize("name", list(MODELS))
def test_wide_types_close_to_keras(name: str, io_type: str, keras_models: dict[str, Any], tmp_path: Path) -> None:
    model, x, expected = keras_models[name]
    hls_model = _convert(model, {"Model": {"Precision": "fixed<32,12>"}}, tmp_path / "prj", io_type)
    y = np.asarray(hls_model.predict(x))
    assert y.shape == expected.shape
    # lookup-table activations (tanh, sigmoid, elu, softplus...) bound the error
    assert np.max(np.abs(y - expected)) < 2e-2
    if io_type == "io_stream":
        _assert_no_warnings(hls_model)


def _assert_no_warnings(hls_model: HLSModel) -> None:
    root = hls_model.output_dir
    # the top function's literal `#pragma HLS` lines are for the HLS tool (the build passes the same flag)
    flags = ["-std=c++17", "-Wall", "-Wextra", "-Wno-unknown-pragmas", "-fsyntax-only", "-DNNHLS_FAST_WEIGHTS",
             f"-I{root / 'firmware' / 'ap_types'}", f"-I{root / 'firmware'}", f"-I{root}"]
    for tu in translation_units(hls_model.project_name):
        result = subprocess.run(["g++", *flags, str(root / tu)], capture_output=True, text=True, check=False)
        assert result.returncode == 0 and result.stderr == "", result.stderr


@pytest.mark.parametrize("accum", ["fixed<10,3>", "ufixed<9,2>", "fixed<12,4,RND,SAT>", "fixed<70,30>"])
def test_dense_accumulator_casts_bit_exact(accum: str, keras_models: dict[str, Any], tmp_path: Path) -> None:
    """Wrapping, truncating and saturating accumulators (the emulation fast path and the ap path)."""
    model, x, _ = keras_models["branched"]
    config = utils.config_from_keras_model(model, granularity="name")
    for layer in ("a", "b", "d1", "out"):
        config["LayerName"][layer]["Precision"].update({"accum": accum, "weight": "fixed<8,2>", "bias": "fixed<8,2>"})
    hls_model = _convert(model, config, tmp_path / "prj", "io_parallel")
    np.testing.assert_array_equal(hls_model.predict(x * 4), hls_model.predict(x * 4, emulator="numpy"))


def test_conv_layer_vectors_and_single_lanes_bit_exact(tmp_path: Path) -> None:
    """The emulation's whole-layer convolution (8 filters per vector, the rest lane by lane, padding
    and strides as the pixel kernel reads them) gives the numpy emulator's bits, with Keras' values."""
    keras.utils.set_random_seed(5)
    i = keras.Input((9, 7, 5), name="image")
    x = L.Conv2D(12, (3, 2), padding="same", activation="relu", name="c12")(i)  # one vector + 4 lanes
    x = L.Conv2D(16, 2, strides=(2, 1), name="c16")(x)  # two vectors
    x = L.Conv2D(3, 3, dilation_rate=(2, 1), padding="same", name="c3")(x)  # lanes only
    model = keras.Model(i, L.Dense(3, name="out")(L.Flatten(name="flat")(x)))
    x_in = np.random.default_rng(4).normal(size=(N_SAMPLES, 9, 7, 5))
    config = utils.config_from_keras_model(model, granularity="model")
    config["Model"]["Precision"] = "fixed<16,6>"  # accumulators too: truncated products in 32-bit lanes
    hls_model = _convert(model, config, tmp_path / "prj", "io_parallel")
    np.testing.assert_array_equal(hls_model.predict(x_in), hls_model.predict(x_in, emulator="numpy"))
    traced, reference = hls_model.trace(x_in[:4]), hls_model.trace(x_in[:4], emulator="numpy")
    for layer in ("c12", "c16", "c3"):
        np.testing.assert_array_equal(traced[layer], reference[layer], err_msg=layer)
    expected = np.asarray(model.predict(x_in, verbose=0))
    assert np.max(np.abs(np.asarray(hls_model.predict(x_in)) - expected)) < 0.25  # truncations of fixed<16,6> everywhere


@pytest.mark.parametrize("io_type", IO_TYPES)
def test_resource_strategy_and_compressed_weights(io_type: str, tmp_path: Path) -> None:
    """Resource / Unrolled schedules and sparse (compressed) weights give the exact same bits."""
    keras.utils.set_random_seed(3)
    model = branched_net()
    d1 = model.get_layer("d1")
    kernel, bias = d1.get_weights()
    kernel[::2] = 0.0  # half the rows zero: a sparse layer
    d1.set_weights([kernel, bias])
    x = np.random.default_rng(2).normal(size=(N_SAMPLES, 10))
    config = utils.config_from_keras_model(model, granularity="name")
    config["LayerName"]["a"].update({"Strategy": "Resource", "ReuseFactor": 5})
    config["LayerName"]["b"].update({"Strategy": "Unrolled", "ReuseFactor": 2})
    config["LayerName"]["d1"].update({"Compression": True})
    hls_model = _convert(model, config, tmp_path / "prj", io_type)
    parameters = (hls_model.output_dir / "firmware" / "parameters.h").read_text()
    assert "static const unsigned strategy = nnet::resource;" in parameters
    assert "static const unsigned reuse_factor = 5;" in parameters
    weights = (hls_model.output_dir / "firmware" / "weights" / "d1_w.h").read_text()
    assert "nnet::compressed_weight<d1_weight_t, ap_uint<5>> d1_w[48]" in weights
    np.testing.assert_array_equal(hls_model.predict(x), hls_model.predict(x, emulator="numpy"))


def test_large_feature_maps_fit_the_worker_stack(tmp_path: Path) -> None:
    """Tens of MB of io_parallel tensors (more than a default 8 MB thread stack) run fine."""
    i = keras.Input((96, 96, 8), name="image")
    x = L.Conv2D(32, 3, padding="same", activation="relu", name="c1")(i)
    x = L.Conv2D(16, 3, padding="same", activation="relu", name="c2")(x)
    model = keras.Model(i, L.Dense(4, name="out")(L.GlobalAveragePooling2D(name="gap")(x)))
    hls_model = _convert(model, {"Model": {"Precision": "fixed<24,10>"}}, tmp_path / "prj", "io_parallel")
    x_in = np.random.default_rng(4).normal(size=(3, 96, 96, 8))
    np.testing.assert_array_equal(hls_model.predict(x_in), hls_model.predict(x_in, emulator="numpy"))
    assert hls_model.trace(x_in[:1])["c1"].shape == (1, 96, 96, 32)
