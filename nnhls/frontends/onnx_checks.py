"""Structural checks of an ONNX graph before conversion: one line naming the node and attribute.

The converter trusts what these checks establish, so a hostile or broken file stops here with a
specific message rather than deep inside a handler (or, worse, converts into wrong numbers):

    opset            the default domain's opset is one the installed onnx package knows
    element types    inputs hold real numbers (no complex, string or undefined elements); no
                     initializer or Constant holds complex or string values
    topology         every node input is a graph input, an initializer or the output of an
                     earlier node; no node reads its own output; no value is produced twice
    operand types    operands the op's schema ties to one type variable (Gemm's A, B, C: T)
                     have the same element type (an int64 weight with a float input is refused)
    attributes       axis within the input's rank; strides, dilations, kernel_shape and group
                     positive; pads not negative

    check_graph(proto, "model.onnx")   # None, or a ModelFileError such as
    # cannot read model file 'model.onnx': node 'sm' (Softmax): attribute axis=5 is out of
    # range for its rank-2 input 'x' (allowed -2..1)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

import onnx
from onnx import TensorProto, helper

from nnhls.frontends.common import ModelFileError

DEFAULT_DOMAINS = ("", "ai.onnx")

REAL_INPUT_TYPES = frozenset(
    [TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.BOOL]
    + [TensorProto.INT8, TensorProto.INT16, TensorProto.INT32, TensorProto.INT64]
    + [TensorProto.UINT8, TensorProto.UINT16, TensorProto.UINT32, TensorProto.UINT64]
)
"""Element types a model input may have: real numbers (integers and booleans included)."""

NOT_REAL_TYPES = frozenset(
    [TensorProto.UNDEFINED, TensorProto.STRING, TensorProto.COMPLEX64, TensorProto.COMPLEX128]
)
"""Element types no constant may have: they hold no real numbers."""

AXIS_OPS = frozenset(
    ["Softmax", "LogSoftmax", "Hardmax", "Concat", "Split", "Gather", "GatherElements"]
    + ["ArgMax", "ArgMin", "LayerNormalization", "QuantizeLinear", "DequantizeLinear", "TopK"]
)
"""Ops whose `axis` attribute names an axis of their first input, in [-rank, rank - 1]."""

WINDOW_OPS = frozenset(["Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool", "ConvInteger", "QLinearConv"])
"""Ops with window attributes (kernel_shape, strides, dilations, pads, group)."""


def type_name(elem_type: int) -> str:
    """`float32`, `int64`, `complex64`, `string`... for an ONNX element type."""
    if elem_type in (TensorProto.STRING, TensorProto.UNDEFINED):
        return "string" if elem_type == TensorProto.STRING else "undefined"
    with contextlib.suppress(Exception):
        return str(helper.tensor_dtype_to_np_dtype(elem_type))
    return TensorProto.DataType.Name(elem_type).lower() if elem_type in TensorProto.DataType.values() else str(elem_type)


def node_label(node: onnx.NodeProto, index: int) -> str:
    """How messages name a node: its name (as the converter names its layer) and op type."""
    return f"node '{node.name or f'{node.op_type}_{index}'}' ({node.op_type})"


def default_opset(model: onnx.ModelProto) -> int | None:
    for entry in model.opset_import:
        if entry.domain in DEFAULT_DOMAINS:
            return entry.version
    return None


def check_graph(model: onnx.ModelProto, label: str | Path) -> None:
    """Raise a ModelFileError (see the module docstring) for the first problem found."""

    problem = _first_problem(model)
    if problem is not None:
        raise ModelFileError(label, problem)


class _Problem(Exception):
    """The first problem found (internal: check_graph turns it into a ModelFileError)."""


def fail(problem: str) -> _Problem:
    return _Problem(problem)


def _first_problem(model: onnx.ModelProto) -> str | None:
    try:
        _check_opset(model)
        graph = model.graph
        _check_text(graph)
        _check_element_types(graph)
        _check_topology(graph)
        types, ranks = _value_types(model)
        for index, node in enumerate(graph.node):
            if node.domain not in DEFAULT_DOMAINS:
                continue
            where = node_label(node, index)
            _check_operand_types(node, default_opset(model) or 1, types, where)
            _check_attributes(node, ranks, where)
    except _Problem as problem:
        return str(problem)
    return None


def _check_text(graph: onnx.GraphProto) -> None:
    """Names are UTF-8 text (protobuf hands invalid UTF-8 back as bytes)."""
    values = [*graph.input, *graph.output, *graph.value_info]
    for kind, name in [("value", v.name) for v in values] + [("initializer", t.name) for t in graph.initializer]:
        if not isinstance(name, str):
            raise fail(f"{kind} name {name!r:.60} is not UTF-8 text")
    for index, node in enumerate(graph.node):
        for name in (node.name, node.op_type, node.domain, *node.input, *node.output):
            if not isinstance(name, str):
                raise fail(f"node {index} holds the name {name!r:.60}, which is not UTF-8 text")


def _check_opset(model: onnx.ModelProto) -> None:
    opset = default_opset(model)
    newest = onnx.defs.onnx_opset_version()
    if opset is not None and not 1 <= opset <= newest:
        raise fail(f"the model declares opset {opset} of the ONNX domain; nnhls reads opsets 1 to {newest}")


def _check_element_types(graph: onnx.GraphProto) -> None:
    initializers = {t.name for t in graph.initializer}
    for value in graph.input:
        if value.name in initializers or not value.type.HasField("tensor_type"):
            continue  # non-tensor inputs: the converter names them
        elem = value.type.tensor_type.elem_type
        if elem not in REAL_INPUT_TYPES:
            raise fail(f"input '{value.name}' has element type {type_name(elem)}; nnhls compiles real-valued inputs")
    for tensor in graph.initializer:
        if tensor.data_type in NOT_REAL_TYPES:
            raise fail(f"initializer '{tensor.name}' holds {type_name(tensor.data_type)} values, not real numbers")
    for index, node in enumerate(graph.node):
        if node.op_type != "Constant":
            continue
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.TENSOR and attribute.t.data_type in NOT_REAL_TYPES:
                raise fail(
                    f"{node_label(node, index)}: attribute {attribute.name} holds "
                    f"{type_name(attribute.t.data_type)} values, not real numbers"
                )
            if attribute.type in (onnx.AttributeProto.STRING, onnx.AttributeProto.STRINGS):
                raise fail(f"{node_label(node, index)}: attribute {attribute.name} holds strings, not real numbers")


def _check_topology(graph: onnx.GraphProto) -> None:
    producer: dict[str, str] = {}
    for value in [*graph.input, *graph.initializer]:
        producer.setdefault(value.name, "the graph inputs")
    later = {out: i for i, node in enumerate(graph.node) for out in node.output if out}
    for index, node in enumerate(graph.node):
        where = node_label(node, index)
        for name in node.input:
            if not name or name in producer:
                continue
            if name in node.output:
                raise fail(f"{where} reads its own output '{name}' (a self loop)")
            if name in later and later[name] > index:
                raise fail(
                    f"{where}: input '{name}' is produced by a later node "
                    f"(the graph is not in topological order or has a cycle)"
                )
            raise fail(f"{where}: input '{name}' is not a graph input, an initializer or the output of any node")
        for name in node.output:
            if not name:
                continue
            if name in producer:
                raise fail(f"{where}: output '{name}' is already produced by {producer[name]}")
            producer[name] = where


def _value_types(model: onnx.ModelProto) -> tuple[dict[str, int], dict[str, int]]:
    """Element type and rank of every value onnx's shape inference can tell (best effort)."""
    graph = model.graph
    with contextlib.suppress(Exception):
        graph = onnx.shape_inference.infer_shapes(model).graph
    types: dict[str, int] = {}
    ranks: dict[str, int] = {}
    for info in [*graph.input, *graph.value_info, *graph.output]:
        if not info.type.HasField("tensor_type"):
            continue
        tensor_type = info.type.tensor_type
        if tensor_type.elem_type != TensorProto.UNDEFINED:
            types[info.name] = tensor_type.elem_type
        if tensor_type.HasField("shape"):
            ranks[info.name] = len(tensor_type.shape.dim)
    for tensor in graph.initializer:
        types[tensor.name] = tensor.data_type
        ranks[tensor.name] = len(tensor.dims)
    for node in graph.node:
        if node.op_type == "Constant" and node.output:
            for attribute in node.attribute:
                if attribute.type == onnx.AttributeProto.TENSOR:
                    types[node.output[0]] = attribute.t.data_type
                    ranks[node.output[0]] = len(attribute.t.dims)
    return types, ranks


