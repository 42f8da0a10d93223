"""`nn.quantize`: a quantizer on a tensor (QKeras QActivation, HGQ FixedPointQuantizer, QONNX Quant
and BipolarQuant, ONNX QuantizeLinear + DequantizeLinear, binary_tanh), with all its rules.

    %1 = nn.quantize %0 {layer = "relu1", quantizer = #nn.quant<uniform, bits = 6,
                         signed = false, scale = 0.015625>} : (tensor<64xf32>) -> tensor<64xf32>

nn-infer-quantization (its own pass) folds most quantizers into the types of their producers; the
ones that stay are lowered here.

Precision: result = the quantizer's exact type when it is one fixed-point type, else the narrowest
type holding every value it outputs (`quantizer_type`); nn-infer-quantization sets it.
Lowering (no multiplier in any of them; estimates: one cycle per element group):

* a quantizer that is exactly its result type: `hls.cast` (the type's rounding and overflow modes
  do the work);
* other uniform grids with power-of-two scales and integer zero points (per channel or per element,
  HGQ's heterogeneous quantizers, QONNX per-channel `Quant`): `hls.quantize` (nnet::quantize: a
  shift, a rounding to an integer, a clip or wrap per parameter set);
* anything else (binary, ternary and power-of-two activations, a batchnorm folded into them,
  non-power-of-two grids): `hls.threshold` (nnet::threshold), the quantizer as a monotone step
  function of the input type, per channel or per element: its exact thresholds on the input
  type's grid (found by bisection with the quantizer's own semantics) and its output levels.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from math import prod

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, StringAttr, TensorType, UnitAttr
from xdsl.ir import SSAValue
from xdsl.irdl import irdl_op_definition, operand_def, opt_prop_def, prop_def, result_def

from nnhls.dialects import hls, nn
from nnhls.dialects.bitgrowth import precision_type
from nnhls.dialects.fixed import FixedPrecision, Overflow, Quant, from_mantissa, to_mantissa
from nnhls.dialects.quant import (
    AnyQuantizer,
    BinaryQuantizer,
    Po2Quantizer,
    QuantizerError,
    Rounding,
    TernaryQuantizer,
    UniformQuantizer,
    exact_precision,
    step_breakpoints,
)
from nnhls.dialects.quantizer_attr import QuantizerAttr
from nnhls.dialects.types import FixedPointType
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
    register,
)
from nnhls.ops.cpp import Layer

# ----- the op ------------------------------------------------------------------------------------------------


@irdl_op_definition
class QuantizeOp(nn.NNLayerOp):
    """A quantizer on a tensor, y = quantizer(x) with the semantics of `#nn.quant` (see
    nnhls.dialects.quant): QKeras's QActivation, HGQ's FixedPointQuantizer, QONNX's Quant and
    BipolarQuant, an ONNX QuantizeLinear + DequantizeLinear pair, the old binary_tanh.

    The quantizer's per-channel / per-element parameters broadcast against the tensor (per sample).
    The quantization-inference pass folds it into types where it can. With `input_scale` and
    `input_bias` (per channel, a batchnorm the pass folded in), y = quantizer(x * input_scale +
    input_bias), evaluated exactly.

        %1 = nn.quantize %0 {layer = "relu1", quantizer = #nn.quant<uniform, bits = 6,
                             signed = false, scale = 0.015625>} : (tensor<64xf32>) -> tensor<64xf32>
    """

    name = "nn.quantize"
    input = operand_def(TensorType)
    output = result_def(TensorType)
    quantizer = prop_def(QuantizerAttr)
    input_scale = opt_prop_def(DenseIntOrFPElementsAttr)
    input_bias = opt_prop_def(DenseIntOrFPElementsAttr)

    def __init__(self, input: SSAValue, quantizer: QuantizerAttr, layer: str):
        super().__init__(
            operands=[input],
            result_types=[input.type],
            properties={"layer": StringAttr(layer), "quantizer": quantizer},
        )

    def verify_layer(self) -> None:
        if nn.shape_of(self.output) != nn.shape_of(self.input):
            raise self.fail("result shape must equal the input shape")
        try:
            np.broadcast_shapes(self.quantizer.get_shape(), nn.shape_of(self.input))
        except ValueError:
            raise self.fail(
                f"quantizer shape {self.quantizer.get_shape()} does not broadcast against the "
                f"input shape {nn.shape_of(self.input)}"
            ) from None
        channels = nn.shape_of(self.input)[-1]
        for label, attr in (("input_scale", self.input_scale), ("input_bias", self.input_bias)):
            if attr is not None and attr.get_shape() != (channels,):
                raise self.fail(f"{label} shape {attr.get_shape()} must be ({channels},)")
        if (self.input_scale is None) != (self.input_bias is None):
            raise self.fail("input_scale and input_bias go together")

    def affine_input(self, x: np.ndarray) -> np.ndarray:
        """x * input_scale + input_bias in float64 (x itself without them)."""
        if self.input_scale is None or self.input_bias is None:
            return x
        scale = nn.to_numpy(self.input_scale).astype(np.float64)
        return x * scale + nn.to_numpy(self.input_bias).astype(np.float64)


# ----- types -------------------------------------------------------------------------------------------------


def output_levels(q: AnyQuantizer, shape: tuple[int, ...]) -> np.ndarray:
    """Every value a binary, ternary or power-of-two quantizer can output."""
    if isinstance(q, BinaryQuantizer):
        scale = np.broadcast_to(q.scale, shape) if q.scale.size > 1 else q.scale.reshape(1)
        low = 0.0 if q.zero_one else -1.0
        return np.concatenate([scale.reshape(-1), low * scale.reshape(-1)])
    if isinstance(q, TernaryQuantizer):
        scale = q.scale.reshape(-1)
        return np.concatenate([scale, -scale, [0.0]])
    assert isinstance(q, Po2Quantizer)
    powers = q.values()
    negative = -powers if (not q.relu or q.negative_slope) else np.zeros(0)
    return np.concatenate([powers, negative])


def quantizer_type(q: AnyQuantizer, shape: tuple[int, ...]) -> FixedPrecision:
    """The narrowest type holding every value the quantizer outputs on a tensor of `shape`."""
    if isinstance(q, UniformQuantizer):
        return q.fixed_precision() or q.envelope_precision(shape) or FixedPrecision(1, 1)
    return exact_precision(output_levels(q, shape)) or FixedPrecision(2, 2)


def is_cast(op: QuantizeOp) -> bool:
    """Whether the quantizer is one fixed-point type equal to its result type (a cast does it)."""
    q = op.quantizer.quantizer()
    if not isinstance(q, UniformQuantizer) or op.input_scale is not None:
        return False
    t = q.fixed_precision()
    result = op.get_precision("result")
    return t is not None and isinstance(result, FixedPointType) and result.precision == t


# ----- the kernels -------------------------------------------------------------------------------------------


@irdl_op_definition
class QuantizeKernelOp(hls.HLSKernelOp):
    """nnet::quantize: a uniform grid per parameter set k = i % n_param (row-major element i):

        n = round<rounding>(x[i] * 2**frac[k])        (exact: a shift, then to an integer)
        n = min(max(n, lo[k]), hi[k])                  (`saturate`; else lo + ((n - lo) mod 2**b))
        y[i] = cast<result>(n * 2**-frac[k])

    `frac`, `lo` and `hi` are integers (int64 attributes of n_param entries); `rounding` is an ap
    quantization mode name or CEIL. A zero point z is folded into lo and hi (round(x + z) - z =
    round(x) for an integer z)."""

    name = "hls.quantize"
    input = operand_def()
    output = result_def()
    frac = prop_def(DenseIntOrFPElementsAttr)
    lo = prop_def(DenseIntOrFPElementsAttr)
    hi = prop_def(DenseIntOrFPElementsAttr)
    rounding = prop_def(StringAttr)
    saturate = opt_prop_def(UnitAttr)

    def verify_kernel(self) -> None:
        self.verify_same_shape(self.input, self.output)
        n = self.frac.get_shape()
        if len(n) != 1 or self.lo.get_shape() != n or self.hi.get_shape() != n:
            raise self.fail("frac, lo and hi must be vectors of one length")
        n_in, n_chan = prod(hls.shape_of(self.input)), hls.shape_of(self.input)[-1]
        if n[0] not in (1, n_chan, n_in):
            raise self.fail(f"{n[0]} parameter sets: expected 1, {n_chan} or {n_in}")
        if self.rounding.data not in {r.value for r in Rounding}:
            raise self.fail(f"unknown rounding '{self.rounding.data}'")
        lo, hi = hls.mantissas(self.lo), hls.mantissas(self.hi)
        if (lo > hi).any():
            raise self.fail("lo must not exceed hi")
        span = hi - lo + 1
        if self.saturate is None and (span & (span - 1)).any():
            raise self.fail("a wrapping grid needs a power-of-two number of codes")


@irdl_op_definition
class ThresholdKernelOp(hls.HLSKernelOp):
    """nnet::threshold: a monotone step function per group g = i % n_group (row-major element i):

        n = #{k : x[i] >= thresholds[g, k]},   y[i] = levels[g, n]

    `thresholds` (n_group x K) are mantissas of `threshold_t` (the input type), `levels`
    (n_group x (K + 1)) mantissas of `level_t` (the result type): comparisons and a selection."""

    name = "hls.threshold"
    input = operand_def()
    output = result_def()
    thresholds = prop_def(DenseIntOrFPElementsAttr)
    threshold_t = prop_def(FixedPointType)
    levels = prop_def(DenseIntOrFPElementsAttr)
    level_t = prop_def(FixedPointType)

    def verify_kernel(self) -> None:
        self.verify_same_shape(self.input, self.output)
        t_shape, l_shape = self.thresholds.get_shape(), self.levels.get_shape()
        if len(t_shape) != 2 or l_shape != (t_shape[0], t_shape[1] + 1):
            raise self.fail(f"levels {l_shape} must be thresholds {t_shape} plus one column")
        n_in, n_chan = prod(hls.shape_of(self.input)), hls.shape_of(self.input)[-1]
        if t_shape[0] not in (n_chan, n_in):
            raise self.fail(f"{t_shape[0]} groups: expected {n_chan} or {n_in}")


# ----- parameter sets ----------------------------------------------------------------------------------------


def _param_sets(arrays: Sequence[np.ndarray], shape: tuple[int, ...]) -> tuple[int, list[np.ndarray]]:
    """The fewest parameter sets (1, per channel, per element) describing the arrays on a tensor
    of `shape`: (count, each array as a vector of that length)."""
    flat = [np.broadcast_to(a, shape).reshape(-1) for a in arrays]
    if all((f == f[0]).all() for f in flat):
        return 1, [f[:1] for f in flat]
    channels = shape[-1]
    rows = [f.reshape(-1, channels) for f in flat]
    if all((r == r[0]).all() for r in rows):
        return channels, [r[0] for r in rows]
    return len(flat[0]), flat


def _grid(q: UniformQuantizer, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frac, lo, hi) per parameter set of a power-of-two grid with integer zero points."""
    low, high = q.code_range()
    exponent = np.frexp(q.scale)[1].astype(np.int64) - 1  # scale = 2**exponent
    live = q.bits > 0
    _, (frac, lo, hi) = _param_sets(
        [np.where(live, -exponent, 0), low - q.zero_point, high - q.zero_point], shape
    )
    return frac.astype(np.int64), lo.astype(np.int64), hi.astype(np.int64)


