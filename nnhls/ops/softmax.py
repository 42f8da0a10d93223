"""`nn.softmax` -> `hls.softmax` (nnet::softmax): softmax over the last axis through two tables.

Precision (F = the default's fractional bits; n = the softmax length):

| variable | auto rule |
|---|---|
| result | ufixed<F + 1, 1> over [0, 1] |
| exp_table | ufixed over the entries' range (stable: [0, 1]) with the default's F |
| accum | grow(exp_table, n): the sum of the n entries never overflows |
| inv_table | the default's F, integer bits for the largest entry |

The tables and their ranges: nnhls/dialects/tables.py. Canonicalization: a softmax marked `nn.skip`
(the config's `Skip`) goes, and the model returns the scores. Estimates: one multiplier per element
(exp entry * inverse of the sum: W(exp_table) * W(inv_table) BOPs); depth 2 ceil(log2 n) + 4.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import prod

import numpy as np
from xdsl.dialects.builtin import Float64Type, FloatAttr
from xdsl.ir import SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from nnhls.dialects import hls, nn, tables
from nnhls.dialects.bitgrowth import clog2, grow, range_type
from nnhls.dialects.kinds import SoftmaxImpl
from nnhls.dialects.types import SoftmaxImplAttr, fixed_type
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
    product_bops,
    register,
)
from nnhls.ops.cpp import Layer


class RemoveSkippedSoftmax(RewritePattern):
    """A softmax marked `nn.skip` (the config's `Skip`) goes: the model returns the scores."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.SoftmaxOp, rewriter: PatternRewriter) -> None:
        if nn.SKIP_ATTR in op.attributes:
            rewriter.replace(op, [], [op.input])


def _implementation(op: nn.SoftmaxOp) -> SoftmaxImpl:
    return op.implementation.data if op.implementation is not None else SoftmaxImpl.STABLE


@register
class SoftmaxRules(OpRules):
    op = nn.SoftmaxOp
    type_names = ("Softmax",)
    config_keys = ("TableSize", "ExpTableSize", "InvTableSize", "Implementation", "Skip")

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        assert isinstance(op, nn.SoftmaxOp)
        n = nn.shape_of(op.input)[-1]
        impl = _implementation(op)
        frac = lt.default.fractional
        lt.get("result", lambda: range_type(0.0, 1.0, frac, lt.default))
        exp_size = tables.table_size(op.exp_table_size)
        exp_t = lt.get("exp_table", lambda: tables.exp_table_type(impl, lt.x, exp_size, lt.default))
        acc = lt.get("accum", lambda: grow(exp_t, n))
        inv_size = tables.table_size(op.inv_table_size)
        lt.get(
            "inv_table",
            lambda: tables.inv_table_type(impl, n, lt.x, exp_t, exp_size, acc, inv_size, lt.default),
        )
        lt.get("inv_inp", lambda: acc)
        lt.get("table", lambda: exp_t)

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        assert isinstance(op, nn.SoftmaxOp)
        n = nn.shape_of(op.input)[-1]
        size = prod(nn.shape_of(op.output))
        exp_t = nn.resolved_precision(op, "exp_table", s.default)
        inv_t = nn.resolved_precision(op, "inv_table", s.default)
        return elementwise_estimate(op, s, size, 2 * clog2(n) + 4, product_bops(size, exp_t, inv_t))

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, nn.SoftmaxOp)
        impl = _implementation(op)
        exp_size, inv_size = (
            tables.table_size(op.exp_table_size),
            tables.table_size(op.inv_table_size),
        )
        exp_t, inv_t = lw.precision(op, "exp_table"), lw.precision(op, "inv_table")
        acc = lw.precision(op, "accum")
        x = lw.operand(op.input)
        props = lw.common(op) | {
            "implementation": SoftmaxImplAttr(impl),
            "exp_table_size": int_attr(exp_size),
            "exp_table_t": fixed_type(exp_t),
            "inv_table_size": int_attr(inv_size),
            "inv_table_t": fixed_type(inv_t),
            "accum_t": fixed_type(acc),
        }
        if impl != SoftmaxImpl.ARGMAX:
            n = hls.shape_of(x)[-1]
            t = tables.softmax_tables(impl, n, lw.element(x), exp_t, exp_size, acc, inv_t, inv_size)
            props |= {
                "exp_table": hls.mantissa_attr(t.exp_table),
                "exp_range": FloatAttr(t.exp_range, Float64Type()),
                "inv_table": hls.mantissa_attr(t.inv_table),
                "inv_range": FloatAttr(t.inv_range, Float64Type()),
            }
        return [lw.emit(hls.SoftmaxOp, [x], lw.out_type(op), props)]

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        e = np.exp(args[0] - args[0].max(axis=-1, keepdims=True))
        return [e / e.sum(axis=-1, keepdims=True)]

    def canonicalization_patterns(self) -> Sequence[RewritePattern]:
        return (RemoveSkippedSoftmax(),)


