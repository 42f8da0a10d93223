"""hls4ml-shaped layer objects over the compiler's `nn` IR (`nnhls.model.layers`).

    for layer in hls_model.get_layers():
        print(layer.name, layer.class_name, layer.get_output_variable().type.precision)
        for w in layer.get_weights():
            print("  ", w.name, w.shape, w.type.precision)

Each `Layer` is a read-only view of one `nn` op after precision inference and scheduling (the
`scheduled` stage), so every precision is the resolved type the firmware uses (never `auto`), and
of the matching firmware variables (C++ names and typedefs). `class_name` is hls4ml's layer class
(`Dense`, `Conv2D`, `Pooling2D`, `Activation`, `Softmax`, `Merge`...); `attributes` holds the
hls4ml attribute names scripts read (`n_in`, `n_out`, `n_filt`, `reuse_factor`, `strategy`,
`<var>_t`...). Settings change through the config and a new conversion, not by `set_attr`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from math import prod
from types import MappingProxyType
from typing import Any

import numpy as np
from xdsl.dialects.builtin import (
    DenseArrayBase,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    StringAttr,
    TensorType,
    UnitAttr,
)
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Attribute, BlockArgument, Operation, SSAValue

from nnhls.codegen.firmware import Firmware, Value, c_identifier
from nnhls.config import ConfigError
from nnhls.dialects.types import FixedPointType
from nnhls.model.types import NamedType, TensorVariable, WeightVariable, from_fixed

ModelGraph = Any
"""The model a layer belongs to (nnhls.model.graph.ModelGraph, which imports this module)."""

_CLASS_NAMES: dict[str, str] = {
    "nn.input": "Input",
    "nn.dense": "Dense",
    "nn.conv1d": "Conv1D",
    "nn.conv2d": "Conv2D",
    "nn.depthwise_conv1d": "DepthwiseConv1D",
    "nn.depthwise_conv2d": "DepthwiseConv2D",
    "nn.batchnorm": "BatchNormalization",
    "nn.softmax": "Softmax",
    "nn.add": "Merge",
    "nn.sub": "Merge",
    "nn.mul": "Merge",
    "nn.average": "Merge",
    "nn.maximum": "Merge",
    "nn.minimum": "Merge",
    "nn.concat": "Concatenate",
    "nn.dot": "Dot",
    "nn.reshape": "Reshape",
    "nn.flatten": "Reshape",
    "nn.transpose": "Transpose",
    "nn.upsample": "Resize",
    "nn.constant": "Constant",
}
"""hls4ml's layer class per op (pooling, padding, cropping and activations depend on the op)."""

_MERGE_OPS = {"nn.add": "add", "nn.sub": "subtract", "nn.mul": "multiply", "nn.average": "average", "nn.maximum": "maximum", "nn.minimum": "minimum"}
_PARAMETRIZED = {"leaky_relu", "elu", "thresholded_relu"}
_HARD = {"hard_sigmoid", "hard_tanh"}
_WEIGHT_VARS = ("weight", "bias", "scale", "param", "value")
"""Op properties holding constants, in the order get_weights() lists them."""


def class_name_of(op: Operation) -> str:
    """hls4ml's class name for an `nn` op."""
    rank = len(_shape(op.operands[0])) - 1 if op.operands else 0
    if op.name == "nn.pool":
        return f"Pooling{rank}D"
    if op.name == "nn.global_pool":
        return f"GlobalPooling{rank}D"
    if op.name == "nn.pad":
        return f"ZeroPadding{rank}D"
    if op.name == "nn.crop":
        return f"Cropping{rank}D"
    if op.name == "nn.activation":
        kind = _plain(op.properties.get("kind"))
        if kind == "prelu":
            return "PReLU"
        if kind in _PARAMETRIZED:
            return "ParametrizedActivation"
        return "HardActivation" if kind in _HARD else "Activation"
    return _CLASS_NAMES.get(op.name, op.name.removeprefix("nn.").title())


def _shape(value: SSAValue) -> tuple[int, ...]:
    ty = value.type
    return tuple(ty.get_shape()) if isinstance(ty, TensorType) else ()


def _plain(attr: Attribute | None) -> Any:
    """A property as a plain Python value (None for constants and precision dictionaries)."""
    if isinstance(attr, EnumAttribute):
        return attr.data.value  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    if isinstance(attr, IntegerAttr):
        return int(attr.value.data)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    if isinstance(attr, FloatAttr):
        return float(attr.value.data)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    if isinstance(attr, UnitAttr):
        return True
    if isinstance(attr, StringAttr):
        return attr.data
    if isinstance(attr, DenseArrayBase):
        return tuple(int(v) for v in attr.get_values())  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType, reportUnknownMemberType]
    return None


