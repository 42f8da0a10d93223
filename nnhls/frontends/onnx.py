"""ONNX front end: an ONNX graph (opset 11+, or older files the version converter can lift) to `nn`.

ONNX tensors are channels-first (NCHW) while the `nn` dialect is channels-last. The importer keeps,
for every ONNX tensor, its *logical* ONNX shape (per sample, batch dropped) and a *layout*: the
permutation from logical to physical axes, plus an optional pending reshape (a "view"). ONNX
Transpose, Flatten, Reshape, Squeeze and Unsqueeze only change the layout; an `nn.transpose` or
`nn.reshape` is emitted only where a consumer needs a layout the value does not have. So a Keras
export's NHWC->NCHW input Transpose cancels against the channels-last convolutions, and a Flatten of a
channels-last tensor feeding a dense layer becomes a permutation of the dense weight rows.

Constants (initializers, Constant nodes, Shape of a tensor, and any node whose inputs are all
constant, evaluated with onnx's reference evaluator) never become layers unless a layer consumes
them as a tensor operand.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import prod
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue
from xdsl.utils.exceptions import VerifyException

from nnhls.dialects import nn
from nnhls.dialects.kinds import ActivationKind, PoolOp
from nnhls.dialects.quant import AnyQuantizer, BinaryQuantizer, QuantizerError, UniformQuantizer
from nnhls.dialects.quantizer_attr import QuantizerAttr
from nnhls.errors import FrontendError
from nnhls.frontends import qonnx_ops
from nnhls.frontends.common import (
    ModelBuilder,
    ModelFileError,
    UnsupportedLayerError,
    check_module_sizes,
    check_tensor_size,
    same_pads,
)
from nnhls.frontends.onnx_checks import check_graph
from nnhls.frontends.quant_config import QuantizerConfigError
from nnhls.ops.activation import SELU_ALPHA, SELU_SCALE
from nnhls.ops.embedding import EmbeddingOp
from nnhls.ops.layernorm import LayerNormOp
from nnhls.ops.quantize import QuantizeOp
from nnhls.ops.recurrent import RecurrentOp
from nnhls.ops.split import SplitOp
from nnhls.quoting import cpp_identifier

MIN_OPSET = 11
CONVERSIONS = ("full", "internal", "off")
_F32_MAX = float(np.finfo(np.float32).max)
_SELU_ALPHA = float(np.float32(SELU_ALPHA))
"""ONNX Selu's default alpha: the float32 rounding of SELU's constant."""
_SELU_GAMMA = float(np.float32(SELU_SCALE))

Perm = tuple[int, ...]


def _identity(rank: int) -> Perm:
    return tuple(range(rank))


def _channels_last(rank: int) -> Perm:
    """Layout with logical axis 0 (ONNX channel axis) last: (C, H, W) -> (H, W, C)."""
    return (*range(1, rank), 0)


def _same_order(shape: Sequence[int], perm: Perm) -> bool:
    """Whether permuting `shape` by `perm` keeps the row-major element order (only 1-axes move)."""
    moved = [a for a in perm if shape[a] != 1]
    return moved == sorted(moved)


@dataclass(frozen=True, eq=False)
class Tensor:
    """A non-constant ONNX tensor: physical SSA value, logical shape and layout.

    physical = transpose(base_logical, perm); the logical ONNX value is reshape(base_logical, view)
    when `view` is set (a Flatten/Reshape/Squeeze not emitted yet), else base_logical itself.
    """

    value: SSAValue
    shape: tuple[int, ...]
    perm: Perm
    view: tuple[int, ...] | None = None
    origin: str = ""
    """Layer that created the view (names the reshape emitted for it)."""
    batch_axis: int = 0
    """The batch axis of the full ONNX tensor: 0, except in time-major sequences around
    recurrent ops ((T, N, F) has it at 1); only Transpose, Squeeze, Gather and the recurrent ops
    read a tensor whose batch axis is not 0."""

    @property
    def logical(self) -> tuple[int, ...]:
        return self.shape if self.view is None else self.view

    @property
    def base(self) -> Tensor:
        return self if self.view is None else Tensor(self.value, self.shape, self.perm, batch_axis=self.batch_axis)

    def with_view(self, shape: Sequence[int], origin: str) -> Tensor:
        shape = tuple(shape)
        if shape == self.shape:
            return self.base
        return Tensor(self.value, self.shape, self.perm, shape, origin, self.batch_axis)

    def with_batch_axis(self, axis: int) -> Tensor:
        return Tensor(self.value, self.shape, self.perm, self.view, self.origin, axis)

    def full_axis(self, axis: int) -> int:
        """The full ONNX axis of per-sample axis `axis`."""
        return axis + (axis >= self.batch_axis)

    def sample_axis(self, axis: int) -> int:
        """The per-sample axis of full ONNX axis `axis` (not the batch axis)."""
        return axis - (axis > self.batch_axis)

    def to_physical(self, array: np.ndarray) -> np.ndarray:
        """A per-sample constant broadcastable to the logical shape, laid out like the value."""
        full = np.broadcast_to(array, self.logical)
        return full.reshape(self.shape).transpose(self.perm)

    def rebuild(self, value: SSAValue) -> Tensor:
        """The result of an element-wise op on this tensor's physical value."""
        return Tensor(value, self.shape, self.perm, self.view, self.origin, self.batch_axis)


def _physical_tensor(value: SSAValue, perm: Perm) -> Tensor:
    """Wrap a physical value laid out by `perm` (physical axis i = logical axis perm[i])."""
    phys = nn.shape_of(value)
    logical = [0] * len(perm)
    for i, axis in enumerate(perm):
        logical[axis] = phys[i]
    return Tensor(value, tuple(logical), perm)


def _attrs(node: onnx.NodeProto) -> dict[str, object]:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# ----- loading ------------------------------------------------------------------------------------------


def _load(model: str | Path | onnx.ModelProto) -> tuple[onnx.ModelProto, str]:
    """The model and its default name, after the structural checks (`onnx_checks`) and, for
    files, onnx's checker."""
    if isinstance(model, onnx.ModelProto):
        name = model.graph.name or "model"
        check_graph(model, f"<ONNX model {name}>")
        return model, name
    path = Path(model)
    if not path.is_file():
        raise ModelFileError(path, "no such file")
    try:
        proto = onnx.load(str(path))
    except Exception as error:  # protobuf raises several types for corrupt data
        raise ModelFileError(path, f"not a valid ONNX file ({error})") from error
    check_graph(proto, path)
    try:
        onnx.checker.check_model(proto)
    except Exception as error:
        if any(n.domain not in ("", "ai.onnx") for n in proto.graph.node):
            return proto, path.stem  # custom-domain models: the converter names the op it lacks
        raise ModelFileError(path, f"malformed or truncated ONNX model ({error})") from error
    return proto, path.stem


def _opset(model: onnx.ModelProto) -> int:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return entry.version
    return MIN_OPSET


def _per_channel_prelu(model: onnx.ModelProto) -> onnx.ModelProto:
    """Opset <= 6 PRelu applies a 1-D slope per channel (axis 1); later opsets broadcast it
    against the last axis. Reshape such slopes to (C, 1, ..., 1) so either reading agrees."""
    model = onnx.shape_inference.infer_shapes(model)
    ranks = {
        vi.name: len(vi.type.tensor_type.shape.dim)
        for vi in [*model.graph.input, *model.graph.value_info]
        if vi.type.HasField("tensor_type")
    }
    inits = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type != "PRelu" or len(node.input) < 2 or node.input[1] not in inits:
            continue
        slope = numpy_helper.to_array(inits[node.input[1]])
        rank = ranks.get(node.input[0], 0)
        if slope.ndim == 1 and slope.size > 1 and rank > 2:
            shaped = slope.reshape(slope.size, *([1] * (rank - 2)))
            inits[node.input[1]].CopyFrom(numpy_helper.from_array(shaped, node.input[1]))
    return model


def _upgrade(model: onnx.ModelProto) -> onnx.ModelProto:
    """Lift old opsets to 11 so the converters see one attribute/input convention (best effort)."""
    if _opset(model) >= MIN_OPSET:
        return model
    try:
        return onnx.version_converter.convert_version(model, MIN_OPSET)
    except Exception:
        return model  # the converters also accept the old attribute forms they know


def _check_fold_size(node: onnx.NodeProto, layer: str, inputs: list[np.ndarray | None]) -> None:
    """The result size of the constant-folded ops whose output size comes from their input
    values, checked before onnx's evaluator allocates it."""
    op = node.op_type
    try:
        if op == "ConstantOfShape" and inputs[0] is not None:
            shape = [int(d) for d in np.asarray(inputs[0]).reshape(-1)]
        elif op == "Expand" and inputs[0] is not None and inputs[1] is not None:
            target = [int(d) for d in np.asarray(inputs[1]).reshape(-1)]
            shape = list(np.broadcast_shapes(np.shape(inputs[0]), tuple(max(d, 1) for d in target)))
        elif op == "Tile" and inputs[0] is not None and inputs[1] is not None:
            shape = [int(a) * int(r) for a, r in zip(np.shape(inputs[0]), np.asarray(inputs[1]).reshape(-1), strict=False)]
        elif op == "Range" and all(i is not None for i in inputs[:3]):
            start, limit, delta = (float(np.asarray(i)) for i in inputs[:3])  # pyright: ignore[reportArgumentType]
            shape = [max(0, math.ceil((limit - start) / delta))] if delta else [0]
        elif op == "Pad" and inputs[0] is not None and len(inputs) > 1 and inputs[1] is not None:
            pads = np.asarray(inputs[1]).reshape(2, -1)
            shape = [int(d) + int(a) + int(b) for d, a, b in zip(np.shape(inputs[0]), pads[0], pads[1], strict=False)]
        else:
            return
    except (ValueError, TypeError, OverflowError):
        return  # malformed inputs: the evaluator reports them
    check_tensor_size(shape, f"layer '{layer}' ({op})")


def _function_name(name: str) -> str:
    return cpp_identifier(name, fallback="model")


# ----- the converter ----------------------------------------------------------------------------------


Handler = Callable[["_Converter", onnx.NodeProto, str], None]

_REAL_TYPES = {
    onnx.TensorProto.FLOAT,
    onnx.TensorProto.DOUBLE,
    onnx.TensorProto.FLOAT16,
    onnx.TensorProto.BFLOAT16,
}
INTEGER_EXACT = frozenset(
    ("Clip", "Concat", "Dropout", "Flatten", "GlobalMaxPool", "Identity", "Max", "MaxPool", "Min")
    + ("Pad", "Relu", "Reshape", "Resize", "Squeeze", "Transpose", "Unsqueeze", "Upsample")
)
"""Ops whose results on integer tensors are the same integers in fixed point (they select,
move or copy values): the only ones that accept integer tensors."""


