"""`nn.add`, `nn.sub`, `nn.mul`, `nn.average`, `nn.maximum`, `nn.minimum` -> `hls.merge`
(nnet::add / subtract / multiply / average / maximum / minimum), element-wise.

Precision: exact, result = accum = grow(union, k) for k addends; sub signed (fixed.sub_type);
average grow then halve; mul (sum W, sum I); maximum / minimum the union.

Lowering: k > 2 inputs become a chain of binary `hls.merge` with exact intermediate types; an
average of k > 2 inputs is an add chain followed by an `hls.batchnorm` scaling by 1/k (rounded
down, so it never overflows); a two-input add, sub or mul with an `nn.constant` that is uniform
over the spatial axes becomes an `hls.batchnorm`.
Estimates: a multiplication needs size * (k - 1) multipliers, each chain step W(acc) * W(x)
BOPs per element; the others none.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import ClassVar

import numpy as np
from xdsl.ir import SSAValue

from nnhls.dialects import fixed, hls, nn
from nnhls.dialects.bitgrowth import clog2, grow, make_type, product, union
from nnhls.dialects.fixed import FixedPrecision, Quant
from nnhls.dialects.kinds import MergeKind
from nnhls.dialects.types import MergeKindAttr
from nnhls.ops import exact as ex
from nnhls.ops.base import (
    Estimate,
    KernelRules,
    LayerTypes,
    Lowering,
    LoweringError,
    OpRules,
    ScheduleInfo,
    elementwise_estimate,
    operand_precision,
    product_bops,
    register,
)
from nnhls.ops.batchnorm import emit_affine
from nnhls.ops.cpp import Layer

SCALE_TYPE = FixedPrecision(18, 0, False)
"""Type of the 1/k scale of averages of k > 2 inputs (rounded down)."""


def exact_merge(kind: MergeKind, a: FixedPrecision, b: FixedPrecision) -> FixedPrecision:
    """The exact type of a binary merge (intermediate results of merge chains)."""
    match kind:
        case MergeKind.ADD:
            return fixed.add_type(a, b)
        case MergeKind.SUB:
            return fixed.sub_type(a, b)
        case MergeKind.MUL:
            return fixed.mul_type(a, b)
        case _:
            return union(a, b)


def merge_result(op: nn.NNLayerOp, inputs: list[FixedPrecision]) -> FixedPrecision:
    """Exact type of an element-wise merge of k inputs (the lowering's chain of binary kernels)."""
    rules = _MERGE_RULES.get(type(op))
    if rules is None:
        raise LoweringError(f"{op.name} '{op.layer_name}' is not an element-wise merge")
    return rules.result_type(inputs)


class MergeRules(OpRules):
    """The rules every element-wise merge shares; `kind` names its binary kernel."""

    kind: ClassVar[MergeKind]

    def result_type(self, inputs: list[FixedPrecision]) -> FixedPrecision:
        return union(*inputs)

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        result = lt.get("result", lambda: self.result_type(lt.inputs))
        lt.get("accum", lambda: result)

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        return elementwise_estimate(op, s, 0, 1)

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, nn.ElementwiseMergeOp)
        if any(isinstance(v.owner, nn.ConstantOp) for v in op.inputs):
            return [self.merge_constant(op, lw)]
        return [self.chain(op, lw, [lw.operand(v) for v in op.inputs])]

    def chain(self, op: nn.ElementwiseMergeOp, lw: Lowering, inputs: list[SSAValue]) -> SSAValue:
        """Binary merges left to right; intermediate types are exact, the last is the result."""
        acc = inputs[0]
        shape = nn.shape_of(op.output)
        for i, rhs in enumerate(inputs[1:], start=1):
            last = i == len(inputs) - 1
            if last:
                ty, layer = lw.out_type(op), None
            else:
                ty = lw.hls_type(shape, exact_merge(self.kind, lw.element(acc), lw.element(rhs)))
                layer = f"{op.layer_name}_part{i}"
            props = lw.common(op, layer) | {"kind": MergeKindAttr(self.kind)}
            acc = lw.emit(hls.MergeOp, [acc, rhs], ty, props)
        return acc

    def merge_constant(self, op: nn.ElementwiseMergeOp, lw: Lowering) -> SSAValue:
        raise LoweringError(
            f"{op.name} '{op.layer_name}': constants are only supported in two-input add, sub and mul"
        )


