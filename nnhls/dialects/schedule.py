"""Scheduling rules shared by nn-schedule and lower-nn-to-hls: reuse-factor legality (hls4ml's
rule, made strict) and the top function's pipeline style.

A reuse factor RF is legal for a resource-style kernel of (n_in, n_out) iff, with
m = min(n_in, RF): n_in * n_out % RF == 0, (RF < n_in or RF % n_in == 0) and
(RF >= n_in or ceil(n_in * n_out / m) % n_out == 0); `unrolled` also excludes RF = n_in * n_out;
`latency` accepts any RF >= 1. The auto pipeline style is `dataflow` for io_stream or when a
layer uses the Resource strategy, `pipeline` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import ceil, prod

from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerAttr

from nnhls.dialects import nn
from nnhls.dialects.kinds import IOType, PipelineStyle, Strategy
from nnhls.dialects.types import IOTypeAttr, PipelineStyleAttr


def reuse_factor_legal(n_in: int, n_out: int, rf: int, strategy: Strategy) -> bool:
    """hls4ml's validity rule for resource-style kernels (latency accepts any RF >= 1)."""
    if rf < 1:
        return False
    if strategy == Strategy.LATENCY:
        return True
    total = n_in * n_out
    if strategy == Strategy.UNROLLED and rf == total and total > 1:
        return False
    multfactor = min(n_in, rf)
    mult_limit = ceil(total / multfactor)
    return (
        total % rf == 0
        and (rf < n_in or rf % n_in == 0)
        and (rf >= n_in or mult_limit % n_out == 0)
    )


def legal_reuse_factors(n_in: int, n_out: int, strategy: Strategy) -> list[int]:
    total = n_in * n_out
    return [rf for rf in range(1, total + 1) if reuse_factor_legal(n_in, n_out, rf, strategy)]


def nearest(value: int, legal: Sequence[int]) -> list[int]:
    """The legal values closest to `value` below and above it (one or two values)."""
    below = [v for v in legal if v < value]
    above = [v for v in legal if v > value]
    return ([below[-1]] if below else []) + ([above[0]] if above else [])


def snap(value: int, legal: Sequence[int]) -> int:
    """The closest legal value (ties: the smaller)."""
    return min(legal, key=lambda v: (abs(v - value), v))


def kernel_dims(op: nn.DenseOp | nn.ConvBaseOp) -> tuple[int, int]:
    """(n_in, n_out) of the layer's matrix-vector kernel."""
    w = op.weight.get_shape()
    if isinstance(op, nn.DenseOp):
        return w[0], w[1]
    kernel = prod(w[: op.RANK])
    if op.DEPTHWISE:
        return kernel, w[-2] * w[-1]
    return kernel * w[-2], w[-1]


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def io_type_of(function: func.FuncOp) -> IOType:
    attr = function.attributes.get(nn.IO_TYPE_ATTR)
    return attr.data if isinstance(attr, IOTypeAttr) else IOType.IO_PARALLEL


def layer_strategy(op: nn.NNLayerOp) -> Strategy | None:
    if isinstance(op, nn.DenseOp | nn.ConvBaseOp):
        return op.strategy.data if op.strategy is not None else Strategy.LATENCY
    return None


def resolve_style(function: func.FuncOp, io_type: IOType | str) -> PipelineStyle:
    """The top-level pipeline style: the configured one, or auto's choice."""
    attr = function.attributes.get(nn.PIPELINE_STYLE_ATTR)
    style = attr.data if isinstance(attr, PipelineStyleAttr) else PipelineStyle.AUTO
    if style != PipelineStyle.AUTO:
        return style
    if IOType(io_type) == IOType.IO_STREAM:
        return PipelineStyle.DATAFLOW
    layers = (op for op in function.body.block.ops if isinstance(op, nn.NNLayerOp))
    if any(layer_strategy(op) == Strategy.RESOURCE for op in layers):
        return PipelineStyle.DATAFLOW
    return PipelineStyle.PIPELINE


def pipeline_settings(function: func.FuncOp, io_type: str) -> tuple[PipelineStyle, int | None]:
    """(style, pipeline interval) for the hls.func of a model lowered with `io_type`.

    io_stream always runs as a dataflow region; the interval only goes with the pipeline style.
    """
    style = PipelineStyle.DATAFLOW if io_type == "io_stream" else resolve_style(function, io_type)
    interval = function.attributes.get(nn.PIPELINE_INTERVAL_ATTR)
    if style != PipelineStyle.PIPELINE or not isinstance(interval, IntegerAttr):
        return style, None
    return style, interval.value.data