class _Converter:
    """Walks the ONNX graph in order and emits `nn` ops through a ModelBuilder."""

    def __init__(
        self,
        model: onnx.ModelProto,
        name: str,
        conversion: str,
        transpose_outputs: bool,
        channels_last_inputs: frozenset[str] = frozenset(),
    ):
        self.graph = model.graph
        self.opset = _opset(model)
        self.conversion = conversion
        self.transpose_outputs = transpose_outputs
        self.consts: dict[str, np.ndarray] = {
            t.name: numpy_helper.to_array(t) for t in self.graph.initializer
        }
        self.quantizers: dict[str, AnyQuantizer] = {}
        """Constants that are a quantizer's output (QONNX Quant, DequantizeLinear), by name."""
        self.tensors: dict[str, Tensor] = {}
        self.names: set[str] = set()
        self.cache: dict[tuple[Tensor, Perm | str], SSAValue] = {}
        self.skip: set[str] = set()
        self.unclaimed: set[str] = set()
        self.input_tensors: dict[Tensor, str] = {}
        self.wants_channels_last: set[str] = set()
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        for node in self.graph.node:
            for name_in in node.input:
                self.consumers.setdefault(name_in, []).append(node)
        self.graph_outputs = {o.name for o in self.graph.output}
        self.integer: dict[str, str] = {
            i.name: onnx.helper.tensor_dtype_to_np_dtype(i.type.tensor_type.elem_type).name
            for i in self.graph.input
            if i.type.HasField("tensor_type") and i.type.tensor_type.elem_type not in _REAL_TYPES
        }
        """Integer (or bool) tensors by name, with their ONNX element type."""
        self.op_type: str | None = None
        """The op type of the node being converted (the ops it emits carry it as layer_type)."""
        self.builder = self._make_builder(name, channels_last_inputs)

    # -- inputs, outputs, names

    def _make_builder(self, name: str, channels_last_inputs: frozenset[str]) -> ModelBuilder:
        specs: list[tuple[str, tuple[int, ...], Perm]] = []
        batch_axes: dict[str, int] = {}
        for value_info in self.graph.input:
            if value_info.name in self.consts:
                continue  # old exporters list initializers among the inputs
            batch_axis = 1 if self._time_major_input(value_info.name) else 0
            shape = self._input_shape(value_info, batch_axis)
            batch_axes[value_info.name] = batch_axis
            perm = (
                _channels_last(len(shape))
                if value_info.name in channels_last_inputs
                else _identity(len(shape))
            )
            specs.append((value_info.name, shape, perm))
        for input_name, _, _ in specs:
            self.names.add(input_name)
        builder = ModelBuilder(
            name, [(n, tuple(shape[p] for p in perm)) for n, shape, perm in specs]
        )
        for (input_name, shape, perm), value in zip(specs, builder.inputs, strict=True):
            tensor = Tensor(value, shape, perm, batch_axis=batch_axes[input_name])
            self.tensors[input_name] = tensor
            self.input_tensors[tensor] = input_name
        return builder

    def _time_major_input(self, name: str) -> bool:
        """Whether a graph input is a time-major sequence (T, N, F): only recurrent ops of the
        default layout read it (its data is given batch-first like every input)."""
        users = [n for n in self.consumers.get(name, []) if n.op_type not in ("Shape", "Size")]
        return bool(users) and all(
            n.op_type in _RECURRENT_OPS and n.input[0] == name and int(_attrs(n).get("layout", 0)) == 0  # type: ignore[arg-type]
            for n in users
        )

    @staticmethod
    def _input_shape(value_info: onnx.ValueInfoProto, batch_axis: int = 0) -> tuple[int, ...]:
        if not value_info.type.HasField("tensor_type"):
            kind = value_info.type.WhichOneof("value") or "untyped"
            raise FrontendError(
                f"input '{value_info.name}' ({kind.removesuffix('_type')} type) is not a tensor: "
                "nnhls compiles tensor inputs with a batch axis"
            )
        dims = list(value_info.type.tensor_type.shape.dim)
        if batch_axis < len(dims):
            dims.insert(0, dims.pop(batch_axis))
        shape = [d.dim_value if d.HasField("dim_value") else None for d in dims][1:]
        if not dims or any(d is None or d < 1 for d in shape):
            raise FrontendError(
                f"input '{value_info.name}' needs a batch axis and fixed per-sample dimensions, "
                f"got {[d.dim_param or d.dim_value for d in dims]}"
            )
        return tuple(int(d) for d in shape if d is not None)

    def unique(self, name: str) -> str:
        candidate, index = name, 1
        while candidate in self.names:
            candidate = f"{name}_{index}"
            index += 1
        self.names.add(candidate)
        return candidate

    def claim(self, name: str) -> str:
        """The name a view's layer reserved without emitting an op, else a fresh unique name."""
        if name in self.unclaimed:
            self.unclaimed.discard(name)
            return name
        return self.unique(name)

    def add(self, op: Operation) -> SSAValue:
        """Append an op converted from the current node (it records the node's op type); layout
        glue (transposes, reshapes of views) goes through `self.builder.add` without one."""
        return self.builder.add(op, self.op_type)

    def run(self) -> ModuleOp:
        for index, node in enumerate(self.graph.node):
            if node.output and node.output[0] in self.skip:
                continue
            self._convert(node, index)
        outputs = [self._output(o.name) for o in self.graph.output]
        return self.builder.finish(outputs)

    def _output(self, name: str) -> SSAValue:
        if name in self.consts:
            raise FrontendError(
                f"output '{name}' is a constant (it does not depend on any input); "
                "nnhls compiles outputs computed from the inputs"
            )
        tensor = self.tensors[name]
        if self.transpose_outputs or tensor.view is not None:
            return self.materialize(tensor, _identity(len(tensor.logical)), name)
        return tensor.value

    # -- dispatch

    def _convert(self, node: onnx.NodeProto, index: int) -> None:
        op_type = node.op_type
        layer = node.name or f"{op_type}_{index}"
        if node.domain in QONNX_DOMAINS and op_type in QONNX_HANDLERS:
            self._dispatch(QONNX_HANDLERS[op_type], node, op_type, layer)
            return
        if node.domain in CHANNELS_LAST_DOMAINS and op_type in ("Conv", "MaxPool"):
            self._dispatch(_channels_last_op, node, op_type, layer)
            return
        if node.domain not in ("", "ai.onnx"):
            raise UnsupportedLayerError(
                layer,
                f"{node.domain}.{op_type}",
                SUPPORTED,
                "custom-domain op; supported: QONNX Quant, BipolarQuant, Trunc and the "
                "channels-last Conv, MaxPool",
            )
        if op_type == "Constant":
            self.consts[node.output[0]] = _constant_value(node, layer)
            return
        if op_type in ("Shape", "Size") and node.input[0] in self.tensors:
            self._shape_of(node)
            return
        if all(i == "" or i in self.consts for i in node.input) and node.input:
            self._fold(node, layer)
            return
        handler = HANDLERS.get(op_type)
        if handler is None:
            raise UnsupportedLayerError(layer, op_type, SUPPORTED)
        self._dispatch(handler, node, op_type, layer)

    def _dispatch(self, handler: Handler, node: onnx.NodeProto, op_type: str, layer: str) -> None:
        integer = next((i for i in node.input if i in self.integer), None)
        # Integer indices into a constant table (an embedding) are looked up, not computed on.
        indices = op_type == "Gather" and len(node.input) > 1 and node.input[0] in self.consts and integer == node.input[1]
        if integer is not None and op_type not in INTEGER_EXACT and not indices:
            raise UnsupportedLayerError(
                layer,
                op_type,
                SUPPORTED,
                f"integer arithmetic on '{integer}' ({self.integer[integer]}): ONNX wraps and "
                f"truncates it; integer tensors only pass through {', '.join(sorted(INTEGER_EXACT))}",
            )
        self.op_type = op_type
        try:
            handler(self, node, self.unique(layer))
        finally:
            self.op_type = None
        if integer is not None and not indices:  # an embedding's rows are the table's (float)
            self.integer.update((out, self.integer[integer]) for out in node.output if out)

    def _fold(self, node: onnx.NodeProto, layer: str) -> None:
        from onnx.reference import ReferenceEvaluator

        feeds = {i: self.consts[i] for i in node.input if i}
        _check_fold_size(node, layer, [feeds.get(i) for i in node.input])
        try:
            results = ReferenceEvaluator(node, opsets={"": self.opset}).run(None, feeds)
        except Exception as error:
            raise UnsupportedLayerError(
                layer, node.op_type, SUPPORTED, f"constant folding failed: {error}"
            ) from error
        for out, value in zip(node.output, results, strict=False):
            self.consts[out] = np.asarray(value)
        if node.op_type == "DequantizeLinear":
            self._record_dequantized(node, layer)

    def _record_dequantized(self, node: onnx.NodeProto, layer: str) -> None:
        """A DequantizeLinear of constant codes (QDQ weights): remember its quantizer."""
        codes = np.asarray(self.consts[node.input[0]])
        scale = self.consts[node.input[1]]
        zero_point = (
            self.consts.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        )
        axis = _attrs(node).get("axis", 1)
        # e.g. int32 biases are skipped: their values are exact constants anyway
        with contextlib.suppress(QuantizerConfigError, ValueError, TypeError):
            self.quantizers[node.output[0]] = qonnx_ops.quantize_linear(
                scale, zero_point, helper.np_dtype_to_tensor_dtype(codes.dtype),
                int(axis), max(codes.ndim, 1), layer,  # type: ignore[arg-type]
            )  # fmt: skip

    def _shape_of(self, node: onnx.NodeProto) -> None:
        t = self.tensors[node.input[0]]
        full = np.array(t.logical, dtype=np.int64)
        full = np.insert(full, t.batch_axis, 1)
        if node.op_type == "Size":
            self.consts[node.output[0]] = np.array(prod(full), dtype=np.int64)
            return
        attrs = _attrs(node)
        start, end = attrs.get("start", 0), attrs.get("end", len(full))
        assert isinstance(start, int) and isinstance(end, int)
        self.consts[node.output[0]] = full[start:end]

    # -- operand access

    def tensor(self, name: str, layer: str, op_type: str) -> Tensor:
        if name not in self.tensors:
            raise UnsupportedLayerError(
                layer, op_type, SUPPORTED, f"input '{name}' must be a tensor, not a constant"
            )
        t = self.tensors[name]
        if t.batch_axis != 0 and op_type not in TIME_MAJOR_READERS:
            raise UnsupportedLayerError(
                layer, op_type, SUPPORTED,
                f"input '{name}' has its batch on axis {t.batch_axis} (a time-major sequence); "
                f"only {', '.join(sorted(TIME_MAJOR_READERS))} read one",
            )  # fmt: skip
        return t

    def const(self, node: onnx.NodeProto, index: int, layer: str, what: str) -> np.ndarray | None:
        """An optional constant input (None when absent); a tensor there is unsupported."""
        if index >= len(node.input) or node.input[index] == "":
            return None
        name = node.input[index]
        if name not in self.consts:
            raise UnsupportedLayerError(
                layer, node.op_type, SUPPORTED, f"{what} ('{name}') must be a constant"
            )
        return self.consts[name]

    def set(self, node: onnx.NodeProto, tensor: Tensor) -> None:
        self.tensors[node.output[0]] = tensor

    def set_outputs(self, node: onnx.NodeProto, tensors: Sequence[Tensor]) -> None:
        """The tensors of a node with several outputs, in output order."""
        for name, tensor in zip(node.output, tensors, strict=True):
            self.tensors[name] = tensor

    def add_results(self, op: Operation) -> list[SSAValue]:
        """Append an op with several results converted from the current node."""
        return self.builder.add_results(op, self.op_type)

    # -- layouts

    def materialize(self, t: Tensor, perm: Perm, layer: str, spatial: bool = False) -> SSAValue:
        """The value laid out as `perm` of its logical shape, emitting reshapes/transposes as needed."""
        key = (t, perm)
        if key in self.cache:
            return self.cache[key]
        if self.input_tensors.get(t) and perm == _channels_last(len(t.shape)) and len(perm) > 1:
            self.wants_channels_last.add(self.input_tensors[t])
        if t.view is None and t.perm == perm:
            return t.value
        if t.view is None and not (_same_order(t.shape, t.perm) and _same_order(t.shape, perm)):
            if spatial and self.conversion == "off":
                raise FrontendError(
                    f"layer '{layer}' needs channels-last data but channels_last_conversion='off'; "
                    "use 'full' or 'internal'"
                )
            q = [t.perm.index(p) for p in perm]
            owner = (
                self.input_tensors.get(t) or layer
            )  # the conversion at an input is named after it
            value = self.builder.add(nn.TransposeOp(t.value, q, self.unique(f"{owner}_transpose")))
        elif t.view is None:
            shape = tuple(t.shape[p] for p in perm)
            value = self.builder.add(nn.ReshapeOp(t.value, shape, self.unique(f"{layer}_reshape")))
        else:
            base = self.materialize(t.base, _identity(len(t.shape)), t.origin or layer)
            value = self._reshape(base, t.view, t.origin)
            value = self.materialize(
                Tensor(value, t.view, _identity(len(t.view))), perm, layer, spatial
            )
        self.cache[key] = value
        return value

    def _reshape(self, value: SSAValue, shape: tuple[int, ...], layer: str) -> SSAValue:
        if nn.shape_of(value) == shape:
            return value
        name = self.claim(layer)
        if len(shape) == 1:
            return self.builder.add(nn.FlattenOp(value, name))
        return self.builder.add(nn.ReshapeOp(value, shape, name))

    def channels_last(self, t: Tensor, layer: str) -> SSAValue:
        """The value with the ONNX channel axis last (the layout of spatial `nn` ops)."""
        return self.materialize(t, _channels_last(len(t.logical)), layer, spatial=True)

    def dense_input(self, t: Tensor, layer: str) -> tuple[SSAValue, np.ndarray | None]:
        """A vector for a dense layer, and the logical row of each physical element if permuted.

        A Flatten of a channels-last tensor keeps the physical order; the dense weight rows are
        permuted instead of transposing the data.
        """
        if t.view is not None and len(t.view) == 1 and not _same_order(t.shape, t.perm):
            key = (t.base, "flatten")
            if key not in self.cache:
                self.cache[key] = self.builder.add(nn.FlattenOp(t.value, self.claim(t.origin)))
            rows = np.arange(prod(t.shape)).reshape(t.shape).transpose(t.perm).ravel()
            return self.cache[key], rows
        return self.materialize(t, _identity(len(t.logical)), layer), None


