"""nn-infer-quantization: quantizers become exact fixed-point types.

Runs after nn-apply-config and nn-canonicalize, before nn-infer-precision. The front ends leave
every quantizer of a quantization-aware model in the IR: `nn.quantize` ops on tensors, and
`weight_quantizer` / `bias_quantizer` on dense and convolution layers (whose constants already hold
the quantized values the framework computed). This pass turns them into types:

* Constants with a quantizer: the `weight` / `bias` precision becomes the narrowest type holding
  the quantized values exactly (binary weights `fixed<2,2>`, 6-bit QKeras weights `fixed<6,1>`,
  power-of-two weights one bit per exponent...). Constants off their quantizer's grid are an error
  naming the layer. A weight quantizer whose scale is not a power of two (a QKeras alpha, int8 QDQ
  weights) keeps its integer codes as weights and gets an explicit per-channel scale layer after
  the op (`nn.batchnorm` named `<layer>_scale`, one multiplier per channel, as hls4ml's
  ApplyAlpha), which carries the bias.
* `nn.quantize` with one power-of-two scale for the tensor: its type is the quantizer
  (`fixed<6,1,RND_CONV,SAT>`: QKeras and QONNX round half to even and saturate; narrow range is
  SAT_SYM; HGQ truncates and wraps). When the producing layer computes its value exactly before
  its final cast (input, dense, convolution, max pooling, relu-like activations, moves, additions)
  and the quantizer is its only user, the producer's `result` takes that type and the quantizer op
  disappears: the rounding happens in the producer's output cast, at no cost.
* Other `nn.quantize` ops stay (per-channel / per-element grids as HGQ writes them, binary and
  ternary activations) with their `result` precision set to the narrowest type holding every value
  they can output; a quantizer whose scale is not a power of two (QDQ activations) becomes two
  scale layers around an integer type: x / scale + zero point rounded into `int<bits>` (RND_CONV,
  SAT), then (code - zero point) * scale. Their constants are approximated and a warning says so.

Every type this pass sets is recorded in the op's `quantizer_typed` property (a result
saturating at such a type is the quantizer's design: the overflow check reports it apart), and
the layers it creates have their remaining types `auto`. A layer whose constants a quantizer
typed (integer codes, the scale layers) keeps exact bit growth, never the maximum precision's cap.
An `auto` model input read by a non-power-of-two quantizer gets the quantizer's range with
INPUT_GUARD_BITS fractional bits below its step.

A type the configuration pins for a quantized variable (LayerName.<layer>.Precision) wins over the
quantizer, with a warning naming the layer, the variable and both types.

Before (QKeras QDense + QActivation(quantized_relu(6, 0))):

    %1 = nn.dense %0 {layer = "fc1", weight = dense<...>,
                      weight_quantizer = #nn.quant<uniform, bits = 6, scale = 0.03125>, ...}
    %2 = nn.quantize %1 {layer = "relu1",
                         quantizer = #nn.quant<uniform, bits = 6, signed = false, scale = 0.015625>}

After:

    %1 = nn.dense %0 {layer = "fc1", weight = dense<...>, precision = {weight = !hls.fixed<6, 1>,
                      result = !hls.ufixed<6, 0, RND_CONV, SAT>},
                      quantizer_typed = ["weight", "result"], ...}
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.ir import Operation, SSAValue
from xdsl.passes import ModulePass

from nnhls import ops
from nnhls.dialects import nn
from nnhls.dialects.bitgrowth import precision_type, type_precision
from nnhls.dialects.fixed import FixedPrecision, Overflow, Quant
from nnhls.dialects.quant import (
    AnyQuantizer,
    UniformQuantizer,
    exact_precision,
)
from nnhls.dialects.types import FixedPointType
from nnhls.errors import ApproximationWarning, ConfigWarning, ModelError, warn
from nnhls.ops.quantize import QuantizeOp, quantizer_type

SCALE_BITS = 24
"""Fractional precision of the constants of an explicit (non-power-of-two) scale layer."""

def _name(op: nn.NNLayerOp) -> str:
    return f"{op.name} '{op.layer_name}'"


def _pin(op: nn.NNLayerOp, var: str, wanted: FixedPrecision, source: str) -> None:
    """Give `var` the type a quantizer implies, unless the configuration pinned one (warn)."""
    current = op.get_precision(var)
    if isinstance(current, FixedPointType):
        pinned = type_precision(current)
        if pinned != wanted:
            warn(
                f"{_name(op)}: the configured {var} precision {pinned} overrides the type of "
                f"its {source} ({wanted})",
                ConfigWarning,
            )
        return
    op.set_precision(var, precision_type(wanted))
    op.mark_quantizer_typed(var)


def _auto_rest(op: nn.NNLayerOp) -> None:
    """A layer this pass creates: every variable it did not type is `auto` (exact growth; the
    layer's quantizer-typed constants exempt it from the maximum precision's cap)."""
    for var in op.PRECISION_VARS:
        if op.get_precision(var) is None:
            op.set_precision(var, StringAttr(nn.AUTO))


def _set_constant_types(op: nn.BatchNormOp, scale: np.ndarray, bias: np.ndarray) -> None:
    """A scale layer's constants: exact when they are short dyadic numbers (codes, zero points,
    quantized biases), else rounded to SCALE_BITS fractional bits (the warning says so)."""
    for var, values in (("scale", scale), ("bias", bias)):
        exact = exact_precision(values)
        if exact is None and not np.any(values):
            exact = FixedPrecision(1, 1)
        t = exact if exact is not None and exact.fractional <= SCALE_BITS else _constant_precision(values)
        op.set_precision(var, precision_type(t))
        op.mark_quantizer_typed(var)
    _auto_rest(op)


# ----- constants ------------------------------------------------------------------------------------------


def _check_grid(op: nn.NNLayerOp, var: str, values: np.ndarray, q: AnyQuantizer) -> None:
    if not np.array_equal(q(values), values.astype(np.float64)):
        raise ModelError(f"{_name(op)}: the {var} values are not on the grid of its quantizer")


def _constant_type(op: nn.NNLayerOp, var: str, values: np.ndarray) -> None:
    p = exact_precision(values)
    if p is not None:
        _pin(op, var, p, f"{var} quantizer")


def _split_weight_scale(op: nn.DenseOp | nn.ConvBaseOp, q: UniformQuantizer) -> None:
    """weights = codes * scale[channel]: keep the codes, move the scale (and bias) to a layer after."""
    weight = nn.to_numpy(op.weight).astype(np.float64)
    channels = nn.shape_of(op.output)[-1]
    scale = np.broadcast_to(q.scale, weight.shape)
    per_channel = _per_output_channel(op, scale, channels)
    if per_channel is None:
        raise ModelError(f"{_name(op)}: a weight scale that varies within an output channel")
    codes = q.codes(weight) - q.zero_point
    op.weight = nn.dense_attr(codes.astype(np.float32))
    op.weight_quantizer = None
    bias = nn.to_numpy(op.bias).astype(np.float64) if op.bias is not None else np.zeros(channels)
    op.bias = None
    op.bias_quantizer = None
    _pin(op, "weight", exact_precision(codes) or FixedPrecision(2, 2), "weight quantizer (codes)")
    layer = f"{op.layer_name}_scale"
    users = list(op.output.uses)
    scale_op = nn.BatchNormOp(
        op.output, per_channel.astype(np.float32), bias.astype(np.float32), layer
    )
    _insert_after(op, scale_op, users)
    _set_constant_types(scale_op, per_channel, bias)
    warn(
        f"{_name(op)}: its weight scale is not a power of two; an explicit per-channel scale layer "
        f"'{layer}' multiplies by it (constants rounded to {SCALE_BITS} fractional bits)",
        ApproximationWarning,
    )


def _per_output_channel(
    op: nn.DenseOp | nn.ConvBaseOp, scale: np.ndarray, channels: int
) -> np.ndarray | None:
    """The scale per output channel, when it only varies by output channel."""
    if isinstance(op, nn.ConvBaseOp) and op.DEPTHWISE:
        flat = scale.reshape(-1, scale.shape[-2] * scale.shape[-1])
    else:
        flat = scale.reshape(-1, scale.shape[-1])
    if not (flat == flat[0]).all() or flat.shape[1] != channels:
        return None
    return flat[0]


def _constant_precision(values: np.ndarray) -> FixedPrecision:
    """A type for approximated constants: SCALE_BITS fractional bits and the integer bits needed."""
    magnitude = float(np.abs(values).max()) if values.size else 1.0
    integer = max(1, int(np.floor(np.log2(magnitude))) + 2) if magnitude > 0 else 1
    return FixedPrecision(integer + SCALE_BITS, integer, True)


def _insert_after(op: Operation, new: nn.NNLayerOp, users: list) -> None:
    """Insert `new` after op and route op's former users to it."""
    block = op.parent_block()
    assert block is not None
    block.insert_op_after(new, op)
    for use in users:
        use.operation.operands[use.index] = new.results[0]


