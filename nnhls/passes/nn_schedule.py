"""nn-schedule: reuse-factor legality, parallelization, pipeline style and per-layer estimates.

Rules (hls4ml's, made strict):

- Strategy (dense and convolutions; default Latency). `latency` accepts any reuse factor RF: it
  becomes the pipeline II and a multiplier limit ceil(products / RF). `resource` and `unrolled`
  need a legal RF for the layer's (n_in, n_out) = (n_in, n_out) for dense, (k * C_in, filters)
  for convolutions, (k, C * multiplier) for depthwise ones: with m = min(n_in, RF),
  RF is legal iff n_in * n_out % RF == 0, (RF < n_in or RF % n_in == 0) and
  (RF >= n_in or ceil(n_in * n_out / m) % n_out == 0); `unrolled` also excludes RF = n_in * n_out.
  An illegal RF is an error listing the nearest legal values; with `nn.snap_reuse_factor` (the
  model's SnapReuseFactor) it is a warning and the nearest legal value (ties: the smaller) is used.
- ParallelizationFactor (convolutions) must divide the number of output pixels; otherwise an
  error listing the nearest divisors (or a warning and a snap, as for RF).
- Pipeline style (`nn.pipeline_style`, default auto): auto picks `dataflow` for io_stream or when
  any layer uses the Resource strategy, `pipeline` otherwise; the resolved style is written back.
  `nn.pipeline_interval` needs the `pipeline` style (an error with an explicit `dataflow`, a
  warning and dropped when auto chose dataflow).
- Estimates written on every layer as `multipliers`, `latency` and `ii` (clock cycles), and on the
  model function as `nn.latency` (the longest path through the layers) and `nn.ii` (the largest
  layer II); lower-nn-to-hls copies them onto the kernels and the hls.func. A product
  by a weight that is zero or ± a power of two (after quantization to weight_t) needs no
  multiplier; multipliers = ceil(needed / RF) per parallel instance; dense latency = RF + ceil(log2
  n_in) + 2 with II = RF; a convolution runs out_pixels / PF partitions of RF cycles each in
  io_parallel (one pixel per RF cycles in io_stream); element-wise layers take one cycle per
  element group (II = RF, or one pixel per cycle in io_stream). They are estimates for reports,
  not synthesis results.

Before:

    func.func @m(...) attributes {nn.io_type = #hls<io_type io_parallel>,
                                  nn.pipeline_style = #hls<pipeline_style auto>} {
      %1 = nn.dense %0 {layer = "fc1", reuse_factor = 2 : i64, strategy = #hls<strategy resource>,
                        weight = dense<...> : tensor<8x4xf32>, ...}

After:

    func.func @m(...) attributes {..., nn.pipeline_style = #hls<pipeline_style dataflow>} {
      %1 = nn.dense %0 {layer = "fc1", reuse_factor = 2 : i64, strategy = #hls<strategy resource>,
                        multipliers = 16 : i64, latency = 7 : i64, ii = 2 : i64, ...}
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil, prod
from typing import cast

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import I64, IntegerAttr, ModuleOp, i64
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import DiagnosticException

from nnhls.dialects import nn
from nnhls.dialects.fixed import FixedPrecision, to_mantissa
from nnhls.dialects.hls_types import (
    IOType,
    IOTypeAttr,
    PipelineStyle,
    PipelineStyleAttr,
    Strategy,
)
from nnhls.passes.nn_infer_precision import ModelTypes, clog2, resolved_precision


class ScheduleError(DiagnosticException):
    """An illegal schedule setting; the message names the layer and the legal values."""


# ----- legality --------------------------------------------------------------------------------------------


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


def output_pixels(op: nn.NNLayerOp) -> int:
    shape = nn.shape_of(op.results[0])
    return prod(shape[:-1]) if len(shape) > 1 else 1


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


# ----- estimates -------------------------------------------------------------------------------------------


def multiplier_free(values: np.ndarray, t: FixedPrecision) -> np.ndarray:
    """Which quantized constants need no multiplier: zero or ± a power of two."""
    m = np.abs(np.asarray(to_mantissa(values, t), dtype=np.int64))
    return (m == 0) | ((m & (m - 1)) == 0)


@dataclass(frozen=True)
class Estimate:
    multipliers: int
    latency: int
    ii: int


def _weighted_estimate(
    op: nn.DenseOp | nn.ConvBaseOp, rf: int, pf: int, stream: bool, default: FixedPrecision
) -> Estimate:
    w_t = resolved_precision(op, "weight", default)
    needed = int(np.count_nonzero(~multiplier_free(nn.to_numpy(op.weight), w_t)))
    n_in, _ = kernel_dims(op)
    depth = rf + clog2(n_in) + 2
    if isinstance(op, nn.DenseOp):
        rows = prod(nn.shape_of(op.output)[:-1])
        return Estimate(ceil(needed / rf), depth + (rows - 1) * rf, rows * rf)
    pixels = output_pixels(op)
    partitions = pixels if stream else pixels // pf
    instances = 1 if stream else pf
    return Estimate(ceil(needed / rf) * instances, partitions * rf + depth - rf, partitions * rf)


def _elementwise_estimate(
    op: nn.NNLayerOp, rf: int, stream: bool, multipliers: int, depth: int
) -> Estimate:
    groups = output_pixels(op) if stream else 1
    return Estimate(ceil(multipliers / rf), depth + (groups - 1) * rf, groups * rf)


def layer_estimate(
    op: nn.NNLayerOp, rf: int, pf: int, stream: bool, default: FixedPrecision
) -> Estimate:
    """Multipliers, latency and II of one layer (see the module docstring)."""
    size = prod(nn.shape_of(op.results[0]))
    match op:
        case nn.DenseOp() | nn.ConvBaseOp():
            return _weighted_estimate(op, rf, pf, stream, default)
        case nn.BatchNormOp():
            s_t = resolved_precision(op, "scale", default)
            per_channel = ~multiplier_free(nn.to_numpy(op.scale), s_t)
            needed = int(np.count_nonzero(per_channel)) * (size // max(per_channel.size, 1))
            return _elementwise_estimate(op, rf, stream, needed, 2)
        case nn.MulOp():
            return _elementwise_estimate(op, rf, stream, size * (len(op.inputs) - 1), 2)
        case nn.DotOp():
            n = nn.shape_of(op.lhs)[0]
            return _elementwise_estimate(op, rf, stream, n, clog2(n) + 2)
        case nn.SoftmaxOp():
            n = nn.shape_of(op.input)[-1]
            return _elementwise_estimate(op, rf, stream, size, 2 * clog2(n) + 4)
        case nn.PoolingOp():
            return _elementwise_estimate(op, rf, stream, 0, clog2(prod(nn.ints(op.pool_size))) + 1)
        case nn.GlobalPoolOp():
            return _elementwise_estimate(
                op, rf, stream, 0, clog2(prod(nn.shape_of(op.input)[:-1])) + 1
            )
        case (
            nn.InputOp()
            | nn.ConstantOp()
            | nn.ReshapeOp()
            | nn.FlattenOp()
            | nn.DropoutOp()
            | nn.IdentityOp()
        ):
            return Estimate(0, 0, 1)
        case _:
            return _elementwise_estimate(op, rf, stream, 0, 1)


# ----- the schedule ----------------------------------------------------------------------------------------


def _int(value: int) -> IntegerAttr[I64]:
    return cast(IntegerAttr[I64], IntegerAttr(value, i64))


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def io_type_of(function: func.FuncOp) -> IOType:
    attr = function.attributes.get("nn.io_type")
    return attr.data if isinstance(attr, IOTypeAttr) else IOType.IO_PARALLEL


def layer_strategy(op: nn.NNLayerOp) -> Strategy | None:
    if isinstance(op, nn.DenseOp | nn.ConvBaseOp):
        return op.strategy.data if op.strategy is not None else Strategy.LATENCY
    return None


SNAP_HINT = (
    "or let nnhls use the nearest one with a warning, as hls4ml does, with "
    "HLSConfig.Model.SnapReuseFactor: true (config['Model']['SnapReuseFactor'] = True)"
)


def check_reuse_factor(op: nn.DenseOp | nn.ConvBaseOp, rf: int, snapping: bool) -> int:
    """The layer's legal reuse factor (the configured one, or snapped), or an error."""
    strategy = layer_strategy(op) or Strategy.LATENCY
    n_in, n_out = kernel_dims(op)
    if reuse_factor_legal(n_in, n_out, rf, strategy):
        return rf
    legal = legal_reuse_factors(n_in, n_out, strategy)
    where = f"{op.name} '{op.layer_name}'"
    what = f"reuse factor {rf} is not legal for the {strategy.value} strategy with n_in = {n_in}, n_out = {n_out}"
    if not snapping:
        near = ", ".join(map(str, nearest(rf, legal)))
        raise ScheduleError(f"{where}: {what}; nearest legal values: {near}; {SNAP_HINT}")
    chosen = snap(rf, legal)
    warn(f"{where}: {what}; using {chosen}")
    return chosen


