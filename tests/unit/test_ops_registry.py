"""The op interface (nnhls.ops): every op has all its rules, and a missing rule is an error that
names the op, never a silent default."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from xdsl.dialects.builtin import StringAttr, TensorType
from xdsl.ir import SSAValue
from xdsl.irdl import irdl_op_definition, operand_def, result_def

from nnhls import ops
from nnhls.compiler.context import make_context
from nnhls.compiler.pipeline import default_pipeline, parse_pipeline, run_pipeline
from nnhls.dialects import hls, nn
from nnhls.dialects.kinds import ActivationKind
from nnhls.errors import ModelError
from nnhls.frontends.common import ModelBuilder
from nnhls.interpreters.reference import run_reference
from nnhls.ops.activation import SPECS
from nnhls.ops.base import Estimate, LayerTypes, Lowering, OpRules, ScheduleInfo, register


@irdl_op_definition
class UnruledOp(nn.NNLayerOp):
    """An nn op nobody wrote rules for."""

    name = "nn.unruled"
    input = operand_def(TensorType)
    output = result_def(TensorType)

    def __init__(self, x: SSAValue, layer: str):
        super().__init__(operands=[x], result_types=[x.type], properties={"layer": StringAttr(layer)})


def unruled_model() -> object:
    builder = ModelBuilder("m", [("x", (4,))])
    return builder.finish([builder.add(UnruledOp(builder.inputs[0], "odd"))])


def test_every_builtin_op_has_rules() -> None:
    assert [c.name for c in nn.NN_OPS if c not in ops.nn_op_classes()] == []
    kernels = [c for c in hls.HLS_OPS if c not in (hls.FuncOp, hls.ReturnOp)]
    assert [c.name for c in kernels if c not in ops.kernel_op_classes()] == []
    assert set(SPECS) == set(ActivationKind)  # one spec per activation kind


def test_an_op_without_rules_is_an_error_naming_it() -> None:
    with pytest.raises(ModelError, match=r"nn\.unruled: no rules registered"):
        ops.rules(UnruledOp)
    with pytest.raises(ModelError, match=r"nn\.unruled: no rules registered"):
        run_reference(unruled_model(), [np.zeros((1, 4))])  # pyright: ignore[reportArgumentType]
    module = unruled_model()
    with pytest.raises(ModelError, match=r"nn\.unruled: no rules registered"):
        run_pipeline(make_context(), module, parse_pipeline(default_pipeline()))  # pyright: ignore[reportArgumentType]


def test_rules_missing_a_method_cannot_be_registered() -> None:
    with pytest.raises(TypeError, match="lower"):

        @register
        class Incomplete(OpRules):  # pyright: ignore[reportUnusedClass]
            op = UnruledOp

            def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
                lt.get("result", lambda: lt.x)

            def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
                return Estimate(0, 0, 1)

            def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
                return [args[0]]

    assert UnruledOp not in ops.nn_op_classes()


def test_a_precision_rule_must_type_every_result() -> None:
    class Forgetful(OpRules):
        op = UnruledOp

        def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
            pass  # forgets "result"

        def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
            return Estimate(0, 0, 1)

        def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
            return []

        def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
            return [args[0]]

    from nnhls.ops import base
    from nnhls.passes.nn_infer_precision import InferPrecisionPass

    register(Forgetful)
    try:
        module = unruled_model()
        with pytest.raises(ModelError, match=r"nn\.unruled 'odd': its precision rule leaves result untyped"):
            InferPrecisionPass().apply(make_context(), module)  # pyright: ignore[reportArgumentType]
    finally:
        del base._RULES[UnruledOp]  # pyright: ignore[reportPrivateUsage]
        del base._BY_NAME[UnruledOp.name]  # pyright: ignore[reportPrivateUsage]