class Layer:
    """One layer of a converted model (see the module docstring)."""

    def __init__(self, model: ModelGraph, op: Operation, inputs: Sequence[str], firmware: Firmware | None) -> None:
        self._model = model
        self._op = op
        self.name: str = _plain(op.properties["layer"])
        self.class_name = class_name_of(op)
        self.inputs: list[str] = list(inputs)
        self.outputs: list[str] = [self.name]
        self._fw_value = _firmware_output(firmware, self.name, op)
        self._constant_names = _constant_names(firmware, self.name)
        self.precision: dict[str, NamedType] = self._precisions()
        self.weights: dict[str, WeightVariable] = self._weights()
        self.attributes: Mapping[str, Any] = MappingProxyType(self._attributes())

    def __repr__(self) -> str:
        return f"{self.class_name}({self.name!r})"

    # ----- hls4ml's accessors ----------------------------------------------------------------
    def get_attr(self, key: str, default: Any = None) -> Any:
        return self.attributes.get(key, default)

    def set_attr(self, key: str, value: Any) -> None:
        raise ConfigError(
            f"layer '{self.name}': attributes of a converted model are read-only in nnhls; set "
            f"'{key}' in the config (HLSConfig.LayerName.{self.name}) and convert again"
        )

    def get_output_variable(self, output_name: str | None = None) -> TensorVariable:
        if output_name is not None and output_name != self.name:
            raise KeyError(f"layer '{self.name}' has no output '{output_name}'")
        return self._output

    def get_input_variable(self, input_name: str | None = None) -> TensorVariable:
        name = self.inputs[0] if input_name is None else input_name
        if name not in self.inputs:
            raise KeyError(f"layer '{self.name}' has no input '{name}'; inputs: {', '.join(self.inputs)}")
        return self._model.graph[name].get_output_variable()

    def get_input_node(self, input_name: str | None = None) -> Layer | None:
        if not self.inputs:
            return None
        name = self.inputs[0] if input_name is None else input_name
        return self._model.graph.get(name)

    def get_output_nodes(self, output_name: str | None = None) -> list[Layer]:
        name = self.name if output_name is None else output_name
        return [layer for layer in self._model.graph.values() if name in layer.inputs]

    def get_variables(self) -> list[TensorVariable]:
        return [self._output]

    def get_weights(self, var: str | None = None) -> Any:
        """All weight variables (a list), or the one called `var` ('weight', 'bias'...)."""
        if var is None:
            return list(self.weights.values())
        if var not in self.weights:
            raise KeyError(f"layer '{self.name}' has no weights '{var}'; it has: {', '.join(self.weights) or 'none'}")
        return self.weights[var]

    def get_layer_precision(self) -> dict[str, NamedType]:
        """Every typed variable of the layer: `<var>_t` -> NamedType (hls4ml's spelling)."""
        return {f"{var}_t": t for var, t in self.precision.items()}

    @property
    def types(self) -> dict[str, NamedType]:
        return self.get_layer_precision()

    @property
    def model(self) -> ModelGraph:
        return self._model

    # ----- construction ------------------------------------------------------------------------
    @property
    def _output(self) -> TensorVariable:
        shape = _shape(self._op.results[0])
        if self._fw_value is not None:
            value = self._fw_value
            return TensorVariable(value.var, shape, NamedType(value.type_name, from_fixed(value.precision)))
        result = self.precision.get("result")
        if result is None:
            raise ConfigError(f"layer '{self.name}' has no result precision")
        return TensorVariable(f"{c_identifier(self.name)}_out", shape, result)

    def _precisions(self) -> dict[str, NamedType]:
        prop = self._op.properties.get("precision")
        types: dict[str, NamedType] = {}
        if isinstance(prop, DictionaryAttr):
            base = c_identifier(self.name)
            for var, value in prop.data.items():
                if isinstance(value, FixedPointType):
                    types[var] = NamedType(f"{base}_{var}_t", from_fixed(value.precision))
        if self._fw_value is not None:  # what the C++ really declares
            value = self._fw_value
            types["result"] = NamedType(value.type_name, from_fixed(value.precision))
        return types

    def _weights(self) -> dict[str, WeightVariable]:
        weights: dict[str, WeightVariable] = {}
        base = c_identifier(self.name)
        for var in _WEIGHT_VARS:
            attr = self._op.properties.get(var)
            if not isinstance(attr, DenseIntOrFPElementsAttr):
                continue
            data = np.frombuffer(attr.data.data, dtype="<f4").reshape(attr.get_shape()).copy()  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
            named = self.precision.get(var) or self.precision.get("weight")
            if named is None:
                continue
            var_name = self._constant_names.get(var, f"{base}_{var}")
            weights[var] = WeightVariable(var, var_name, data, named)
        return weights

    def _attributes(self) -> dict[str, Any]:
        op = self._op
        attrs: dict[str, Any] = {"name": self.name, "class_name": self.class_name, "inputs": list(self.inputs), "outputs": list(self.outputs)}
        for key, attr in op.properties.items():
            if key in ("layer", "precision") or isinstance(attr, DenseIntOrFPElementsAttr):
                continue
            attrs[key] = _plain(attr)
        attrs.setdefault("reuse_factor", 1)
        attrs["trace"] = bool(attrs.get("trace", False))
        attrs.update(_shape_attributes(op))
        for var, named in self.precision.items():
            attrs[f"{var}_t"] = named
        attrs.update({f"{var}_data": w.data for var, w in self.weights.items()})
        return attrs