def check_parallelization(op: nn.ConvBaseOp, snapping: bool) -> int:
    pf = 1 if op.parallelization_factor is None else op.parallelization_factor.value.data
    pixels = output_pixels(op)
    if pf >= 1 and pixels % pf == 0:
        return pf
    legal = divisors(pixels)
    where = f"{op.name} '{op.layer_name}'"
    what = f"parallelization factor {pf} does not divide the {pixels} output pixels"
    if not snapping:
        near = ", ".join(map(str, nearest(pf, legal)))
        raise ScheduleError(f"{where}: {what}; nearest legal values: {near}; {SNAP_HINT}")
    chosen = snap(pf, legal)
    warn(f"{where}: {what}; using {chosen}")
    return chosen


def schedule_layer(op: nn.NNLayerOp, snapping: bool, stream: bool, default: FixedPrecision) -> None:
    rf = 1 if op.reuse_factor is None else op.reuse_factor.value.data
    pf = 1
    if isinstance(op, nn.DenseOp | nn.ConvBaseOp):
        rf = check_reuse_factor(op, rf, snapping)
        op.reuse_factor = _int(rf)
    if isinstance(op, nn.ConvBaseOp):
        pf = check_parallelization(op, snapping)
        if stream and pf > 1:
            # The io_stream kernels compute one output pixel at a time (a line buffer).
            warn(
                f"{op.name} '{op.layer_name}': ParallelizationFactor {pf} is ignored in io_stream "
                "(it applies to io_parallel convolutions); using 1"
            )
            pf = 1
        op.parallelization_factor = _int(pf)
    estimate = layer_estimate(op, rf, pf, stream, default)
    op.multipliers = _int(estimate.multipliers)
    op.latency = _int(estimate.latency)
    op.ii = _int(estimate.ii)


