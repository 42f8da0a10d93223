"""`nn.dot` -> `hls.dot` (nnet::dot1d): the dot product of two vectors of one length n.

Precision: accum = result = grow(x * y, n). Estimates: n multipliers, n * W(x) * W(y)
BOPs, depth ceil(log2 n) + 2.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.ir import SSAValue

from nnhls.dialects import hls, nn
from nnhls.dialects.bitgrowth import clog2, grow, product
from nnhls.dialects.types import fixed_type
from nnhls.ops import exact as ex
from nnhls.ops.base import (
    Estimate,
    KernelRules,
    LayerTypes,
    Lowering,
    OpRules,
    ScheduleInfo,
    elementwise_estimate,
    operand_precision,
    product_bops,
    register,
)
from nnhls.ops.cpp import Layer


@register
class DotRules(OpRules):
    op = nn.DotOp
    type_names = ("Dot",)

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        assert isinstance(op, nn.DotOp)
        n = nn.shape_of(op.lhs)[0]
        acc = lt.get("accum", lambda: grow(product(lt.inputs[0], lt.inputs[1]), n))
        lt.get("result", lambda: acc)

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        assert isinstance(op, nn.DotOp)
        n = nn.shape_of(op.lhs)[0]
        bops = product_bops(n, operand_precision(op, 0, s), operand_precision(op, 1, s))
        return elementwise_estimate(op, s, n, clog2(n) + 2, bops)

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, nn.DotOp)
        props = lw.common(op) | {"accum_t": fixed_type(lw.precision(op, "accum"))}
        return [lw.emit(hls.DotOp, [lw.operand(op.lhs), lw.operand(op.rhs)], lw.out_type(op), props)]

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        return [np.sum(args[0] * args[1], axis=-1, keepdims=True)]


@register
class DotKernel(KernelRules):
    op = hls.DotOp
    accumulates = True

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, hls.DotOp)
        acc_t = op.accum_t.precision
        terms = ex.cast(ex.e_mul(args[0].exact, args[1].exact), acc_t)
        acc = ex.accumulate(np.zeros((), dtype=np.int64), terms.exact, acc_t)
        return [ex.recast(ex.FixedArray(acc[:, None], acc_t), ex.result_t(op))]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, hls.DotOp)
        n = layer.inputs[0].size
        config = layer.struct("dot_config")
        config.const("n_in", n).const("n_out", 1)
        layer.io(config)
        rf = layer.reuse_factor
        config.const("reuse_factor", rf).ceil_div("multiplier_limit", "n_in", "reuse_factor")
        config.typedef("accum_t", op.accum_t.cpp())
        layer.kernel, layer.header = "dot1d", "nnet_merge.h"
