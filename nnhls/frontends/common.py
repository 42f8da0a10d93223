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
from nnhls.errors import FrontendError


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


_HINT_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$.-")


def name_hint(layer: str) -> str | None:
    """A valid SSA name hint from a layer name (None when nothing usable is left)."""
    cleaned = "".join(c if c in _HINT_CHARS else "_" for c in layer)
    if not cleaned or cleaned[0].isdigit():
        cleaned = f"l_{cleaned}"
    return cleaned


class ModelBuilder:
    """Builds `func.func @<name>` with one `nn.input` per model input, op by op."""

    def __init__(self, name: str, inputs: Sequence[tuple[str, Sequence[int]]]):
        self.name = name
        self.block = Block(arg_types=[nn.float_tensor(shape) for _, shape in inputs])
        self.inputs: list[SSAValue] = []
        for (layer, _), argument in zip(inputs, self.block.args, strict=True):
            argument.name_hint = name_hint(layer)
            self.inputs.append(self.add(nn.InputOp(argument, layer)))

    def add(self, op: Operation, layer_type: str | None = None) -> SSAValue:
        """Append a single-result op, name its result after its layer, and return the result.

        `layer_type` is the class (Keras) or op type (ONNX) of the framework layer the op was
        converted from; it is kept as the op's `layer_type` property.
        """
        self.block.add_op(op)
        result = op.results[0]
        if isinstance(op, nn.NNLayerOp):
            result.name_hint = name_hint(op.layer.data)
            if layer_type is not None and op.layer_type is None:
                op.layer_type = StringAttr(layer_type)
        return result

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
