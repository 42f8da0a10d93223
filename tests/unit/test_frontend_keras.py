"""Keras front end: real Keras models, saved in every file form, against `model.predict`.

Each model is built in Keras 3 (torch backend) with random weights, saved as `.keras`, as a legacy
full-model `.h5`, and as `to_json()` + `save_weights()`, then imported from each file and from memory;
the float reference interpreter must reproduce `model.predict`. Keras 2 file layouts are written by
hand (h5py) where Keras 3 can no longer produce them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from xdsl.dialects.builtin import ModuleOp

from nnhls.dialects import nn
from nnhls.dialects.nn import model_function
from nnhls.frontends.common import ModelFileError, UnsupportedLayerError
from nnhls.frontends.keras import import_keras
from nnhls.interpreters.reference import run_reference

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
L = keras.layers

# Keras 3.15 on NumPy 2 warns about the copy keyword inside its own Variable.numpy().
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:keras")

RTOL, ATOL = 1e-5, 1e-6
FORMS = ("memory", "keras", "h5", "json")


# ----- helpers -----------------------------------------------------------------------------------------


def _randomize(model: Any, seed: int) -> None:
    """Random weights everywhere, non-trivial BatchNormalization statistics, positive variances."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape = tuple(variable.shape)
        if "moving_variance" in variable.path:
            value = rng.uniform(0.5, 2.0, shape)
        elif "moving_mean" in variable.path:
            value = rng.normal(0.0, 0.5, shape)
        else:
            value = rng.normal(0.0, 0.5, shape)
        variable.assign(value.astype("float32"))


def _save(model: Any, form: str, folder: Path) -> ModuleOp:
    """Save `model` in one file form (or not at all) and import it back."""
    if form == "memory":
        return import_keras(model)
    if form == "keras":
        path = folder / f"{model.name}.keras"
        model.save(path)
        return import_keras(path)
    if form == "h5":
        path = folder / f"{model.name}.h5"
        model.save(path)
        return import_keras(path)
    json_path, weights_path = folder / f"{model.name}.json", folder / f"{model.name}.weights.h5"
    json_path.write_text(model.to_json())
    model.save_weights(weights_path)
    return import_keras(json_path, weights=weights_path)


def _inputs(model: Any, seed: int, batch: int = 7) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(0.0, 1.0, (batch, *t.shape[1:])).astype("float32") for t in model.inputs]


def _check(module: ModuleOp, model: Any, seed: int = 1) -> None:
    inputs = _inputs(model, seed)
    expected = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    expected = expected if isinstance(expected, list | tuple) else [expected]
    actual = run_reference(module, inputs)
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        np.testing.assert_allclose(got, np.asarray(want), rtol=RTOL, atol=ATOL)


def _layer_names(module: ModuleOp) -> list[str]:
    return [
        op.layer_name
        for op in model_function(module).body.block.ops
        if isinstance(op, nn.NNLayerOp)
    ]


def _op_classes(module: ModuleOp) -> set[str]:
    return {op.name for op in model_function(module).body.block.ops}


# ----- models -----------------------------------------------------------------------------------------------


def mlp_activations() -> Any:
    """Every activation (fused, Activation layer, activation layers) and BatchNormalization variants."""
    return keras.Sequential(
        [
            keras.Input((12,), name="features"),
            L.Dense(16, activation="relu", name="fc1"),
            L.BatchNormalization(name="bn1"),
            L.Dropout(0.3),
            L.Dense(16, activation="tanh", name="fc2"),
            L.GaussianNoise(0.1),
            L.Activation("elu", name="act_elu"),
            L.Dense(16, activation="selu"),
            L.LeakyReLU(negative_slope=0.1),
            L.Dense(16, activation="softplus"),
            L.ELU(alpha=0.7),
            L.BatchNormalization(center=False),
            L.Dense(16, activation="softsign"),
            L.PReLU(),
            L.Dense(16, activation="swish"),
            L.ReLU(max_value=6.0),
            L.Dense(16, activation="gelu"),
            L.ReLU(negative_slope=0.1),
            L.BatchNormalization(scale=False),
            L.Dense(16, activation="hard_sigmoid"),
            L.ReLU(max_value=0.7),
            L.Dense(16, activation="relu6"),
            L.Activation("silu"),
            L.AlphaDropout(0.1),
            L.GaussianDropout(0.1),
            L.ActivityRegularization(0.01),
            L.Dense(16, activation="leaky_relu"),
            L.Activation("hard_tanh"),
            L.Dense(8, activation="sigmoid"),
            L.Dense(8, use_bias=False),
            L.Activation("linear"),
            L.ReLU(),
            L.Dense(5, name="logits"),
            L.Softmax(name="probs"),
        ],
        name="mlp_activations",
    )