@register
class SoftmaxKernel(KernelRules):
    op = hls.SoftmaxOp

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, hls.SoftmaxOp)
        x, result = args[0], ex.result_t(op)
        impl = op.implementation.data
        if impl == SoftmaxImpl.ARGMAX:
            first = np.argmax(x.m, axis=-1)
            hot = np.zeros(x.m.shape, dtype=np.int64)
            np.put_along_axis(hot, first[..., None], 1, axis=-1)
            return [ex.cast(ex.Exact(hot, 0), result)]
        assert op.exp_table is not None and op.inv_table is not None
        assert op.exp_range is not None and op.inv_range is not None
        n_exp, n_inv = op.exp_table_size.value.data, op.inv_table_size.value.data
        exp_range = Fraction(op.exp_range.value.data)
        if impl == SoftmaxImpl.STABLE:
            top = x.m.max(axis=-1, keepdims=True)
            diff = ex.Exact(ex.add(top, -ex.obj(x.m) if x.m.dtype == object else -x.m), x.t.fractional)
            raw = ex.table_index(diff, Fraction(0), n_exp, exp_range)
        else:
            raw = ex.table_index(x.exact, -exp_range / 2, n_exp, exp_range)
        exp_t = op.exp_table_t.precision
        e = ex.mantissas_of(op.exp_table)[ex.clamp_index(raw, n_exp)]
        acc_t = op.accum_t.precision
        s = ex.accumulate(np.zeros((), dtype=np.int64), ex.Exact(e, exp_t.fractional), acc_t)
        j = ex.table_index(
            ex.Exact(s, acc_t.fractional), Fraction(0), n_inv, Fraction(op.inv_range.value.data)
        )
        inv = ex.mantissas_of(op.inv_table)[ex.clamp_index(j, n_inv)]
        inv_frac = op.inv_table_t.precision.fractional
        return [ex.cast(ex.Exact(ex.mul(e, inv[..., None]), exp_t.fractional + inv_frac), result)]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, hls.SoftmaxOp)
        value = layer.inputs[0]
        impl = op.implementation.data
        config = layer.struct("softmax_config")
        config.const("n_rows", value.size // value.pack).const("n_in", value.pack)
        layer.io(config)
        config.const("reuse_factor", layer.reuse_factor)
        config.const("implementation", f"nnet::softmax_{impl.value}")
        config.const("exp_table_size", op.exp_table_size.value.data)
        config.const("inv_table_size", op.inv_table_size.value.data)
        layer.kernel, layer.header = "softmax", "nnet_activation.h"
        config.typedef("exp_table_t", f"{layer.name}_exp_table_t").typedef("inv_table_t", f"{layer.name}_inv_table_t")
        config.typedef("accum_t", op.accum_t.cpp())
        if impl == SoftmaxImpl.ARGMAX or op.exp_table is None or op.inv_table is None:
            layer.args = ["nullptr", "nullptr"]
            layer.typedefs = [
                (f"{layer.name}_exp_table_t", op.exp_table_t.cpp()),
                (f"{layer.name}_inv_table_t", op.inv_table_t.cpp()),
            ]
            return
        assert op.exp_range is not None and op.inv_range is not None
        k_exp = layer.log2_exact(op.exp_table_size.value.data / op.exp_range.value.data, "exp_table_size / exp_range")
        k_inv = layer.log2_exact(op.inv_table_size.value.data / op.inv_range.value.data, "inv_table_size / inv_range")
        config.const("exp_scale_log2", k_exp, "int").const("inv_scale_log2", k_inv, "int")
        layer.constant("exp_table", op.exp_table, op.exp_table_t, f"exp table over {op.exp_range.value.data}")
        layer.constant("inv_table", op.inv_table, op.inv_table_t, f"1/x table over [0, {op.inv_range.value.data})")
        layer.args = [f"{layer.name}_exp_table", f"{layer.name}_inv_table"]
