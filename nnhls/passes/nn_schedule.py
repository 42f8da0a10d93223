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
- Estimates written on every layer as `multipliers`, `latency`, `ii` (clock cycles) and `bops`, and on the
  model function as `nn.latency` (the longest path through the layers) and `nn.ii` (the largest
  layer II); lower-nn-to-hls copies them onto the kernels and the hls.func. A product
  by a weight that is zero or ± a power of two (after quantization to weight_t) needs no
  multiplier; multipliers = ceil(needed / RF) per parallel instance; dense latency = RF + ceil(log2
  n_in) + 2 with II = RF; a convolution runs out_pixels / PF partitions of RF cycles each in
  io_parallel (one pixel per RF cycles in io_stream); element-wise layers take one cycle per
  element group (II = RF, or one pixel per cycle in io_stream). `bops` (bit operations per
  inference): for each multiplication counted (before the reuse factor shares multipliers; a
  convolution's once per output pixel) the product of its operands' widths, W(x) * W(weight) for
  dense and convolutions. They are estimates for reports, not synthesis results.

Before:

    func.func @m(...) attributes {nn.io_type = #hls<io_type io_parallel>,
                                  nn.pipeline_style = #hls<pipeline_style auto>} {
      %1 = nn.dense %0 {layer = "fc1", reuse_factor = 2 : i64, strategy = #hls<strategy resource>,
                        weight = dense<...> : tensor<8x4xf32>, ...}

After:

    func.func @m(...) attributes {..., nn.pipeline_style = #hls<pipeline_style dataflow>} {
      %1 = nn.dense %0 {layer = "fc1", reuse_factor = 2 : i64, strategy = #hls<strategy resource>,
                        multipliers = 16 : i64, latency = 7 : i64, ii = 2 : i64,
                        bops = 8192 : i64, ...}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import I64, IntegerAttr, ModuleOp, i64
from xdsl.ir import SSAValue
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import DiagnosticException

from nnhls import ops
from nnhls.dialects import nn
from nnhls.dialects.fixed import FixedPrecision
from nnhls.dialects.kinds import IOType, PipelineStyle, Strategy
from nnhls.dialects.nn import ModelTypes
from nnhls.dialects.schedule import (
    divisors,
    io_type_of,
    layer_strategy,
    legal_reuse_factors,
    nearest,
    resolve_style,
    reuse_factor_legal,
    snap,
)
from nnhls.dialects.types import PipelineStyleAttr
from nnhls.errors import ModelError, ScheduleWarning, warn
from nnhls.ops.base import ScheduleInfo, output_pixels


class ScheduleError(ModelError, DiagnosticException):
    """An illegal schedule setting; the message names the layer and the legal values."""


# ----- the schedule ----------------------------------------------------------------------------------------


def _int(value: int) -> IntegerAttr[I64]:
    return cast(IntegerAttr[I64], IntegerAttr(value, i64))


SNAP_HINT = (
    "or let nnhls use the nearest one with a warning, as hls4ml does, with "
    "HLSConfig.Model.SnapReuseFactor: true (config['Model']['SnapReuseFactor'] = True)"
)


def check_reuse_factor(op: nn.NNLayerOp, dims: tuple[int, int], rf: int, snapping: bool) -> int:
    """The layer's legal reuse factor (the configured one, or snapped), or an error."""
    strategy = layer_strategy(op) or Strategy.LATENCY
    n_in, n_out = dims
    if reuse_factor_legal(n_in, n_out, rf, strategy):
        return rf
    legal = legal_reuse_factors(n_in, n_out, strategy)
    where = f"{op.name} '{op.layer_name}'"
    what = f"reuse factor {rf} is not legal for the {strategy.value} strategy with n_in = {n_in}, n_out = {n_out}"
    if not snapping:
        near = ", ".join(map(str, nearest(rf, legal)))
        raise ScheduleError(f"{where}: {what}; nearest legal values: {near}; {SNAP_HINT}")
    chosen = snap(rf, legal)
    warn(f"{where}: {what}; using {chosen}", ScheduleWarning)
    return chosen


def check_parallelization(op: nn.NNLayerOp, snapping: bool) -> int:
    attr = op.properties.get("parallelization_factor")
    pf = attr.value.data if isinstance(attr, IntegerAttr) else 1
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
    warn(f"{where}: {what}; using {chosen}", ScheduleWarning)
    return chosen


def schedule_layer(op: nn.NNLayerOp, snapping: bool, stream: bool, default: FixedPrecision) -> None:
    """Check the layer's reuse and parallelization factors and write its estimates (its rules
    say whether its reuse factor is constrained and whether it is parallelizable)."""
    rules = ops.rules(op)
    rf = 1 if op.reuse_factor is None else op.reuse_factor.value.data
    pf = 1
    if (dims := rules.kernel_dims(op)) is not None:
        rf = check_reuse_factor(op, dims, rf, snapping)
        op.reuse_factor = _int(rf)
    if rules.parallelizable:
        pf = check_parallelization(op, snapping)
        if stream and pf > 1:
            # The io_stream kernels compute one output pixel at a time (a line buffer).
            warn(
                f"{op.name} '{op.layer_name}': ParallelizationFactor {pf} is ignored in io_stream "
                "(it applies to io_parallel convolutions); using 1",
                ScheduleWarning,
            )
            pf = 1
        op.properties["parallelization_factor"] = _int(pf)
    estimate = rules.estimate(op, ScheduleInfo(rf, pf, stream, default))
    op.multipliers = _int(estimate.multipliers)
    op.latency = _int(estimate.latency)
    op.ii = _int(estimate.ii)
    op.bops = _int(estimate.bops)


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
    snapping = nn.SNAP_REUSE_FACTOR_ATTR in function.attributes
    stream = io_type == IOType.IO_STREAM
    for op in function.body.block.ops:
        if isinstance(op, nn.NNLayerOp):
            schedule_layer(op, snapping, stream, model.default)
    latency, ii = model_estimate(function)
    function.attributes[nn.LATENCY_ATTR] = _int(latency)
    function.attributes[nn.II_ATTR] = _int(ii)
    attr = function.attributes.get(nn.PIPELINE_STYLE_ATTR)
    configured = attr.data if isinstance(attr, PipelineStyleAttr) else PipelineStyle.AUTO
    style = resolve_style(function, io_type)
    function.attributes[nn.PIPELINE_STYLE_ATTR] = PipelineStyleAttr(style)
    if nn.PIPELINE_INTERVAL_ATTR not in function.attributes or style == PipelineStyle.PIPELINE:
        return
    name = function.sym_name.data
    if configured == PipelineStyle.DATAFLOW:
        raise ScheduleError(
            f"model '{name}': PipelineInterval needs PipelineStyle pipeline, not dataflow"
        )
    warn(
        f"model '{name}': PipelineInterval is ignored: the auto pipeline style chose dataflow",
        ScheduleWarning,
    )
    del function.attributes[nn.PIPELINE_INTERVAL_ATTR]


@dataclass(frozen=True)
class SchedulePass(ModulePass):
    """Check strategies, reuse and parallelization factors; pick the pipeline style; estimate."""

    name = "nn-schedule"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in op.ops:
            if isinstance(function, func.FuncOp):
                schedule_function(function)