def _is_grid(q: AnyQuantizer, op: QuantizeOp) -> bool:
    """Whether nnet::quantize implements the quantizer (power-of-two scales, no folded batchnorm)."""
    if not isinstance(q, UniformQuantizer) or op.input_scale is not None:
        return False
    return bool(np.all(np.frexp(q.scale)[0] == 0.5))


def _group_quantizer(q: AnyQuantizer, shape: tuple[int, ...], index: np.ndarray) -> AnyQuantizer:
    """The quantizer with every per-element parameter taken at the flat element indices `index`
    (so that it applies element-wise to a vector of values, one per index)."""
    changes: dict[str, np.ndarray] = {}
    for f in dataclasses.fields(q):
        value = getattr(q, f.name)
        if isinstance(value, np.ndarray) and value.size > 1:
            changes[f.name] = np.broadcast_to(value, shape).reshape(-1)[index]
    return dataclasses.replace(q, **changes) if changes else q  # pyright: ignore[reportArgumentType]


def _varies_per_element(q: AnyQuantizer, shape: tuple[int, ...]) -> bool:
    arrays = [getattr(q, f.name) for f in dataclasses.fields(q)]
    arrays = [a for a in arrays if isinstance(a, np.ndarray) and a.size > 1]
    return bool(arrays) and _param_sets(arrays, shape)[0] == prod(shape)


