"""Bit-exact numpy emulator of the `hls` dialect.

Public API (stable; HLSModel.predict(X, emulator="numpy") and the C++ cross-checks call it):

    run_hls(module, inputs) -> list[np.ndarray]
        Run the module's `hls.func` on float batches. `inputs` is one array or a sequence of
        arrays, one per function argument, each (batch, *argument shape). Every input is converted
        to its argument's element type exactly as C++ `arg_t v = (double)x;` does. Returns one
        float64 array per `hls.return` operand, (batch, *result shape), holding the exact
        fixed-point values (exact whenever the type has at most 53 significant bits).

    trace_hls(module, inputs) -> dict[str, np.ndarray]
        The same run, returning every kernel's output as float64, keyed by its `layer` name, in
        program order (hls.clone records its first output).

    run_hls_fixed(module, inputs) -> list[FixedArray]
        The outputs as raw integer mantissas with their FixedPrecision, for bit-for-bit checks
        of types wider than a double's mantissa.

Semantics are exactly those of the op docstrings in nnhls/dialects/hls.py, implemented by each
kernel's rules (`KernelRules.emulate`, nnhls/ops/) with the exact arithmetic of
nnhls/ops/exact.py; `HLSEmulatorFunctions` is the xDSL `InterpreterFunctions` set dispatching
every registered kernel op class to them. `cast<T>` is C++
assignment to the ap type (quantization, then overflow), full-precision products and sums are
exact, and accumulations into a type that can saturate happen in the documented order, each step
cast. Values are int64 mantissas while they stay below 2**60 in magnitude and Python ints in object
arrays beyond, so any width is exact.

Speed: every evaluator is vectorised over the batch and the elements. Dense and convolution
layers take one integer (or exact float64) matrix product when the accumulator provably never
overflows (checked from the weights and the input range, then per row when that fails) or wraps
modulo 2**W; rows that may saturate fall back to the sequential, cast-per-step accumulation,
vectorised over the rows and outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    ReturnedValues,
    TerminatorValue,
    impl,
    impl_terminator,
    register_impls,
)
from xdsl.ir import Operation

from nnhls import ops
from nnhls.dialects import hls
from nnhls.dialects.fixed import to_mantissa
from nnhls.errors import InputDataError, ModelError
from nnhls.ops.exact import FixedArray, accumulate, mac, norm, serial_worker, threads

Inputs = np.ndarray | Sequence[np.ndarray]
"""One batch per hls.func argument (a bare array for a single input)."""


# ----- the xDSL function set --------------------------------------------------------------------------


class HLSEmulatorFunctions(InterpreterFunctions):
    """The kernels' exact semantics (one impl per registered kernel op class, made by
    `emulator_functions`) and `hls.return`."""

    @impl_terminator(hls.ReturnOp)
    def run_return(
        self, interpreter: Interpreter, op: hls.ReturnOp, args: PythonValues
    ) -> tuple[TerminatorValue, PythonValues]:
        return ReturnedValues(args), ()


def _emulate_impl(op_class: type[Operation]) -> Any:
    def run(self: HLSEmulatorFunctions, interpreter: Interpreter, op: hls.HLSKernelOp, args: PythonValues) -> PythonValues:
        return tuple(ops.kernel_rules(op).emulate(op, list(args)))

    return impl(op_class)(run)  # pyright: ignore[reportArgumentType]


_CLASSES: dict[tuple[type[Operation], ...], type[HLSEmulatorFunctions]] = {}


def emulator_functions() -> InterpreterFunctions:
    """The xDSL function set of every registered kernel op (built once per set of kernels)."""
    key = tuple(ops.kernel_op_classes())
    if key not in _CLASSES:
        namespace = {f"run_{cls.__name__}": _emulate_impl(cls) for cls in key}
        _CLASSES[key] = register_impls(type("HLSEmulatorFunctions", (HLSEmulatorFunctions,), namespace))
    return _CLASSES[key]()


class _LayerListener(Interpreter.Listener):
    """Calls `on_layer(layer name, first output)` after every kernel."""

    def __init__(self, on_layer: Callable[[str, FixedArray], None]) -> None:
        self.on_layer = on_layer

    def did_interpret_op(self, op: Operation, results: PythonValues) -> None:
        if isinstance(op, hls.HLSKernelOp):
            self.on_layer(op.layer_name, results[0])


# ----- driver -------------------------------------------------------------------------------------------------


def hls_function(module: ModuleOp) -> hls.FuncOp:
    """The module's `hls.func` (the top-level HLS function)."""
    funcs = [op for op in module.ops if isinstance(op, hls.FuncOp)]
    if len(funcs) != 1:
        raise ModelError(f"expected one hls.func in the module, found {len(funcs)}")
    return funcs[0]