def _formal_inputs(node: onnx.NodeProto, opset: int) -> list[tuple[str, str]] | None:
    """(formal name, type string) of each actual input, from the op's schema (None: no schema)."""
    try:
        schema = onnx.defs.get_schema(node.op_type, opset, "")
    except Exception:
        return None  # unknown op: the converter names it
    formals = list(schema.inputs)
    if not formals:
        return []
    result = []
    for i in range(len(node.input)):
        if i < len(formals):
            formal = formals[i]
        elif formals[-1].option == onnx.defs.OpSchema.FormalParameterOption.Variadic and formals[-1].is_homogeneous:
            formal = formals[-1]
        else:
            return result
        result.append((formal.name, formal.type_str))
    return result


def _check_operand_types(node: onnx.NodeProto, opset: int, types: dict[str, int], where: str) -> None:
    formals = _formal_inputs(node, opset)
    if not formals:
        return
    first: dict[str, tuple[str, str, int]] = {}
    for name, (formal, type_str) in zip(node.input, formals, strict=False):
        if not name or name not in types or type_str.startswith("tensor("):
            continue  # absent, unknown, or a fixed type (the schema checker's concern)
        elem = types[name]
        if type_str not in first:
            first[type_str] = (name, formal, elem)
            continue
        other, other_formal, other_elem = first[type_str]
        if elem != other_elem:
            raise fail(
                f"{where}: input '{name}' ({formal}) is {type_name(elem)} but input '{other}' "
                f"({other_formal}) is {type_name(other_elem)}; the op requires both to have type {type_str}"
            )


