"""nn-schedule: reuse-factor legality (hand-enumerated), snapping, parallelization, pipeline style,
multiplier estimates."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from nnhls.compiler.context import make_context
from nnhls.dialects import nn
from nnhls.dialects.kinds import PipelineStyle, Strategy
from nnhls.dialects.types import PipelineStyleAttr
from nnhls.errors import ScheduleWarning
from nnhls.passes.nn_schedule import (
    ScheduleError,
    SchedulePass,
    legal_reuse_factors,
    nearest,
    reuse_factor_legal,
    snap,
)


def parse(text: str) -> ModuleOp:
    return Parser(make_context(), text).parse_module()


def schedule(text: str) -> ModuleOp:
    module = parse(text)
    SchedulePass().apply(make_context(), module)
    module.verify()
    return module


def layer(module: ModuleOp, name: str) -> nn.NNLayerOp:
    return next(
        op for op in module.walk() if isinstance(op, nn.NNLayerOp) and op.layer_name == name
    )


def function(module: ModuleOp) -> func.FuncOp:
    return next(op for op in module.ops if isinstance(op, func.FuncOp))


def dense(
    n_in: int, n_out: int, rf: int, strategy: str = "resource", attrs: str = "", weight: str = "0.3"
) -> str:
    return f"""
func.func @m(%a: tensor<{n_in}xf32>) -> tensor<{n_out}xf32> attributes {{{attrs}}} {{
  %x = nn.input %a {{layer = "in"}} : (tensor<{n_in}xf32>) -> tensor<{n_in}xf32>
  %d = nn.dense %x {{layer = "fc", reuse_factor = {rf} : i64, strategy = #hls<strategy {strategy}>, weight = dense<{weight}> : tensor<{n_in}x{n_out}xf32>}} : (tensor<{n_in}xf32>) -> tensor<{n_out}xf32>
  func.return %d : tensor<{n_out}xf32>
}}"""


# ----- legality ---------------------------------------------------------------------------------------------


def test_legal_reuse_factors_by_hand() -> None:
    # n_in = 3, n_out = 4, 12 products. Divisors 1 2 3 4 6 12. RF 2 < n_in: ceil(12 / 2) = 6 is
    # not a multiple of n_out = 4 -> illegal. RF 4 >= n_in but 4 % 3 != 0 -> illegal.
    assert legal_reuse_factors(3, 4, Strategy.RESOURCE) == [1, 3, 6, 12]
    # n_in = 8, n_out = 4: every divisor of 32 passes.
    assert legal_reuse_factors(8, 4, Strategy.RESOURCE) == [1, 2, 4, 8, 16, 32]
    # Unrolled excludes the fully serial RF = n_in * n_out.
    assert legal_reuse_factors(3, 4, Strategy.UNROLLED) == [1, 3, 6]
    # Latency accepts any reuse factor.
    assert all(reuse_factor_legal(3, 4, rf, Strategy.LATENCY) for rf in range(1, 20))


def test_nearest_and_snap() -> None:
    assert nearest(5, [1, 3, 6, 12]) == [3, 6]
    assert nearest(20, [1, 3, 6, 12]) == [12]
    assert snap(3, [1, 2, 4, 8]) == 2  # tie 2/4 -> the smaller (hls4ml's Dense 8x4 RF=3 -> 2)
    assert snap(7, [1, 3, 6, 12]) == 6


def test_illegal_reuse_factor_is_an_error_with_nearest_values() -> None:
    with pytest.raises(
        ScheduleError,
        match=r"nn\.dense 'fc': reuse factor 4 is not legal for the resource strategy with n_in = 3, n_out = 4; nearest legal values: 3, 6",
    ):
        schedule(dense(3, 4, 4))


def test_snap_reuse_factor_warns_and_snaps() -> None:
    with pytest.warns(ScheduleWarning, match="nn.dense 'fc': reuse factor 4 is not legal"):
        module = schedule(dense(3, 4, 4, attrs="nn.snap_reuse_factor"))
    assert layer(module, "fc").reuse_factor is not None
    assert layer(module, "fc").reuse_factor.value.data == 3  # pyright: ignore[reportOptionalMemberAccess]


def test_latency_accepts_any_reuse_factor() -> None:
    module = schedule(dense(3, 4, 5, strategy="latency"))
    op = layer(module, "fc")
    assert op.ii is not None and op.ii.value.data == 5


def conv(pf: int, strategy: str = "latency") -> str:
    return f"""
func.func @m(%a: tensor<8x8x1xf32>) -> tensor<6x6x2xf32> {{
  %x = nn.input %a {{layer = "in"}} : (tensor<8x8x1xf32>) -> tensor<8x8x1xf32>
  %c = nn.conv2d %x {{layer = "conv", parallelization_factor = {pf} : i64, strategy = #hls<strategy {strategy}>, weight = dense<0.3> : tensor<3x3x1x2xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>}} : (tensor<8x8x1xf32>) -> tensor<6x6x2xf32>
  func.return %c : tensor<6x6x2xf32>
}}"""


def test_parallelization_factor_must_divide_output_pixels() -> None:
    # 6 x 6 = 36 output pixels; 5 does not divide it, 4 and 6 do.
    with pytest.raises(
        ScheduleError,
        match=r"parallelization factor 5 does not divide the 36 output pixels; nearest legal values: 4, 6",
    ):
        schedule(conv(5))


def test_convolution_partitions() -> None:
    # PF 4 -> 9 partitions of RF = 1 cycle: II 9; the 18 weights (all 0.3) need 18 multipliers
    # per partition instance, 4 instances.
    op = layer(schedule(conv(4)), "conv")
    assert op.ii is not None and op.ii.value.data == 9
    assert op.multipliers is not None and op.multipliers.value.data == 72


# ----- estimates --------------------------------------------------------------------------------------------


def test_zero_and_power_of_two_weights_need_no_multiplier() -> None:
    # weights 0, 1, 0.5, -2, 0.3, -0.75: only 0.3 and -0.75 need a multiplier.
    text = dense(
        6, 1, 1, strategy="latency", weight="[[0.0], [1.0], [0.5], [-2.0], [0.3], [-0.75]]"
    )
    op = layer(schedule(text), "fc")
    assert op.multipliers is not None and op.multipliers.value.data == 2


def test_reuse_factor_divides_multipliers() -> None:
    # 8 x 4 = 32 products of 0.3; RF 4 -> ceil(32 / 4) = 8 multipliers, II 4.
    op = layer(schedule(dense(8, 4, 4)), "fc")
    assert (op.multipliers.value.data, op.ii.value.data) == (8, 4)  # pyright: ignore[reportOptionalMemberAccess]
    # latency: RF + ceil(log2 8) + 2 = 9 cycles.
    assert op.latency.value.data == 9  # pyright: ignore[reportOptionalMemberAccess]


# ----- pipeline style ---------------------------------------------------------------------------------------


def style(module: ModuleOp) -> PipelineStyle:
    attr = function(module).attributes["nn.pipeline_style"]
    assert isinstance(attr, PipelineStyleAttr)
    return attr.data


def test_auto_style() -> None:
    assert style(schedule(dense(8, 4, 1, strategy="latency"))) == PipelineStyle.PIPELINE
    assert style(schedule(dense(8, 4, 2, strategy="resource"))) == PipelineStyle.DATAFLOW
    stream = "nn.io_type = #hls<io_type io_stream>"
    assert (
        style(schedule(dense(8, 4, 1, strategy="latency", attrs=stream))) == PipelineStyle.DATAFLOW
    )


def test_pipeline_interval_needs_the_pipeline_style() -> None:
    attrs = "nn.pipeline_style = #hls<pipeline_style dataflow>, nn.pipeline_interval = 2 : i64"
    with pytest.raises(ScheduleError, match="PipelineInterval needs PipelineStyle pipeline"):
        schedule(dense(8, 4, 1, strategy="latency", attrs=attrs))
    kept = schedule(dense(8, 4, 1, strategy="latency", attrs="nn.pipeline_interval = 2 : i64"))
    assert "nn.pipeline_interval" in function(kept).attributes


def test_every_layer_gets_estimates() -> None:
    text = """
func.func @m(%a: tensor<4x4x2xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<4x4x2xf32>) -> tensor<4x4x2xf32>
  %b = nn.batchnorm %x {layer = "bn", scale = dense<[0.3, 2.0]> : tensor<2xf32>, bias = dense<0.0> : tensor<2xf32>} : (tensor<4x4x2xf32>) -> tensor<4x4x2xf32>
  %g = nn.global_pool %b {layer = "gp", op = #hls<pool_op average>} : (tensor<4x4x2xf32>) -> tensor<2xf32>
  %s = nn.softmax %g {layer = "sm"} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %s : tensor<2xf32>
}"""
    module = schedule(text)
    for op in module.walk():
        if isinstance(op, nn.NNLayerOp):
            assert op.multipliers is not None and op.latency is not None and op.ii is not None
    # batchnorm: only channel 0's scale 0.3 needs a multiplier, for each of the 16 pixels.
    assert layer(module, "bn").multipliers.value.data == 16  # pyright: ignore[reportOptionalMemberAccess]
    assert np.isfinite(layer(module, "sm").latency.value.data)  # pyright: ignore[reportOptionalMemberAccess]
