"""`nn.concat` -> `hls.concat` (nnet::concatenate) along an axis; k > 2 inputs become a chain.

Precision: result = accum = the union of the inputs (exact). io_stream concatenates along any axis:
along the channels pixel by pixel, along a spatial axis whole pixels per block (see hls.concat).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import numpy as np
from xdsl.ir import SSAValue

from nnhls.dialects import hls, nn
from nnhls.dialects.bitgrowth import union
from nnhls.ops import exact as ex
from nnhls.ops.base import (
    Estimate,
    KernelRules,
    LayerTypes,
    Lowering,
    OpRules,
    ScheduleInfo,
    elementwise_estimate,
    int_attr,
    register,
)
from nnhls.ops.cpp import Layer


@register
class ConcatRules(OpRules):
    op = nn.ConcatOp
    type_names = ("Concatenate", "Concat")

    def exact_before_cast(self, op: nn.NNLayerOp) -> bool:
        return True

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        result = lt.get("result", lambda: union(*lt.inputs))
        lt.get("accum", lambda: result)

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        return elementwise_estimate(op, s, 0, 1)

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, nn.ConcatOp)
        inputs = [lw.operand(v) for v in op.inputs]
        axis = op.axis.value.data
        acc = inputs[0]
        for i, rhs in enumerate(inputs[1:], start=1):
            last = i == len(inputs) - 1
            a, b = hls.shape_of(acc), hls.shape_of(rhs)
            shape = [a[d] + b[d] if d == axis else a[d] for d in range(len(a))]
            if last:
                ty, layer = lw.out_type(op), None
            else:
                ty, layer = (
                    lw.hls_type(shape, union(lw.element(acc), lw.element(rhs))),
                    f"{op.layer_name}_part{i}",
                )
            props = lw.common(op, layer) | {"axis": int_attr(axis)}
            acc = lw.emit(hls.ConcatOp, [acc, rhs], ty, props)
        return [acc]

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        assert isinstance(op, nn.ConcatOp)
        return [np.concatenate(args, axis=op.axis.value.data + 1)]


@register
class ConcatKernel(KernelRules):
    op = hls.ConcatOp

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, hls.ConcatOp)
        t = ex.result_t(op)
        parts = [ex.cast(a.exact, t).m for a in args]
        if any(p.dtype == object for p in parts):
            parts = [ex.obj(p) for p in parts]
        return [ex.FixedArray(ex.norm(np.concatenate(parts, axis=op.axis.value.data + 1)), t)]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, hls.ConcatOp)
        axis = op.axis.value.data
        a, b = layer.inputs[0].shape, layer.inputs[1].shape
        config = layer.struct("concat_config")
        pixels = op.is_stream and axis != len(a) - 1  # io_stream along a spatial axis: whole pixels
        inner = slice(axis, -1) if pixels else slice(axis, None)
        config.const("n_outer", prod(a[:axis])).const("n_lhs_inner", prod(a[inner])).const("n_rhs_inner", prod(b[inner]))
        if pixels:
            config.const("n_chan", a[-1])
        layer.io(config)
        config.const("reuse_factor", layer.reuse_factor)
        layer.kernel = "concatenate_pixels" if pixels else "concatenate"
        layer.header = "nnet_merge.h"
