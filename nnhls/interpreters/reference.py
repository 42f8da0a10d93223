"""Float reference interpreter of the `nn` dialect.

`run_reference(module, inputs)` evaluates the model function in float64 with numpy, one function per
op kind, vectorised over a leading batch dimension. It is the golden model every front end and every
later lowering is checked against, so it stays simple and literal: no fusion, no approximations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import erf, prod
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, FloatAttr, ModuleOp
from xdsl.ir import Operation, SSAValue

from nnhls.dialects import nn
from nnhls.dialects.kinds import ActivationKind, PoolOp
from nnhls.dialects.nn import model_function
from nnhls.errors import InputDataError, ModelError

Array = np.ndarray
Evaluator = Callable[[Any, list[Array]], Array]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _weights(attr: DenseIntOrFPElementsAttr) -> Array:
    return nn.to_numpy(attr).astype(np.float64)


def _float(attr: FloatAttr | None, default: float) -> float:
    return default if attr is None else float(attr.value.data)


# ----- windows (shared by convolutions and pooling) ------------------------------------------------------


def _pad_spatial(x: Array, pads: Sequence[int], value: float = 0.0) -> Array:
    """Pad the spatial axes of a (batch, *spatial, channels) array; pads = (begin, end) per axis."""
    rank = x.ndim - 2
    widths = [(0, 0)] + [(pads[2 * a], pads[2 * a + 1]) for a in range(rank)] + [(0, 0)]
    return np.pad(x, widths, constant_values=value)


def _windows(
    x: Array, kernel: Sequence[int], strides: Sequence[int], dilations: Sequence[int]
) -> Array:
    """Sliding windows of a padded (batch, *spatial, C) array: (batch, *out, C, *kernel), a view."""
    rank = len(kernel)
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilations, strict=True)]
    view = np.lib.stride_tricks.sliding_window_view(x, span, axis=tuple(range(1, rank + 1)))
    out_sel = tuple(slice(None, None, s) for s in strides)
    win_sel = tuple(slice(None, None, d) for d in dilations)
    return view[(slice(None), *out_sel, slice(None), *win_sel)]


_KERNEL_LETTERS = "ijkl"
_SPATIAL_LETTERS = "hwd"


def _conv(op: nn.ConvBaseOp, args: list[Array]) -> Array:
    x = _pad_spatial(args[0], nn.ints(op.pads))
    weight = _weights(op.weight)
    rank = op.RANK
    win = _windows(x, weight.shape[:rank], nn.ints(op.strides), nn.ints(op.dilations))
    sp, kl = _SPATIAL_LETTERS[:rank], _KERNEL_LETTERS[:rank]
    if op.DEPTHWISE:
        y = np.einsum(f"b{sp}c{kl},{kl}cm->b{sp}cm", win, weight)
        y = y.reshape(*y.shape[:-2], -1)  # channel index c * mult + m, as Keras orders it
    else:
        y = np.einsum(f"b{sp}c{kl},{kl}co->b{sp}o", win, weight)
    if op.bias is not None:
        y = y + _weights(op.bias)
    return y


def _pool(op: nn.PoolingOp, args: list[Array]) -> Array:
    size, strides, pads = nn.ints(op.pool_size), nn.ints(op.strides), nn.ints(op.pads)
    axes = tuple(range(-len(size), 0))
    ones = (1,) * len(size)
    if op.op.data == PoolOp.MAX:
        x = _pad_spatial(args[0], pads, -np.inf)
        return _windows(x, size, strides, ones).max(axis=axes)
    total = _windows(_pad_spatial(args[0], pads), size, strides, ones).sum(axis=axes)
    if op.count_pad is not None:
        return total / prod(size)
    # Count only the real (unpadded) positions in each window.
    mask = _pad_spatial(np.ones((1, *args[0].shape[1:-1], 1)), pads)
    count = _windows(mask, size, strides, ones).sum(axis=axes)
    return total / count


def _global_pool(op: nn.GlobalPoolOp, args: list[Array]) -> Array:
    x = args[0]
    axes = tuple(range(1, x.ndim - 1))
    return x.max(axis=axes) if op.op.data == PoolOp.MAX else x.mean(axis=axes)


# ----- layers -------------------------------------------------------------------------------------------


def _input(op: nn.InputOp, args: list[Array]) -> Array:
    return args[0]


def _dense(op: nn.DenseOp, args: list[Array]) -> Array:
    y = args[0] @ _weights(op.weight)
    return y if op.bias is None else y + _weights(op.bias)


def _batchnorm(op: nn.BatchNormOp, args: list[Array]) -> Array:
    return args[0] * _weights(op.scale) + _weights(op.bias)


def _sigmoid(x: Array) -> Array:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic


_erf = np.vectorize(erf, otypes=[np.float64])


def _activation(op: nn.ActivationOp, args: list[Array]) -> Array:
    x = args[0]
    kind = op.activation
    alpha, beta = op.alpha, op.beta
    match kind:
        case ActivationKind.LINEAR:
            return x
        case ActivationKind.RELU:
            return np.maximum(x, 0.0)
        case ActivationKind.RELU6:
            return np.clip(x, 0.0, 6.0)
        case ActivationKind.LEAKY_RELU:
            return np.where(x >= 0, x, _float(alpha, 0.3) * x)
        case ActivationKind.THRESHOLDED_RELU:
            return np.where(x > _float(alpha, 1.0), x, 0.0)
        case ActivationKind.ELU:
            return np.where(x > 0, x, _float(alpha, 1.0) * np.expm1(np.minimum(x, 0.0)))
        case ActivationKind.SELU:
            return _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))
        case ActivationKind.PRELU:
            assert op.param is not None
            return np.where(x >= 0, x, _weights(op.param) * x)
        case ActivationKind.SIGMOID:
            return _sigmoid(x)
        case ActivationKind.HARD_SIGMOID:
            # Keras 3: relu6(x + 3) / 6 == clip(x / 6 + 0.5, 0, 1).
            return np.clip(_float(alpha, 1.0 / 6.0) * x + _float(beta, 0.5), 0.0, 1.0)
        case ActivationKind.TANH:
            return np.tanh(x)
        case ActivationKind.HARD_TANH:
            return np.clip(x, -1.0, 1.0)
        case ActivationKind.SOFTPLUS:
            return np.logaddexp(0.0, x)
        case ActivationKind.SOFTSIGN:
            return x / (1.0 + np.abs(x))
        case ActivationKind.SWISH:
            return x * _sigmoid(x)
        case ActivationKind.GELU:
            return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))
        case ActivationKind.CLIP:
            return np.clip(x, _float(alpha, -np.inf), _float(beta, np.inf))
    raise NotImplementedError(f"activation kind {kind.value}")


def _softmax(op: nn.SoftmaxOp, args: list[Array]) -> Array:
    e = np.exp(args[0] - args[0].max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _add(op: Operation, args: list[Array]) -> Array:
    return sum(args[1:], args[0])


def _sub(op: Operation, args: list[Array]) -> Array:
    return args[0] - args[1]


def _mul(op: Operation, args: list[Array]) -> Array:
    return np.prod(np.stack(args), axis=0)


def _average(op: Operation, args: list[Array]) -> Array:
    return np.mean(np.stack(args), axis=0)


def _maximum(op: Operation, args: list[Array]) -> Array:
    return np.max(np.stack(args), axis=0)


def _minimum(op: Operation, args: list[Array]) -> Array:
    return np.min(np.stack(args), axis=0)


def _concat(op: nn.ConcatOp, args: list[Array]) -> Array:
    return np.concatenate(args, axis=op.axis.value.data + 1)


def _dot(op: nn.DotOp, args: list[Array]) -> Array:
    return np.sum(args[0] * args[1], axis=-1, keepdims=True)


def _reshape(op: Operation, args: list[Array]) -> Array:
    return args[0].reshape(args[0].shape[0], *nn.shape_of(op.results[0]))


def _transpose(op: nn.TransposeOp, args: list[Array]) -> Array:
    return args[0].transpose(0, *(p + 1 for p in nn.ints(op.perm)))


def _pad(op: nn.PadOp, args: list[Array]) -> Array:
    return _pad_spatial(args[0], nn.ints(op.pads))


def _crop(op: nn.CropOp, args: list[Array]) -> Array:
    x, crops = args[0], nn.ints(op.crops)
    sel = [slice(crops[2 * a], x.shape[a + 1] - crops[2 * a + 1]) for a in range(x.ndim - 2)]
    return x[(slice(None), *sel, slice(None))]


def _upsample(op: nn.UpsampleOp, args: list[Array]) -> Array:
    y = args[0]
    for axis, factor in enumerate(nn.ints(op.factors), start=1):
        y = np.repeat(y, factor, axis=axis)
    return y


def _identity(op: Operation, args: list[Array]) -> Array:
    return args[0]


EVALUATORS: dict[type[Operation], Evaluator] = {
    nn.InputOp: _input,
    nn.DenseOp: _dense,
    nn.Conv1DOp: _conv,
    nn.Conv2DOp: _conv,
    nn.DepthwiseConv1DOp: _conv,
    nn.DepthwiseConv2DOp: _conv,
    nn.PoolingOp: _pool,
    nn.GlobalPoolOp: _global_pool,
    nn.BatchNormOp: _batchnorm,
    nn.ActivationOp: _activation,
    nn.SoftmaxOp: _softmax,
    nn.AddOp: _add,
    nn.SubOp: _sub,
    nn.MulOp: _mul,
    nn.AverageOp: _average,
    nn.MaximumOp: _maximum,
    nn.MinimumOp: _minimum,
    nn.ConcatOp: _concat,
    nn.DotOp: _dot,
    nn.ReshapeOp: _reshape,
    nn.FlattenOp: _reshape,
    nn.TransposeOp: _transpose,
    nn.PadOp: _pad,
    nn.CropOp: _crop,
    nn.UpsampleOp: _upsample,
    nn.DropoutOp: _identity,
    nn.IdentityOp: _identity,
}  # nn.ConstantOp is handled in run_reference: it needs the batch size.
"""Evaluator of each `nn` op class: (op, operand arrays with batch axis) -> result array."""


def _as_batch(inputs: Array | Sequence[Array], count: int) -> list[Array]:
    arrays = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
    if len(arrays) != count:
        raise InputDataError(f"the model has {count} inputs, got {len(arrays)} arrays")
    return [np.asarray(a, dtype=np.float64) for a in arrays]


def run_reference(module: ModuleOp, inputs: Array | Sequence[Array]) -> list[Array]:
    """Run the model on batched inputs (leading batch axis) in float64; returns the outputs."""
    function = model_function(module)
    block = function.body.block
    arrays = _as_batch(inputs, len(block.args))
    for arg, array in zip(block.args, arrays, strict=True):
        expected = nn.shape_of(arg)
        if array.shape[1:] != expected:
            raise InputDataError(
                f"input '{arg.name_hint}' must have shape (batch, {', '.join(map(str, expected))}),"
                f" got {array.shape}"
            )
    batch = arrays[0].shape[0]
    values: dict[SSAValue, Array] = dict(zip(block.args, arrays, strict=True))
    for op in block.ops:
        if isinstance(op, func.ReturnOp):
            return [values[v] for v in op.arguments]
        if isinstance(op, nn.ConstantOp):
            value = _weights(op.value)
            values[op.output] = np.broadcast_to(value, (batch, *value.shape))
            continue
        evaluator = EVALUATORS.get(type(op))
        if evaluator is None:
            raise ModelError(f"no reference evaluator for {op.name}")
        values[op.results[0]] = evaluator(op, [values[v] for v in op.operands])
    raise ModelError("the model function has no return")


__all__ = ["EVALUATORS", "run_reference"]
