"""`nn.pool` -> `hls.pool` (nnet::pooling1d/2d) and `nn.global_pool` -> `hls.global_pool`.

Precision:

| op | variable | auto rule |
|---|---|---|
| max pool, global max | accum, result | the input type |
| avg pool, global avg | accum | grow(x, window size) |
| avg pool, global avg | result | the input type; one more integer bit when a divisor is not a power of two |

io_stream: average pooling that counts padded positions gets an explicit `hls.pad` (max pooling
and average pooling excluding padding keep their pads: zeros would change their result).
Estimates: no multiplier; depth ceil(log2 window) + 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import numpy as np
from xdsl.ir import SSAValue

from nnhls.dialects import hls, nn
from nnhls.dialects.bitgrowth import clog2, grow, make_type
from nnhls.dialects.kinds import PoolOp
from nnhls.dialects.types import PoolOpAttr, int_array
from nnhls.ops import exact as ex
from nnhls.ops.base import (
    Estimate,
    KernelRules,
    LayerTypes,
    Lowering,
    OpRules,
    ScheduleInfo,
    elementwise_estimate,
    register,
)
from nnhls.ops.cpp import Layer


def pool_divisors_exact(op: nn.PoolingOp | nn.GlobalPoolOp, in_shape: Sequence[int]) -> bool:
    """Whether every averaging divisor is a power of two (then y = sum * 2**-k is exact)."""
    if isinstance(op, nn.GlobalPoolOp):
        n = prod(in_shape[:-1])
        return n & (n - 1) == 0
    n = prod(nn.ints(op.pool_size))
    padded = any(nn.ints(op.pads)) and op.count_pad is None
    return n & (n - 1) == 0 and not padded


def _infer_pool(op: nn.PoolingOp | nn.GlobalPoolOp, lt: LayerTypes) -> None:
    x = lt.x
    in_shape = nn.shape_of(op.input)
    if op.op.data == PoolOp.MAX:
        lt.get("accum", lambda: x)
        lt.get("result", lambda: x)
        return
    window = prod(in_shape[:-1]) if isinstance(op, nn.GlobalPoolOp) else prod(nn.ints(op.pool_size))
    lt.get("accum", lambda: grow(x, window))
    exact = pool_divisors_exact(op, in_shape)
    lt.get("result", lambda: x if exact else make_type(x.width + 1, x.integer + 1, x.signed))


# ----- pooling over windows ---------------------------------------------------------------------------------


@register
class PoolRules(OpRules):
    op = nn.PoolingOp
    config_keys = ("ConvImplementation",)

    def exact_before_cast(self, op: nn.NNLayerOp) -> bool:
        assert isinstance(op, nn.PoolingOp | nn.GlobalPoolOp)
        return op.op.data == PoolOp.MAX  # an average divides (rounds) before its cast

    def layer_type_names(self, op: nn.NNLayerOp) -> tuple[str, ...]:
        assert isinstance(op, nn.PoolingOp)
        is_max = op.op.data == PoolOp.MAX
        rank = len(nn.ints(op.pool_size))
        keras = f"{'Max' if is_max else 'Average'}Pooling{rank}D"
        torch_name = f"{'MaxPool' if is_max else 'AvgPool'}{rank}d"
        onnx_name = "MaxPool" if is_max else "AveragePool"
        return (keras, torch_name, onnx_name, f"Pooling{rank}D")

    def all_type_names(self) -> tuple[str, ...]:
        names: list[str] = []
        for rank in (1, 2):
            names += [f"MaxPooling{rank}D", f"AveragePooling{rank}D", f"MaxPool{rank}d", f"AvgPool{rank}d", f"Pooling{rank}D"]
        return (*names, "MaxPool", "AveragePool")

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        assert isinstance(op, nn.PoolingOp)
        _infer_pool(op, lt)

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        assert isinstance(op, nn.PoolingOp)
        return elementwise_estimate(op, s, 0, clog2(prod(nn.ints(op.pool_size))) + 1)

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, nn.PoolingOp)
        x = lw.operand(op.input)
        pads = nn.ints(op.pads)
        exact_padding = op.op.data == PoolOp.AVERAGE and op.count_pad is not None
        if lw.stream and any(pads) and exact_padding:
            x = lw.pad(x, pads, f"{op.layer_name}_pad")
            pads = (0,) * len(pads)
        props = lw.common(op) | {
            "op": PoolOpAttr(op.op.data),
            "pool_size": int_array(nn.ints(op.pool_size)),
            "strides": int_array(nn.ints(op.strides)),
            "pads": int_array(pads),
            "count_pad": op.count_pad if any(pads) else None,
            "accum_t": lw.type_attr(op, "accum"),
        }
        return [lw.emit(hls.PoolOp, [x], lw.out_type(op), props)]

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        assert isinstance(op, nn.PoolingOp)
        size, strides, pads = nn.ints(op.pool_size), nn.ints(op.strides), nn.ints(op.pads)
        axes = tuple(range(-len(size), 0))
        ones = (1,) * len(size)
        if op.op.data == PoolOp.MAX:
            x = ex.pad_spatial(args[0], pads, -np.inf)
            return [ex.windows(x, size, strides, ones).max(axis=axes)]
        total = ex.windows(ex.pad_spatial(args[0], pads), size, strides, ones).sum(axis=axes)
        if op.count_pad is not None:
            return [total / prod(size)]
        # Count only the real (unpadded) positions in each window.
        mask = ex.pad_spatial(np.ones((1, *args[0].shape[1:-1], 1)), pads)
        count = ex.windows(mask, size, strides, ones).sum(axis=axes)
        return [total / count]


def _pool_struct(layer: Layer, in_shape: tuple[int, ...], size: tuple[int, ...], strides: tuple[int, ...],
                 pads: tuple[int, ...], out_shape: tuple[int, ...], pool_op: PoolOp, accum: str, count_pad: bool) -> None:
    config = layer.struct("pooling_config")
    config.const("in_height", in_shape[0]).const("in_width", in_shape[1]).const("n_chan", in_shape[2])
    config.const("pool_height", size[0]).const("pool_width", size[1])
    config.const("stride_height", strides[0]).const("stride_width", strides[1])
    config.const("pad_top", pads[0]).const("pad_bottom", pads[1]).const("pad_left", pads[2]).const("pad_right", pads[3])
    config.const("out_height", out_shape[0]).const("out_width", out_shape[1])
    layer.io(config)
    config.const("reuse_factor", layer.reuse_factor)
    config.const("pool_op", f"nnet::pool_{pool_op.value}")
    config.const("count_pad", count_pad)
    config.typedef("accum_t", accum)
    layer.header = "nnet_pooling.h"


@register
class PoolKernel(KernelRules):
    op = hls.PoolOp

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, hls.PoolOp)
        x = args[0]
        size, strides, pads = hls.ints(op.pool_size), hls.ints(op.strides), hls.ints(op.pads)
        ones = (1,) * len(size)
        win = ex.windows(ex.pad_spatial(x.m, pads), size, strides, ones)  # (batch, *out, C, *size)
        mask_in = np.ones((1, *x.m.shape[1:-1], 1), dtype=np.int64)
        mask = ex.windows(ex.pad_spatial(mask_in, pads), size, strides, ones)
        k = prod(size)
        win = win.reshape(*win.shape[: -len(size)], k)  # (batch, *out, C, K)
        mask = mask.reshape(*mask.shape[: -len(size)], k)
        if op.op.data == PoolOp.MAX:
            return [ex.cast(ex.Exact(ex.max_windows(win, mask), x.t.fractional), ex.result_t(op))]
        acc_t = op.accum_t.precision
        acc = ex.accumulate(np.zeros((), dtype=np.int64), ex.Exact(win, x.t.fractional), acc_t)
        count = np.full(mask.shape[:-1], k) if op.count_pad is not None else mask.sum(axis=-1)
        return [ex.average(acc, acc_t, np.broadcast_to(count, acc.shape).astype(np.int64), ex.result_t(op))]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, hls.PoolOp)
        size, strides, pads = hls.ints(op.pool_size), hls.ints(op.strides), hls.ints(op.pads)
        in_shape, out_shape = layer.inputs[0].shape, layer.outputs[0].shape
        if len(size) == 1:
            in_shape, out_shape = (1, *in_shape), (1, *out_shape)
            size, strides, pads = (1, *size), (1, *strides), (0, 0, *pads)
        _pool_struct(layer, in_shape, size, strides, pads, out_shape, op.op.data, op.accum_t.cpp(), op.count_pad is not None)
        layer.kernel = f"pooling{len(hls.ints(op.pool_size))}d"


# ----- global pooling -------------------------------------------------------------------------------------------


@register
class GlobalPoolRules(OpRules):
    op = nn.GlobalPoolOp

    def exact_before_cast(self, op: nn.NNLayerOp) -> bool:
        assert isinstance(op, nn.PoolingOp | nn.GlobalPoolOp)
        return op.op.data == PoolOp.MAX  # an average divides (rounds) before its cast

    def layer_type_names(self, op: nn.NNLayerOp) -> tuple[str, ...]:
        assert isinstance(op, nn.GlobalPoolOp)
        is_max = op.op.data == PoolOp.MAX
        rank = len(nn.shape_of(op.input)) - 1
        kind = "Max" if is_max else "Average"
        onnx_name = "GlobalMaxPool" if is_max else "GlobalAveragePool"
        return (f"Global{kind}Pooling{rank}D", onnx_name, f"GlobalPooling{rank}D")

    def all_type_names(self) -> tuple[str, ...]:
        names: list[str] = []
        for rank in (1, 2):
            names += [f"GlobalMaxPooling{rank}D", f"GlobalAveragePooling{rank}D", f"GlobalPooling{rank}D"]
        return (*names, "GlobalMaxPool", "GlobalAveragePool")

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        assert isinstance(op, nn.GlobalPoolOp)
        _infer_pool(op, lt)

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        assert isinstance(op, nn.GlobalPoolOp)
        return elementwise_estimate(op, s, 0, clog2(prod(nn.shape_of(op.input)[:-1])) + 1)

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, nn.GlobalPoolOp)
        props = lw.common(op) | {
            "op": PoolOpAttr(op.op.data),
            "accum_t": lw.type_attr(op, "accum"),
        }
        return [lw.emit(hls.GlobalPoolOp, [lw.operand(op.input)], lw.out_type(op), props)]

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        assert isinstance(op, nn.GlobalPoolOp)
        x = args[0]
        axes = tuple(range(1, x.ndim - 1))
        return [x.max(axis=axes) if op.op.data == PoolOp.MAX else x.mean(axis=axes)]


@register
class GlobalPoolKernel(KernelRules):
    op = hls.GlobalPoolOp

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, hls.GlobalPoolOp)
        x = args[0]
        batch, channels = x.m.shape[0], x.m.shape[-1]
        positions = prod(x.m.shape[1:-1])
        terms = np.moveaxis(x.m.reshape(batch, positions, channels), 1, -1)  # (batch, C, positions)
        if op.op.data == PoolOp.MAX:
            return [ex.cast(ex.Exact(terms.max(axis=-1), x.t.fractional), ex.result_t(op))]
        acc_t = op.accum_t.precision
        acc = ex.accumulate(np.zeros((), dtype=np.int64), ex.Exact(terms, x.t.fractional), acc_t)
        count = np.full(acc.shape, terms.shape[-1], dtype=np.int64)
        return [ex.average(acc, acc_t, count, ex.result_t(op))]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, hls.GlobalPoolOp)
        in_shape = layer.inputs[0].shape
        if len(in_shape) == 2:
            in_shape = (1, *in_shape)
        _pool_struct(layer, in_shape, in_shape[:2], (1, 1), (0, 0, 0, 0), (1, 1), op.op.data, op.accum_t.cpp(), False)
        layer.kernel = "global_pooling"