def _ints(value: object) -> list[int] | None:
    if isinstance(value, int):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        items = list(value)
        if all(isinstance(v, int) for v in items):
            return items
    return None


def _check_attributes(node: onnx.NodeProto, ranks: dict[str, int], where: str) -> None:
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    rank = ranks.get(node.input[0]) if node.input else None
    if "axis" in attrs and rank is not None and (node.op_type in AXIS_OPS or node.op_type == "Flatten"):
        axis = attrs["axis"]
        high = rank if node.op_type == "Flatten" else rank - 1
        if not isinstance(axis, int) or not -rank <= axis <= high:
            raise fail(
                f"{where}: attribute axis={axis!r} is out of range for its rank-{rank} input "
                f"'{node.input[0]}' (allowed {-rank}..{high})"
            )
    if node.op_type not in WINDOW_OPS:
        return
    for key in ("kernel_shape", "strides", "dilations", "group"):
        if key in attrs:
            values = _ints(attrs[key])
            if values is None or any(v < 1 for v in values):
                raise fail(f"{where}: attribute {key}={attrs[key]!r} must hold positive integers")
    if "pads" in attrs:
        pads = _ints(attrs["pads"])
        if pads is None or any(p < 0 for p in pads) or len(pads) % 2:
            raise fail(f"{where}: attribute pads={attrs['pads']!r} must hold an even number of non-negative integers")
    spatial = None if rank is None else rank - 2
    for key in ("kernel_shape", "strides", "dilations"):
        values = _ints(attrs.get(key))
        if values is not None and spatial is not None and spatial > 0 and len(values) != spatial:
            raise fail(f"{where}: attribute {key}={values} needs {spatial} values for its rank-{rank} input")