def conv2d_net() -> Any:
    return keras.Sequential(
        [
            keras.Input((16, 16, 3), name="image"),
            L.Conv2D(4, 3, strides=2, padding="same", activation="relu", name="conv_a"),
            L.Conv2D(6, 3, dilation_rate=2, padding="same", name="conv_b"),
            L.PReLU(shared_axes=[1, 2]),
            L.DepthwiseConv2D(3, depth_multiplier=2, activation="tanh", name="dw"),
            L.SeparableConv2D(
                5, 3, padding="same", depth_multiplier=2, activation="relu", name="sep"
            ),
            L.BatchNormalization(),
            L.ZeroPadding2D(((1, 0), (2, 1))),
            L.AveragePooling2D(3, strides=1, padding="same"),
            L.MaxPooling2D(3, strides=2, padding="same"),
            L.Cropping2D(((1, 0), (0, 1))),
            L.UpSampling2D((2, 1)),
            L.SpatialDropout2D(0.2),
            L.MaxPooling2D(2),
            L.AveragePooling2D(2, strides=(1, 2)),
            L.ZeroPadding2D(1),
            L.Conv2D(3, (3, 2), strides=(2, 1), padding="same", use_bias=False),
            L.Cropping2D(((0, 1), (1, 0))),
            L.Flatten(),
            L.Dense(4, activation="softmax", name="out"),
        ],
        name="conv2d_net",
    )


def conv1d_net() -> Any:
    return keras.Sequential(
        [
            keras.Input((20, 3), name="series"),
            L.Conv1D(4, 3, strides=2, padding="same", activation="elu", name="c1"),
            L.Conv1D(4, 3, padding="causal", dilation_rate=2, name="c2"),
            L.DepthwiseConv1D(3, depth_multiplier=2, padding="same", name="dw1"),
            L.SeparableConv1D(4, 3, activation="relu", name="sep1"),
            L.ZeroPadding1D((1, 2)),
            L.MaxPooling1D(2, padding="same"),
            L.AveragePooling1D(2, strides=1),
            L.Cropping1D((1, 0)),
            L.UpSampling1D(3),
            L.SpatialDropout1D(0.1),
            L.Dense(5, activation="relu", name="dense_nd"),
            L.GlobalAveragePooling1D(keepdims=True),
            L.Flatten(),
            L.Dense(3, name="out"),
        ],
        name="conv1d_net",
    )


def branches() -> Any:
    """Functional: three inputs, every merge, shape layers, two outputs given out of build order."""
    vec = keras.Input((8,), name="vec")
    img = keras.Input((6, 6, 2), name="img")
    seq = keras.Input((5, 4), name="seq")
    h = L.Dense(8, activation="relu", name="fc")(vec)
    g = L.Dense(8, name="fc_b")(vec)
    added = L.Add(name="add")([h, g, vec])
    diff = L.Subtract(name="sub")([h, g])
    prod = L.Multiply(name="mul")([added, diff])
    avg = L.Average(name="avg")([prod, h])
    high = L.Maximum(name="max")([avg, g])
    low = L.Minimum(name="min")([high, h])
    dot = L.Dot(axes=1, name="dot")([low, vec])
    conv = L.Conv2D(4, 3, padding="same", name="conv")(img)
    gmp = L.GlobalMaxPooling2D(name="gmp")(conv)
    gap = L.GlobalAveragePooling2D(name="gap")(conv)
    gap_k = L.Flatten(name="gap_k_flat")(
        L.GlobalAveragePooling2D(keepdims=True, name="gap_k")(conv)
    )
    s_max = L.GlobalMaxPooling1D(name="gmp1")(seq)
    s_avg = L.GlobalAveragePooling1D(name="gap1")(seq)
    swapped = L.Permute((2, 1), name="perm")(seq)
    flat = L.Reshape((20,), name="to_vec")(swapped)
    back = L.Reshape((4, -1), name="to_mat")(flat)
    joined = L.Concatenate(name="cat")([low, gmp, gap, gap_k, s_max, s_avg, dot])
    stacked = L.Concatenate(axis=1, name="cat_rows")([back, swapped])
    stacked2 = L.Concatenate(axis=-2, name="cat_rows2")([stacked, back])
    out_a = L.Dense(3, activation="softmax", name="out_a")(joined)
    out_b = L.Flatten(name="out_b")(L.Dense(2, name="dense_nd")(stacked2))
    return keras.Model([vec, img, seq], [out_b, out_a], name="branches")