def _constant_value(node: onnx.NodeProto, layer: str) -> np.ndarray:
    for attribute in node.attribute:
        value = helper.get_attribute_value(attribute)
        if attribute.name == "value":
            return numpy_helper.to_array(value)  # type: ignore[arg-type]
        if attribute.name in ("value_float", "value_floats"):
            return np.asarray(value, dtype=np.float32)
        if attribute.name in ("value_int", "value_ints"):
            return np.asarray(value, dtype=np.int64)
    raise UnsupportedLayerError(layer, "Constant", SUPPORTED, "only numeric value attributes")


# ----- converters: dense and convolution -----------------------------------------------------------------


def _gemm(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    attrs = _attrs(node)
    if attrs.get("transA", 0):
        raise UnsupportedLayerError(layer, "Gemm", SUPPORTED, "transA=1 transposes the batch")
    x = c.tensor(node.input[0], layer, "Gemm")
    b = c.const(node, 1, layer, "B")
    assert b is not None
    alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))  # type: ignore[arg-type]
    transpose = bool(attrs.get("transB", 0))
    weight = (b.T if transpose else b) * alpha
    bias = c.const(node, 2, layer, "C")
    if bias is not None:
        if bias.ndim == 2 and bias.shape[0] != 1:
            raise UnsupportedLayerError(
                layer, "Gemm", SUPPORTED, f"C of shape {bias.shape} varies along the batch axis"
            )
        bias = np.broadcast_to(bias, (1, weight.shape[1]))[0] * beta
    quantizers = (None, None)
    if alpha == 1.0 and beta == 1.0:
        weight_q = _weight_quantizer(c, node.input[1], b.shape, lambda a: a.T if transpose else a)
        bias_q = None
        if bias is not None and len(node.input) > 2:
            shape = np.shape(c.consts[node.input[2]])
            n_out = weight.shape[1]
            bias_q = _weight_quantizer(
                c, node.input[2], shape, lambda a: np.broadcast_to(a, (1, n_out))[0]
            )
        quantizers = (weight_q, bias_q)
    _emit_dense(c, node, layer, x, weight, bias, quantizers)