def step_function(op: QuantizeOp, t: FixedPrecision) -> tuple[np.ndarray, np.ndarray]:
    """(thresholds, levels) of the quantizer as a step function of the input type t, per group
    (per channel, or per element when its parameters vary within a channel)."""
    q = op.quantizer.quantizer()
    shape = nn.shape_of(op.input)
    channels = shape[-1]
    groups = prod(shape) if _varies_per_element(q, shape) else channels
    scale = nn.to_numpy(op.input_scale).astype(np.float64) if op.input_scale is not None else None
    bias = nn.to_numpy(op.input_bias).astype(np.float64) if op.input_bias is not None else None

    def f(values: np.ndarray, group: np.ndarray) -> np.ndarray:
        channel = group % channels
        x = values if scale is None or bias is None else values * scale[channel] + bias[channel]
        return _group_quantizer(q, shape, group)(x)

    # A group index doubles as the flat element index of its first element when groups are channels.
    return step_breakpoints(f, t, groups)


# ----- rules -------------------------------------------------------------------------------------------------


@register
class QuantizeRules(OpRules):
    op = QuantizeOp
    type_names = ("QActivation", "FixedPointQuantizer", "Quant", "BipolarQuant", "QuantizeLinear")

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        assert isinstance(op, QuantizeOp)
        lt.get("result", lambda: quantizer_type(op.quantizer.quantizer(), nn.shape_of(op.input)))

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        return elementwise_estimate(op, s, 0, 1)

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, QuantizeOp)
        x = lw.operand(op.input)
        props = lw.common(op)
        if is_cast(op):
            return [lw.emit(hls.CastOp, [x], lw.out_type(op), props)]
        q = op.quantizer.quantizer()
        if _is_grid(q, op):
            assert isinstance(q, UniformQuantizer)
            frac, lo, hi = _grid(q, nn.shape_of(op.input))
            props |= {
                "frac": hls.mantissa_attr(frac),
                "lo": hls.mantissa_attr(lo),
                "hi": hls.mantissa_attr(hi),
                "rounding": StringAttr(q.rounding.value),
                "saturate": UnitAttr() if q.overflow.value == "SAT" else None,
            }
            return [lw.emit(QuantizeKernelOp, [x], lw.out_type(op), props)]
        t = lw.element(x)
        result = lw.precision(op, "result")
        try:
            thresholds, levels = step_function(op, t)
        except QuantizerError as e:
            raise LoweringError(f"{op.name} '{op.layer_name}': {e}") from None
        level_m = to_mantissa(levels, result)
        if not np.array_equal(from_mantissa(level_m, result), levels):
            raise LoweringError(
                f"{op.name} '{op.layer_name}': its output levels are not values of its result "
                f"type {result}"
            )
        props |= {
            "thresholds": hls.mantissa_attr(thresholds),
            "threshold_t": precision_type(t),
            "levels": hls.mantissa_attr(np.asarray(level_m, dtype=np.int64)),
            "level_t": precision_type(result),
        }
        return [lw.emit(ThresholdKernelOp, [x], lw.out_type(op), props)]

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        assert isinstance(op, QuantizeOp)
        return [op.quantizer.quantizer()(op.affine_input(args[0]))]


