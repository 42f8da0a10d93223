"""Keras front end: Keras 2 and Keras 3 models (files or in memory) to `nn` ops.

Files are read with json/h5py/zipfile only, so neither Keras nor TensorFlow has to be installed:

* a Keras 3 `.keras` archive (`config.json` + `model.weights.h5`);
* a model JSON (`model.to_json()`, Keras 2 or 3) plus its weights H5 (`save_weights`, Keras 2
  `layer_names`/`weight_names` layout or Keras 3 `layers/<name>/vars/<i>` layout);
* a full-model `.h5` (`model_config` attribute + `model_weights` group, Keras 2 or Keras 3 legacy).

An in-memory `keras.Model` is read through `get_config()` and `layer.get_weights()`.

The model config is first normalised into a small graph (`_Graph`: layers, their call nodes, inputs,
outputs), whatever its Keras version; then every layer call is converted by the function that the
dispatch table `_CONVERTERS` holds for its class. Nested models are inlined. Layers with a fused
`activation=` get a separate activation op named `<layer>_<activation>` (hls4ml's naming).
"""

from __future__ import annotations

import io
import json
import os
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from math import prod
from pathlib import Path
from typing import Any, Protocol, TypeVar

import h5py
import numpy as np
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.utils.exceptions import VerifyException

from nnhls.dialects import nn
from nnhls.dialects.kinds import ActivationKind, PoolOp
from nnhls.dialects.quant import AnyQuantizer, TernaryQuantizer, UniformQuantizer, exact_precision
from nnhls.dialects.quantizer_attr import QuantizerAttr
from nnhls.errors import ApproximationWarning, FrontendError, warn
from nnhls.frontends import bnn, hgq, qkeras
from nnhls.frontends.common import (
    ModelBuilder,
    ModelFileError,
    UnsupportedLayerError,
    check_module_sizes,
    same_pads,
)
from nnhls.frontends.keras_config import LayerConfig
from nnhls.frontends.quant_config import QuantizerConfigError
from nnhls.ops.embedding import EmbeddingOp
from nnhls.ops.layernorm import LayerNormOp
from nnhls.ops.quantize import QuantizeOp
from nnhls.ops.recurrent import RecurrentOp, keras_gate_params

Json = dict[str, Any]
TensorRef = tuple[str, int, int]
"""A Keras tensor: (producing layer name, node index, output index)."""

_MODEL_CLASSES = ("Sequential", "Functional", "Model")

MAX_MODEL_NESTING = 32
"""Deepest nesting of models inside models (a Sequential in a Functional in ...) nnhls reads."""

# ----- public entry point ---------------------------------------------------------------------------


def import_keras(
    model: Any, weights: str | os.PathLike[str] | None = None, name: str | None = None
) -> ModuleOp:
    """Import a Keras model (file path or in-memory `keras.Model`) as a module of `nn` ops.

    `weights` is the weights H5 when `model` is a model JSON. `name` overrides the function name
    (default: the model's name).
    """
    if isinstance(model, str | os.PathLike):
        source = _load_file(Path(model), None if weights is None else Path(weights))
    else:
        source = _load_in_memory(model)
    try:
        graph = _parse_model(source.config, source.default_name)
        return check_module_sizes(_Converter(source).convert(graph, name or graph.name))
    except FrontendError:
        raise
    except RecursionError:
        raise ModelFileError(source.config_label, "the model config is nested too deeply") from None
    except (KeyError, ValueError, IndexError, TypeError, AttributeError) as e:
        raise ModelFileError(source.config_label, f"malformed model config: {e!r}") from e


# ----- weight stores ----------------------------------------------------------------------------------


def import_keras_model(model: Any) -> ModuleOp:
    """`import_keras` for everything the converters accept: a model object, a `.keras` / full
    `.h5` / JSON path, or a `(json, weights_h5)` pair."""
    if isinstance(model, tuple | list) and len(model) == 2:  # pyright: ignore[reportUnknownArgumentType]
        return import_keras(model[0], weights=model[1])
    return import_keras(model)


class _WeightStore(Protocol):
    def get(self, names: tuple[str, ...], keys: tuple[str, ...]) -> list[np.ndarray] | None:
        """The weights of the layer at a path of layer names (or of Keras 3 saving keys)."""
        ...


@dataclass
class _DictStore:
    """Weights read from a file into memory, by layer-name path and (fallback) saving-key path."""

    by_name: dict[tuple[str, ...], list[np.ndarray]] = field(default_factory=dict)
    by_key: dict[tuple[str, ...], list[np.ndarray]] = field(default_factory=dict)
    legacy_nested: bool = False

    def get(self, names: tuple[str, ...], keys: tuple[str, ...]) -> list[np.ndarray] | None:
        if self.legacy_nested and len(names) > 1:
            # Legacy H5 keeps a nested model's weights under its top-level group, keyed here by
            # (top-level model, inner layer).
            names = (names[0], names[-1])
        found = self.by_name.get(names)
        return found if found is not None else self.by_key.get(keys)


class _EmptyStore:
    def get(self, names: tuple[str, ...], keys: tuple[str, ...]) -> list[np.ndarray] | None:
        return None


class _KerasObjectStore:
    """Weights of an in-memory Keras model, fetched from its layer objects."""

    def __init__(self, model: Any):
        self.model = model

    def get(self, names: tuple[str, ...], keys: tuple[str, ...]) -> list[np.ndarray] | None:
        layer = self.model
        try:
            for layer_name in names:
                layer = layer.get_layer(layer_name)
        except (ValueError, AttributeError):
            return None
        with warnings.catch_warnings():
            # Keras' own Variable.numpy() trips a NumPy 2 copy-keyword DeprecationWarning.
            warnings.simplefilter("ignore", DeprecationWarning)
            return [np.asarray(w) for w in layer.get_weights()]


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes | np.bytes_) else str(value)


def _h5_attr_list(group: h5py.Group, attr: str) -> list[str]:
    """A string-list attribute, including Keras 2's split `<attr>0`, `<attr>1`... chunks."""
    chunks: list[Any] = []
    if attr in group.attrs:
        chunks.append(group.attrs[attr])
    else:
        index = 0
        while f"{attr}{index}" in group.attrs:
            chunks.append(group.attrs[f"{attr}{index}"])
            index += 1
    return [_text(v) for chunk in chunks for v in np.atleast_1d(chunk)]


def _read_legacy_weights(root: h5py.Group) -> _DictStore:
    """Keras 2 / legacy H5 weights: `layer_names` on the root, `weight_names` per layer group."""
    store = _DictStore(legacy_nested=True)
    for layer_name in _h5_attr_list(root, "layer_names"):
        group = root[layer_name]
        assert isinstance(group, h5py.Group)
        arrays: list[np.ndarray] = []
        for weight_name in _h5_attr_list(group, "weight_names"):
            data = np.asarray(group[weight_name])
            arrays.append(data)
            # Weight names are "<layer>/<var>" (Keras 2) or "<model>/<layer>/<var>" (Keras 3
            # legacy); the component before the variable names the (possibly inner) layer.
            parts = weight_name.split("/")
            if len(parts) >= 2:
                store.by_name.setdefault((layer_name, parts[-2]), []).append(data)
        store.by_name[(layer_name,)] = arrays
    return store


def _vars(group: object) -> list[np.ndarray]:
    variables = group.get("vars") if isinstance(group, h5py.Group) else None
    if not isinstance(variables, h5py.Group):
        return []
    return [np.asarray(variables[str(i)]) for i in range(len(variables))]


def _recurrent_weights(group: h5py.Group) -> list[np.ndarray]:
    """The weights of a Keras 3 recurrent layer (`cell/vars`) or Bidirectional (forward then
    backward layer), [] for other layers."""
    cell = group.get("cell")
    if isinstance(cell, h5py.Group):
        return _vars(cell)
    forward, backward = group.get("forward_layer"), group.get("backward_layer")
    if isinstance(forward, h5py.Group) and isinstance(backward, h5py.Group):
        return _recurrent_weights(forward) + _recurrent_weights(backward)
    return []


def _read_keras3_weights(root: h5py.Group) -> _DictStore:
    """Keras 3 weights H5: `layers/<key>/vars/<i>`, the `vars` group naming its layer."""
    store = _DictStore()

    def walk(group: h5py.Group, names: tuple[str, ...], keys: tuple[str, ...]) -> None:
        for key, child in group.items():
            if not isinstance(child, h5py.Group):
                continue
            child_keys = (*keys, key)
            child_names = names
            variables = child.get("vars")
            # Recurrent layers keep their weights in their cell, Bidirectional in its two layers.
            cells = _recurrent_weights(child)
            if isinstance(variables, h5py.Group) and len(variables) == 0 and cells:
                store.by_key[child_keys] = cells
                if "name" in variables.attrs:
                    child_names = (*names, _text(variables.attrs["name"]))
                    store.by_name[child_names] = cells
                variables = None
            if isinstance(variables, h5py.Group):
                arrays = [np.asarray(variables[str(i)]) for i in range(len(variables))]
                store.by_key[child_keys] = arrays
                if "name" in variables.attrs:
                    child_names = (*names, _text(variables.attrs["name"]))
                    store.by_name[child_names] = arrays
            inner = child.get("layers")
            if isinstance(inner, h5py.Group):
                walk(inner, child_names, child_keys)

    layers = root.get("layers")
    if isinstance(layers, h5py.Group):
        walk(layers, (), ())
    return store