def resolve_style(function: func.FuncOp, io_type: IOType | str) -> PipelineStyle:
    """The top-level pipeline style: the configured one, or auto's choice."""
    attr = function.attributes.get("nn.pipeline_style")
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
    interval = function.attributes.get("nn.pipeline_interval")
    if style != PipelineStyle.PIPELINE or not isinstance(interval, IntegerAttr):
        return style, None
    return style, interval.value.data


def model_estimate(function: func.FuncOp) -> tuple[int, int]:
    """(latency, II) of the whole model: the longest path of layer latencies from the inputs to
    the outputs, and the largest layer II (the rate at which new inputs are accepted)."""
    finish: dict[SSAValue, int] = {}
    ii = 1
    latency = 0
    for op in function.body.block.ops:
        start = max((finish.get(v, 0) for v in op.operands), default=0)
        if isinstance(op, func.ReturnOp):
            latency = start
            continue
        if not isinstance(op, nn.NNLayerOp):
            continue
        own = op.latency.value.data if op.latency is not None else 0
        ii = max(ii, op.ii.value.data if op.ii is not None else 1)
        for result in op.results:
            finish[result] = start + own
    return latency, ii


def schedule_function(function: func.FuncOp) -> None:
    model = ModelTypes.of(function)
    io_type = io_type_of(function)
    snapping = "nn.snap_reuse_factor" in function.attributes
    stream = io_type == IOType.IO_STREAM
    for op in function.body.block.ops:
        if isinstance(op, nn.NNLayerOp):
            schedule_layer(op, snapping, stream, model.default)
    latency, ii = model_estimate(function)
    function.attributes["nn.latency"] = _int(latency)
    function.attributes["nn.ii"] = _int(ii)
    attr = function.attributes.get("nn.pipeline_style")
    configured = attr.data if isinstance(attr, PipelineStyleAttr) else PipelineStyle.AUTO
    style = resolve_style(function, io_type)
    function.attributes["nn.pipeline_style"] = PipelineStyleAttr(style)
    if "nn.pipeline_interval" not in function.attributes or style == PipelineStyle.PIPELINE:
        return
    name = function.sym_name.data
    if configured == PipelineStyle.DATAFLOW:
        raise ScheduleError(
            f"model '{name}': PipelineInterval needs PipelineStyle pipeline, not dataflow"
        )
    warn(f"model '{name}': PipelineInterval is ignored: the auto pipeline style chose dataflow")
    del function.attributes["nn.pipeline_interval"]


@dataclass(frozen=True)
class SchedulePass(ModulePass):
    """Check strategies, reuse and parallelization factors; pick the pipeline style; estimate."""

    name = "nn-schedule"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in op.ops:
            if isinstance(function, func.FuncOp):
                schedule_function(function)