def _type_constants(op: nn.DenseOp | nn.ConvBaseOp) -> None:
    weight_q = op.weight_quantizer.quantizer() if op.weight_quantizer is not None else None
    if isinstance(weight_q, UniformQuantizer) and not weight_q.power_of_two:
        _split_weight_scale(op, weight_q)
        return
    if weight_q is not None:
        weight = nn.to_numpy(op.weight)
        _check_grid(op, "weight", weight, weight_q)
        _constant_type(op, "weight", weight)
    if op.bias is not None and op.bias_quantizer is not None:
        bias = nn.to_numpy(op.bias)
        bias_q = op.bias_quantizer.quantizer()
        _check_grid(op, "bias", bias, bias_q)
        _constant_type(op, "bias", bias)


# ----- tensors --------------------------------------------------------------------------------------------


def _single_user(value: SSAValue) -> Operation | None:
    uses = list(value.uses)
    return uses[0].operation if len(uses) == 1 else None


@dataclass
class _Folder:
    assigned: dict[tuple[int, str], FixedPrecision]
    """Types this pass gave (id(op), var), so a second quantizer is not taken for a user's pin."""

    def fold(self, q_op: QuantizeOp) -> None:
        q = q_op.quantizer.quantizer()
        shape = nn.shape_of(q_op.input)
        if isinstance(q, UniformQuantizer) and q.power_of_two:
            t = q.fixed_precision()
            if t is None:
                self.keep(q_op, q.envelope_precision(shape) or FixedPrecision(1, 1))
                return
            if self.merge_into_producer(q_op, t):
                return
            self.keep(q_op, t)
            return
        if isinstance(q, UniformQuantizer):
            self.split_scale(q_op, q)
            return
        self.absorb_batchnorm(q_op)
        self.keep(q_op, quantizer_type(q, shape))

    def absorb_batchnorm(self, q_op: QuantizeOp) -> None:
        """batchnorm -> binary / ternary / po2 quantizer: the quantizer reads the batchnorm's input
        and applies its scale and bias itself (exactly, in its thresholds), so the float constants
        of the batchnorm are never rounded to a fixed-point type."""
        bn = q_op.input.owner
        if not isinstance(bn, nn.BatchNormOp) or _single_user(bn.output) is not q_op:
            return
        if bn.trace is not None or q_op.input_scale is not None:
            return
        if any(isinstance(bn.get_precision(var), FixedPointType) for var in ("scale", "bias", "result")):
            return  # the user configured the batchnorm's arithmetic: keep it
        q_op.input_scale, q_op.input_bias = bn.scale, bn.bias
        q_op.operands[0] = bn.input
        bn.detach()
        bn.erase()

    def keep(self, q_op: QuantizeOp, t: FixedPrecision) -> None:
        _pin(q_op, "result", t, "quantizer")

    def merge_into_producer(self, q_op: QuantizeOp, t: FixedPrecision) -> bool:
        producer = q_op.input.owner
        if not isinstance(producer, nn.NNLayerOp) or not ops.rules(producer).exact_before_cast(producer):
            return False
        if _single_user(q_op.input) is not q_op or q_op.trace is not None:
            return False
        if isinstance(q_op.get_precision("result"), FixedPointType):
            return False  # the user configured this quantizer layer: keep it
        current = producer.get_precision("result")
        previous = self.assigned.get((id(producer), "result"))
        if isinstance(current, FixedPointType) and previous is None:
            return False  # the user pinned the producer's result
        if previous is not None and previous != t:
            return False
        producer.set_precision("result", precision_type(t))
        producer.mark_quantizer_typed("result")
        self.assigned[(id(producer), "result")] = t
        q_op.output.replace_all_uses_with(producer.results[0])
        q_op.detach()
        q_op.erase()
        return True

    def split_scale(self, q_op: QuantizeOp, q: UniformQuantizer) -> None:
        """x -> round(x / s + z) in int<bits> (saturating) -> (code - z) * s: two scale layers."""
        shape = nn.shape_of(q_op.input)
        channels = shape[-1]
        scale, zero = _channel_vector(q.scale, shape), _channel_vector(q.zero_point, shape)
        bits, signed = _channel_vector(q.bits, shape), _channel_vector(q.signed, shape)
        if scale is None or zero is None or bits is None or signed is None:
            raise ModelError(
                f"{_name(q_op)}: a non-power-of-two scale that varies within a channel"
            )
        if len(set(bits.tolist())) != 1 or len(set(signed.tolist())) != 1:
            raise ModelError(f"{_name(q_op)}: bit widths that differ between channels")
        width, is_signed = int(bits[0]), bool(signed[0])
        codes_t = FixedPrecision(
            width,
            width,
            is_signed,
            Quant(q.rounding.value) if q.rounding.value != "CEIL" else Quant.RND_CONV,
            Overflow.SAT_SYM if q.narrow and is_signed else Overflow.SAT,
        )
        _type_model_input(q_op, scale, zero, codes_t)
        layer = q_op.layer_name
        users = list(q_op.output.uses)
        to_codes = nn.BatchNormOp(
            q_op.input, np.full(channels, 1.0) / np.broadcast_to(scale, channels),
            np.broadcast_to(zero, channels).astype(np.float64), f"{layer}_codes",
        )  # fmt: skip
        to_values = nn.BatchNormOp(
            to_codes.output, np.broadcast_to(scale, channels).astype(np.float64),
            -np.broadcast_to(zero * scale, channels), layer,
        )  # fmt: skip
        block = q_op.parent_block()
        assert block is not None
        block.insert_op_before(to_codes, q_op)
        block.insert_op_before(to_values, q_op)
        for use in users:
            use.operation.operands[use.index] = to_values.output
        to_codes.set_precision("result", precision_type(codes_t))
        to_codes.mark_quantizer_typed("result")
        for scale_op in (to_codes, to_values):
            _set_constant_types(scale_op, nn.to_numpy(scale_op.scale), nn.to_numpy(scale_op.bias))
        for attr in ("trace", "reuse_factor"):
            if getattr(q_op, attr) is not None:
                setattr(to_values, attr, getattr(q_op, attr))
        name = _name(q_op)
        q_op.detach()
        q_op.erase()
        warn(
            f"{name}: its scale is not a power of two; it becomes two scale layers "
            f"('{layer}_codes' into {codes_t}, then '{layer}') whose constants are rounded to "
            f"{SCALE_BITS} fractional bits: values within one quantization step",
            ApproximationWarning,
        )