class ConstantMergeRules(MergeRules):
    """add, sub and mul: a constant operand uniform over the spatial axes becomes a batchnorm."""

    accepts_constants = True

    def merge_constant(self, op: nn.ElementwiseMergeOp, lw: Lowering) -> SSAValue:
        """x + c, x - c, c - x or x * c with a constant c uniform over the spatial axes."""
        if len(op.inputs) != 2:
            return super().merge_constant(op, lw)
        const_index = 0 if isinstance(op.inputs[0].owner, nn.ConstantOp) else 1
        const_op = op.inputs[const_index].owner
        assert isinstance(const_op, nn.ConstantOp)
        if isinstance(op.inputs[1 - const_index].owner, nn.ConstantOp):
            raise LoweringError(
                f"{op.name} '{op.layer_name}': a merge of two constants should be folded"
            )
        values = nn.to_numpy(const_op.value).astype(np.float64)
        channels = values.reshape(-1, values.shape[-1]) if values.ndim else values.reshape(1, 1)
        if not np.all(channels == channels[0]):
            raise LoweringError(
                f"{op.name} '{op.layer_name}': constant '{const_op.layer_name}' varies over the spatial axes; only per-channel constants are supported"
            )
        c = channels[0]
        c_t = lw.precision(const_op, "result")
        x = lw.operand(op.inputs[1 - const_index])
        one, zero = np.ones_like(c), np.zeros_like(c)
        unit = FixedPrecision(2, 2)
        if self.kind == MergeKind.MUL:
            return emit_affine(lw, op, x, c, zero, c_t, unit)
        if self.kind == MergeKind.SUB and const_index == 0:
            return emit_affine(lw, op, x, -one, c, unit, c_t)
        sign = -1.0 if self.kind == MergeKind.SUB else 1.0
        return emit_affine(
            lw, op, x, one, sign * c, unit,
            make_type(c_t.width + 1, c_t.integer + 1, True) if sign < 0 else c_t,
        )  # fmt: skip


@register
class AddRules(ConstantMergeRules):
    op = nn.AddOp
    kind = MergeKind.ADD
    type_names = ("Add", "Merge")

    def exact_before_cast(self, op: nn.NNLayerOp) -> bool:
        return True

    def result_type(self, inputs: list[FixedPrecision]) -> FixedPrecision:
        return grow(union(*inputs), len(inputs))

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        return [sum(args[1:], args[0])]


@register
class SubRules(ConstantMergeRules):
    op = nn.SubOp
    kind = MergeKind.SUB
    type_names = ("Subtract", "Sub", "Merge")

    def exact_before_cast(self, op: nn.NNLayerOp) -> bool:
        return True

    def result_type(self, inputs: list[FixedPrecision]) -> FixedPrecision:
        return fixed.sub_type(inputs[0], inputs[1])

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        return [args[0] - args[1]]


@register
class MulRules(ConstantMergeRules):
    op = nn.MulOp
    kind = MergeKind.MUL
    type_names = ("Multiply", "Mul", "Merge")

    def result_type(self, inputs: list[FixedPrecision]) -> FixedPrecision:
        t = inputs[0]
        for other in inputs[1:]:
            t = product(t, other)
        return t

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        assert isinstance(op, nn.MulOp)
        size = prod(nn.shape_of(op.output))
        acc = operand_precision(op, 0, s)
        bops = 0
        for index in range(1, len(op.inputs)):  # the chain's exact intermediate products
            rhs = operand_precision(op, index, s)
            bops += product_bops(size, acc, rhs)
            acc = product(acc, rhs)
        return elementwise_estimate(op, s, size * (len(op.inputs) - 1), 2, bops)

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        return [np.prod(np.stack(args), axis=0)]


