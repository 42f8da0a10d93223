"""`nn.input`: a model input. It becomes an argument of the hls.func (no kernel).

Precision: result = the model default when `auto` (an `auto` input type is resolved from the
InputData earlier, by the converters).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.ir import SSAValue

from nnhls.dialects import nn
from nnhls.ops.base import FREE, Estimate, LayerTypes, Lowering, OpRules, ScheduleInfo, register


@register
class InputRules(OpRules):
    op = nn.InputOp
    type_names = ("InputLayer", "Input")
    calibrated_vars = ("result",)

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        lt.get("result", lambda: lt.default)

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        return FREE

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, nn.InputOp)
        return [lw.operand(op.input)]

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        return [args[0]]

    def exact_before_cast(self, op: nn.NNLayerOp) -> bool:
        return True
