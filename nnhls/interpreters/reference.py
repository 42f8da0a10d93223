"""Float reference interpreter of the `nn` dialect, on xDSL's interpreter.

`run_reference(module, inputs)` evaluates the model function in float64 with numpy, vectorised
over a leading batch dimension. It is the golden model every front end and every later lowering
is checked against, so it stays simple and literal: no fusion, no approximations.

Each op's float semantics is its rules' `reference` (nnhls/ops/); `NNReferenceFunctions` is the
xDSL `InterpreterFunctions` set dispatching every registered nn op class to it, beside xDSL's own
`FuncFunctions` for `func.func` / `func.return`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp
from xdsl.interpreter import Interpreter, InterpreterFunctions, PythonValues, impl, register_impls
from xdsl.interpreters.func import FuncFunctions
from xdsl.ir import Operation

from nnhls import ops
from nnhls.dialects import nn
from nnhls.errors import InputDataError

Array = np.ndarray

def _reference_impl(op_class: type[Operation]) -> Any:
    def run(self: NNReferenceFunctions, interpreter: Interpreter, op: nn.NNLayerOp, args: PythonValues) -> PythonValues:
        results = ops.rules(op).reference(op, list(args), self.batch)
        return tuple(results)

    return impl(op_class)(run)  # pyright: ignore[reportArgumentType]


_CLASSES: dict[tuple[type[Operation], ...], type[NNReferenceFunctions]] = {}


def reference_functions(batch: int) -> InterpreterFunctions:
    """The xDSL function set of every registered nn op (built once per set of registered ops)."""
    key = tuple(ops.nn_op_classes())
    if key not in _CLASSES:
        namespace = {f"run_{cls.__name__}": _reference_impl(cls) for cls in key}
        _CLASSES[key] = register_impls(type("NNReferenceFunctions", (NNReferenceFunctions,), namespace))
    return _CLASSES[key](batch)


class NNReferenceFunctions(InterpreterFunctions):
    """The nn ops' float semantics (one impl per registered op class, made by
    `reference_functions`); `batch` is the leading axis every value has."""

    def __init__(self, batch: int) -> None:
        self.batch = batch


def _as_batch(inputs: Array | Sequence[Array], count: int) -> list[Array]:
    arrays = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
    if len(arrays) != count:
        raise InputDataError(f"the model has {count} inputs, got {len(arrays)} arrays")
    return [np.asarray(a, dtype=np.float64) for a in arrays]


def run_reference(module: ModuleOp, inputs: Array | Sequence[Array]) -> list[Array]:
    """Run the model on batched inputs (leading batch axis) in float64; returns the outputs."""
    function = nn.model_function(module)
    block = function.body.block
    arrays = _as_batch(inputs, len(block.args))
    for arg, array in zip(block.args, arrays, strict=True):
        expected = nn.shape_of(arg)
        if array.shape[1:] != expected:
            raise InputDataError(
                f"input '{arg.name_hint}' must have shape (batch, {', '.join(map(str, expected))}),"
                f" got {array.shape}"
            )
    for op in block.ops:  # an op without rules is an error naming it, before anything runs
        if isinstance(op, nn.NNLayerOp):
            ops.rules(op)
    interpreter = Interpreter(module)
    interpreter.register_implementations(FuncFunctions())
    interpreter.register_implementations(reference_functions(arrays[0].shape[0]))
    return list(interpreter.run_ssacfg_region(function.body, tuple(arrays), function.sym_name.data))


__all__ = ["reference_functions", "run_reference"]