def nested() -> Any:
    """A Sequential and a Functional used as layers, with clashing layer names."""
    block = keras.Sequential(
        [
            keras.Input((6,)),
            L.Dense(6, activation="relu", name="fc"),
            L.BatchNormalization(name="bn"),
        ],
        name="block",
    )
    x = keras.Input((6,), name="head_in")
    proj = L.Dense(4, name="proj")(x)
    fc = L.Dense(4, activation="tanh", name="fc")(x)
    heads = keras.Model(x, [L.Add(name="head_sum")([proj, fc]), proj], name="heads")
    inp = keras.Input((5,), name="inp")
    h = L.Dense(6, name="fc")(inp)
    summed, projected = heads(block(h))
    out = L.Concatenate(name="cat")([summed, projected])
    return keras.Model(inp, out, name="nested")


MODELS: dict[str, Callable[[], Any]] = {
    f.__name__: f for f in (mlp_activations, conv2d_net, conv1d_net, branches, nested)
}


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    """Each model built once, with random weights."""
    keras.utils.set_random_seed(0)
    models = {}
    for index, (name, make) in enumerate(MODELS.items()):
        model = make()
        _randomize(model, seed=index)
        models[name] = model
    return models


# ----- matches Keras in every form --------------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("model_name", list(MODELS))
def test_matches_keras(built: dict[str, Any], model_name: str, form: str, tmp_path: Path) -> None:
    model = built[model_name]
    module = _save(model, form, tmp_path)
    assert model_function(module).sym_name.data == model.name
    _check(module, model)


def test_fused_activation_and_removed_layers(built: dict[str, Any]) -> None:
    names = _layer_names(import_keras(built["mlp_activations"]))
    assert names[:4] == ["features", "fc1", "fc1_relu", "bn1"]
    assert "act_elu" in names and "probs" in names
    assert not any("dropout" in n or "noise" in n or "regularization" in n for n in names)
    ops = _op_classes(import_keras(built["mlp_activations"]))
    assert "nn.dropout" not in ops and "nn.softmax" in ops


def test_separable_conv_split(built: dict[str, Any]) -> None:
    module = import_keras(built["conv2d_net"])
    names = _layer_names(module)
    index = names.index("sep_depthwise")
    assert names[index : index + 3] == ["sep_depthwise", "sep_pointwise", "sep_relu"]
    ops = {
        op.layer_name: op
        for op in model_function(module).body.block.ops
        if isinstance(op, nn.NNLayerOp)
    }
    assert (
        isinstance(ops["sep_depthwise"], nn.DepthwiseConv2DOp) and ops["sep_depthwise"].bias is None
    )
    assert isinstance(ops["sep_pointwise"], nn.Conv2DOp) and ops["sep_pointwise"].bias is not None
    # TF 'same' padding for a 3x3 kernel at stride 2 on 16 pixels: total 1, the extra at the end.
    conv_a = ops["conv_a"]
    assert isinstance(conv_a, nn.Conv2DOp) and nn.ints(conv_a.pads) == (0, 1, 0, 1)


def test_nested_names_prefixed_only_on_clash(built: dict[str, Any]) -> None:
    names = _layer_names(import_keras(built["nested"]))
    assert names == [
        "inp", "fc", "block_fc", "block_fc_relu", "bn", "proj", "heads_fc", "heads_fc_tanh",
        "head_sum", "cat",
    ]  # fmt: skip