INPUT_GUARD_BITS = 16
"""Fractional bits beyond a non-power-of-two quantizer's step that an `auto` model input read by
it gets: float inputs land within 2**-16 of a step of their value, so their code is float's
except within that distance of a rounding tie."""


def _type_model_input(q_op: QuantizeOp, scale: np.ndarray, zero: np.ndarray, codes: FixedPrecision) -> None:
    """An `auto` model input read by a non-power-of-two quantizer: the quantizer's range (beyond it
    every value has the end code; SAT) with INPUT_GUARD_BITS fractional bits below its step."""
    source = q_op.input.owner
    if not isinstance(source, nn.InputOp) or source.get_precision("result") != nn.AUTO:
        return
    ends = np.abs(np.array([codes.min_value, codes.max_value])[:, None] - zero[None, :]) * scale[None, :]
    largest = float(ends.max()) + float(scale.max())
    integer = int(np.floor(np.log2(largest))) + 2
    fractional = int(np.ceil(-np.log2(float(scale.min())))) + INPUT_GUARD_BITS
    source.set_precision(
        "result", precision_type(FixedPrecision(integer + fractional, integer, True, Quant.TRN, Overflow.SAT))
    )
    source.mark_quantizer_typed("result")


def _channel_vector(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """A parameter per channel (last axis), when it varies by channel only."""
    full = np.broadcast_to(array, shape).reshape(-1, shape[-1])
    return full[0] if (full == full[0]).all() else None


@dataclass(frozen=True)
class InferQuantizationPass(ModulePass):
    """Fold quantizers into fixed-point types (see the module docstring)."""

    name = "nn-infer-quantization"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in op.ops:
            if not isinstance(function, func.FuncOp):
                continue
            for layer in list(function.body.block.ops):
                if isinstance(layer, nn.DenseOp | nn.ConvBaseOp):
                    _type_constants(layer)
            folder = _Folder({})
            for layer in list(function.body.block.ops):
                if isinstance(layer, QuantizeOp):
                    folder.fold(layer)
