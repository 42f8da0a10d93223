"""What every front end shares: its errors and the builder of the model function.

A front end reads a model in its own framework's terms and calls `ModelBuilder` to emit one `nn` op
per layer; the builder owns the function, its inputs (`nn.input` ops named after the model's input
layers), SSA name hints from layer names, and the final `func.return`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from xdsl.builder import ImplicitBuilder
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.ir import Block, Operation, Region, SSAValue

from nnhls.dialects import nn
from nnhls.dialects.names import ssa_name
from nnhls.errors import FrontendError, InternalError


class UnsupportedLayerError(FrontendError):
    """A layer / node type the front end cannot convert (never silently dropped)."""

    def __init__(self, layer: str, layer_type: str, supported: Sequence[str], detail: str = ""):
        self.layer = layer
        self.layer_type = layer_type
        self.supported = sorted(supported)
        reason = f" ({detail})" if detail else ""
        super().__init__(
            f"layer '{layer}' of type '{layer_type}' is not supported{reason}; supported types: "
            + ", ".join(self.supported)
        )


MAX_TENSOR_ELEMENTS = 1 << 24
"""Most elements one tensor of a model may have (16,777,216: a 4096 x 4096 weight matrix, or a
2048 x 2048 x 4 activation): far beyond any FPGA design, small enough that the emulator and the
C++ build never try to allocate gigabytes for a hostile or mistyped shape."""


class ModelTooLargeError(FrontendError):
    """A tensor (input, weight or intermediate) beyond MAX_TENSOR_ELEMENTS."""


def check_tensor_size(shape: Sequence[int], what: str) -> None:
    """A ModelTooLargeError when `shape` is negative or holds more than MAX_TENSOR_ELEMENTS."""
    if any(d < 0 for d in shape):
        raise ModelTooLargeError(f"{what} has a negative dimension: {tuple(shape)}")
    total = 1
    for d in shape:
        total *= d
    if total > MAX_TENSOR_ELEMENTS:
        raise ModelTooLargeError(
            f"{what} of shape {tuple(shape)} has {total} elements, more than nnhls' limit of {MAX_TENSOR_ELEMENTS}"
        )


def check_module_sizes(module: ModuleOp) -> ModuleOp:
    """Every result of the imported module within MAX_TENSOR_ELEMENTS (names the layer)."""
    from xdsl.dialects.builtin import TensorType

    for op in module.walk():
        for result in op.results:
            if isinstance(result.type, TensorType):
                layer = getattr(op, "layer_name", None) or op.name
                check_tensor_size(result.type.get_shape(), f"the output of layer '{layer}'")
    return module


class ModelFileError(FrontendError):
    """A model file that is missing, malformed or truncated."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        super().__init__(f"cannot read model file '{path}': {problem}")


class ModelBuilder:
    """Builds `func.func @<name>` with one `nn.input` per model input, op by op."""

    def __init__(self, name: str, inputs: Sequence[tuple[str, Sequence[int]]]):
        self.name = name
        self.block = Block(arg_types=[nn.float_tensor(shape) for _, shape in inputs])
        self.inputs: list[SSAValue] = []
        for (layer, _), argument in zip(inputs, self.block.args, strict=True):
            argument.name_hint = ssa_name(layer)
            self.inputs.append(self.add(nn.InputOp(argument, layer)))

    def add(self, op: Operation, layer_type: str | None = None) -> SSAValue:
        """Append a single-result op, name its result after its layer, and return the result.

        `layer_type` is the class (Keras) or op type (ONNX) of the framework layer the op was
        converted from; it is kept as the op's `layer_type` property.
        """
        results = self.add_results(op, layer_type)
        if len(results) != 1:
            raise InternalError(f"{op.name} has {len(results)} results: use add_results")
        return results[0]

    def add_results(self, op: Operation, layer_type: str | None = None) -> list[SSAValue]:
        """Append an op with any number of results, named `<layer>`, `<layer>_1`, ..."""
        self.block.add_op(op)
        if isinstance(op, nn.NNLayerOp):
            base = ssa_name(op.layer.data)
            for i, result in enumerate(op.results):
                result.name_hint = base if i == 0 else f"{base}_{i}"
            if layer_type is not None and op.layer_type is None:
                op.layer_type = StringAttr(layer_type)
        return list(op.results)

    def finish(self, outputs: Sequence[SSAValue]) -> ModuleOp:
        """Return the module holding the function with the given outputs, verified."""
        with ImplicitBuilder(self.block):
            func.ReturnOp(*outputs)
        function = func.FuncOp(
            self.name,
            (self.block.arg_types, tuple(v.type for v in outputs)),
            Region(self.block),
        )
        module = ModuleOp([function])
        module.verify()
        return module


def same_pads(size: int, kernel: int, stride: int, dilation: int, extra_at_end: bool = True) -> tuple[int, int]:
    """'same' padding along one axis: (begin, end) such that the output has ceil(size / stride)
    positions; an odd total puts the extra one at the end (TensorFlow, ONNX SAME_UPPER) or at the
    beginning (ONNX SAME_LOWER)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    small, large = total // 2, total - total // 2
    return (small, large) if extra_at_end else (large, small)