def test_multiple_inputs_and_output_order(built: dict[str, Any]) -> None:
    function = model_function(import_keras(built["branches"]))
    assert [nn.shape_of(a) for a in function.body.block.args] == [(8,), (6, 6, 2), (5, 4)]
    returned = list(function.body.block.ops)[-1].operands
    assert [nn.shape_of(v) for v in returned] == [(24,), (3,)]
    names = _layer_names(import_keras(built["branches"]))
    assert names[:3] == ["vec", "img", "seq"]


def test_name_override(built: dict[str, Any]) -> None:
    module = import_keras(built["conv1d_net"], name="my_model")
    assert model_function(module).sym_name.data == "my_model"


# ----- Keras 2 file layouts, written by hand ----------------------------------------------------------------


def _write_keras2_weights(
    path: Path, layers: dict[str, list[np.ndarray]], chunk: bool = False
) -> None:
    """Keras 2 `save_weights` layout: root `layer_names`, per-group `weight_names`."""
    with h5py.File(path, "w") as h5:
        names = np.array([n.encode() for n in layers])
        if chunk:  # Keras 2 splits long attributes into <name>0, <name>1, ...
            h5.attrs["layer_names0"], h5.attrs["layer_names1"] = names[:1], names[1:]
        else:
            h5.attrs["layer_names"] = names
        h5.attrs["keras_version"] = b"2.1.3"
        for layer, arrays in layers.items():
            group = h5.create_group(layer)
            weight_names = [f"{layer}/w{i}:0" for i in range(len(arrays))]
            group.attrs["weight_names"] = np.array([w.encode() for w in weight_names])
            for weight_name, array in zip(weight_names, arrays, strict=True):
                group.create_dataset(weight_name, data=array)


def _keras2_layer(class_name: str, name: str, inbound: list[str], **config: Any) -> dict[str, Any]:
    nodes = [[[src, 0, 0, {}] for src in inbound]] if inbound else []
    return {
        "class_name": class_name,
        "name": name,
        "config": {"name": name, **config},
        "inbound_nodes": nodes,
    }


def test_keras2_functional_json_and_weights(tmp_path: Path) -> None:
    """Keras 2 'Model' JSON, list-form inbound nodes, chunked layer_names, Keras 2 activations."""
    rng = np.random.default_rng(3)
    w1, b1 = rng.normal(size=(4, 6)).astype("f4"), rng.normal(size=6).astype("f4")
    w2 = rng.normal(size=(6, 3)).astype("f4")
    config = {
        "class_name": "Model",
        "keras_version": "2.1.3",
        "config": {
            "name": "old_model",
            "layers": [
                _keras2_layer("InputLayer", "input_1", [], batch_input_shape=[None, 4]),
                _keras2_layer(
                    "Dense", "fc1", ["input_1"], units=6, activation="hard_sigmoid", use_bias=True
                ),
                _keras2_layer("ThresholdedReLU", "thr", ["fc1"], theta=0.6),
                _keras2_layer("LeakyReLU", "leaky", ["thr"], alpha=0.25),
                _keras2_layer(
                    "Dense", "fc2", ["leaky"], units=3, activation="linear", use_bias=False
                ),
            ],
            "input_layers": [["input_1", 0, 0]],
            "output_layers": [["fc2", 0, 0]],
        },
    }
    json_path, weights_path = tmp_path / "old.json", tmp_path / "old_weights.h5"
    json_path.write_text(json.dumps(config))
    _write_keras2_weights(
        weights_path,
        {"input_1": [], "fc1": [w1, b1], "thr": [], "leaky": [], "fc2": [w2]},
        chunk=True,
    )
    module = import_keras(json_path, weights_path)
    assert model_function(module).sym_name.data == "old_model"
    x = rng.normal(size=(9, 4))
    hidden = np.clip(0.2 * (x @ w1 + b1) + 0.5, 0.0, 1.0)  # Keras 2 hard_sigmoid
    hidden = np.where(hidden > 0.6, hidden, 0.0)
    hidden = np.where(hidden >= 0, hidden, 0.25 * hidden)
    np.testing.assert_allclose(run_reference(module, x)[0], hidden @ w2, rtol=RTOL, atol=ATOL)


