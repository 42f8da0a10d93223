"""`nn.split` -> `hls.split` (nnet::split): a tensor cut in two along one axis, an op with two
results. Both ops are defined here, with all their rules: an op added in one module.

    %head, %tail = nn.split %x {layer = "split", axis = 0 : i64, size = 3 : i64}
                   : (tensor<8xf32>) -> (tensor<3xf32>, tensor<5xf32>)

Result 0 is x[..., :size, ...] along `axis` (per-sample axes), result 1 the rest. ONNX `Split`
into k parts becomes a chain of k - 1 splits (the front end).

Precision: `result` (result 0) and `result_1` (result 1) = the input type (a split copies).
io_stream splits along the channel (last) axis only. Estimates: no multiplier, one cycle per
element group.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import ClassVar

import numpy as np
from xdsl.dialects.builtin import I64, IntegerAttr, StringAttr, TensorType, i64
from xdsl.ir import SSAValue
from xdsl.irdl import irdl_op_definition, operand_def, prop_def, result_def

from nnhls.dialects import hls, nn
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
    int_attr,
    register,
)
from nnhls.ops.cpp import Layer


def split_shapes(shape: Sequence[int], axis: int, size: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The shapes of the two parts of `shape` cut at `size` along `axis`."""
    first, second = list(shape), list(shape)
    first[axis], second[axis] = size, shape[axis] - size
    return tuple(first), tuple(second)


def _problem(in_shape: tuple[int, ...], out: list[tuple[int, ...]], axis: int, size: int) -> str | None:
    """What is wrong with a split of in_shape into `out` (None when it is right)."""
    if not 0 <= axis < len(in_shape):
        return f"axis {axis} is out of range for rank {len(in_shape)}"
    if not 0 < size < in_shape[axis]:
        return f"size {size} must leave both parts non-empty along axis {axis} of length {in_shape[axis]}"
    if out != list(split_shapes(in_shape, axis, size)):
        return f"result shapes {out} do not split {in_shape} at {size} along axis {axis}"
    return None


# ----- the ops -------------------------------------------------------------------------------------------


@irdl_op_definition
class SplitOp(nn.NNLayerOp):
    """Split along `axis` at `size`: result 0 holds the first `size` entries, result 1 the rest."""

    name = "nn.split"
    input = operand_def(TensorType)
    output = result_def(TensorType)
    rest = result_def(TensorType)
    axis = prop_def(IntegerAttr[I64])
    size = prop_def(IntegerAttr[I64])

    PRECISION_VARS: ClassVar[tuple[str, ...]] = ("result", "result_1")
    RESULT_VARS: ClassVar[tuple[str, ...]] = ("result", "result_1")

    def __init__(self, input: SSAValue, axis: int, size: int, layer: str):
        first, second = split_shapes(nn.shape_of(input), axis, size)
        super().__init__(
            operands=[input],
            result_types=[nn.float_tensor(first), nn.float_tensor(second)],
            properties={"layer": StringAttr(layer), "axis": IntegerAttr(axis, i64), "size": IntegerAttr(size, i64)},
        )

    def verify_layer(self) -> None:
        problem = _problem(nn.shape_of(self.input), [nn.shape_of(r) for r in self.results], self.axis.value.data, self.size.value.data)
        if problem is not None:
            raise self.fail(problem)


@irdl_op_definition
class SplitKernelOp(hls.HLSKernelOp):
    """nnet::split: y0[...] = cast<result 0>(x[..., :size, ...]), y1 = cast<result 1>(the rest)
    along `axis` (row-major; in io_stream only the channel axis)."""

    name = "hls.split"
    input = operand_def()
    output = result_def()
    rest = result_def()
    axis = prop_def(IntegerAttr[I64])
    size = prop_def(IntegerAttr[I64])

    def verify_kernel(self) -> None:
        in_shape = hls.shape_of(self.input)
        axis = self.axis.value.data
        problem = _problem(in_shape, [hls.shape_of(r) for r in self.results], axis, self.size.value.data)
        if problem is not None:
            raise self.fail(problem)
        if self.is_stream and axis != len(in_shape) - 1:
            raise self.fail("io_stream splits along the channel axis only")


# ----- the rules -----------------------------------------------------------------------------------------


@register
class SplitRules(OpRules):
    op = SplitOp
    type_names = ("Split",)

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        lt.get("result", lambda: lt.x)
        lt.get("result_1", lambda: lt.x)

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        return elementwise_estimate(op, s, 0, 1)

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, SplitOp)
        axis = op.axis.value.data
        if lw.stream and axis != len(nn.shape_of(op.input)) - 1:
            raise LoweringError(
                f"{op.name} '{op.layer_name}': io_stream splits along the channel (last) axis "
                f"only, not axis {axis}; use io_parallel"
            )
        props = lw.common(op) | {"axis": int_attr(axis), "size": int_attr(op.size.value.data)}
        types = [lw.out_type(op, 0), lw.out_type(op, 1)]
        return lw.emit_results(SplitKernelOp, [lw.operand(op.input)], types, props)

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        assert isinstance(op, SplitOp)
        first, second = np.split(args[0], [op.size.value.data], axis=op.axis.value.data + 1)
        return [first, second]


@register
class SplitKernel(KernelRules):
    op = SplitKernelOp

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, SplitKernelOp)
        x = args[0]
        first, second = np.split(x.m, [op.size.value.data], axis=op.axis.value.data + 1)
        return [
            ex.cast(ex.Exact(np.ascontiguousarray(first), x.t.fractional), ex.result_t(op, 0)),
            ex.cast(ex.Exact(np.ascontiguousarray(second), x.t.fractional), ex.result_t(op, 1)),
        ]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, SplitKernelOp)
        axis = op.axis.value.data
        a, b = layer.outputs[0].shape, layer.outputs[1].shape
        config = layer.struct("split_config")
        config.const("n_outer", prod(a[:axis])).const("n_first_inner", prod(a[axis:])).const("n_second_inner", prod(b[axis:]))
        layer.io(config)
        config.const("reuse_factor", layer.reuse_factor)
        layer.kernel, layer.header = "split", "nnet_split.h"