def _firmware_output(firmware: Firmware | None, layer: str, op: Operation) -> Value | None:
    if firmware is None:
        return None
    if op.name == "nn.input":  # the firmware input of the same function argument
        argument = op.operands[0]
        index = argument.index if isinstance(argument, BlockArgument) else -1
        return firmware.inputs[index] if 0 <= index < len(firmware.inputs) else None
    for fw_layer in firmware.layers:
        if fw_layer.layer == layer and len(fw_layer.outputs) == 1:
            return fw_layer.outputs[0]
    return None


def _constant_names(firmware: Firmware | None, layer: str) -> dict[str, str]:
    """Weight variable -> C++ array name, matched through the constant's typedef name."""
    if firmware is None:
        return {}
    names: dict[str, str] = {}
    for fw_layer in firmware.layers:
        if fw_layer.layer != layer:
            continue
        for const in fw_layer.constants:
            for var in _WEIGHT_VARS:
                if const.type_name.endswith(f"_{var}_t"):
                    names.setdefault(var, const.name)
    return names


def _spatial_names(rank: int) -> tuple[str, ...]:
    return ("width",) if rank == 1 else ("height", "width")


def _shape_attributes(op: Operation) -> dict[str, Any]:
    """hls4ml's size attributes (n_in, n_out, in_height, n_filt, filt_width, pad_left...)."""
    in_shape = _shape(op.operands[0]) if op.operands else _shape(op.results[0])
    out_shape = _shape(op.results[0])
    attrs: dict[str, Any] = {"n_in": prod(in_shape), "n_out": prod(out_shape)}
    kind = _plain(op.properties.get("kind"))
    if op.name == "nn.dense":
        attrs.update(n_in=in_shape[-1], n_out=out_shape[-1])
    elif op.name in ("nn.conv1d", "nn.conv2d", "nn.depthwise_conv1d", "nn.depthwise_conv2d", "nn.pool"):
        attrs.update(_window_attributes(op, in_shape, out_shape))
    elif op.name in ("nn.batchnorm", "nn.global_pool"):
        attrs["n_filt"] = in_shape[-1]
    elif op.name == "nn.activation":
        attrs["activation"] = kind
        if "alpha" in op.properties:
            attrs["activ_param"] = _plain(op.properties["alpha"])
    elif op.name == "nn.softmax":
        attrs["activation"] = "softmax"
    elif op.name in _MERGE_OPS:
        attrs["op"] = _MERGE_OPS[op.name]
    elif op.name in ("nn.reshape", "nn.flatten"):
        attrs["target_shape"] = list(out_shape)
    if op.name in ("nn.pool", "nn.global_pool"):
        attrs["pool_op"] = "Max" if _plain(op.properties.get("op")) == "max" else "Average"
    return attrs


def _window_attributes(op: Operation, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> dict[str, Any]:
    rank = len(in_shape) - 1
    names = _spatial_names(rank)
    attrs: dict[str, Any] = {"n_chan": in_shape[-1], "n_filt": out_shape[-1]}
    weight = op.properties.get("weight")
    window = weight.get_shape()[:rank] if isinstance(weight, DenseIntOrFPElementsAttr) else _plain(op.properties.get("pool_size"))
    prefix = "filt" if op.name != "nn.pool" else "pool"
    strides = _plain(op.properties.get("strides")) or (1,) * rank
    pads = _plain(op.properties.get("pads")) or (0,) * (2 * rank)
    dilations = _plain(op.properties.get("dilations")) or (1,) * rank
    for a, axis in enumerate(names):
        attrs[f"in_{axis}"] = in_shape[a]
        attrs[f"out_{axis}"] = out_shape[a]
        attrs[f"{prefix}_{axis}"] = int(window[a])
        attrs[f"stride_{axis}"] = int(strides[a])
        attrs[f"dilation_{axis}"] = int(dilations[a])
    sides = (("left", "right"),) if rank == 1 else (("top", "bottom"), ("left", "right"))
    for a, (begin, end) in enumerate(sides):
        attrs[f"pad_{begin}"] = int(pads[2 * a])
        attrs[f"pad_{end}"] = int(pads[2 * a + 1])
    return attrs


def build_layers(model: ModelGraph, func_ops: Sequence[Operation], firmware: Firmware | None) -> dict[str, Layer]:
    """name -> Layer for every layer op of a (scheduled) model function, in execution order."""
    producers: dict[SSAValue, str] = {}
    layers: dict[str, Layer] = {}
    for op in func_ops:
        layer_attr = op.properties.get("layer")
        if not isinstance(layer_attr, StringAttr) or not op.results:
            continue
        inputs = [producers[v] for v in op.operands if v in producers]
        layer = Layer(model, op, inputs, firmware)
        layers[layer.name] = layer
        for result in op.results:
            producers[result] = layer.name
    return layers


def iter_weights(layers: Mapping[str, Layer]) -> Iterator[WeightVariable]:
    for layer in layers.values():
        yield from layer.weights.values()