def test_keras2_sequential_bare_list(tmp_path: Path) -> None:
    """Keras 2.0 Sequential: config is a bare list, `batch_input_shape` on the first (conv) layer."""
    rng = np.random.default_rng(4)
    kernel, bias = rng.normal(size=(3, 3, 1, 2)).astype("f4"), rng.normal(size=2).astype("f4")
    dense = rng.normal(size=(72, 3)).astype("f4")
    config = {
        "class_name": "Sequential",
        "keras_version": "2.0.0",
        "config": [
            {"class_name": "Conv2D", "config": {"name": "conv2d_1", "batch_input_shape": [None, 8, 8, 1],
             "filters": 2, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
             "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "relu", "use_bias": True}},
            {"class_name": "Dropout", "config": {"name": "dropout_1", "rate": 0.5}},
            {"class_name": "Flatten", "config": {"name": "flatten_1"}},
            {"class_name": "Dense", "config": {"name": "dense_1", "units": 3, "activation": "softmax", "use_bias": False}},
        ],
    }  # fmt: skip
    json_path, weights_path = tmp_path / "seq.json", tmp_path / "seq_weights.h5"
    json_path.write_text(json.dumps(config))
    _write_keras2_weights(
        weights_path,
        {"conv2d_1": [kernel, bias], "dropout_1": [], "flatten_1": [], "dense_1": [dense]},
    )
    module = import_keras(json_path, weights_path)
    assert model_function(module).sym_name.data == "seq"  # no name in a bare list: the file stem
    assert _layer_names(module) == [
        "conv2d_1_input",
        "conv2d_1",
        "conv2d_1_relu",
        "flatten_1",
        "dense_1",
        "dense_1_softmax",
    ]
    x = rng.normal(size=(5, 8, 8, 1))
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))  # (n, 6, 6, 1, 3, 3)
    conv = np.maximum(np.einsum("nhwcij,ijcf->nhwf", windows, kernel) + bias, 0.0)
    logits = conv.reshape(5, -1) @ dense
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(run_reference(module, x)[0], expected, rtol=RTOL, atol=ATOL)


# ----- errors --------------------------------------------------------------------------------------------------


def _expect_unsupported(model: Any, layer_class: str, *fragments: str) -> UnsupportedLayerError:
    with pytest.raises(UnsupportedLayerError) as info:
        import_keras(model)
    message = str(info.value)
    assert f"of type '{layer_class}'" in message
    assert "supported types:" in message and "Dense" in message
    for fragment in fragments:
        assert fragment in message
    return info.value


def _tiny(*layers: Any, shape: tuple[int, ...] = (4, 3)) -> Any:
    return keras.Sequential([keras.Input(shape), *layers])


def test_unsupported_layers() -> None:
    _expect_unsupported(_tiny(L.Lambda(lambda t: t * 2, name="double")), "Lambda", "'double'")
    _expect_unsupported(
        _tiny(L.Activation("exponential", name="expo")), "Activation", "exponential"
    )
    _expect_unsupported(
        _tiny(L.BatchNormalization(axis=1, name="bn_axis")), "BatchNormalization", "axis 1"
    )
    _expect_unsupported(_tiny(L.Softmax(axis=1, name="sm")), "Softmax", "axis 1")
    _expect_unsupported(_tiny(L.ReLU(threshold=0.5, name="thr")), "ReLU", "threshold")
    _expect_unsupported(
        _tiny(L.UpSampling2D(2, interpolation="bilinear", name="up"), shape=(4, 4, 2)),
        "UpSampling2D",
        "bilinear",
    )
    _expect_unsupported(_tiny(L.Conv1D(3, 1, groups=3, name="g"), shape=(4, 3)), "Conv1D", "groups")


def test_prelu_varying_slopes_rejected() -> None:
    model = _tiny(L.PReLU(name="pr"))
    model.layers[-1].set_weights([np.arange(12, dtype="f4").reshape(4, 3)])
    _expect_unsupported(model, "PReLU", "'pr'", "non-channel")


