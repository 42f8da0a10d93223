"""Adding an op outside nnhls takes one Python module (this one) and one C++ kernel
(toy_op/nnet_toy_abs.h): the op classes, their rules, and nothing else in nnhls.

`nn.toy_abs` computes |x| element-wise. The test builds a model with it, configures it by layer
name, runs the whole pipeline, writes and builds the project with g++, and checks the C++ build
against the numpy emulator bit for bit and against the float reference within the types' steps,
in both io types.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from xdsl.dialects.builtin import StringAttr, TensorType
from xdsl.ir import SSAValue
from xdsl.irdl import irdl_op_definition, operand_def, result_def

from nnhls.compiler.hls_model import HLSModel
from nnhls.dialects import hls, nn
from nnhls.dialects.fixed import FixedPrecision
from nnhls.frontends.common import ModelBuilder
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

KERNEL = Path(__file__).resolve().parent / "toy_op" / "nnet_toy_abs.h"

# ----- the op: nn and hls classes --------------------------------------------------------------------


@irdl_op_definition
class ToyAbsOp(nn.NNLayerOp):
    """|x|, element-wise."""

    name = "nn.toy_abs"
    input = operand_def(TensorType)
    output = result_def(TensorType)

    def __init__(self, x: SSAValue, layer: str):
        super().__init__(operands=[x], result_types=[x.type], properties={"layer": StringAttr(layer)})


@irdl_op_definition
class ToyAbsKernelOp(hls.HLSKernelOp):
    """nnet::toy_abs: y = cast<result>(|x|)."""

    name = "hls.toy_abs"
    input = operand_def()
    output = result_def()


# ----- its rules ---------------------------------------------------------------------------------------


def abs_type(x: FixedPrecision) -> FixedPrecision:
    """|x| of fixed<W, I> fits ufixed<W, I> exactly (|min| = 2**(I - 1) < 2**I)."""
    return FixedPrecision(x.width, x.integer, False) if x.signed else x


@register
class ToyAbsRules(OpRules):
    op = ToyAbsOp
    type_names = ("ToyAbs",)

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        lt.get("result", lambda: abs_type(lt.x))

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        return elementwise_estimate(op, s, 0, 1)

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, ToyAbsOp)
        return [lw.emit(ToyAbsKernelOp, [lw.operand(op.input)], lw.out_type(op), lw.common(op))]

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        return [np.abs(args[0])]


@register
class ToyAbsKernel(KernelRules):
    op = ToyAbsKernelOp
    header_file = KERNEL

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        x = args[0].exact
        value = ex.e_where(ex.e_gt(x, ex.exact_const(0)), x, ex.e_neg(x))
        return [ex.cast(value, ex.result_t(op))]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        value = layer.inputs[0]
        config = layer.struct("toy_abs_config")
        config.const("n_in", value.size).const("n_chan", value.pack)
        layer.io(config)
        layer.kernel, layer.header = "toy_abs", "nnet_toy_abs.h"


# ----- the test -----------------------------------------------------------------------------------------


def toy_model() -> Any:
    """x (4, 4, 3) -> toy_abs -> conv 3x3 -> toy_abs: both ops spatial, so io_stream streams pixels."""
    rng = np.random.default_rng(5)
    builder = ModelBuilder("toy", [("x", (4, 4, 3))])
    y = builder.add(ToyAbsOp(builder.inputs[0], "abs_in"), "ToyAbs")
    w = (rng.integers(-63, 64, (3, 3, 3, 2)) / 64).astype(np.float32)  # exact in any auto weight type
    y = builder.add(nn.Conv2DOp(y, w, None, "conv", (1, 1), (1, 1), (1, 1, 1, 1)))
    y = builder.add(ToyAbsOp(y, "abs_out"), "ToyAbs")
    return builder.finish([y])


@pytest.mark.slow
@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
def test_toy_op_end_to_end(io_type: str, tmp_path: Path) -> None:
    config = {
        "OutputDir": str(tmp_path / "prj"),
        "ProjectName": "toy",
        "IOType": io_type,
        "HLSConfig": {
            "Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1},
            "LayerType": {"ToyAbs": {"Precision": "auto"}},
            "LayerName": {"conv": {"Precision": {"weight": "auto", "accum": "auto", "result": "auto"}}},
        },
    }
    model = HLSModel(toy_model(), config)
    assert "hls.toy_abs" in model.ir("hls")
    assert "!hls.ufixed<16, 6>" in model.ir("typed")  # the toy rule typed |x|
    model.compile()
    assert (tmp_path / "prj" / "firmware" / "nnet_utils" / "nnet_toy_abs.h").is_file()
    x = np.random.default_rng(6).uniform(-8, 8, (64, 4, 4, 3))
    y_cpp = np.asarray(model.predict(x)).reshape(64, 4, 4, 2)
    y_numpy = np.asarray(model.predict(x, emulator="numpy")).reshape(64, 4, 4, 2)
    np.testing.assert_array_equal(y_cpp, y_numpy)
    from nnhls.interpreters.reference import run_reference

    (reference,) = run_reference(toy_model(), [x])
    # Exact weights and accumulators: only the inputs' rounding to fixed<16,6> (2^-10 each) remains.
    np.testing.assert_allclose(y_numpy, reference, atol=27 * 2.0**-10)
    assert np.any(y_numpy > 0)
