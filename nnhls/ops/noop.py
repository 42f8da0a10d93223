"""`nn.dropout` and `nn.identity`: the identity at inference.

nn-canonicalize removes them; left in place (no canonicalization in a custom pipeline) they
lower to nothing, or to an `hls.cast` when their result type differs from their input's.

Precision: result = the input type.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.ir import SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from nnhls.dialects import hls, nn
from nnhls.ops.base import FREE, Estimate, LayerTypes, Lowering, OpRules, ScheduleInfo, register


class RemoveNoOp(RewritePattern):
    """dropout(x), identity(x) -> x."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.DropoutOp | nn.IdentityOp, rewriter: PatternRewriter) -> None:
        rewriter.replace(op, [], [op.input])


class _NoOpRules(OpRules):
    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        lt.get("result", lambda: lt.x)

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        return FREE

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        x = lw.operand(op.operands[0])
        if lw.out_type(op) == x.type:
            return [x]
        return [lw.emit(hls.CastOp, [x], lw.out_type(op), lw.common(op))]

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        return [args[0]]

    def canonicalization_patterns(self) -> Sequence[RewritePattern]:
        return (RemoveNoOp(),)


@register
class DropoutRules(_NoOpRules):
    op = nn.DropoutOp
    type_names = ("Dropout",)


@register
class IdentityRules(_NoOpRules):
    op = nn.IdentityOp
    type_names = ("Identity",)