def _inputs(function: hls.FuncOp, inputs: Inputs) -> list[np.ndarray]:
    """The input arrays, checked against the function's arguments."""
    args = function.body.block.args
    arrays = [inputs] if isinstance(inputs, np.ndarray) else [np.asarray(a) for a in inputs]
    if len(arrays) != len(args):
        raise InputDataError(
            f"'{function.sym_name.data}' has {len(args)} inputs, got {len(arrays)} arrays"
        )
    values: list[np.ndarray] = []
    for arg, array in zip(args, arrays, strict=True):
        shape = hls.shape_of(arg)
        if array.shape[1:] != shape or (values and array.shape[0] != values[0].shape[0]):
            raise InputDataError(
                f"input '{arg.name_hint}' must have shape (batch, {', '.join(map(str, shape))}),"
                f" got {array.shape}"
            )
        values.append(array)
    return values


def _converted(function: hls.FuncOp, arrays: Sequence[np.ndarray]) -> tuple[FixedArray, ...]:
    """Inputs as their arguments' element types (C++ `arg_t v = (double)x;`)."""
    out: list[FixedArray] = []
    for arg, array in zip(function.body.block.args, arrays, strict=True):
        t = hls.value_type(arg).element_type.precision
        out.append(FixedArray(norm(to_mantissa(array.astype(np.float64), t)), t))
    return tuple(out)


CHUNK_ROWS = 8192
"""Samples per pass through the network: every layer's arrays of a chunk stay in the CPU caches
(a whole 100,000-sample batch makes each intermediate array tens of megabytes, and the time
goes to memory traffic and page faults). Samples are independent, so the split is exact."""


def _run(
    module: ModuleOp,
    inputs: Inputs,
    on_layer: Callable[[int, str, FixedArray], None] | None = None,
) -> list[list[FixedArray]]:
    """The outputs of every chunk of the batch, in order; on_layer(chunk number, layer, output)
    after every kernel."""
    function = hls_function(module)
    for op in function.body.block.ops:  # a kernel without rules is an error naming it, up front
        if isinstance(op, hls.HLSKernelOp):
            ops.kernel_rules(op)
    functions = emulator_functions()
    args = _inputs(function, inputs)
    n = args[0].shape[0] if args else 0

    def run_chunk(k: int) -> list[FixedArray]:
        chunk = _converted(function, [a[k * CHUNK_ROWS : (k + 1) * CHUNK_ROWS] for a in args])
        listeners = () if on_layer is None else (_LayerListener(partial(on_layer, k)),)
        interpreter = Interpreter(module, listeners=listeners)
        interpreter.register_implementations(functions)
        return list(interpreter.run_ssacfg_region(function.body, chunk, function.sym_name.data))

    count = max(1, -(-n // CHUNK_ROWS))
    workers = min(threads(), count)
    if workers == 1:
        return [run_chunk(k) for k in range(count)]
    with ThreadPoolExecutor(workers, initializer=serial_worker) as pool:  # numpy releases the GIL
        return list(pool.map(run_chunk, range(count)))


def _joined(parts: Sequence[FixedArray]) -> FixedArray:
    if len(parts) == 1:
        return parts[0]
    return FixedArray(norm(np.concatenate([p.m for p in parts])), parts[0].t)


def run_hls_fixed(module: ModuleOp, inputs: Inputs) -> list[FixedArray]:
    """The outputs of the module's hls.func as exact mantissas with their types."""
    return [_joined(parts) for parts in zip(*_run(module, inputs), strict=True)]


def run_hls(module: ModuleOp, inputs: Inputs) -> list[np.ndarray]:
    """The outputs of the module's hls.func on float batches, as float64 (see the module doc)."""
    chunks = _run(module, inputs)
    return [np.concatenate([v.to_float() for v in parts]) for parts in zip(*chunks, strict=True)]


def trace_hls(module: ModuleOp, inputs: Inputs) -> dict[str, np.ndarray]:
    """Every kernel's output, keyed by layer name in program order, as float64."""
    chunks: dict[int, dict[str, np.ndarray]] = {}

    def record(k: int, name: str, value: FixedArray) -> None:
        chunks.setdefault(k, {})[name] = value.to_float()  # chunks may run in parallel

    _run(module, inputs, record)
    if not chunks:
        return {}
    return {name: np.concatenate([chunks[k][name] for k in sorted(chunks)]) for name in chunks[0]}


__all__ = [
    "FixedArray",
    "accumulate",
    "emulator_functions",
    "hls_function",
    "mac",
    "run_hls",
    "run_hls_fixed",
    "trace_hls",
]