# ----- kernel rules ------------------------------------------------------------------------------------------


def _int_type(lo: int, hi: int) -> FixedPrecision:
    """The narrowest signed ap_int holding every integer of [lo, hi] (two bits at least)."""
    bits = max(int(lo).bit_length(), int(hi).bit_length(), 1) + 1
    return FixedPrecision(bits, bits, True)


def _quantize_types(op: QuantizeKernelOp, t: FixedPrecision) -> tuple[FixedPrecision, FixedPrecision, int]:
    """shift_t (x * 2**frac exactly, for every frac), value_t (n * 2**-frac exactly) and the
    width of the integer codes (n before the clip, never wrapping)."""
    frac = hls.mantissas(op.frac)
    lo, hi = hls.mantissas(op.lo), hls.mantissas(op.hi)
    up, down = max(int(frac.max()), 0), max(-int(frac.min()), 0)
    shift_int = t.integer + up + 1
    shift_frac = max(t.fractional + down, 0)
    code_bits = max(shift_int + 1, _int_type(int(lo.min()), int(hi.max())).width)
    shift_t = FixedPrecision(shift_int + shift_frac, shift_int, True)
    value_t = FixedPrecision(code_bits + up + down, code_bits + down, True)
    return shift_t, value_t, code_bits


def _codes(x: ex.FixedArray, frac: int, rounding: str, code_bits: int) -> ex.Mantissas:
    """round<rounding>(x * 2**frac) as nnet::round_to_code computes it."""
    src = x.t.fractional - frac  # x * 2**frac = m * 2**-(F - frac)
    if rounding == Rounding.CEIL.value:
        t = FixedPrecision(code_bits, code_bits, True, Quant.TRN, Overflow.WRAP)
        return ex.e_neg(ex.Exact(ex.cast(ex.e_neg(ex.Exact(x.m, src)), t).m, 0)).m
    t = FixedPrecision(code_bits, code_bits, True, Quant(rounding), Overflow.WRAP)
    return ex.cast(ex.Exact(x.m, src), t).m