def _read_weights_h5(root: h5py.Group, label: Path) -> _DictStore:
    if "layer_names" in root.attrs or "layer_names0" in root.attrs:
        return _read_legacy_weights(root)
    model_weights = root.get("model_weights")
    if isinstance(model_weights, h5py.Group):
        return _read_legacy_weights(model_weights)
    if isinstance(root.get("layers"), h5py.Group) or isinstance(root.get("vars"), h5py.Group):
        return _read_keras3_weights(root)
    raise ModelFileError(label, "no Keras weights in this HDF5 file")


# ----- loading files and in-memory models --------------------------------------------------------------


@dataclass
class _Source:
    """A model config (`{"class_name", "config"}`) with its weights, whatever it was read from."""

    config: Json
    weights: _WeightStore
    legacy: bool
    """Keras 1/2 semantics (hard_sigmoid is 0.2 x + 0.5 there)."""
    default_name: str
    label: str
    """Where the weights come from, for error messages."""
    config_label: str
    """Where the model config comes from, for error messages."""


def _is_legacy_version(version: Any) -> bool:
    return isinstance(version, str | bytes) and _text(version).split(".")[0] in ("1", "2")


def _load_file(path: Path, weights: Path | None) -> _Source:
    if not path.is_file():
        raise ModelFileError(path, "no such file")
    if zipfile.is_zipfile(path):
        return _load_keras_archive(path)
    if h5py.is_hdf5(path):
        return _load_full_h5(path)
    return _load_json(path, weights)


def _parse_json(data: str | bytes, path: Path, what: str) -> Any:
    """JSON as the standard defines it: Python's NaN / Infinity extensions and nesting deeper
    than the parser's recursion limit are ModelFileErrors (json.JSONDecodeError stays one)."""

    def refuse(literal: str) -> Any:
        raise ModelFileError(path, f"{what} holds {literal}, which is not a JSON value (a non-finite float)")

    try:
        return json.loads(data, parse_constant=refuse)
    except RecursionError:
        raise ModelFileError(path, f"{what} is nested too deeply") from None


def _load_keras_archive(path: Path) -> _Source:
    """A Keras 3 `.keras` zip: config.json, metadata.json and model.weights.h5."""
    try:
        with zipfile.ZipFile(path) as archive:
            config = _parse_json(archive.read("config.json"), path, "config.json")
            names = archive.namelist()
            metadata = _parse_json(archive.read("metadata.json"), path, "metadata.json") if "metadata.json" in names else {}
            weights_bytes = (
                archive.read("model.weights.h5") if "model.weights.h5" in names else None
            )
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError, OSError) as e:
        raise ModelFileError(path, f"not a valid .keras archive ({e})") from e
    store: _WeightStore = _EmptyStore()
    if weights_bytes is not None:
        try:
            with h5py.File(io.BytesIO(weights_bytes), "r") as h5:
                store = _read_weights_h5(h5, path)
        except OSError as e:
            raise ModelFileError(path, f"model.weights.h5 is not readable ({e})") from e
    return _Source(
        _expect_model_config(config, path),
        store,
        _is_legacy_version(metadata.get("keras_version") if isinstance(metadata, dict) else None),
        path.stem,
        str(path),
        str(path),
    )


def _load_full_h5(path: Path) -> _Source:
    """A full-model `.h5`: the config in the `model_config` attribute, weights in `model_weights`."""
    try:
        with h5py.File(path, "r") as h5:
            if "model_config" not in h5.attrs:
                raise ModelFileError(
                    path,
                    "no 'model_config' attribute (a weights-only file? pass the model JSON as "
                    "the model and this file as weights)",
                )
            config = _parse_json(_text(h5.attrs["model_config"]), path, "the model_config attribute")
            version = h5.attrs.get("keras_version")
            store = _read_weights_h5(h5, path)
    except (OSError, KeyError, json.JSONDecodeError) as e:
        raise ModelFileError(path, f"not a readable Keras HDF5 model ({e})") from e
    return _Source(
        _expect_model_config(config, path),
        store,
        _is_legacy_version(version),
        path.stem,
        str(path),
        str(path),
    )


def _load_json(path: Path, weights: Path | None) -> _Source:
    """A model JSON (`to_json()`) with its weights H5 (`save_weights()`)."""
    try:
        config = _parse_json(path.read_text(encoding="utf-8"), path, "the model JSON")
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as e:
        raise ModelFileError(path, f"not a Keras model file: not JSON, HDF5 or zip ({e})") from e
    config = _expect_model_config(config, path)
    if weights is None:
        raise ModelFileError(path, "a model JSON needs its weights file (weights=...)")
    if not weights.is_file():
        raise ModelFileError(weights, "no such file")
    try:
        with h5py.File(weights, "r") as h5:
            store = _read_weights_h5(h5, weights)
            h5_version = h5.attrs.get("keras_version")
    except OSError as e:
        raise ModelFileError(weights, f"not a readable HDF5 weights file ({e})") from e
    version = config.get("keras_version", h5_version)
    return _Source(config, store, _is_legacy_version(version), path.stem, str(weights), str(path))


def _expect_model_config(config: Any, path: Path) -> Json:
    if not isinstance(config, dict) or "class_name" not in config or "config" not in config:
        raise ModelFileError(path, "no Keras model config (expected 'class_name' and 'config')")
    return config


def _load_in_memory(model: Any) -> _Source:
    """An in-memory `keras.Model`: its config and its layer objects' weights."""
    if not hasattr(model, "get_config") or not hasattr(model, "get_layer"):
        raise TypeError(
            f"import_keras expects a file path or a keras.Model, got {type(model).__name__}"
        )
    class_name = type(model).__name__
    try:
        config = model.get_config()
    except NotImplementedError:
        config = None
    except RecursionError:
        raise FrontendError(f"model '{getattr(model, 'name', '?')}' is nested too deeply to read its config") from None
    if not isinstance(config, dict) or "layers" not in config:
        raise UnsupportedLayerError(
            getattr(model, "name", "?"),
            class_name,
            SUPPORTED_LAYERS,
            "a subclassed model has no layer graph to import",
        )
    if class_name not in _MODEL_CLASSES:
        # keras.Model(inputs, outputs) builds a Functional; subclasses of it keep a graph too.
        class_name = "Sequential" if _is_sequential(model) else "Functional"
    wrapped = {"class_name": class_name, "config": config}
    label = f"<in-memory model '{model.name}'>"
    return _Source(wrapped, _KerasObjectStore(model), False, str(model.name), label, label)


def _is_sequential(model: Any) -> bool:
    return any(cls.__name__ == "Sequential" for cls in type(model).__mro__)


# ----- model config -> graph ----------------------------------------------------------------------------


@dataclass
class _LayerSpec:
    """One layer of a model graph and its calls (nodes), each a list of input tensors."""

    name: str
    class_name: str
    config: Json
    nodes: list[list[TensorRef]]
    key: str
    """Keras 3 weight-file key (`dense_1`...), only used when the file does not name layers."""


@dataclass
class _Graph:
    name: str
    layers: list[_LayerSpec]
    inputs: list[TensorRef]
    outputs: list[TensorRef]
    input_shapes: dict[str, tuple[int | None, ...]]


def _parse_model(model: Json, default_name: str) -> _Graph:
    class_name, config = model.get("class_name"), model.get("config")
    if class_name == "Sequential":
        return _parse_sequential(config, default_name)
    if class_name in ("Functional", "Model"):
        if not isinstance(config, dict):
            raise ValueError(f"Functional config must be a dict, got {type(config).__name__}")
        return _parse_functional(config, default_name)
    raise UnsupportedLayerError(
        str(config.get("name", default_name)) if isinstance(config, dict) else default_name,
        str(class_name),
        ["Sequential", "Functional", "Model"],
        "only Sequential and Functional models have a layer graph",
    )


def _layer_name(entry: Json) -> str:
    return str(entry.get("name") or entry.get("config", {}).get("name"))


def _batch_shape(config: Json) -> list[int | None] | None:
    """The batch-first input shape a layer config declares, if any."""
    for key in ("batch_shape", "batch_input_shape"):
        if config.get(key) is not None:
            return list(config[key])
    if config.get("input_shape") is not None:
        return [None, *config["input_shape"]]
    return None


