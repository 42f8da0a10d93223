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