def test_subclassed_model_rejected() -> None:
    class Custom(keras.Model):
        def __init__(self) -> None:
            super().__init__(name="custom")
            self.fc = L.Dense(2)

        def call(self, inputs: Any) -> Any:
            return self.fc(inputs)

    model = Custom()
    model(np.zeros((1, 3), "f4"))
    _expect_unsupported(model, "Custom", "subclassed")


def test_custom_layer_in_json(tmp_path: Path) -> None:
    config = {
        "class_name": "Sequential",
        "config": {"name": "bin", "layers": [
            {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": [None, 4]}},
            {"class_name": "GarNet", "config": {"name": "garnet_1", "units": 2}},
        ]},
    }  # fmt: skip
    json_path = tmp_path / "bin.json"
    json_path.write_text(json.dumps(config))
    _write_keras2_weights(tmp_path / "bin.h5", {"garnet_1": [np.zeros((4, 2), "f4")]})
    with pytest.raises(UnsupportedLayerError, match="layer 'garnet_1' of type 'GarNet'"):
        import_keras(json_path, tmp_path / "bin.h5")


def _expect_file_error(path: Path, *args: Any, fragment: str) -> None:
    """import_keras(*args) raises a ModelFileError naming `path` and saying `fragment`."""
    with pytest.raises(ModelFileError) as info:
        import_keras(*args)
    assert info.value.path == str(path)
    assert str(path) in str(info.value) and fragment in str(info.value)


def test_file_errors(tmp_path: Path, built: dict[str, Any]) -> None:
    missing = tmp_path / "nope.keras"
    _expect_file_error(missing, missing, fragment="no such file")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json")
    _expect_file_error(bad_json, bad_json, tmp_path / "w.h5", fragment="not JSON, HDF5 or zip")

    model = built["conv1d_net"]
    full = tmp_path / "full.h5"
    model.save(full)
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    _expect_file_error(truncated, truncated, fragment="not")
    archive = tmp_path / "m.keras"
    model.save(archive)
    cut = tmp_path / "cut.keras"
    cut.write_bytes(archive.read_bytes()[:200])
    _expect_file_error(cut, cut, fragment="not")

    json_path, weights = tmp_path / "m.json", tmp_path / "m.weights.h5"
    json_path.write_text(model.to_json())
    model.save_weights(weights)
    _expect_file_error(json_path, json_path, fragment="needs its weights file")
    _expect_file_error(weights, weights, fragment="no 'model_config' attribute")
    other = tmp_path / "other.weights.h5"
    built["mlp_activations"].save_weights(other)
    _expect_file_error(other, json_path, other, fragment="no weights for layer 'c1'")
    not_config = tmp_path / "list.json"
    not_config.write_text("[1, 2]")
    _expect_file_error(not_config, not_config, weights, fragment="no Keras model config")


def test_shared_layer_called_twice(tmp_path: Path) -> None:
    """A layer called on two tensors: one op per call, the second named `<layer>_1`."""
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    shared = L.Dense(3, activation="relu", name="shared")
    model = keras.Model([a, b], L.Add(name="sum")([shared(a), shared(b)]), name="shared_model")
    _randomize(model, seed=7)
    for form in FORMS:
        _check(_save(model, form, tmp_path), model)
    assert _layer_names(import_keras(model)) == [
        "a",
        "b",
        "shared",
        "shared_relu",
        "shared_1",
        "shared_1_relu",
        "sum",
    ]


def test_keras3_weights_without_layer_names(tmp_path: Path, built: dict[str, Any]) -> None:
    """Older Keras 3 weight files do not name layers: fall back to the saving keys (`dense_1`)."""
    model = built["nested"]
    json_path, weights = tmp_path / "m.json", tmp_path / "m.weights.h5"
    json_path.write_text(model.to_json())
    model.save_weights(weights)
    with h5py.File(weights, "r+") as h5:
        named = []
        h5.visititems(lambda path, obj: named.append(obj) if "name" in obj.attrs else None)
        for obj in named:
            del obj.attrs["name"]
    _check(import_keras(json_path, weights), model)