def _snake_case(name: str) -> str:
    """Keras' `naming.to_snake_case`, for Keras 3 weight-file keys."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _saving_keys(class_names: Sequence[str]) -> list[str]:
    used: dict[str, int] = {}
    keys = []
    for class_name in class_names:
        base = _snake_case(class_name)
        if base in used:
            used[base] += 1
            keys.append(f"{base}_{used[base]}")
        else:
            used[base] = 0
            keys.append(base)
    return keys


def _parse_sequential(config: Any, default_name: str) -> _Graph:
    """A Sequential: a chain; config is a list of layers (Keras 2.0) or a dict with 'layers'."""
    if isinstance(config, list):
        entries, name, build_shape = config, default_name, None
    else:
        entries = list(config.get("layers", []))
        name = str(config.get("name", default_name))
        build_shape = config.get("build_input_shape")
    if not entries:
        raise ValueError(f"Sequential model '{name}' has no layers")
    first = entries[0]
    if first.get("class_name") == "InputLayer":
        input_name = _layer_name(first)
        shape = _batch_shape(first.get("config", {}))
        entries = entries[1:]
    else:
        # Keras names the implicit input after the first layer.
        input_name = f"{_layer_name(first)}_input"
        shape = _batch_shape(first.get("config", {})) or build_shape
    if shape is None:
        raise ValueError(f"Sequential model '{name}' does not declare its input shape")
    keys = _saving_keys([str(e.get("class_name")) for e in entries])
    layers: list[_LayerSpec] = []
    previous: TensorRef = (input_name, 0, 0)
    for entry, key in zip(entries, keys, strict=True):
        layer_name = _layer_name(entry)
        layers.append(
            _LayerSpec(
                layer_name, str(entry.get("class_name")), entry.get("config", {}), [[previous]], key
            )
        )
        previous = (layer_name, 0, 0)
    return _Graph(name, layers, [(input_name, 0, 0)], [previous], {input_name: tuple(shape[1:])})


def _tensor_refs(value: Any) -> Iterator[TensorRef]:
    """Keras 3 node arguments: every `__keras_tensor__` in (nested) lists and dicts."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            history = value["config"]["keras_history"]
            yield (str(history[0]), int(history[1]), int(history[2]))
            return
        for item in value.values():
            yield from _tensor_refs(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _tensor_refs(item)


def _parse_node(node: Any) -> list[TensorRef]:
    """One call of a layer: Keras 3 dict form or Keras 2 list of [layer, node, tensor, kwargs]."""
    if isinstance(node, dict):
        return list(_tensor_refs(node.get("args", [])))
    return [(str(item[0]), int(item[1]), int(item[2])) for item in node]


def _parse_refs(value: Any) -> list[TensorRef]:
    """Model inputs/outputs: one [name, node, tensor] triple or a list of them."""
    if not value:
        return []
    if isinstance(value, list | tuple) and isinstance(value[0], str):
        value = [value]
    return [(str(v[0]), int(v[1]), int(v[2])) for v in value]


def _parse_functional(config: Json, default_name: str) -> _Graph:
    entries = list(config.get("layers", []))
    keys = _saving_keys([str(e.get("class_name")) for e in entries])
    layers: list[_LayerSpec] = []
    input_shapes: dict[str, tuple[int | None, ...]] = {}
    for entry, key in zip(entries, keys, strict=True):
        layer_name = _layer_name(entry)
        layer_config = entry.get("config", {})
        if entry.get("class_name") == "InputLayer":
            shape = _batch_shape(layer_config)
            if shape is None:
                raise ValueError(f"input layer '{layer_name}' has no shape")
            input_shapes[layer_name] = tuple(shape[1:])
            continue
        nodes = [_parse_node(n) for n in entry.get("inbound_nodes", [])]
        layers.append(
            _LayerSpec(layer_name, str(entry.get("class_name")), layer_config, nodes, key)
        )
    return _Graph(
        str(config.get("name", default_name)),
        layers,
        _parse_refs(config.get("input_layers")),
        _parse_refs(config.get("output_layers")),
        input_shapes,
    )


# ----- conversion ----------------------------------------------------------------------------------------------


@dataclass
class _Ctx:
    """One layer call being converted: its spec, its op name and access to its weights."""

    converter: _Converter
    spec: _LayerSpec
    name: str
    names: tuple[str, ...]
    keys: tuple[str, ...]

    @property
    def cfg(self) -> Json:
        return self.spec.config

    @property
    def values(self) -> LayerConfig:
        """Strict accessors on the layer's config (one-line errors naming layer, key, value)."""
        return LayerConfig(self.spec.name, self.spec.class_name, self.spec.config)

    def unsupported(self, detail: str) -> UnsupportedLayerError:
        return UnsupportedLayerError(self.spec.name, self.spec.class_name, SUPPORTED_LAYERS, detail)

    def add(self, op: Operation) -> SSAValue:
        return self.converter.builder.add(op, self.spec.class_name)

    def add_results(self, op: Operation) -> list[SSAValue]:
        """Append an op with several results (a layer with several outputs)."""
        return self.converter.builder.add_results(op, self.spec.class_name)

    def weights(self, count: int) -> list[np.ndarray]:
        """The layer's weight arrays as float32, checking that there are `count` of them."""
        found = self.converter.source.weights.get(self.names, self.keys)
        if found is None:
            raise ModelFileError(
                self.converter.source.label, f"no weights for layer '{self.spec.name}'"
            )
        if len(found) != count:
            raise ModelFileError(
                self.converter.source.label,
                f"layer '{self.spec.name}' has {len(found)} weight arrays, expected {count}",
            )
        return [np.asarray(w, dtype=np.float32) for w in found]

    def sub_name(self, suffix: str) -> str:
        return self.converter.unique(f"{self.name}_{suffix}")

    def fused_activation(self, value: SSAValue) -> SSAValue:
        """The separate op of a fused `activation=` (none for linear)."""
        activation = self.cfg.get("activation")
        act_name = _activation_name(activation)
        if act_name in (None, "linear"):
            return value
        return _activation(self, value, act_name, self.sub_name(act_name))

    def one_input(self, inputs: list[SSAValue]) -> SSAValue:
        if len(inputs) != 1:
            raise self.unsupported(f"expects one input, got {len(inputs)}")
        return inputs[0]


Converter = Callable[[_Ctx, list[SSAValue]], SSAValue | list[SSAValue]]
"""A layer converter: the layer's output value, or one value per output of a multi-output layer."""
_Weighted = TypeVar("_Weighted", nn.DenseOp, nn.ConvBaseOp)


class _Converter:
    """Walks a model graph and emits one `nn` op (or a few) per layer call."""

    def __init__(self, source: _Source):
        self.source = source
        self.used: set[str] = set()
        self.reserved: set[str] = set()
        self.exact_weights = False
        self.builder: ModelBuilder

    def convert(self, graph: _Graph, name: str) -> ModuleOp:
        inputs = []
        for layer_name, _, _ in graph.inputs:
            shape = graph.input_shapes.get(layer_name)
            if shape is None:
                raise ValueError(f"model input '{layer_name}' is not an InputLayer")
            if any(d is None for d in shape):
                raise UnsupportedLayerError(
                    layer_name, "InputLayer", SUPPORTED_LAYERS, f"input shape {shape} is not fixed"
                )
            inputs.append((layer_name, [int(d) for d in shape if d is not None]))
        self.builder = ModelBuilder(name, inputs)
        self.used = {layer for layer, _ in inputs}
        self.reserved = {spec.name for spec in graph.layers}
        # An HGQ proxy model stores its weights already on their grids (no weight quantizers).
        self.exact_weights = any(spec.class_name == "FixedPointQuantizer" for spec in graph.layers)
        outputs = self.run_graph(graph, self.builder.inputs, (), ())
        try:
            return self.builder.finish(outputs)
        except VerifyException as e:
            raise ModelFileError(self.source.label, f"weights do not fit the model: {e}") from e

    def unique(self, base: str, scope: str | None = None) -> str:
        """An op name not used yet: `base`, else `<scope>_<base>`, else with a numeric suffix."""
        candidate = base
        if candidate in self.used or (scope is not None and candidate in self.reserved):
            candidate = f"{scope}_{base}" if scope is not None else base
        index = 1
        unique = candidate
        while unique in self.used:
            unique = f"{candidate}_{index}"
            index += 1
        self.used.add(unique)
        return unique

    def run_graph(
        self,
        graph: _Graph,
        inputs: Sequence[SSAValue],
        names: tuple[str, ...],
        keys: tuple[str, ...],
    ) -> list[SSAValue]:
        """Convert every layer call of `graph` fed with `inputs`; return its outputs in order."""
        if len(inputs) != len(graph.inputs):
            raise ValueError(
                f"model '{graph.name}' takes {len(graph.inputs)} inputs, got {len(inputs)}"
            )
        tensors: dict[TensorRef, SSAValue] = dict(zip(graph.inputs, inputs, strict=True))
        pending = [(spec, i, node) for spec in graph.layers for i, node in enumerate(spec.nodes)]
        # Configs list layers in call order almost always; loop until every call has its inputs.
        while pending:
            waiting = []
            for spec, index, node in pending:
                if not all(ref in tensors for ref in node):
                    waiting.append((spec, index, node))
                    continue
                results = self.convert_call(spec, index, [tensors[r] for r in node], names, keys)
                for out_index, value in enumerate(results):
                    tensors[(spec.name, index, out_index)] = value
            if len(waiting) == len(pending):
                missing = sorted({r[0] for _, _, node in waiting for r in node if r not in tensors})
                raise ValueError(f"model '{graph.name}': layers {missing} are never computed")
            pending = waiting
        missing = [ref[0] for ref in graph.outputs if ref not in tensors]
        if missing:
            raise ValueError(f"model '{graph.name}': outputs {missing} are never computed")
        return [tensors[ref] for ref in graph.outputs]

    def convert_call(
        self,
        spec: _LayerSpec,
        node_index: int,
        inputs: list[SSAValue],
        names: tuple[str, ...],
        keys: tuple[str, ...],
    ) -> list[SSAValue]:
        layer_names, layer_keys = (*names, spec.name), (*keys, spec.key)
        if spec.class_name in _MODEL_CLASSES:
            # A nested model: inline its graph, its layer names kept where they do not clash.
            if len(names) >= MAX_MODEL_NESTING:
                raise ModelFileError(
                    self.source.config_label,
                    f"model '{spec.name}' is nested more than {MAX_MODEL_NESTING} models deep",
                )
            inner = _parse_model({"class_name": spec.class_name, "config": spec.config}, spec.name)
            return self.run_graph(inner, inputs, layer_names, layer_keys)
        converter = _CONVERTERS.get(spec.class_name)
        if converter is None:
            raise UnsupportedLayerError(spec.name, spec.class_name, SUPPORTED_LAYERS)
        base = spec.name if node_index == 0 else f"{spec.name}_{node_index}"
        op_name = self.unique(base, names[-1] if names else None)
        ctx = _Ctx(self, spec, op_name, layer_names, layer_keys)
        outputs = converter(ctx, inputs)
        return outputs if isinstance(outputs, list) else [outputs]


# ----- activations --------------------------------------------------------------------------------------------------


def _activation_name(activation: Any) -> str | None:
    """The name of an `activation=` value: a string, or a Keras 3 serialised function."""
    if activation is None or isinstance(activation, str):
        return activation
    if isinstance(activation, dict):
        inner = activation.get("config")
        if isinstance(inner, str):
            return inner
        return str(activation.get("registered_name") or activation.get("class_name"))
    return str(activation)


_SIMPLE_ACTIVATIONS: dict[str, ActivationKind] = {
    "relu": ActivationKind.RELU,
    "relu6": ActivationKind.RELU6,
    "sigmoid": ActivationKind.SIGMOID,
    "tanh": ActivationKind.TANH,
    "hard_tanh": ActivationKind.HARD_TANH,
    "softplus": ActivationKind.SOFTPLUS,
    "softsign": ActivationKind.SOFTSIGN,
    "selu": ActivationKind.SELU,
    "swish": ActivationKind.SWISH,
    "silu": ActivationKind.SWISH,
    "gelu": ActivationKind.GELU,
}
_SUPPORTED_ACTIVATIONS = sorted(
    [
        *_SIMPLE_ACTIVATIONS,
        "linear",
        "softmax",
        "elu",
        "leaky_relu",
        "hard_sigmoid",
        *bnn.ACTIVATIONS,
    ]
)


def _activation(ctx: _Ctx, value: SSAValue, activation: str, op_name: str) -> SSAValue:
    """One activation function by its Keras name, as an `nn.activation` or `nn.softmax`."""
    if activation == "linear":
        return ctx.add(nn.ActivationOp(value, ActivationKind.LINEAR, op_name))
    if activation == "softmax":
        return ctx.add(nn.SoftmaxOp(value, op_name))
    kind = _SIMPLE_ACTIVATIONS.get(activation)
    if kind is not None:
        return ctx.add(nn.ActivationOp(value, kind, op_name))
    if activation == "elu":
        return ctx.add(nn.ActivationOp(value, ActivationKind.ELU, op_name, alpha=1.0))
    if activation == "leaky_relu":
        # keras.activations.leaky_relu's default slope.
        return ctx.add(nn.ActivationOp(value, ActivationKind.LEAKY_RELU, op_name, alpha=0.2))
    if activation in bnn.ACTIVATIONS:
        return _binary_activation(ctx, value, activation, op_name)
    if activation == "hard_sigmoid":
        # Keras 2: clip(0.2 x + 0.5); Keras 3: relu6(x + 3) / 6.
        slope = 0.2 if ctx.converter.source.legacy else 1.0 / 6.0
        return ctx.add(
            nn.ActivationOp(value, ActivationKind.HARD_SIGMOID, op_name, alpha=slope, beta=0.5)
        )
    raise ctx.unsupported(
        f"activation '{activation}' is not supported; supported activations: "
        + ", ".join(_SUPPORTED_ACTIVATIONS)
    )


def _convert_activation(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    name = _activation_name(ctx.cfg.get("activation")) or "linear"
    return _activation(ctx, ctx.one_input(inputs), name, ctx.name)


def _convert_relu(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    x = ctx.one_input(inputs)
    max_value = ctx.values.optional_float("max_value")
    slope = ctx.values.float("negative_slope", 0.0, none_is_default=True)
    if ctx.values.float("threshold", 0.0, none_is_default=True) != 0.0:
        raise ctx.unsupported("ReLU with a non-zero threshold")
    if slope != 0.0:
        if max_value is not None:
            raise ctx.unsupported("ReLU with both max_value and negative_slope")
        return ctx.add(nn.ActivationOp(x, ActivationKind.LEAKY_RELU, ctx.name, alpha=slope))
    if max_value is None:
        return ctx.add(nn.ActivationOp(x, ActivationKind.RELU, ctx.name))
    if max_value == 6.0:
        return ctx.add(nn.ActivationOp(x, ActivationKind.RELU6, ctx.name))
    return ctx.add(
        nn.ActivationOp(x, ActivationKind.CLIP, ctx.name, alpha=0.0, beta=max_value)
    )


def _convert_leaky_relu(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    # Keras 2 calls the slope `alpha`, Keras 3 `negative_slope`; both default to 0.3.
    key = "negative_slope" if "negative_slope" in ctx.cfg else "alpha"
    slope = ctx.values.float(key, 0.3)
    return ctx.add(
        nn.ActivationOp(
            ctx.one_input(inputs), ActivationKind.LEAKY_RELU, ctx.name, alpha=slope
        )
    )


def _convert_elu(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    alpha = ctx.values.float("alpha", 1.0)
    return ctx.add(
        nn.ActivationOp(ctx.one_input(inputs), ActivationKind.ELU, ctx.name, alpha=alpha)
    )


def _convert_thresholded_relu(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    theta = ctx.values.float("theta", 1.0)
    return ctx.add(
        nn.ActivationOp(
            ctx.one_input(inputs), ActivationKind.THRESHOLDED_RELU, ctx.name, alpha=theta
        )
    )


def _convert_prelu(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    x = ctx.one_input(inputs)
    (alpha,) = ctx.weights(1)
    channels = nn.shape_of(x)[-1]
    # nn.activation prelu takes one slope per channel: alpha must not vary along other axes.
    flat = alpha.reshape(-1, alpha.shape[-1]) if alpha.ndim else alpha.reshape(1, 1)
    if flat.shape[-1] not in (1, channels) or not np.all(flat == flat[0:1]):
        raise ctx.unsupported(
            f"PReLU slopes of shape {alpha.shape} vary along non-channel axes; only per-channel "
            "slopes (shared_axes over all spatial axes) are supported"
        )
    param = np.broadcast_to(flat[0], (channels,)).astype(np.float32)
    return ctx.add(nn.ActivationOp(x, ActivationKind.PRELU, ctx.name, param=param))


def _convert_softmax(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    x = ctx.one_input(inputs)
    axis = ctx.cfg.get("axis", -1)
    axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
    if axis not in (-1, len(nn.shape_of(x))):
        raise ctx.unsupported(f"softmax over axis {axis}; only the last axis is supported")
    return ctx.add(nn.SoftmaxOp(x, ctx.name))


# ----- dense, convolutions, pooling, normalisation ---------------------------------------------------------


def _check_channels_last(ctx: _Ctx) -> None:
    data_format = ctx.cfg.get("data_format") or "channels_last"
    if data_format != "channels_last":
        raise ctx.unsupported(f"data_format '{data_format}'; only channels_last is supported")


def _tuple(value: Any, rank: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * rank
    values = tuple(int(v) for v in value)
    return values * rank if len(values) == 1 and rank > 1 else values


def _window_pads(
    ctx: _Ctx,
    in_shape: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
) -> list[int]:
    padding = str(ctx.cfg.get("padding", "valid")).lower()
    rank = len(kernel)
    if padding == "valid":
        return [0] * (2 * rank)
    if padding == "same":
        return [
            p
            for a in range(rank)
            for p in same_pads(in_shape[a], kernel[a], strides[a], dilations[a])
        ]
    if padding == "causal" and rank == 1:
        return [dilations[0] * (kernel[0] - 1), 0]
    raise ctx.unsupported(f"padding '{padding}'")


def _convert_dense(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    x = ctx.one_input(inputs)
    use_bias = ctx.values.bool("use_bias", True)
    arrays = ctx.weights(2 if use_bias else 1)
    kernel, kernel_q = _weight_constant(ctx, "kernel_quantizer", arrays[0])
    if kernel.ndim != 2:
        raise ctx.values.error(f"the kernel has shape {kernel.shape}, not (inputs, units)")
    if "units" in ctx.cfg:
        units = ctx.values.int("units", minimum=1)
        ctx.values.agrees("units", units, kernel.shape[1], f"a kernel of shape {kernel.shape}")
    bias, bias_q = _bias_constant(ctx, arrays[1] if use_bias else None)
    op = _with_quantizers(nn.DenseOp(x, kernel, bias, ctx.name), kernel_q, bias_q)
    return _layer_activation(ctx, ctx.add(op))


def _bias_constant(
    ctx: _Ctx, values: np.ndarray | None
) -> tuple[np.ndarray | None, QuantizerAttr | None]:
    return (None, None) if values is None else _weight_constant(ctx, "bias_quantizer", values)


_CONV_OPS: dict[tuple[int, bool], Callable[..., nn.ConvBaseOp]] = {
    (1, False): nn.Conv1DOp,
    (2, False): nn.Conv2DOp,
    (1, True): nn.DepthwiseConv1DOp,
    (2, True): nn.DepthwiseConv2DOp,
}


def _conv_geometry(
    ctx: _Ctx, x: SSAValue, kernel: Sequence[int], rank: int
) -> tuple[list[int], list[int], list[int]]:
    """Strides, dilations and explicit pads of a convolution layer."""
    _check_channels_last(ctx)
    if ctx.values.int("groups", 1, minimum=1) != 1:
        raise ctx.unsupported("grouped convolution (groups > 1)")
    if "kernel_size" in ctx.cfg:
        declared = ctx.values.ints("kernel_size", None, rank)
        if declared != tuple(kernel):
            raise ctx.values.error(f"kernel_size={list(declared)} disagrees with its weights (kernel {list(kernel)})")
    strides = list(ctx.values.ints("strides", 1, rank))
    dilations = list(ctx.values.ints("dilation_rate", 1, rank))
    pads = _window_pads(ctx, nn.shape_of(x)[:rank], kernel, strides, dilations)
    return strides, dilations, pads


def _spatial_rank(ctx: _Ctx, x: SSAValue, rank: int) -> None:
    if len(nn.shape_of(x)) != rank + 1:
        raise ctx.unsupported(
            f"expects {rank} spatial axes and channels, got input {nn.shape_of(x)}"
        )


def _make_conv(rank: int, depthwise: bool) -> Converter:
    def convert(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
        x = ctx.one_input(inputs)
        _spatial_rank(ctx, x, rank)
        use_bias = ctx.values.bool("use_bias", True)
        arrays = ctx.weights(2 if use_bias else 1)
        key = "depthwise_quantizer" if depthwise else "kernel_quantizer"
        kernel, kernel_q = _weight_constant(ctx, key, arrays[0])
        if kernel.ndim != rank + 2:
            raise ctx.values.error(f"the kernel has shape {kernel.shape}, not {rank} spatial axes, channels, filters")
        size_key = "depth_multiplier" if depthwise else "filters"
        if size_key in ctx.cfg:
            declared = ctx.values.int(size_key, minimum=1)
            ctx.values.agrees(size_key, declared, kernel.shape[-1], f"a kernel of shape {kernel.shape}")
        strides, dilations, pads = _conv_geometry(ctx, x, kernel.shape[:rank], rank)
        bias, bias_q = _bias_constant(ctx, arrays[1] if use_bias else None)
        op = _CONV_OPS[(rank, depthwise)](x, kernel, bias, ctx.name, strides, dilations, pads)
        return _layer_activation(ctx, ctx.add(_with_quantizers(op, kernel_q, bias_q)))

    return convert


def _make_separable(rank: int) -> Converter:
    """SeparableConv: a depthwise op `<layer>_depthwise`, then a 1x1 conv `<layer>_pointwise`."""

    def convert(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
        x = ctx.one_input(inputs)
        _spatial_rank(ctx, x, rank)
        use_bias = ctx.values.bool("use_bias", True)
        arrays = ctx.weights(3 if use_bias else 2)
        depthwise, depthwise_q = _weight_constant(ctx, "depthwise_quantizer", arrays[0])
        pointwise, pointwise_q = _weight_constant(ctx, "pointwise_quantizer", arrays[1])
        if depthwise.ndim != rank + 2 or pointwise.ndim != rank + 2:
            raise ctx.values.error(f"kernels of shapes {depthwise.shape} and {pointwise.shape} do not fit a {rank}-D layer")
        for key, array in (("depth_multiplier", depthwise), ("filters", pointwise)):
            if key in ctx.cfg:
                declared = ctx.values.int(key, minimum=1)
                ctx.values.agrees(key, declared, array.shape[-1], f"a kernel of shape {array.shape}")
        strides, dilations, pads = _conv_geometry(ctx, x, depthwise.shape[:rank], rank)
        dw_op = _CONV_OPS[(rank, True)](
            x, depthwise, None, ctx.sub_name("depthwise"), strides, dilations, pads
        )
        mid = ctx.add(_with_quantizers(dw_op, depthwise_q, None))
        bias, bias_q = _bias_constant(ctx, arrays[2] if use_bias else None)
        ones = [1] * rank
        pw_op = _CONV_OPS[(rank, False)](
            mid, pointwise, bias, ctx.sub_name("pointwise"), ones, ones, [0] * (2 * rank)
        )
        return _layer_activation(ctx, ctx.add(_with_quantizers(pw_op, pointwise_q, bias_q)))

    return convert


def _make_pool(rank: int, op: PoolOp) -> Converter:
    def convert(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
        x = ctx.one_input(inputs)
        _spatial_rank(ctx, x, rank)
        _check_channels_last(ctx)
        size = list(ctx.values.ints("pool_size", 2, rank))
        raw_strides = ctx.cfg.get("strides")
        strides = size if raw_strides is None else list(ctx.values.ints("strides", None, rank))
        pads = _window_pads(ctx, nn.shape_of(x)[:rank], size, strides, [1] * rank)
        # Keras 'same' average pooling divides by the number of real (unpadded) inputs.
        return ctx.add(nn.PoolingOp(x, op, ctx.name, size, strides, pads, count_pad=False))

    return convert


def _make_global_pool(rank: int, op: PoolOp) -> Converter:
    def convert(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
        x = ctx.one_input(inputs)
        _spatial_rank(ctx, x, rank)
        _check_channels_last(ctx)
        pooled = ctx.add(nn.GlobalPoolOp(x, op, ctx.name))
        if not ctx.cfg.get("keepdims", False):
            return pooled
        shape = [1] * rank + [nn.shape_of(x)[-1]]
        return ctx.add(nn.ReshapeOp(pooled, shape, ctx.sub_name("keepdims")))

    return convert


def _convert_batchnorm(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    """Fold the moments: scale = gamma / sqrt(var + eps), bias = beta - mean * scale."""
    x = ctx.one_input(inputs)
    rank = len(nn.shape_of(x))
    axis = ctx.cfg.get("axis", -1)
    axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
    if axis not in (-1, rank):
        raise ctx.unsupported(
            f"normalisation over axis {axis}; only the last (channel) axis is supported"
        )
    center, scale = ctx.values.bool("center", True), ctx.values.bool("scale", True)
    arrays = [w.astype(np.float64) for w in ctx.weights(2 + int(center) + int(scale))]
    channels = nn.shape_of(x)[-1]
    gamma = _qkeras_values(ctx, "gamma_quantizer", arrays.pop(0)) if scale else np.ones(channels)
    beta = _qkeras_values(ctx, "beta_quantizer", arrays.pop(0)) if center else np.zeros(channels)
    mean = _qkeras_values(ctx, "mean_quantizer", arrays[0])
    variance = _qkeras_values(ctx, "variance_quantizer", arrays[1])
    epsilon = ctx.values.float("epsilon", 1e-3)
    if epsilon < 0:
        raise ctx.values.error(f"epsilon={epsilon} must not be negative")
    factor = gamma / np.sqrt(variance + epsilon)
    bias = beta - mean * factor
    return ctx.add(nn.BatchNormOp(x, factor.astype(np.float32), bias.astype(np.float32), ctx.name))


# ----- quantization-aware layers (QKeras, HGQ proxies, old binary / ternary nets) ----------------------


def _where(ctx: _Ctx, key: str) -> str:
    return f"layer '{ctx.spec.name}' ({ctx.spec.class_name}) {key}".rstrip()


def _qkeras_quantizer(ctx: _Ctx, key: str) -> qkeras.QKerasQuantizer | None:
    try:
        return qkeras.read_quantizer(ctx.cfg.get(key), _where(ctx, key))
    except QuantizerConfigError as e:
        raise ctx.unsupported(str(e)) from None


def _qkeras_values(ctx: _Ctx, key: str, values: np.ndarray) -> np.ndarray:
    """A constant as the layer uses it: through its QKeras quantizer when it has one."""
    q = _qkeras_quantizer(ctx, key)
    return values if q is None else q.quantize(values)


def _values_quantizer(values: np.ndarray) -> AnyQuantizer | None:
    """The grid of constants that are already quantized (HGQ proxies): their exact type."""
    p = exact_precision(values)
    if p is None:
        return None
    return UniformQuantizer.make(p.width, p.signed, 2.0**-p.fractional)


def _ternary_from_values(values: np.ndarray) -> TernaryQuantizer:
    """A ternary quantizer reproducing weights that are already ternary with per-channel scales."""
    magnitude = np.abs(values).reshape(-1, values.shape[-1]).max(axis=0).astype(np.float64)
    scale = np.where(magnitude > 0, magnitude, 1.0)
    return TernaryQuantizer(float(scale.min()) / 2, scale)


def _scaled(q: AnyQuantizer, alpha: np.ndarray | None) -> AnyQuantizer:
    """A uniform grid times QKeras's alpha multiplier (a scale of the quantizer)."""
    if alpha is None or not isinstance(q, UniformQuantizer):
        return q
    return UniformQuantizer.make(
        q.bits, q.signed, q.scale * alpha, q.zero_point, q.narrow, q.rounding, q.overflow
    )


def _weight_constant(
    ctx: _Ctx, key: str, values: np.ndarray
) -> tuple[np.ndarray, QuantizerAttr | None]:
    """A kernel or bias as the framework computes with it, and the quantizer it went through.

    QKeras layers name their quantizers in the config (`kernel_quantizer`...); BinaryDense and
    TernaryDense binarize / ternarize their kernel; an HGQ proxy's constants are already on their
    grid, whose exact type the quantizer records. A QKeras alpha multiplier is part of the quantizer
    (a scale that may not be a power of two; quantization inference splits it off).
    """
    where = _where(ctx, key)
    if ctx.spec.class_name in bnn.BINARY_LAYERS and key == "kernel_quantizer":
        try:
            binary = bnn.kernel_quantizer(ctx.spec.class_name, ctx.cfg, where)
        except QuantizerConfigError as e:
            raise ctx.unsupported(str(e)) from None
        return binary(values).astype(np.float32), QuantizerAttr.from_quantizer(binary)
    q = _qkeras_quantizer(ctx, key)
    if q is None:
        if not ctx.converter.exact_weights:
            return values, None
        grid = _values_quantizer(values)
        return values, None if grid is None else QuantizerAttr.from_quantizer(grid)
    quantized = q.quantize(values).astype(np.float32)
    if isinstance(q, qkeras.Ternary) and q.data_dependent:
        return quantized, QuantizerAttr.from_quantizer(_ternary_from_values(quantized))
    generic = _scaled(q.generic(values), q.post_scale())
    return quantized, QuantizerAttr.from_quantizer(generic)


def _with_quantizers(
    op: _Weighted, weight: QuantizerAttr | None, bias: QuantizerAttr | None
) -> _Weighted:
    if weight is not None:
        op.properties["weight_quantizer"] = weight
    if bias is not None and op.bias is not None:
        op.properties["bias_quantizer"] = bias
    return op


_PRE_ACTIVATIONS: dict[str, tuple[ActivationKind, dict[str, float]]] = {
    # QKeras's own hard sigmoid is clip(0.5 x + 0.5, 0, 1); its hard tanh clip(x, -1, 1).
    "hard_sigmoid": (ActivationKind.HARD_SIGMOID, {"alpha": 0.5, "beta": 0.5}),
    "hard_tanh": (ActivationKind.HARD_TANH, {}),
    "sigmoid": (ActivationKind.SIGMOID, {}),
    "tanh": (ActivationKind.TANH, {}),
}


def _quantizer_activation(
    ctx: _Ctx, value: SSAValue, q: qkeras.QKerasQuantizer, op_name: str
) -> SSAValue:
    """A QKeras quantizer used as an activation: its float function, then `nn.quantize`."""
    if q.data_dependent:
        raise ctx.unsupported(f"{q.name} with alpha='{q['alpha']}' depends on its input's values")
    pre = q.activation
    if isinstance(q, qkeras.QuantizedRelu) and q.slope:
        return _leaky_quantized_relu(ctx, value, q, op_name)
    if pre is not None:
        kind, params = _PRE_ACTIVATIONS[pre]
        if kind in (ActivationKind.SIGMOID, ActivationKind.TANH):
            warn(
                f"layer '{ctx.spec.name}': {q.name} applies the real {pre}, computed from a table "
                "before quantizing: not bit-exact near quantization steps",
                ApproximationWarning,
            )
        value = ctx.add(
            nn.ActivationOp(
                value, kind, ctx.sub_name(pre), alpha=params.get("alpha"), beta=params.get("beta")
            )
        )
    generic = _scaled(q.generic(), q.post_scale())
    return ctx.add(QuantizeOp(value, QuantizerAttr.from_quantizer(generic), op_name))


def _leaky_quantized_relu(
    ctx: _Ctx, value: SSAValue, q: qkeras.QuantizedRelu, op_name: str
) -> SSAValue:
    """quantized_relu with a (power-of-two) negative_slope: QKeras rounds relu(x) / step and
    slope * x / step half to even, codes in [-slope * m, m - 1] (m = 2**(bits - 1)). That is
    leaky_relu(slope) (exact), a signed `bits`-wide quantizer on step (codes in [-m, m - 1]), then a
    clip of the low side at -slope * m * step (a bound on or below the grid: clip and rounding
    commute)."""
    m = 2.0 ** (int(q["bits"]) - 1)
    leaky = ctx.add(
        nn.ActivationOp(value, ActivationKind.LEAKY_RELU, ctx.sub_name("leaky_relu"), alpha=q.slope)
    )
    grid = UniformQuantizer.make(q["bits"], True, q.step)
    codes = ctx.add(
        QuantizeOp(leaky, QuantizerAttr.from_quantizer(grid), ctx.sub_name("quantize"))
    )
    low, high = -q.slope * m * q.step, (m - 1) * q.step
    return ctx.add(nn.ActivationOp(codes, ActivationKind.CLIP, op_name, alpha=low, beta=high))


def _activation_quantizer(ctx: _Ctx, spec: Any, key: str) -> qkeras.QKerasQuantizer | None:
    """The QKeras quantizer an `activation=` names, None for a plain Keras activation."""
    if isinstance(spec, dict):
        name = str(spec.get("class_name", ""))
    elif isinstance(spec, str):
        name = spec.split("(")[0].strip()
    else:
        return None
    if name not in qkeras.SUPPORTED_QUANTIZERS and not (isinstance(spec, str) and "(" in spec):
        return None
    try:
        return qkeras.read_quantizer(spec, _where(ctx, key))
    except QuantizerConfigError as e:
        raise ctx.unsupported(str(e)) from None


def _layer_activation(ctx: _Ctx, value: SSAValue) -> SSAValue:
    """A layer's fused `activation=`: a Keras activation, or a QKeras quantizer (Q layers)."""
    q = _activation_quantizer(ctx, ctx.cfg.get("activation"), "activation")
    if q is None:
        return ctx.fused_activation(value)
    return _quantizer_activation(ctx, value, q, ctx.sub_name(q.name))


def _convert_qactivation(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    x = ctx.one_input(inputs)
    spec = ctx.cfg.get("activation")
    q = _activation_quantizer(ctx, spec, "activation")
    if q is None:
        return _activation(ctx, x, _activation_name(spec) or "linear", ctx.name)
    return _quantizer_activation(ctx, x, q, ctx.name)


def _make_qaverage_pooling(rank: int) -> Converter:
    """QAveragePooling: the window sum times the quantized 1 / area, then its activation."""
    pool = _make_pool(rank, PoolOp.AVERAGE)

    def convert(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
        value = pool(ctx, inputs)
        assert isinstance(value, SSAValue)  # a pooling has one output
        q = _qkeras_quantizer(ctx, "average_quantizer")
        if q is not None:
            area = prod(_tuple(ctx.cfg.get("pool_size", 2), rank))
            factor = float(q.quantize(np.float32(1.0 / area))) * area
            if factor != 1.0:
                channels = nn.shape_of(value)[-1]
                scale = np.full(channels, factor, np.float32)
                zeros = np.zeros(channels, np.float32)
                value = ctx.add(nn.BatchNormOp(value, scale, zeros, ctx.sub_name("average_scale")))
        return _layer_activation(ctx, value)

    return convert


def _convert_fixed_point_quantizer(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    """HGQ's FixedPointQuantizer: per-tensor, per-channel or per-element fixed-point types."""
    x = ctx.one_input(inputs)
    arrays = ctx.converter.source.weights.get(ctx.names, ctx.keys)
    if arrays is None:
        raise ModelFileError(ctx.converter.source.label, f"no weights for layer '{ctx.spec.name}'")
    try:
        q = hgq.read_fixed_point_quantizer(
            ctx.cfg, [np.asarray(a) for a in arrays], _where(ctx, "")
        )
    except QuantizerConfigError as e:
        raise ctx.unsupported(str(e)) from None
    return ctx.add(QuantizeOp(x, QuantizerAttr.from_quantizer(q), ctx.name))


def _binary_activation(ctx: _Ctx, value: SSAValue, name: str, op_name: str) -> SSAValue:
    """binary_tanh / ternary_tanh (quantizers) and relu1 (a clip) of the old BNN code base."""
    q = bnn.activation_quantizer(name)
    if q is not None:
        return ctx.add(QuantizeOp(value, QuantizerAttr.from_quantizer(q), op_name))
    return ctx.add(nn.ActivationOp(value, ActivationKind.CLIP, op_name, alpha=0.0, beta=1.0))


# ----- merges ------------------------------------------------------------------------------------------------


def _make_merge(
    op_class: Callable[[Sequence[SSAValue], str], Operation], exactly_two: bool = False
) -> Converter:
    def convert(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
        if len(inputs) < 2 or (exactly_two and len(inputs) != 2):
            raise ctx.unsupported(f"got {len(inputs)} inputs")
        shapes = {nn.shape_of(v) for v in inputs}
        if len(shapes) != 1:
            raise ctx.unsupported(f"inputs of different shapes {sorted(shapes)} (broadcasting)")
        return ctx.add(op_class(inputs, ctx.name))

    return convert


def _convert_concatenate(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    if len(inputs) < 2:
        raise ctx.unsupported(f"got {len(inputs)} inputs")
    rank = len(nn.shape_of(inputs[0]))
    axis = ctx.values.int("axis", -1)
    # Keras counts the batch axis; nn axes are per sample.
    per_sample = rank + axis if axis < 0 else axis - 1
    if not 0 <= per_sample < rank:
        raise ctx.unsupported(f"concatenation along axis {axis} (the batch axis)")
    return ctx.add(nn.ConcatOp(inputs, per_sample, ctx.name))


def _convert_dot(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    if len(inputs) != 2:
        raise ctx.unsupported(f"got {len(inputs)} inputs")
    lhs, rhs = inputs
    if len(nn.shape_of(lhs)) != 1 or nn.shape_of(lhs) != nn.shape_of(rhs):
        raise ctx.unsupported(
            f"only the dot product of two vectors of one length, got {nn.shape_of(lhs)} and {nn.shape_of(rhs)}"
        )
    axes = ctx.cfg.get("axes", -1)
    if any(a not in (-1, 1) for a in _tuple(axes, 2)):
        raise ctx.unsupported(f"axes {axes}")
    if ctx.cfg.get("normalize", False):
        raise ctx.unsupported("normalize=True (cosine proximity)")
    return ctx.add(nn.DotOp(lhs, rhs, ctx.name))


# ----- shape layers ------------------------------------------------------------------------------------------


def _convert_flatten(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    x = ctx.one_input(inputs)
    if len(nn.shape_of(x)) > 1:
        _check_channels_last(ctx)
    return ctx.add(nn.FlattenOp(x, ctx.name))


def _convert_reshape(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    x = ctx.one_input(inputs)
    target = ctx.values.int_list("target_shape", minimum=-1)
    size = prod(nn.shape_of(x))
    if target.count(-1) == 1:
        known = prod(d for d in target if d != -1)
        target[target.index(-1)] = size // known if known else 0
    if prod(target) != size or min(target) < 1:
        raise ctx.unsupported(f"cannot reshape {nn.shape_of(x)} into {ctx.cfg['target_shape']}")
    return ctx.add(nn.ReshapeOp(x, target, ctx.name))


def _convert_permute(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    # Keras dims are 1-based and exclude the batch axis.
    x = ctx.one_input(inputs)
    rank = len(nn.shape_of(x))
    dims = ctx.values.int_list("dims")
    if sorted(dims) != list(range(1, rank + 1)):
        raise ctx.values.error(f"dims={list(dims)} is not a permutation of 1..{rank}")
    return ctx.add(nn.TransposeOp(x, [d - 1 for d in dims], ctx.name))


def _make_pad(rank: int) -> Converter:
    def convert(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
        x = ctx.one_input(inputs)
        _spatial_rank(ctx, x, rank)
        _check_channels_last(ctx)
        pads = ctx.values.pairs("padding", 1, rank)
        return ctx.add(nn.PadOp(x, pads, ctx.name))

    return convert


def _make_crop(rank: int) -> Converter:
    def convert(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
        x = ctx.one_input(inputs)
        _spatial_rank(ctx, x, rank)
        _check_channels_last(ctx)
        crops = ctx.values.pairs("cropping", 1, rank)
        return ctx.add(nn.CropOp(x, crops, ctx.name))

    return convert


def _make_upsample(rank: int) -> Converter:
    def convert(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
        x = ctx.one_input(inputs)
        _spatial_rank(ctx, x, rank)
        _check_channels_last(ctx)
        interpolation = ctx.cfg.get("interpolation", "nearest")
        if interpolation != "nearest":
            raise ctx.unsupported(f"interpolation '{interpolation}'; only nearest is supported")
        factors = list(ctx.values.ints("size", 2, rank))
        return ctx.add(nn.UpsampleOp(x, factors, ctx.name))

    return convert


def _remove(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    """Training-only layers (dropout, noise, regularisation) are the identity at inference."""
    return ctx.one_input(inputs)


# ----- recurrent layers ----------------------------------------------------------------------------------------

_RECURRENT_CELLS: dict[str, str] = {"SimpleRNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru"}
_GATE_ACTIVATIONS: dict[str, ActivationKind] = {
    "tanh": ActivationKind.TANH,
    "sigmoid": ActivationKind.SIGMOID,
    "hard_sigmoid": ActivationKind.HARD_SIGMOID,
    "softsign": ActivationKind.SOFTSIGN,
    "hard_tanh": ActivationKind.HARD_TANH,
    "relu": ActivationKind.RELU,
    "linear": ActivationKind.LINEAR,
}


def _gate(ctx: _Ctx, cfg: Json, key: str, default: str) -> tuple[ActivationKind, float | None, float | None]:
    """A recurrent layer's activation or recurrent_activation as a gate kind and its parameters."""
    name = _activation_name(cfg.get(key, default)) or "linear"
    kind = _GATE_ACTIVATIONS.get(name)
    if kind is None:
        raise ctx.unsupported(f"{key} '{name}' is not supported in a recurrent layer; supported: {', '.join(sorted(_GATE_ACTIVATIONS))}")
    alpha, beta = keras_gate_params(kind, ctx.converter.source.legacy)
    return kind, alpha, beta


def _masking(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    raise ctx.unsupported("masking is not supported: recurrent layers run every time step")


def _weight_count(cfg: Json) -> int:
    return 3 if cfg.get("use_bias", True) else 2


def _recurrent_op(
    ctx: _Ctx, x: SSAValue, class_name: str, cfg: Json, arrays: list[np.ndarray], name: str,
    aligned: bool = False, final_cell: bool = False,
) -> RecurrentOp:  # fmt: skip
    """One SimpleRNN / LSTM / GRU layer (its config and weight arrays) as an nn.recurrent op."""
    cell = _RECURRENT_CELLS.get(class_name)
    if cell is None:
        raise ctx.unsupported(f"wraps a {class_name}; supported: {', '.join(_RECURRENT_CELLS)}")
    for option, what in (
        ("stateful", "a state kept across batches"),
        ("time_major", "time-major inputs"),
    ):
        if cfg.get(option):
            raise ctx.unsupported(f"option {option}=True ({what}) is not supported")
    shape = nn.shape_of(x)
    if len(shape) != 2:
        raise ctx.unsupported(f"expects a (time, features) input, got shape {shape}")
    kernel, recurrent = arrays[0], arrays[1]
    width = recurrent.shape[-1]
    bias = arrays[2] if len(arrays) > 2 else np.zeros(width, np.float32)
    reset_after = cell == "gru" and bool(cfg.get("reset_after", True))
    if bias.ndim == 2:  # GRU with reset_after: (input bias, recurrent bias)
        bias, recurrent_bias = bias[0], bias[1]
    else:
        recurrent_bias = np.zeros(width, np.float32)
    act, alpha, beta = _gate(ctx, cfg, "activation", "tanh")
    ract, r_alpha, r_beta = _gate(ctx, cfg, "recurrent_activation", "sigmoid") if cell != "simple_rnn" else (ActivationKind.LINEAR, None, None)
    return RecurrentOp(
        x, cell, kernel, recurrent, bias, recurrent_bias, name,
        activation=act, recurrent_activation=ract,
        return_sequences=bool(cfg.get("return_sequences", False)),
        go_backwards=bool(cfg.get("go_backwards", False)), aligned_outputs=aligned,
        reset_after=reset_after, final_cell=final_cell, params=(alpha, beta, r_alpha, r_beta),
    )  # fmt: skip


def _convert_recurrent(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue | list[SSAValue]:
    """A SimpleRNN / LSTM / GRU layer; with return_state its final states are extra outputs
    ([output, h] or, for an LSTM, [output, h, c]), each computed by its own recurrent kernel (the
    output already is h without return_sequences)."""
    x = ctx.one_input(inputs)
    arrays = ctx.weights(_weight_count(ctx.cfg))
    op = _recurrent_op(ctx, x, ctx.spec.class_name, ctx.cfg, arrays, ctx.name)
    output = ctx.add(op)
    if not ctx.cfg.get("return_state"):
        return output
    last = ctx.add(_recurrent_op(ctx, x, ctx.spec.class_name, {**ctx.cfg, "return_sequences": False}, arrays, ctx.sub_name("state_h"))) if op.return_sequences is not None else output
    if op.kind != "lstm":
        return [output, last]
    cell = _recurrent_op(ctx, x, ctx.spec.class_name, {**ctx.cfg, "return_sequences": False}, arrays, ctx.sub_name("state_c"), final_cell=True)
    return [output, last, ctx.add(cell)]


_BIDIRECTIONAL_MERGES: dict[str, Callable[[Sequence[SSAValue], str], Operation]] = {
    "sum": nn.AddOp,
    "mul": nn.MulOp,
    "ave": nn.AverageOp,
}


def _convert_bidirectional(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue | list[SSAValue]:
    """Bidirectional(layer): a forward op and a backward one (its outputs aligned with the input
    steps, as Keras flips them back), merged by concat / sum / mul / ave (None: two outputs)."""
    x = ctx.one_input(inputs)
    forward = ctx.cfg["layer"]
    backward = ctx.cfg.get("backward_layer")
    if backward is None:  # Keras builds it as a copy of the layer reading backwards
        backward = {"class_name": forward["class_name"], "config": {**forward["config"], "go_backwards": not forward["config"].get("go_backwards", False)}}
    if ctx.cfg.get("return_state") or forward["config"].get("return_state"):
        raise ctx.unsupported("option return_state=True on a Bidirectional layer is not supported (on SimpleRNN / LSTM / GRU it is)")
    merge = ctx.cfg.get("merge_mode", "concat")
    if merge not in (None, "concat", *_BIDIRECTIONAL_MERGES):
        raise ctx.unsupported(f"merge_mode '{merge}'; supported: concat, sum, mul, ave, None")
    n_forward = _weight_count(forward["config"])
    arrays = ctx.weights(n_forward + _weight_count(backward["config"]))
    ops = []
    for spec, weights, suffix in ((forward, arrays[:n_forward], "forward"), (backward, arrays[n_forward:], "backward")):
        ops.append(ctx.add(_recurrent_op(ctx, x, spec["class_name"], spec["config"], weights, ctx.sub_name(suffix), aligned=suffix == "backward")))
    if merge is None:
        return ops
    if merge == "concat":
        return ctx.add(nn.ConcatOp(ops, len(nn.shape_of(ops[0])) - 1, ctx.name))
    return ctx.add(_BIDIRECTIONAL_MERGES[merge](ops, ctx.name))


def _convert_layernorm(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    x = ctx.one_input(inputs)
    cfg = ctx.cfg
    if cfg.get("rms_scaling"):
        raise ctx.unsupported("option rms_scaling=True is not supported")
    shape = nn.shape_of(x)
    rank = len(shape) + 1
    given = cfg.get("axis", -1)
    axes = sorted({(int(a) + rank if int(a) < 0 else int(a)) - 1 for a in (given if isinstance(given, list) else [given])})
    if axes != list(range(len(shape) - len(axes), len(shape))) or axes[0] < 0:
        raise ctx.unsupported(f"normalization over axis {given}: only the trailing feature axes are supported")
    center, scale = bool(cfg.get("center", True)), bool(cfg.get("scale", True))
    arrays = ctx.weights(int(center) + int(scale))
    n = prod(shape[axes[0] :])
    gamma = arrays[0].reshape(-1) if scale else np.ones(n, np.float32)
    beta = arrays[-1].reshape(-1) if center else np.zeros(n, np.float32)
    epsilon = float(cfg.get("epsilon", 1e-3))
    return ctx.add(LayerNormOp(x, len(axes), epsilon, gamma, beta, ctx.name))


def _convert_embedding(ctx: _Ctx, inputs: list[SSAValue]) -> SSAValue:
    x = ctx.one_input(inputs)
    if ctx.cfg.get("mask_zero"):
        raise ctx.unsupported("option mask_zero=True (masking) is not supported")
    if ctx.cfg.get("lora_rank"):
        raise ctx.unsupported("option lora_rank is not supported")
    (table,) = ctx.weights(1)
    return ctx.add(EmbeddingOp(x, table, ctx.name))


# ----- dispatch table --------------------------------------------------------------------------------------


_CONVERTERS: dict[str, Converter] = {
    "Dense": _convert_dense,
    "Conv1D": _make_conv(1, depthwise=False),
    "Conv2D": _make_conv(2, depthwise=False),
    "DepthwiseConv1D": _make_conv(1, depthwise=True),
    "DepthwiseConv2D": _make_conv(2, depthwise=True),
    "SeparableConv1D": _make_separable(1),
    "SeparableConv2D": _make_separable(2),
    "MaxPooling1D": _make_pool(1, PoolOp.MAX),
    "MaxPooling2D": _make_pool(2, PoolOp.MAX),
    "AveragePooling1D": _make_pool(1, PoolOp.AVERAGE),
    "AveragePooling2D": _make_pool(2, PoolOp.AVERAGE),
    "GlobalMaxPooling1D": _make_global_pool(1, PoolOp.MAX),
    "GlobalMaxPooling2D": _make_global_pool(2, PoolOp.MAX),
    "GlobalAveragePooling1D": _make_global_pool(1, PoolOp.AVERAGE),
    "GlobalAveragePooling2D": _make_global_pool(2, PoolOp.AVERAGE),
    "BatchNormalization": _convert_batchnorm,
    "SimpleRNN": _convert_recurrent,
    "LSTM": _convert_recurrent,
    "GRU": _convert_recurrent,
    "Masking": _masking,
    "Bidirectional": _convert_bidirectional,
    "LayerNormalization": _convert_layernorm,
    "Embedding": _convert_embedding,
    "Activation": _convert_activation,
    # Quantization-aware layers: QKeras, HGQ proxies, the old binary / ternary nets.
    "QDense": _convert_dense,
    "QConv1D": _make_conv(1, depthwise=False),
    "QConv2D": _make_conv(2, depthwise=False),
    "QDepthwiseConv2D": _make_conv(2, depthwise=True),
    "QSeparableConv1D": _make_separable(1),
    "QSeparableConv2D": _make_separable(2),
    "QActivation": _convert_qactivation,
    "QBatchNormalization": _convert_batchnorm,
    "QAveragePooling2D": _make_qaverage_pooling(2),
    "FixedPointQuantizer": _convert_fixed_point_quantizer,
    "BinaryDense": _convert_dense,
    "TernaryDense": _convert_dense,
    "ReLU": _convert_relu,
    "LeakyReLU": _convert_leaky_relu,
    "ELU": _convert_elu,
    "PReLU": _convert_prelu,
    "ThresholdedReLU": _convert_thresholded_relu,
    "Softmax": _convert_softmax,
    "Add": _make_merge(nn.AddOp),
    "Subtract": _make_merge(nn.SubOp, exactly_two=True),
    "Multiply": _make_merge(nn.MulOp),
    "Average": _make_merge(nn.AverageOp),
    "Maximum": _make_merge(nn.MaximumOp),
    "Minimum": _make_merge(nn.MinimumOp),
    "Concatenate": _convert_concatenate,
    "Dot": _convert_dot,
    "Flatten": _convert_flatten,
    "Reshape": _convert_reshape,
    "Permute": _convert_permute,
    "ZeroPadding1D": _make_pad(1),
    "ZeroPadding2D": _make_pad(2),
    "Cropping1D": _make_crop(1),
    "Cropping2D": _make_crop(2),
    "UpSampling1D": _make_upsample(1),
    "UpSampling2D": _make_upsample(2),
    # Removed: the identity at inference.
    "Dropout": _remove,
    "SpatialDropout1D": _remove,
    "SpatialDropout2D": _remove,
    "SpatialDropout3D": _remove,
    "GaussianNoise": _remove,
    "GaussianDropout": _remove,
    "AlphaDropout": _remove,
    "ActivityRegularization": _remove,
}

SUPPORTED_LAYERS: tuple[str, ...] = tuple(sorted([*_CONVERTERS, "InputLayer", *_MODEL_CLASSES]))
"""Every Keras class name the front end converts (models are inlined)."""
