"""`nn.constant`: a constant tensor operand (an ONNX initializer fed to a merge, for example).

It has no kernel: the lowering of the op that reads it folds it (see merge.py); any other reader
is an error naming both layers.

Precision: result = `fitted` (the default's width, the fewest integer bits for its values).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.ir import SSAValue

from nnhls.dialects import nn
from nnhls.dialects.bitgrowth import fitted
from nnhls.ops.base import FREE, Estimate, LayerTypes, Lowering, OpRules, ScheduleInfo, register


@register
class ConstantRules(OpRules):
    op = nn.ConstantOp
    type_names = ("Constant",)

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        assert isinstance(op, nn.ConstantOp)
        lt.get("result", lambda: fitted(nn.to_numpy(op.value), lt.default))

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        return FREE

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        return []  # consumed by the op that reads it

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        assert isinstance(op, nn.ConstantOp)
        value = nn.to_numpy(op.value).astype(np.float64)
        return [np.broadcast_to(value, (batch, *value.shape))]