@register
class AverageRules(MergeRules):
    op = nn.AverageOp
    kind = MergeKind.AVERAGE
    type_names = ("Average", "Merge")

    def result_type(self, inputs: list[FixedPrecision]) -> FixedPrecision:
        t = union(*inputs)
        return make_type(t.width + clog2(len(inputs)), t.integer, t.signed)

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, nn.AverageOp)
        if len(op.inputs) <= 2 or any(isinstance(v.owner, nn.ConstantOp) for v in op.inputs):
            return super().lower(op, lw)
        return [self.average(op, lw, [lw.operand(v) for v in op.inputs])]

    def average(self, op: nn.AverageOp, lw: Lowering, inputs: list[SSAValue]) -> SSAValue:
        """An average of k > 2 inputs: exact sum, then a batchnorm scaling by 1/k (rounded down)."""
        k = len(inputs)
        shape = hls.shape_of(inputs[0])
        total = inputs[0]
        for i, rhs in enumerate(inputs[1:], start=1):
            t = exact_merge(MergeKind.ADD, lw.element(total), lw.element(rhs))
            props = lw.common(op, f"{op.layer_name}_sum{i}") | {"kind": MergeKindAttr(MergeKind.ADD)}
            total = lw.emit(hls.MergeOp, [total, rhs], lw.hls_type(shape, t), props)
        return emit_affine(
            lw,
            op,
            total,
            np.full(shape[-1], 1.0 / k),
            np.zeros(shape[-1]),
            SCALE_TYPE.with_modes(Quant.TRN),
            FixedPrecision(2, 1),
        )

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        return [np.mean(np.stack(args), axis=0)]


@register
class MaximumRules(MergeRules):
    op = nn.MaximumOp
    kind = MergeKind.MAXIMUM
    type_names = ("Maximum", "Max", "Merge")

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        return [np.max(np.stack(args), axis=0)]


@register
class MinimumRules(MergeRules):
    op = nn.MinimumOp
    kind = MergeKind.MINIMUM
    type_names = ("Minimum", "Min", "Merge")

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        return [np.min(np.stack(args), axis=0)]


_MERGE_RULES: dict[type[nn.NNLayerOp], MergeRules] = {
    r.op: r for r in (AddRules(), SubRules(), MulRules(), AverageRules(), MaximumRules(), MinimumRules())
}


# ----- the kernel -------------------------------------------------------------------------------------------

_KERNELS = {
    MergeKind.ADD: "add",
    MergeKind.SUB: "subtract",
    MergeKind.MUL: "multiply",
    MergeKind.AVERAGE: "average",
    MergeKind.MAXIMUM: "maximum",
    MergeKind.MINIMUM: "minimum",
}


@register
class MergeKernel(KernelRules):
    op = hls.MergeOp

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, hls.MergeOp)
        a, b = args[0].exact, args[1].exact
        match op.kind.data:
            case MergeKind.ADD:
                v = ex.e_add(a, b)
            case MergeKind.SUB:
                v = ex.e_add(a, ex.e_neg(b))
            case MergeKind.MUL:
                v = ex.e_mul(a, b)
            case MergeKind.AVERAGE:
                s = ex.e_add(a, b)
                v = ex.Exact(s.m, s.frac + 1)
            case MergeKind.MAXIMUM:
                v = ex.e_max(a, b)
            case MergeKind.MINIMUM:
                v = ex.e_min(a, b)
        return [ex.cast(v, ex.result_t(op))]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, hls.MergeOp)
        config = layer.struct("merge_config")
        config.const("n_elem", layer.outputs[0].size).const("n_chan", layer.outputs[0].pack)
        layer.io(config)
        config.const("reuse_factor", layer.reuse_factor)
        layer.kernel, layer.header = _KERNELS[op.kind.data], "nnet_merge.h"