@register
class QuantizeKernel(KernelRules):
    op = QuantizeKernelOp

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, QuantizeKernelOp)
        x = args[0]
        batch, shape = x.m.shape[0], x.m.shape[1:]
        n_in = prod(shape)
        frac, lo, hi = hls.mantissas(op.frac), hls.mantissas(op.lo), hls.mantissas(op.hi)
        k = np.arange(n_in) % frac.size
        flat = ex.FixedArray(x.m.reshape(batch, n_in), x.t)
        _, _, code_bits = _quantize_types(op, x.t)
        result = ex.result_t(op)
        out = np.zeros((batch, n_in), dtype=np.int64)
        low, high = lo[k], hi[k]
        for f in np.unique(frac):
            cols = frac[k] == f
            part = ex.FixedArray(flat.m[:, cols], x.t)
            n = np.asarray(_codes(part, int(f), op.rounding.data, code_bits), dtype=np.int64)
            if op.saturate is not None:
                n = np.clip(n, low[cols], high[cols])
            else:
                n = low[cols] + ((n - low[cols]) & (high[cols] - low[cols]))
            out[:, cols] = np.asarray(ex.cast(ex.Exact(n, int(f)), result).m, dtype=np.int64)
        return [ex.FixedArray(out.reshape(batch, *shape), result)]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, QuantizeKernelOp)
        value = layer.inputs[0]
        shift_t, value_t, code_bits = _quantize_types(op, value.precision)
        frac = hls.mantissas(op.frac)
        frac_t = _int_type(int(frac.min()), int(frac.max()))
        code_t = FixedPrecision(code_bits, code_bits, True)
        layer.constant("frac", op.frac, precision_type(frac_t), "the grid's fractional bits")
        layer.constant("lo", op.lo, precision_type(code_t), "the smallest code", "code")
        layer.constant("hi", op.hi, precision_type(code_t), "the largest code", "code")
        rounding = op.rounding.data
        config = layer.struct("quantize_config")
        config.const("n_in", value.size).const("n_chan", value.pack).const("n_param", int(frac.size))
        layer.io(config)
        config.const("reuse_factor", layer.reuse_factor)
        config.const(
            "rounding", "nnet::quantize_ceil" if rounding == Rounding.CEIL.value else f"AP_{rounding}", "int"
        )
        config.const("saturate", op.saturate is not None).const("code_bits", code_bits)
        config.typedef("shift_t", shift_t.cpp()).typedef("value_t", value_t.cpp())
        config.typedef("code_t", f"{layer.name}_code_t").typedef("frac_t", f"{layer.name}_frac_t")
        layer.kernel, layer.header = "quantize", "nnet_quantize.h"
        layer.args = [f"{layer.name}_frac", f"{layer.name}_lo", f"{layer.name}_hi"]


@register
class ThresholdKernel(KernelRules):
    op = ThresholdKernelOp

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, ThresholdKernelOp)
        x = args[0]
        batch, shape = x.m.shape[0], x.m.shape[1:]
        n_in = prod(shape)
        thresholds, levels = hls.mantissas(op.thresholds), hls.mantissas(op.levels)
        group = np.arange(n_in) % thresholds.shape[0]
        m = np.asarray(x.m, dtype=np.int64).reshape(batch, n_in)
        count = np.zeros((batch, n_in), dtype=np.int64)
        for k in range(thresholds.shape[1]):
            count += m >= thresholds[group, k]
        y = levels[group, count]
        level = ex.FixedArray(y.reshape(batch, *shape), op.level_t.precision)
        return [ex.cast(level.exact, ex.result_t(op))]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, ThresholdKernelOp)
        value = layer.inputs[0]
        groups, steps = op.thresholds.get_shape()
        layer.constant("thresholds", op.thresholds, op.threshold_t, f"thresholds ({groups} x {steps})", "threshold")
        layer.constant("levels", op.levels, op.level_t, f"levels ({groups} x {steps + 1})", "level")
        config = layer.struct("threshold_config")
        config.const("n_in", value.size).const("n_chan", value.pack).const("n_group", groups)
        config.const("n_thresholds", steps)
        layer.io(config)
        config.const("reuse_factor", layer.reuse_factor)
        config.typedef("threshold_t", f"{layer.name}_threshold_t").typedef("level_t", f"{layer.name}_level_t")
        layer.kernel, layer.header = "threshold", "nnet_quantize.h"
        layer.args = [f"{layer.name}_thresholds", f"{layer.name}_levels"]