def _matmul(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    x = c.tensor(node.input[0], layer, "MatMul")
    weight = c.const(node, 1, layer, "the right-hand matrix")
    assert weight is not None
    if weight.ndim != 2:
        raise UnsupportedLayerError(layer, "MatMul", SUPPORTED, "the weight must be 2-D")
    bias, fused = _bias_add(c, node, weight.shape[1], len(x.logical))
    weight_q = _weight_quantizer(c, node.input[1], weight.shape, lambda a: a)
    _emit_dense(c, node, layer, x, weight, bias, (weight_q, None))
    if fused is not None:
        c.skip.add(fused.output[0])
        c.tensors[fused.output[0]] = c.tensors[node.output[0]]


def _bias_add(
    c: _Converter, node: onnx.NodeProto, n_out: int, rank: int
) -> tuple[np.ndarray | None, onnx.NodeProto | None]:
    """The constant bias of an Add that is the sole consumer of a MatMul, to fuse into the dense."""
    out = node.output[0]
    users = c.consumers.get(out, [])
    if out in c.graph_outputs or len(users) != 1 or users[0].op_type != "Add":
        return None, None
    add = users[0]
    other = [i for i in add.input if i != out]
    if len(other) != 1 or other[0] not in c.consts:
        return None, None
    value = np.asarray(c.consts[other[0]])
    if value.ndim > rank + 1 or any(d != 1 for d in value.shape[:-1]):
        return None, None
    if value.ndim and value.shape[-1] not in (1, n_out):
        return None, None
    return np.broadcast_to(value.reshape(-1), (n_out,)).copy(), add


def _emit_dense(
    c: _Converter,
    node: onnx.NodeProto,
    layer: str,
    x: Tensor,
    weight: np.ndarray,
    bias: np.ndarray | None,
    quantizers: tuple[QuantizerAttr | None, QuantizerAttr | None] = (None, None),
) -> None:
    if x.logical[-1] != weight.shape[0]:
        raise UnsupportedLayerError(
            layer, node.op_type, SUPPORTED, f"weight {weight.shape} does not fit input {x.logical}"
        )
    weight_q, bias_q = quantizers
    if len(x.logical) == 1:
        value, rows = c.dense_input(x, layer)
        if rows is not None:
            weight = weight[rows]
            if weight_q is not None and len(weight_q.get_shape()) > 1:
                # a per-element weight grid would need the same permutation; a per-output-channel
                # one (a vector along the last axis) is the same for every row
                weight_q = None
    else:
        value = c.materialize(x, _identity(len(x.logical)), layer)
    op = nn.DenseOp(value, weight.astype(np.float32), _f32(bias), layer)
    if weight_q is not None:
        op.properties["weight_quantizer"] = weight_q
    if bias_q is not None and op.bias is not None:
        op.properties["bias_quantizer"] = bias_q
    result = c.add(op)
    c.set(node, _physical_tensor(result, _identity(len(x.logical))))


def _f32(array: np.ndarray | None) -> np.ndarray | None:
    return None if array is None else np.asarray(array, dtype=np.float32)


def _spatial_pads(
    node: onnx.NodeProto,
    layer: str,
    in_spatial: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
) -> list[int]:
    """Our (begin, end) pairs per spatial axis from ONNX pads / auto_pad."""
    attrs = _attrs(node)
    rank = len(kernel)
    auto_pad = _text(attrs.get("auto_pad", b"NOTSET"))
    if auto_pad in ("NOTSET", "VALID"):
        pads = list(attrs.get("pads", [0] * 2 * rank)) if auto_pad == "NOTSET" else [0] * 2 * rank  # type: ignore[arg-type]
        return [int(v) for a in range(rank) for v in (pads[a], pads[a + rank])]
    if auto_pad not in ("SAME_UPPER", "SAME_LOWER"):
        raise UnsupportedLayerError(layer, node.op_type, SUPPORTED, f"auto_pad {auto_pad}")
    upper = auto_pad == "SAME_UPPER"
    return [
        p
        for size, k, s, d in zip(in_spatial, kernel, strides, dilations, strict=True)
        for p in same_pads(size, k, s, d, extra_at_end=upper)
    ]


def _conv(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    x = c.tensor(node.input[0], layer, "Conv")
    w = c.const(node, 1, layer, "the weight")
    assert w is not None
    bias = c.const(node, 2, layer, "the bias")
    rank = w.ndim - 2
    if rank not in (1, 2) or len(x.logical) != rank + 1:
        raise UnsupportedLayerError(
            layer, "Conv", SUPPORTED, f"only 1-D and 2-D, got input {x.logical}"
        )
    attrs = _attrs(node)
    channels, group = x.logical[0], int(attrs.get("group", 1))  # type: ignore[arg-type]
    strides = list(attrs.get("strides", [1] * rank))  # type: ignore[arg-type]
    dilations = list(attrs.get("dilations", [1] * rank))  # type: ignore[arg-type]
    pads = _spatial_pads(node, layer, x.logical[1:], w.shape[2:], strides, dilations)
    spatial_axes = tuple(range(2, 2 + rank))
    value = c.channels_last(x, layer)
    if group == 1:

        def layout(a: np.ndarray) -> np.ndarray:
            return a.transpose(*spatial_axes, 1, 0)  # (M, C, k...) -> (k..., C, M)

        cls = nn.Conv1DOp if rank == 1 else nn.Conv2DOp
    elif group == channels and w.shape[1] == 1:
        # Depthwise: output channel c * mult + m reads input channel c, as in Keras.
        def layout(a: np.ndarray) -> np.ndarray:
            return a.reshape(channels, -1, *w.shape[2:]).transpose(*spatial_axes, 0, 1)

        cls = nn.DepthwiseConv1DOp if rank == 1 else nn.DepthwiseConv2DOp
    else:
        raise UnsupportedLayerError(
            layer, "Conv", SUPPORTED, f"group={group}: only 1 or depthwise (group = channels)"
        )
    weight = layout(w)
    op = cls(value, weight.astype(np.float32), _f32(bias), layer, strides, dilations, pads)
    weight_q = _weight_quantizer(c, node.input[1], w.shape, layout)
    if weight_q is not None:
        op.properties["weight_quantizer"] = weight_q
    if bias is not None and len(node.input) > 2:
        n_out = weight.shape[-1] * (weight.shape[-2] if op.DEPTHWISE else 1)
        bias_q = _weight_quantizer(c, node.input[2], np.shape(bias), lambda a: a.reshape(n_out))
        if bias_q is not None:
            op.properties["bias_quantizer"] = bias_q
    c.set(node, _physical_tensor(c.add(op), _channels_last(rank + 1)))


# ----- converters: pooling and normalisation ----------------------------------------------------------------


def _pool(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    x = c.tensor(node.input[0], layer, node.op_type)
    attrs = _attrs(node)
    kernel = [int(k) for k in attrs["kernel_shape"]]  # type: ignore[union-attr]
    rank = len(kernel)
    if rank not in (1, 2) or len(x.logical) != rank + 1:
        raise UnsupportedLayerError(layer, node.op_type, SUPPORTED, "only 1-D and 2-D pooling")
    if any(d != 1 for d in attrs.get("dilations", [1] * rank)):  # type: ignore[union-attr]
        raise UnsupportedLayerError(layer, node.op_type, SUPPORTED, "dilated pooling")
    strides = [int(s) for s in attrs.get("strides", [1] * rank)]  # type: ignore[union-attr]
    pads = _spatial_pads(node, layer, x.logical[1:], kernel, strides, [1] * rank)
    is_max = node.op_type == "MaxPool"
    if len(node.output) > 1 and node.output[1]:
        raise UnsupportedLayerError(layer, node.op_type, SUPPORTED, "the Indices output")
    count_pad = bool(attrs.get("count_include_pad", 0))
    if attrs.get("ceil_mode", 0):
        if count_pad and not is_max:
            raise UnsupportedLayerError(
                layer, node.op_type, SUPPORTED, "ceil_mode with count_include_pad"
            )
        pads = _ceil_pads(x.logical[1:], kernel, strides, pads)
    op = nn.PoolingOp(
        c.channels_last(x, layer),
        PoolOp.MAX if is_max else PoolOp.AVERAGE,
        layer,
        kernel,
        strides,
        pads,
        count_pad,
    )
    c.set(node, _physical_tensor(c.add(op), _channels_last(rank + 1)))


def _ceil_pads(
    size: Sequence[int], kernel: Sequence[int], strides: Sequence[int], pads: list[int]
) -> list[int]:
    """Extra end padding that makes floor-mode pooling produce ceil-mode windows."""
    result = list(pads)
    for a, (n, k, s) in enumerate(zip(size, kernel, strides, strict=True)):
        total = n + pads[2 * a] + pads[2 * a + 1]
        out = -(-(total - k) // s) + 1
        if (out - 1) * s >= n + pads[2 * a]:
            out -= 1  # the last window must start inside the input or the begin padding
        result[2 * a + 1] += max(0, (out - 1) * s + k - total)
    return result


def _global_pool(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    x = c.tensor(node.input[0], layer, node.op_type)
    if len(x.logical) not in (2, 3):
        raise UnsupportedLayerError(layer, node.op_type, SUPPORTED, "only 1-D and 2-D inputs")
    op_kind = PoolOp.MAX if node.op_type == "GlobalMaxPool" else PoolOp.AVERAGE
    value = c.add(nn.GlobalPoolOp(c.channels_last(x, layer), op_kind, layer))
    # ONNX keeps the spatial axes as 1s: (C, 1, 1) is a view of our (C).
    out = Tensor(value, (x.logical[0],), (0,))
    c.set(node, out.with_view((x.logical[0],) + (1,) * (len(x.logical) - 1), layer))


def _batchnorm(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    x = c.tensor(node.input[0], layer, "BatchNormalization")
    attrs = _attrs(node)
    if attrs.get("training_mode", 0):
        raise UnsupportedLayerError(layer, "BatchNormalization", SUPPORTED, "training mode")
    scale, bias, mean, var = (c.const(node, i, layer, "a statistic") for i in range(1, 5))
    assert scale is not None and bias is not None and mean is not None and var is not None
    eps = float(attrs.get("epsilon", 1e-5))  # type: ignore[arg-type]
    factor = scale.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps)
    offset = bias - mean * factor
    axis_shape = (-1,) + (1,) * (len(x.logical) - 1)
    if x.view is None and x.perm[-1] != 0 and prod(x.logical[1:]) > 1:
        # Per-channel by definition: put the channels last rather than scale a full tensor.
        rank = len(x.logical)
        x = _physical_tensor(c.channels_last(x, layer), _channels_last(rank))
    _affine(c, node, layer, x, factor.reshape(axis_shape), offset.reshape(axis_shape))


def _affine(
    c: _Converter, node: onnx.NodeProto, layer: str, x: Tensor, scale: np.ndarray, bias: np.ndarray
) -> None:
    """x * scale + bias with per-sample constants: nn.batchnorm when per-channel, else merges."""
    scale_p, bias_p = x.to_physical(scale), x.to_physical(bias)
    vectors = [_channel_vector(a) for a in (scale_p, bias_p)]
    if vectors[0] is not None and vectors[1] is not None:
        value = c.add(nn.BatchNormOp(x.value, _f32(vectors[0]), _f32(vectors[1]), layer))  # type: ignore[arg-type]
        c.set(node, x.rebuild(value))
        return
    value = x.value
    if not np.all(scale_p == 1):
        k = c.add(
            nn.ConstantOp(np.ascontiguousarray(scale_p, np.float32), c.unique(f"{layer}_scale"))
        )
        value = c.add(nn.MulOp([value, k], c.unique(f"{layer}_mul") if np.any(bias_p) else layer))
    if np.any(bias_p):
        k = c.add(
            nn.ConstantOp(np.ascontiguousarray(bias_p, np.float32), c.unique(f"{layer}_bias"))
        )
        value = c.add(nn.AddOp([value, k], layer))
    c.set(node, x.rebuild(value))


def _channel_vector(array: np.ndarray) -> np.ndarray | None:
    """The per-channel vector of a physical array constant along all but the last axis."""
    if array.ndim == 0:
        return None
    flat = array.reshape(-1, array.shape[-1])
    return flat[0].copy() if np.all(flat == flat[0]) else None


# ----- converters: element-wise -----------------------------------------------------------------------------


def _activation(kind: ActivationKind, **fixed: float) -> Handler:
    def convert(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
        x = c.tensor(node.input[0], layer, node.op_type)
        attrs = _attrs(node)
        params = {k: float(attrs.get(k, v)) for k, v in fixed.items()}  # type: ignore[arg-type]
        value = c.add(
            nn.ActivationOp(x.value, kind, layer, params.get("alpha"), params.get("beta"))
        )
        c.set(node, x.rebuild(value))

    return convert


def _selu(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    attrs = _attrs(node)
    alpha, gamma = float(attrs.get("alpha", _SELU_ALPHA)), float(attrs.get("gamma", _SELU_GAMMA))  # type: ignore[arg-type]
    if not (
        np.isclose(alpha, _SELU_ALPHA, rtol=1e-6) and np.isclose(gamma, _SELU_GAMMA, rtol=1e-6)
    ):
        raise UnsupportedLayerError(layer, "Selu", SUPPORTED, "only the standard alpha and gamma")
    _activation(ActivationKind.SELU)(c, node, layer)


def _gelu(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    if _text(_attrs(node).get("approximate", "none")) != "none":
        raise UnsupportedLayerError(layer, "Gelu", SUPPORTED, "only the exact (erf) form")
    _activation(ActivationKind.GELU)(c, node, layer)


def _hard_swish(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    """x * hard_sigmoid(x) with slope 1/6 and offset 1/2 (no nn activation of its own)."""
    x = c.tensor(node.input[0], layer, "HardSwish")
    gate = nn.ActivationOp(
        x.value, ActivationKind.HARD_SIGMOID, c.unique(f"{layer}_gate"), 1.0 / 6.0, 0.5
    )
    value = c.add(nn.MulOp([x.value, c.add(gate)], layer))
    c.set(node, x.rebuild(value))


def _clip_bound(value: np.ndarray | float | None, layer: str, what: str) -> float | None:
    """One Clip bound as a float, None when absent or infinite (float32's extremes, the defaults
    of opset-6 Clip, stand for "no bound" too)."""
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float64)
    if array.size != 1:
        raise FrontendError(f"layer '{layer}' (Clip): {what} must be a scalar, got shape {array.shape}")
    bound = float(array.reshape(()))
    if math.isnan(bound):
        raise FrontendError(f"layer '{layer}' (Clip): {what} is NaN")
    return None if abs(bound) >= _F32_MAX else bound


def _clip(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    """min(max(x, min), max) as ONNX defines it (min > max gives max); a missing bound is none."""
    x = c.tensor(node.input[0], layer, "Clip")
    attrs = _attrs(node)
    low = c.const(node, 1, layer, "min")
    high = c.const(node, 2, layer, "max")
    lo = _clip_bound(low if low is not None else attrs.get("min"), layer, "min")  # type: ignore[arg-type]
    hi = _clip_bound(high if high is not None else attrs.get("max"), layer, "max")  # type: ignore[arg-type]
    if lo is None and hi is None:
        op = nn.ActivationOp(x.value, ActivationKind.LINEAR, layer)
    elif lo == 0 and hi == 6:
        op = nn.ActivationOp(x.value, ActivationKind.RELU6, layer)
    elif lo == 0 and hi is None:
        op = nn.ActivationOp(x.value, ActivationKind.RELU, layer)
    else:
        op = nn.ActivationOp(x.value, ActivationKind.CLIP, layer, lo, hi)
    c.set(node, x.rebuild(c.add(op)))


def _prelu(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    x = c.tensor(node.input[0], layer, "PRelu")
    slope = c.const(node, 1, layer, "the slope")
    assert slope is not None
    per_sample = _per_sample(slope, len(x.logical), layer, "PRelu")
    vector = _channel_vector(x.to_physical(per_sample))
    if vector is None and x.view is None and len(x.logical) > 1:
        x = _physical_tensor(c.channels_last(x, layer), _channels_last(len(x.logical)))
        vector = _channel_vector(x.to_physical(per_sample))
    if vector is None:
        raise UnsupportedLayerError(layer, "PRelu", SUPPORTED, "the slope must be per-channel")
    if np.all(vector == vector[0]):
        op = nn.ActivationOp(x.value, ActivationKind.LEAKY_RELU, layer, float(vector[0]))
    else:
        op = nn.ActivationOp(x.value, ActivationKind.PRELU, layer, param=_f32(vector))
    c.set(node, x.rebuild(c.add(op)))


def _per_sample(array: np.ndarray, rank: int, layer: str, op_type: str) -> np.ndarray:
    """A constant broadcast against a (batch, *per-sample) tensor, without its batch axis."""
    array = np.asarray(array, dtype=np.float64)
    if array.ndim <= rank:
        return array
    if array.shape[0] != 1:
        raise UnsupportedLayerError(
            layer,
            op_type,
            SUPPORTED,
            f"a constant of shape {array.shape} varies along the batch axis",
        )
    return array[0]


_MERGES: dict[str, type[nn.ElementwiseMergeOp]] = {
    "Add": nn.AddOp,
    "Sum": nn.AddOp,
    "Sub": nn.SubOp,
    "Mul": nn.MulOp,
    "Mean": nn.AverageOp,
    "Max": nn.MaximumOp,
    "Min": nn.MinimumOp,
}


def _binary(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    """Add/Sub/Mul/Div with a constant (folded into nn.batchnorm when per-channel) or tensors."""
    op_type = node.op_type
    names = list(node.input)
    tensors = [n for n in names if n in c.tensors]
    if op_type in ("Add", "Sub", "Mul", "Div") and len(tensors) == 1 and len(names) == 2:
        x = c.tensors[tensors[0]]
        const = _per_sample(
            c.consts[names[1 - names.index(tensors[0])]], len(x.logical), layer, op_type
        )
        tensor_first = names[0] == tensors[0]
        if op_type == "Div" and not tensor_first:
            raise UnsupportedLayerError(layer, "Div", SUPPORTED, "constant divided by a tensor")
        if op_type == "Div" and not np.all(const != 0):
            divisor = names[1]
            raise FrontendError(
                f"layer '{layer}' (Div): the divisor '{divisor}' holds zero at index "
                f"{tuple(int(i) for i in np.argwhere(const == 0)[0])}; the quotient would be infinite"
            )
        one, zero = np.ones(()), np.zeros(())
        scale, bias = {
            "Add": (one, const),
            "Sub": (one, -const) if tensor_first else (-one, const),
            "Mul": (const, zero),
            "Div": (1.0 / const, zero),
        }[op_type]
        _affine(c, node, layer, x, scale, bias)
        return
    if op_type == "Div":
        raise UnsupportedLayerError(layer, "Div", SUPPORTED, "division of two tensors")
    _merge(c, node, layer, names)


def _merge(c: _Converter, node: onnx.NodeProto, layer: str, names: list[str]) -> None:
    first = next(c.tensors[n] for n in names if n in c.tensors)
    shape = first.logical
    for n in names:
        if n in c.tensors and c.tensors[n].logical != shape:
            raise UnsupportedLayerError(
                layer,
                node.op_type,
                SUPPORTED,
                f"broadcasting between tensors {shape} and {c.tensors[n].logical}",
            )
    if len(names) == 1:
        c.set(node, first)
        return
    perm = first.perm if first.view is None else _identity(len(shape))
    layout = Tensor(first.value, shape, perm)
    values = []
    for n in names:
        if n in c.tensors:
            values.append(c.materialize(c.tensors[n], perm, layer))
            continue
        array = layout.to_physical(_per_sample(c.consts[n], len(shape), layer, node.op_type))
        values.append(
            c.add(
                nn.ConstantOp(np.ascontiguousarray(array, np.float32), c.unique(f"{layer}_const"))
            )
        )
    value = c.add(_MERGES[node.op_type](values, layer))
    c.set(node, _physical_tensor(value, perm))


# ----- converters: softmax, concat and shapes -----------------------------------------------------------------


def _softmax(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    x = c.tensor(node.input[0], layer, "Softmax")
    rank = len(x.logical)
    axis = int(_attrs(node).get("axis", 1 if c.opset < 13 else -1))  # type: ignore[arg-type]
    axis = (axis + rank + 1 if axis < 0 else axis) - 1
    if axis < 0:
        raise UnsupportedLayerError(layer, "Softmax", SUPPORTED, "softmax over the batch axis")
    if c.opset < 13 and prod(x.logical[axis + 1 :]) != 1:
        raise UnsupportedLayerError(
            layer, "Softmax", SUPPORTED, "opset<13 softmax over several axes"
        )
    if x.view is None and x.perm[-1] == axis:
        perm = x.perm
    else:
        perm = (*[a for a in range(rank) if a != axis], axis)
    value = c.add(nn.SoftmaxOp(c.materialize(x, perm, layer), layer))
    c.set(node, _physical_tensor(value, perm))


def _concat(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    names = [n for n in node.input if n]
    first = next(c.tensor(n, layer, "Concat") for n in names if n in c.tensors)  # refuses time-major tensors
    rank = len(first.logical)
    axis = int(_attrs(node)["axis"])  # type: ignore[arg-type]
    axis = (axis + rank + 1 if axis < 0 else axis) - 1
    if axis < 0:
        raise UnsupportedLayerError(
            layer, "Concat", SUPPORTED, "concatenation along the batch axis"
        )
    perm = first.perm if first.view is None else _identity(rank)
    values = []
    for n in names:
        if n in c.tensors:
            values.append(c.materialize(c.tensors[n], perm, layer))
            continue
        array = _per_sample(c.consts[n], rank, layer, "Concat").transpose(perm)
        values.append(
            c.add(
                nn.ConstantOp(np.ascontiguousarray(array, np.float32), c.unique(f"{layer}_const"))
            )
        )
    value = c.add(nn.ConcatOp(values, perm.index(axis), layer))
    c.set(node, _physical_tensor(value, perm))


def _split(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    """Split into k parts along an axis: a chain of k - 1 two-result nn.split ops."""
    x = c.tensor(node.input[0], layer, "Split")
    rank = len(x.logical)
    attrs = _attrs(node)
    axis = int(attrs.get("axis", 0))  # type: ignore[arg-type]
    axis = (axis + rank + 1 if axis < 0 else axis) - 1
    if axis < 0:
        raise UnsupportedLayerError(layer, "Split", SUPPORTED, "a split along the batch axis")
    length, k = x.logical[axis], len(node.output)
    given = c.const(node, 1, layer, "split sizes")
    if given is None and "split" in attrs:
        given = np.asarray(attrs["split"])
    if given is not None:
        sizes = [int(v) for v in np.asarray(given).reshape(-1)]
    else:  # equal parts (opset 18: the last one smaller when k does not divide the length)
        part = -(-length // k)
        sizes = [min(part, length - i * part) for i in range(k)]
    if len(sizes) != k or sum(sizes) != length or min(sizes) < 1:
        raise UnsupportedLayerError(
            layer, "Split", SUPPORTED, f"split sizes {sizes} must be {k} positive parts of {length}"
        )
    perm = x.perm if x.view is None else _identity(rank)
    rest = c.materialize(x, perm, layer)
    parts: list[Tensor] = []
    for i, size in enumerate(sizes[:-1]):
        name = layer if i == 0 else c.unique(f"{layer}_{i}")
        first, rest = c.add_results(SplitOp(rest, perm.index(axis), size, name))
        parts.append(_physical_tensor(first, perm))
    parts.append(_physical_tensor(rest, perm))
    c.set_outputs(node, parts)


def _flatten(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    x = c.tensor(node.input[0], layer, "Flatten")
    axis = int(_attrs(node).get("axis", 1))  # type: ignore[arg-type]
    rank = len(x.logical) + 1
    axis = axis + rank if axis < 0 else axis
    # axis 0 also folds the batch into the row (Keras exports do this with batch 1): per sample,
    # it is the same flattening.
    if axis <= 1:
        shape: tuple[int, ...] = (prod(x.logical),)
    else:
        shape = (prod(x.logical[: axis - 1]), prod(x.logical[axis - 1 :]))
    c.unclaimed.add(layer)
    c.set(node, x.with_view(shape, layer))


def _reshape(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    x = c.tensor(node.input[0], layer, "Reshape")
    target = c.const(node, 1, layer, "the shape")
    if target is None:
        target = np.asarray(_attrs(node)["shape"])  # opset < 5
    dims = [int(d) for d in target]
    if x.batch_axis != 0:
        _reshape_time_major(c, node, x, dims, layer)
        return
    if not dims or dims[0] not in (0, 1, -1):
        raise UnsupportedLayerError(
            layer, "Reshape", SUPPORTED, f"shape {dims} changes the batch axis"
        )
    per_sample = [
        x.logical[i] if d == 0 and i < len(x.logical) else d for i, d in enumerate(dims[1:])
    ]
    if dims[0] == -1 and -1 in per_sample:
        raise UnsupportedLayerError(layer, "Reshape", SUPPORTED, f"shape {dims} has two unknowns")
    if -1 in per_sample:
        known = prod(d for d in per_sample if d != -1)
        per_sample[per_sample.index(-1)] = prod(x.logical) // known
    if prod(per_sample) != prod(x.logical):
        raise UnsupportedLayerError(
            layer, "Reshape", SUPPORTED, f"shape {dims} changes the batch axis"
        )
    c.unclaimed.add(layer)
    c.set(node, x.with_view(per_sample, layer))


def _reshape_time_major(c: _Converter, node: onnx.NodeProto, x: Tensor, dims: list[int], layer: str) -> None:
    """A reshape of a tensor whose batch axis b is not 0 (a time-major sequence, as PyTorch
    reshapes a bidirectional layer's output): the axes before b stay as they are, so it reshapes
    each sample's trailing axes."""
    b = x.batch_axis
    full = [*x.logical[:b], 1, *x.logical[b:]]
    dims = [full[i] if d == 0 and i < len(full) else d for i, d in enumerate(dims)]
    if dims.count(-1) == 1:
        dims[dims.index(-1)] = prod(full) // max(1, -prod(dims))
    if dims[: b + 1] != full[: b + 1] or prod(dims) != prod(full):
        raise UnsupportedLayerError(
            layer, "Reshape", SUPPORTED, f"shape {dims} of a tensor with its batch on axis {b} must keep axes 0..{b}"
        )
    per_sample = dims[:b] + dims[b + 1 :]
    c.unclaimed.add(layer)
    c.set(node, x.with_view(per_sample, layer).with_batch_axis(b))


def _axes(c: _Converter, node: onnx.NodeProto, layer: str) -> list[int] | None:
    axes = c.const(node, 1, layer, "the axes")
    if axes is None:
        attr = _attrs(node).get("axes")
        return None if attr is None else [int(a) for a in attr]  # type: ignore[union-attr]
    return [int(a) for a in axes]


def _squeeze(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    x = c.tensor(node.input[0], layer, "Squeeze")
    rank = len(x.logical) + 1
    axes = _axes(c, node, layer)
    if axes is None:
        axes = [x.full_axis(i) for i, d in enumerate(x.logical) if d == 1]
    axes = [a + rank if a < 0 else a for a in axes]
    if x.batch_axis in axes:
        raise UnsupportedLayerError(layer, "Squeeze", SUPPORTED, "squeezing the batch axis")
    dropped = {x.sample_axis(a) for a in axes}
    shape = [d for i, d in enumerate(x.logical) if i not in dropped]
    batch_axis = x.batch_axis - sum(a < x.batch_axis for a in axes)
    c.unclaimed.add(layer)
    c.set(node, x.with_view(shape, layer).with_batch_axis(batch_axis))


def _unsqueeze(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    x = c.tensor(node.input[0], layer, "Unsqueeze")
    axes = _axes(c, node, layer) or []
    rank = len(x.logical) + 1 + len(axes)
    axes = sorted(a + rank if a < 0 else a for a in axes)
    if 0 in axes:
        raise UnsupportedLayerError(layer, "Unsqueeze", SUPPORTED, "a new batch axis")
    shape = list(x.logical)
    for a in axes:
        shape.insert(a - 1, 1)
    c.unclaimed.add(layer)
    c.set(node, x.with_view(shape, layer))


def _transpose(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    x = c.tensor(node.input[0], layer, "Transpose")
    rank = len(x.logical) + 1
    perm_attr = _attrs(node).get("perm")
    if perm_attr is None and rank == 2:
        # Some Keras exporters reverse a (batch, features) tensor: with batch 1 it only moves
        # a 1-axis, which is the identity per sample.
        c.set(node, x)
        return
    perm = [int(p) for p in perm_attr] if perm_attr is not None else list(range(rank))[::-1]  # type: ignore[union-attr]
    batch_axis = perm.index(x.batch_axis)
    users = c.consumers.get(node.output[0], [])
    time_major = bool(users) and node.output[0] not in c.graph_outputs and all(u.op_type in (*TIME_MAJOR_READERS, "Shape", "Size") for u in users)
    if batch_axis > 1 or (batch_axis == 1 and not time_major):
        raise UnsupportedLayerError(
            layer, "Transpose", SUPPORTED, f"perm {perm} moves the batch axis"
        )
    # The per-sample permutation: full axes without the batch axis, before and after.
    q = [x.sample_axis(p) for p in perm if p != x.batch_axis]
    if x.view is not None:
        x = _physical_tensor(
            c.materialize(x, _identity(len(x.logical)), layer), _identity(len(x.logical))
        ).with_batch_axis(x.batch_axis)
    inverse = [q.index(a) for a in range(len(q))]
    c.set(node, Tensor(x.value, tuple(x.shape[a] for a in q), tuple(inverse[a] for a in x.perm), batch_axis=batch_axis))


def _pad(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    x = c.tensor(node.input[0], layer, "Pad")
    attrs = _attrs(node)
    if _text(attrs.get("mode", "constant")) != "constant":
        raise UnsupportedLayerError(layer, "Pad", SUPPORTED, "only constant padding")
    pads_in = c.const(node, 1, layer, "the pads")
    pads = [int(p) for p in (pads_in if pads_in is not None else attrs.get("pads", []))]  # type: ignore[union-attr]
    value = c.const(node, 2, layer, "the pad value")
    fill = float(value) if value is not None and value.size else float(attrs.get("value", 0.0))  # type: ignore[arg-type]
    rank = len(x.logical) + 1
    axes_in = c.const(node, 3, layer, "the axes")
    if axes_in is not None:  # opset 18: pads only for the listed axes
        full = [0] * 2 * rank
        axes = [int(a) + rank if a < 0 else int(a) for a in axes_in]
        for i, a in enumerate(axes):
            full[a], full[a + rank] = pads[i], pads[i + len(axes)]
        pads = full
    if fill != 0.0:
        raise UnsupportedLayerError(layer, "Pad", SUPPORTED, f"pad value {fill} (only zero)")
    if rank < 3 or any(pads[a] or pads[a + rank] for a in (0, 1)):
        raise UnsupportedLayerError(
            layer, "Pad", SUPPORTED, "only spatial axes of (N, C, ...) tensors"
        )
    begin = [pads[a] for a in range(2, rank)]
    end = [pads[a + rank] for a in range(2, rank)]
    result = c.channels_last(x, layer)
    grow = [max(v, 0) for pair in zip(begin, end, strict=True) for v in pair]
    shrink = [max(-v, 0) for pair in zip(begin, end, strict=True) for v in pair]
    if any(grow):
        result = c.add(
            nn.PadOp(result, grow, layer if not any(shrink) else c.unique(f"{layer}_pad"))
        )
    if any(shrink):
        result = c.add(nn.CropOp(result, shrink, layer))
    if not any(grow) and not any(shrink):
        result = c.add(nn.IdentityOp(result, layer))
    c.set(node, _physical_tensor(result, _channels_last(rank - 1)))


def _nearest_sources(size: int, scale: int, coord: str, nearest: str) -> np.ndarray:
    """Source index of each output position of ONNX nearest Resize along one axis."""
    out = np.arange(size * scale, dtype=np.float64)
    if coord == "asymmetric":
        x = out / scale
    elif coord in ("half_pixel", "pytorch_half_pixel"):
        x = (out + 0.5) / scale - 0.5
    elif coord == "tf_half_pixel_for_nn":
        x = (out + 0.5) / scale
    elif coord == "align_corners":
        x = out * (size - 1) / max(size * scale - 1, 1)
    else:
        return np.full(out.shape, -1)
    rounding = {
        "round_prefer_floor": lambda v: np.ceil(v - 0.5),
        "round_prefer_ceil": lambda v: np.floor(v + 0.5),
        "floor": np.floor,
        "ceil": np.ceil,
    }.get(nearest)
    if rounding is None:
        return np.full(out.shape, -1)
    return np.clip(rounding(x), 0, size - 1).astype(np.int64)


def _resize_factors(
    node: onnx.NodeProto,
    layer: str,
    attrs: dict[str, object],
    full_in: tuple[int, ...],
    scales: np.ndarray | None,
    sizes: np.ndarray | None,
) -> list[float]:
    """The scale of every axis (batch included): from `sizes` (with keep_aspect_ratio_policy) or
    `scales`, each given for the listed `axes` (all axes by default)."""
    rank = len(full_in)
    axes_attr = attrs.get("axes")
    axes = list(range(rank)) if axes_attr is None else [int(a) % rank for a in axes_attr]  # type: ignore[union-attr]
    policy = _text(attrs.get("keep_aspect_ratio_policy", "stretch"))
    factors = [1.0] * rank
    if sizes is not None and sizes.size:
        if sizes.size != len(axes):
            raise UnsupportedLayerError(
                layer, node.op_type, SUPPORTED, f"{sizes.size} sizes for {len(axes)} axes"
            )
        ratios = [float(s) / full_in[a] for s, a in zip(sizes.reshape(-1), axes, strict=True)]
        if policy in ("not_larger", "not_smaller"):
            ratio = min(ratios) if policy == "not_larger" else max(ratios)
            ratios = [ratio] * len(axes)
    elif scales is not None and scales.size == len(axes):
        ratios = [float(s) for s in scales.reshape(-1)]
    else:
        raise UnsupportedLayerError(layer, node.op_type, SUPPORTED, "needs scales or sizes")
    for a, ratio in zip(axes, ratios, strict=True):
        factors[a] = ratio
    return factors


def _resize(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    x = c.tensor(node.input[0], layer, node.op_type)
    attrs = _attrs(node)
    if _text(attrs.get("mode", "nearest")) != "nearest":
        raise UnsupportedLayerError(layer, node.op_type, SUPPORTED, "only nearest mode")
    rank = len(x.logical) + 1
    full_in = (1, *x.logical)
    if node.op_type == "Upsample" or c.opset < 11:
        scales = c.const(node, 1, layer, "the scales")
        if scales is None:
            scales = np.asarray(attrs.get("scales", []), dtype=np.float64)
        sizes = None
    else:
        scales = c.const(node, 2, layer, "the scales")
        sizes = c.const(node, 3, layer, "the sizes")
    factors = _resize_factors(node, layer, attrs, full_in, scales, sizes)
    # NCHW data scales axes 2...; NHWC data (QONNX channels-last graphs) scales axes 1..-2.
    nhwc = rank >= 3 and factors[0] == factors[-1] == 1.0 and factors[1] != 1.0
    spatial = factors[1:-1] if nhwc else factors[2:]
    sizes_in = x.logical[:-1] if nhwc else x.logical[1:]
    if (not nhwc and factors[:2] != [1.0, 1.0]) or rank < 3 or any(
        f < 1 or f != int(f) for f in spatial
    ):
        raise UnsupportedLayerError(
            layer, node.op_type, SUPPORTED, f"scales {factors}: only integer spatial upsampling"
        )
    coord = _text(
        attrs.get(
            "coordinate_transformation_mode",
            "half_pixel" if node.op_type == "Resize" and c.opset >= 11 else "asymmetric",
        )
    )
    nearest = _text(
        attrs.get(
            "nearest_mode",
            "round_prefer_floor" if node.op_type == "Resize" and c.opset >= 11 else "floor",
        )
    )
    for size, f in zip(sizes_in, spatial, strict=True):
        if not np.array_equal(
            _nearest_sources(size, int(f), coord, nearest), np.repeat(np.arange(size), int(f))
        ):
            raise UnsupportedLayerError(
                layer,
                node.op_type,
                SUPPORTED,
                f"coordinate mode {coord} / nearest mode {nearest} is not plain repetition",
            )
    factors_int = [int(f) for f in spatial]
    if nhwc:
        value = c.materialize(x, _identity(len(x.logical)), layer)
        out = c.add(nn.UpsampleOp(value, factors_int, layer))
        c.set(node, _physical_tensor(out, _identity(rank - 1)))
        return
    op = nn.UpsampleOp(c.channels_last(x, layer), factors_int, layer)
    c.set(node, _physical_tensor(c.add(op), _channels_last(rank - 1)))


def _passthrough(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    """Identity and inference-time Dropout: the output is the input (no layer kept)."""
    x = c.tensor(node.input[0], layer, node.op_type)
    for extra in node.output[1:]:
        if (extra and extra in c.consumers) or extra in c.graph_outputs:
            raise UnsupportedLayerError(layer, node.op_type, SUPPORTED, "the dropout mask is used")
    training = c.const(node, 2, layer, "training_mode") if node.op_type == "Dropout" else None
    if training is not None and bool(np.asarray(training).reshape(-1)[0]):
        raise UnsupportedLayerError(
            layer, node.op_type, SUPPORTED, "training_mode=true (random dropout)"
        )
    c.set(node, x)


# ----- recurrent ops ---------------------------------------------------------------------------------------

_RECURRENT_OPS: dict[str, tuple[str, int]] = {"RNN": ("simple_rnn", 1), "LSTM": ("lstm", 4), "GRU": ("gru", 3)}
_ONNX_GATES: dict[str, ActivationKind] = {
    "Sigmoid": ActivationKind.SIGMOID,
    "Tanh": ActivationKind.TANH,
    "Relu": ActivationKind.RELU,
    "HardSigmoid": ActivationKind.HARD_SIGMOID,
    "Softsign": ActivationKind.SOFTSIGN,
}
_DEFAULT_GATES: dict[str, list[str]] = {"RNN": ["Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"]}
_ONNX_TO_KERAS_BLOCKS: dict[str, list[int]] = {"LSTM": [0, 2, 3, 1], "GRU": [0, 1, 2], "RNN": [0]}
"""ONNX gate blocks (LSTM i, o, f, c; GRU z, r, h) in Keras order (LSTM i, f, c, o)."""
TIME_MAJOR_READERS = frozenset({"Transpose", "Squeeze", "Gather", "Reshape", *_RECURRENT_OPS})


def _is_used(c: _Converter, name: str) -> bool:
    return bool(name) and (name in c.graph_outputs or bool(c.consumers.get(name)))


def _gates(node: onnx.NodeProto, layer: str, count: int) -> list[tuple[ActivationKind, float | None, float | None]]:
    """The activations of one direction: (kind, alpha, beta) per function of the op."""
    attrs = _attrs(node)
    default = _DEFAULT_GATES[node.op_type] * (count // len(_DEFAULT_GATES[node.op_type]))
    names = [_text(a) for a in attrs.get("activations", default)]  # type: ignore[union-attr]
    if len(names) < count:
        raise UnsupportedLayerError(layer, node.op_type, SUPPORTED, f"activations {names} must name {count} functions")
    alphas = list(attrs.get("activation_alpha", []))  # type: ignore[call-overload]
    betas = list(attrs.get("activation_beta", []))  # type: ignore[call-overload]
    gates = []
    for i, name in enumerate(names[:count]):
        kind = _ONNX_GATES.get(name)
        if kind is None:
            raise UnsupportedLayerError(
                layer, node.op_type, SUPPORTED, f"activation '{name}'; supported: {', '.join(sorted(_ONNX_GATES))}"
            )
        alpha = float(alphas[i]) if i < len(alphas) else (0.2 if kind == ActivationKind.HARD_SIGMOID else None)
        beta = float(betas[i]) if i < len(betas) else (0.5 if kind == ActivationKind.HARD_SIGMOID else None)
        gates.append((kind, alpha, beta))
    return gates


def _zero_or_absent(c: _Converter, node: onnx.NodeProto, index: int, layer: str, what: str) -> None:
    value = c.const(node, index, layer, what)
    if value is not None and np.any(np.asarray(value) != 0):
        raise UnsupportedLayerError(layer, node.op_type, SUPPORTED, f"a non-zero {what}")


def _keras_blocks(array: np.ndarray, op_type: str, units: int) -> np.ndarray:
    """Rows of gate blocks (G * H, ...) reordered from ONNX's gate order to Keras'."""
    blocks = [array[b * units : (b + 1) * units] for b in _ONNX_TO_KERAS_BLOCKS[op_type]]
    return np.concatenate(blocks, axis=0)


def _recurrent(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    """ONNX RNN / LSTM / GRU -> nn.recurrent: per direction, one op per output used (Y: every
    step, Y_h: the last state, Y_c: the last cell state); the reverse direction reads the sequence
    from its end and keeps Y aligned with the input steps; a bidirectional op concatenates its two
    directions (the ONNX num_directions axis is a view of the concatenation)."""
    op_type = node.op_type
    cell, count = _RECURRENT_OPS[op_type]
    attrs = _attrs(node)
    x = c.tensor(node.input[0], layer, op_type)
    layout = int(attrs.get("layout", 0))  # type: ignore[arg-type]
    if x.batch_axis != (1 if layout == 0 else 0) or len(x.logical) != 2:
        raise UnsupportedLayerError(
            layer, op_type, SUPPORTED,
            f"its input must be a {'(time, batch, features)' if layout == 0 else '(batch, time, features)'} sequence "
            "with the batch axis of the model input",
        )  # fmt: skip
    direction = _text(attrs.get("direction", "forward"))
    if direction not in ("forward", "reverse", "bidirectional"):
        raise UnsupportedLayerError(layer, op_type, SUPPORTED, f"direction '{direction}'; supported: forward, reverse, bidirectional")
    for option, what in (("clip", "cell clipping"), ("input_forget", "coupled input and forget gates")):
        if attrs.get(option):
            raise UnsupportedLayerError(layer, op_type, SUPPORTED, f"option {option} ({what}) is not supported")
    if op_type == "LSTM" and len(node.input) > 7 and node.input[7]:
        raise UnsupportedLayerError(layer, op_type, SUPPORTED, "peephole connections (input P) are not supported")
    lengths = c.const(node, 4, layer, "sequence_lens")
    steps = x.logical[0]
    if lengths is not None and np.any(np.asarray(lengths) != steps):
        raise UnsupportedLayerError(layer, op_type, SUPPORTED, "sequence_lens shorter than the sequence (variable lengths)")
    _zero_or_absent(c, node, 5, layer, "initial_h")
    if op_type == "LSTM":
        _zero_or_absent(c, node, 6, layer, "initial_c")
    w = c.const(node, 1, layer, "W")
    r = c.const(node, 2, layer, "R")
    b = c.const(node, 3, layer, "B")
    if w is None or r is None:
        raise UnsupportedLayerError(layer, op_type, SUPPORTED, "W and R must be constants")
    units = int(r.shape[-1])
    width = count * units
    n_gates = {"RNN": 1, "LSTM": 3, "GRU": 2}[op_type]
    all_gates = _gates(node, layer, n_gates * (2 if direction == "bidirectional" else 1))
    value = c.materialize(x, _identity(2), layer)
    reverses = [False, True] if direction == "bidirectional" else [direction == "reverse"]
    suffixes = ["_forward", "_backward"] if len(reverses) == 2 else [""]

    def fresh(name: str) -> str:
        return name if name == layer else c.unique(name)  # the node's own name is already taken

    def direction_op(d: int, name: str, sequence: bool, final_cell: bool = False) -> SSAValue:
        gates = all_gates[d * n_gates : (d + 1) * n_gates]
        if op_type == "LSTM" and gates[1] != gates[2]:
            raise UnsupportedLayerError(layer, op_type, SUPPORTED, "different cell and output activations (g and h)")
        act = gates[0] if op_type == "RNN" else gates[1]
        ract = gates[0] if op_type != "RNN" else (ActivationKind.LINEAR, None, None)
        bias = np.zeros(2 * width, np.float32) if b is None else np.asarray(b, np.float32)[d]
        kernel = _keras_blocks(np.asarray(w, np.float32)[d], op_type, units).T
        recurrent = _keras_blocks(np.asarray(r, np.float32)[d], op_type, units).T
        b_x, b_h = _keras_blocks(bias[:width], op_type, units), _keras_blocks(bias[width:], op_type, units)
        op = RecurrentOp(
            value, cell, kernel, recurrent, b_x, b_h, fresh(name), activation=act[0], recurrent_activation=ract[0],
            return_sequences=sequence, go_backwards=reverses[d], aligned_outputs=reverses[d], final_cell=final_cell,
            reset_after=bool(attrs.get("linear_before_reset", 0)), params=(act[1], act[2], ract[1], ract[2]),
        )  # fmt: skip
        return c.add(op)

    def joined(values: list[SSAValue], name: str) -> SSAValue:
        if len(values) == 1:
            return values[0]
        return c.add(nn.ConcatOp(values, len(nn.shape_of(values[0])) - 1, fresh(name)))

    n_dir = len(reverses)
    outputs: list[Tensor] = []
    first = True
    for index, kind in enumerate(("Y", "Y_h", "Y_c")[: 3 if op_type == "LSTM" else 2]):
        if index >= len(node.output) or not _is_used(c, node.output[index]):
            outputs.append(Tensor(value, (steps, units), _identity(2)))  # unused
            continue
        base = layer if first else f"{layer}_{'last' if kind == 'Y_h' else 'cell'}"
        first = False
        names = [base + suffix for suffix in suffixes]
        values = [direction_op(d, names[d], kind == "Y", kind == "Y_c") for d in range(n_dir)]
        y = joined(values, base)
        if kind == "Y":  # layout 0: (T, D, N, H), layout 1: (N, T, D, H)
            tensor = Tensor(y, (steps, n_dir * units), _identity(2), batch_axis=2 if layout == 0 else 0)
            outputs.append(tensor.with_view((steps, n_dir, units), layer))
        else:  # layout 0: (D, N, H), layout 1: (N, D, H)
            tensor = Tensor(y, (n_dir * units,), (0,), batch_axis=1 if layout == 0 else 0)
            outputs.append(tensor.with_view((n_dir, units), layer))
    c.set_outputs(node, outputs[: len(node.output)])


def _direction_axis(x: Tensor, a: int) -> bool:
    """Whether per-sample axis `a` of x is the num_directions axis of a bidirectional recurrent
    op's output: x views the concatenation of the directions (last axis) as (..., D, H)."""
    owner = x.value.owner
    if not isinstance(owner, nn.ConcatOp) or x.view is None or x.perm != _identity(len(x.shape)):
        return False
    parts = len(owner.operands)
    if not all(isinstance(v.owner, RecurrentOp) for v in owner.operands) or a != len(x.shape) - 1:
        return False
    return x.logical == (*x.shape[:-1], parts, x.shape[-1] // parts)


def _pick_direction(c: _Converter, node: onnx.NodeProto, x: Tensor, i: int) -> Tensor:
    """Direction i of a bidirectional output; the concatenation (and the other direction's op)
    go when this Gather was their only reader."""
    owner = x.value.owner
    assert isinstance(owner, nn.ConcatOp)
    value = owner.operands[i]
    shape = nn.shape_of(value)
    if len(c.consumers.get(node.input[0], [])) == 1 and node.input[0] not in c.graph_outputs and not any(True for _ in x.value.uses):
        operands = list(owner.operands)
        owner.detach()
        owner.erase()
        for other in operands:
            if other is not value and not any(True for _ in other.uses) and other.owner is not None:
                op = other.owner
                assert isinstance(op, Operation)
                op.detach()
                op.erase()
    return Tensor(value, shape, _identity(len(shape)))


def _gather(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    """Gather of one constant index on a tensor: along an axis of length 1 (a squeeze), or the
    last step of a recurrent op's sequence (the op then returns its last state only); Gather of
    a constant table's rows by a tensor of indices: an embedding."""
    if node.input[0] in c.consts and node.input[1] in c.tensors:
        _embedding(c, node, layer)
        return
    x = c.tensor(node.input[0], layer, "Gather")
    index = c.const(node, 1, layer, "the indices")
    axis = int(_attrs(node).get("axis", 0))  # type: ignore[arg-type]
    rank = len(x.logical) + 1
    axis = axis + rank if axis < 0 else axis
    if index is None or np.asarray(index).ndim != 0 or axis == x.batch_axis:
        raise UnsupportedLayerError(layer, "Gather", SUPPORTED, "on a tensor, only one constant index along a non-batch axis")
    a = x.sample_axis(axis)
    length = x.logical[a]
    i = int(index) + length if int(index) < 0 else int(index)
    shape = [d for k, d in enumerate(x.logical) if k != a]
    batch_axis = x.batch_axis - (axis < x.batch_axis)
    if _direction_axis(x, a):  # one direction of a bidirectional recurrent op
        c.set(node, _pick_direction(c, node, x, i).with_batch_axis(batch_axis))
        return
    if length == 1:
        c.unclaimed.add(layer)
        c.set(node, x.with_view(shape, layer).with_batch_axis(batch_axis))
        return
    owner = x.value.owner
    final = 0 if isinstance(owner, RecurrentOp) and owner.aligned_outputs is not None else length - 1
    if (
        not isinstance(owner, RecurrentOp) or owner.return_sequences is None or (a, i) != (0, final)
        or any(True for _ in x.value.uses) or len(c.consumers.get(node.input[0], [])) != 1
    ):  # fmt: skip
        raise UnsupportedLayerError(
            layer, "Gather", SUPPORTED,
            "on a tensor, only an index along an axis of length 1 or the last step of a recurrent layer's sequence",
        )  # fmt: skip
    # The recurrent op returns its last state only.
    units = owner.units
    props = {k: v for k, v in owner.properties.items() if k not in ("return_sequences", "aligned_outputs")}
    last = RecurrentOp.create(operands=[owner.input], result_types=[nn.float_tensor((units,))], properties=props)
    block = owner.parent_block()
    assert block is not None
    block.insert_op_before(last, owner)
    owner.detach()
    owner.erase()
    c.set(node, Tensor(last.results[0], (units,), (0,), batch_axis=batch_axis).with_view(shape, layer))


def _layernorm(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    """LayerNormalization over the axes from `axis` to the last (PyTorch nn.LayerNorm)."""
    x = c.tensor(node.input[0], layer, "LayerNormalization")
    attrs = _attrs(node)
    rank = len(x.logical) + 1
    axis = int(attrs.get("axis", -1))  # type: ignore[arg-type]
    axis = axis + rank if axis < 0 else axis
    if axis < 1:
        raise UnsupportedLayerError(layer, "LayerNormalization", SUPPORTED, "normalization over the batch axis")
    if any(_is_used(c, name) for name in node.output[1:]):
        raise UnsupportedLayerError(layer, "LayerNormalization", SUPPORTED, "outputs Mean and InvStdDev are not supported")
    normalized = x.logical[axis - 1 :]
    n = prod(normalized)
    scale = c.const(node, 1, layer, "Scale")
    bias = c.const(node, 2, layer, "B")
    gamma = np.broadcast_to(np.asarray(scale if scale is not None else 1.0, np.float32), normalized).reshape(n)
    beta = np.broadcast_to(np.asarray(bias if bias is not None else 0.0, np.float32), normalized).reshape(n)
    value = c.materialize(x, _identity(len(x.logical)), layer)
    epsilon = float(attrs.get("epsilon", 1e-5))  # type: ignore[arg-type]
    y = c.add(LayerNormOp(value, len(normalized), epsilon, gamma, beta, layer))
    c.set_outputs(node, [_physical_tensor(y, _identity(len(x.logical)))] * len(node.output))


def _embedding(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    """Gather of rows of a constant (V, D) table by a tensor of indices (PyTorch nn.Embedding)."""
    table = np.asarray(c.consts[node.input[0]])
    axis = int(_attrs(node).get("axis", 0))  # type: ignore[arg-type]
    if table.ndim != 2 or axis not in (0, -2):
        raise UnsupportedLayerError(layer, "Gather", SUPPORTED, f"a lookup in a constant of shape {table.shape} along axis {axis}: only rows of a 2-D table")
    ids = c.tensor(node.input[1], layer, "Gather")
    value = c.materialize(ids, _identity(len(ids.logical)), layer)
    y = c.add(EmbeddingOp(value, table.astype(np.float32), layer))
    c.set(node, _physical_tensor(y, _identity(len(ids.logical) + 1)))


# ----- quantization: QONNX (Quant, BipolarQuant, Trunc, channels-last wrappers) and ONNX QDQ ------------

QONNX_DOMAINS = frozenset({"qonnx.custom_op.general", "onnx.brevitas", "finn.custom_op.general"})
CHANNELS_LAST_DOMAINS = frozenset({"qonnx.custom_op.channels_last", "finn.custom_op.channels_last"})


def _compress(full: np.ndarray) -> np.ndarray:
    """A per-element parameter array as small as its values allow: scalar, per channel, or full."""
    if full.size == 0 or (full == full.reshape(-1)[0]).all():
        return np.asarray(full.reshape(-1)[0] if full.size else 0)
    rows = full.reshape(-1, full.shape[-1])
    return rows[0].copy() if (rows == rows[0]).all() else full


def _map_params(q: AnyQuantizer, transform: Callable[[np.ndarray], np.ndarray]) -> AnyQuantizer:
    """The quantizer with every per-element parameter passed through `transform` (a layout change
    from a full ONNX-layout array to a full physical-layout one), then compressed."""

    def move(array: np.ndarray) -> np.ndarray:
        return _compress(transform(array))

    if isinstance(q, UniformQuantizer):
        return UniformQuantizer.make(
            move(q.bits), move(q.signed), move(q.scale), move(q.zero_point),
            q.narrow, q.rounding, q.overflow,
        )  # fmt: skip
    if isinstance(q, BinaryQuantizer):
        return BinaryQuantizer(move(q.scale), q.zero_one, q.zero_positive)
    return q


def _tensor_quantizer(
    c: _Converter, t: Tensor, q: AnyQuantizer, rank: int, layer: str, op_type: str
) -> QuantizerAttr:
    """A quantizer of a tensor (ONNX parameters broadcast with a batch axis) in physical layout."""

    def transform(array: np.ndarray) -> np.ndarray:
        return t.to_physical(_per_sample(array, rank, layer, op_type))

    return QuantizerAttr.from_quantizer(_map_params(q, transform))


def _emit_quantize(c: _Converter, node: onnx.NodeProto, layer: str, q: AnyQuantizer) -> None:
    """A quantizer on a tensor (an activation) becomes `nn.quantize` on its physical value."""
    t = c.tensor(node.input[0], layer, node.op_type)
    attr = _tensor_quantizer(c, t, q, len(t.logical) + 1, layer, node.op_type)
    try:
        result = c.add(QuantizeOp(t.value, attr, layer))
    except VerifyException as e:
        raise UnsupportedLayerError(layer, node.op_type, SUPPORTED, str(e)) from None
    c.set(node, t.rebuild(result))


def _qonnx_quantizer(c: _Converter, node: onnx.NodeProto, layer: str) -> AnyQuantizer:
    where = f"layer '{layer}' ({node.op_type})"
    attrs = _attrs(node)
    params = [
        c.const(node, i, layer, what)
        for i, what in enumerate(("x", "scale", "zero point", "bit width"))
        if i
    ]
    try:
        if node.op_type == "BipolarQuant":
            scale = params[0]
            assert scale is not None
            return qonnx_ops.bipolar_quant(scale)
        scale, zero_point, bit_width = params
        if scale is None or zero_point is None or bit_width is None:
            raise UnsupportedLayerError(
                layer, node.op_type, SUPPORTED, "needs scale, zero point and bit width"
            )
        return qonnx_ops.quant(
            scale, zero_point, bit_width, bool(attrs.get("signed", 1)), bool(attrs.get("narrow", 0)),
            _text(attrs.get("rounding_mode", "ROUND")), where,
        )  # fmt: skip
    except QuantizerConfigError as e:
        raise UnsupportedLayerError(layer, node.op_type, SUPPORTED, str(e)) from None


def _quant(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    """QONNX Quant / BipolarQuant: folded into constants (weights, recording the quantizer for the
    layer that uses them) or an `nn.quantize` on a tensor."""
    q = _qonnx_quantizer(c, node, layer)
    source = node.input[0]
    if source in c.consts:
        c.consts[node.output[0]] = q(np.asarray(c.consts[source], np.float64)).astype(np.float32)
        c.quantizers[node.output[0]] = q
        return
    _emit_quantize(c, node, layer, q)


def _trunc(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    """QONNX Trunc: drop low bits of the codes: x * 2**-k, then codes floor-rounded (by its
    rounding_mode) on the input grid, with the output bit width."""
    attrs = _attrs(node)
    scale = c.const(node, 1, layer, "the scale")
    zero_point = c.const(node, 2, layer, "the zero point")
    in_bits = c.const(node, 3, layer, "the input bit width")
    out_bits = c.const(node, 4, layer, "the output bit width")
    if scale is None or zero_point is None or in_bits is None or out_bits is None:
        raise UnsupportedLayerError(
            layer, "Trunc", SUPPORTED, "needs scale, zero point and bit widths"
        )
    dropped = int(np.asarray(in_bits).reshape(-1)[0]) - int(np.asarray(out_bits).reshape(-1)[0])
    t = c.tensor(node.input[0], layer, "Trunc")
    channels = nn.shape_of(t.value)[-1]
    shifted = c.add(nn.BatchNormOp(
        t.value, np.full(channels, 2.0**-dropped, np.float32), np.zeros(channels, np.float32),
        c.unique(f"{layer}_shift"),
    ))  # fmt: skip
    try:
        q = UniformQuantizer.make(
            int(np.asarray(out_bits).reshape(-1)[0]), bool(attrs.get("signed", 1)), scale, zero_point,
            rounding=qonnx_ops.qonnx_rounding(_text(attrs.get("rounding_mode", "FLOOR")), layer),
        )  # fmt: skip
    except (QuantizerConfigError, ValueError) as e:
        raise UnsupportedLayerError(layer, "Trunc", SUPPORTED, str(e)) from None
    c.tensors[f"{layer}__shifted"] = t.rebuild(shifted)
    shifted_node = helper.make_node("Trunc", [f"{layer}__shifted"], list(node.output))
    _emit_quantize(c, shifted_node, layer, q)


def _channels_last_op(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    """QONNX's channels-last wrappers of Conv and MaxPool: NHWC data (and OHWI weights), the same
    attributes. The NHWC tensor is relabelled as the NCHW tensor it physically is, converted by
    the standard handler, and its result relabelled back."""
    x = c.tensor(node.input[0], layer, node.op_type)
    if len(x.logical) < 2:
        raise UnsupportedLayerError(layer, node.op_type, SUPPORTED, "channels-last op on a vector")
    value = c.materialize(x, _identity(len(x.logical)), layer)
    rank = len(x.logical)
    nchw = (x.logical[-1], *x.logical[:-1])
    proxy = f"{node.input[0]}__nchw"
    c.tensors[proxy] = Tensor(value, nchw, _channels_last(rank))
    inputs = [proxy, *node.input[1:]]
    if node.op_type == "Conv" and node.input[1] in c.consts:
        w = np.asarray(c.consts[node.input[1]])
        name = f"{node.input[1]}__oihw"
        c.consts[name] = np.moveaxis(w, -1, 1)  # OHWI -> OIHW
        if node.input[1] in c.quantizers:
            c.quantizers[name] = _map_params(c.quantizers[node.input[1]],
                                             lambda a: np.moveaxis(np.broadcast_to(a, w.shape), -1, 1))  # fmt: skip
        inputs[1] = name
    wrapped = helper.make_node(node.op_type, inputs, [f"{node.output[0]}__nchw"], name=node.name)
    wrapped.attribute.extend(node.attribute)
    HANDLERS[node.op_type](c, wrapped, layer)
    out = c.tensors.pop(f"{node.output[0]}__nchw")
    physical = c.materialize(out, _channels_last(len(out.logical)), layer)
    hwc = (*out.logical[1:], out.logical[0])
    c.tensors[node.output[0]] = Tensor(physical, hwc, _identity(len(hwc)))


def _quantize_linear(c: _Converter, node: onnx.NodeProto, layer: str) -> None:
    """QuantizeLinear on a tensor, followed by DequantizeLinear(s) with the same parameters: the
    pair is one quantizer (`nn.quantize`); the integer tensor between them is never materialised."""
    users = c.consumers.get(node.output[0], [])
    if (
        node.output[0] in c.graph_outputs
        or not users
        or any(
            u.op_type != "DequantizeLinear" or list(u.input[1:]) != list(node.input[1:])
            for u in users
        )
    ):
        raise UnsupportedLayerError(
            layer, "QuantizeLinear", SUPPORTED,
            "only QuantizeLinear -> DequantizeLinear pairs with the same scale and zero point",
        )  # fmt: skip
    attrs = _attrs(node)
    scale = c.const(node, 1, layer, "the scale")
    zero_point = c.const(node, 2, layer, "the zero point")
    assert scale is not None
    element = _qdq_element_type(zero_point)
    t = c.tensor(node.input[0], layer, "QuantizeLinear")
    rank = len(t.logical) + 1
    axis = attrs.get("axis", 1)
    assert isinstance(axis, int)
    try:
        q = qonnx_ops.quantize_linear(scale, zero_point, element, axis, rank, layer)
    except QuantizerConfigError as e:
        raise UnsupportedLayerError(layer, "QuantizeLinear", SUPPORTED, str(e)) from None
    _emit_quantize(c, node, layer, q)
    for user in users:
        c.skip.add(user.output[0])
        c.tensors[user.output[0]] = c.tensors[node.output[0]]


def _qdq_element_type(zero_point: np.ndarray | None) -> int:
    """The ONNX element type of the codes: the zero point's, uint8 when absent (ONNX default)."""
    if zero_point is None:
        return onnx.TensorProto.UINT8
    return helper.np_dtype_to_tensor_dtype(np.asarray(zero_point).dtype)


def _weight_quantizer(
    c: _Converter,
    name: str,
    onnx_shape: tuple[int, ...],
    layout: Callable[[np.ndarray], np.ndarray],
) -> QuantizerAttr | None:
    """The quantizer a layer's constant went through (QONNX Quant or DequantizeLinear), with its
    parameters moved like the constant (`layout`: ONNX-shaped array -> the op's layout)."""
    q = c.quantizers.get(name)
    if q is None:
        return None

    def transform(array: np.ndarray) -> np.ndarray:
        return layout(np.broadcast_to(array, onnx_shape))

    try:
        return QuantizerAttr.from_quantizer(_map_params(q, transform))
    except (QuantizerError, ValueError):
        return None


HANDLERS: dict[str, Handler] = {
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Conv": _conv,
    "MaxPool": _pool,
    "AveragePool": _pool,
    "GlobalAveragePool": _global_pool,
    "GlobalMaxPool": _global_pool,
    "BatchNormalization": _batchnorm,
    "Relu": _activation(ActivationKind.RELU),
    "LeakyRelu": _activation(ActivationKind.LEAKY_RELU, alpha=0.01),
    "Elu": _activation(ActivationKind.ELU, alpha=1.0),
    "Selu": _selu,
    "ThresholdedRelu": _activation(ActivationKind.THRESHOLDED_RELU, alpha=1.0),
    "PRelu": _prelu,
    "Sigmoid": _activation(ActivationKind.SIGMOID),
    "HardSigmoid": _activation(ActivationKind.HARD_SIGMOID, alpha=0.2, beta=0.5),
    "Tanh": _activation(ActivationKind.TANH),
    "Softplus": _activation(ActivationKind.SOFTPLUS),
    "Softsign": _activation(ActivationKind.SOFTSIGN),
    "Gelu": _gelu,
    "Clip": _clip,
    "HardSwish": _hard_swish,
    "Softmax": _softmax,
    "Add": _binary,
    "Sub": _binary,
    "Mul": _binary,
    "Div": _binary,
    "Sum": _binary,
    "Mean": _binary,
    "Max": _binary,
    "Min": _binary,
    "Concat": _concat,
    "Split": _split,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
    "Transpose": _transpose,
    "Pad": _pad,
    "Resize": _resize,
    "Upsample": _resize,
    "Identity": _passthrough,
    "Dropout": _passthrough,
    "RNN": _recurrent,
    "LSTM": _recurrent,
    "GRU": _recurrent,
    "Gather": _gather,
    "LayerNormalization": _layernorm,
    "QuantizeLinear": _quantize_linear,
}

QONNX_HANDLERS: dict[str, Handler] = {"Quant": _quant, "BipolarQuant": _quant, "Trunc": _trunc}
"""Converter of each ONNX op type (ops whose inputs are all constant are folded instead)."""

SUPPORTED: list[str] = sorted(
    [*HANDLERS, "Constant", "Shape", "Size", "DequantizeLinear", *QONNX_HANDLERS]
)


def import_onnx(
    model: str | Path | onnx.ModelProto,
    name: str | None = None,
    channels_last_conversion: str = "full",
    transpose_outputs: bool = True,
    channels_first_inputs: bool = False,
) -> ModuleOp:
    """Convert an ONNX model (path or proto) into an `nn` module.

    channels_last_conversion: "full" keeps the ONNX (channels-first) input shapes and transposes
    once after the inputs; "internal" expects channels-last input data; "off" converts nothing
    and fails on graphs whose spatial ops would need it. transpose_outputs puts spatial outputs
    back in ONNX (channels-first) order.

    With "internal", the inputs declared channels-last are those a spatial layer needs that way;
    `channels_first_inputs` (the PyTorch front end) declares every input with two or more axes
    channels-last, as the source framework is channels-first throughout: a model that only
    concatenates or adds its inputs then also takes channels-last data, with its channel axis
    mapped to the last one (a concat along dim 1 becomes a concat along the last axis).
    """
    if channels_last_conversion not in CONVERSIONS:
        raise FrontendError(f"channels_last_conversion must be one of {CONVERSIONS}")
    proto, default_name = _load(model)
    legacy_prelu = _opset(proto) < 7
    proto = _upgrade(_per_channel_prelu(proto) if legacy_prelu else proto)
    _check_declared_sizes(proto)
    function = _function_name(name or default_name)
    if channels_last_conversion == "internal" and channels_first_inputs:
        initializers = {t.name for t in proto.graph.initializer}
        spatial = frozenset(
            v.name for v in proto.graph.input if v.name not in initializers and len(_Converter._input_shape(v)) >= 2
        )
        return _Converter(proto, function, "internal", transpose_outputs, spatial).run()
    mode = "full" if channels_last_conversion == "internal" else channels_last_conversion
    label = model if isinstance(model, str | Path) else f"<ONNX model {default_name}>"
    converter, module = _run(lambda: _Converter(proto, function, mode, transpose_outputs), label)
    if channels_last_conversion != "internal" or not converter.wants_channels_last:
        return check_module_sizes(module)
    # Second pass: the inputs that the first pass transposed to channels-last are declared so.
    inputs = frozenset(converter.wants_channels_last)
    return check_module_sizes(_run(lambda: _Converter(proto, function, "internal", transpose_outputs, inputs), label)[1])


def _run(make: Callable[[], _Converter], label: str | Path) -> tuple[_Converter, ModuleOp]:
    """The converter and its module; an inconsistent graph (shapes that do not fit, missing
    inputs, a value used before it is made) is a ModelFileError rather than an error from deep inside."""
    try:
        converter = make()
        return converter, converter.run()
    except (ValueError, IndexError, KeyError, TypeError, AssertionError, ZeroDivisionError, RecursionError) as error:
        if type(error).__module__.startswith("nnhls"):
            raise
        raise ModelFileError(label, f"inconsistent ONNX graph ({type(error).__name__}: {error})") from None


def _check_declared_sizes(proto: onnx.ModelProto) -> None:
    """Inputs, outputs and every shape onnx's inference can tell, within MAX_TENSOR_ELEMENTS per
    sample (the leading batch axis aside), before anything is allocated for them."""
    graph = proto.graph
    # on failure the converter reports what it cannot read; the declared shapes are still checked
    with contextlib.suppress(Exception):
        graph = onnx.shape_inference.infer_shapes(proto, data_prop=True).graph
    for info in [*graph.input, *graph.value_info, *graph.output]:
        if not info.type.HasField("tensor_type") or not info.type.tensor_type.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else 1 for d in info.type.tensor_type.shape.dim]
        check_tensor_size(dims[1:], f"tensor '{info.name}' (per sample)")  # the batch axis is not the model's
    for init in graph.initializer:
        check_tensor_size(list(init.dims), f"initializer '{init.name}'")
