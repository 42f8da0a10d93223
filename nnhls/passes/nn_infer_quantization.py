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

* Integer-only QDQ layers (onnxruntime's static quantization): a dense / convolution with integer
  weight codes (the split above) that reads a split activation quantizer (through reshapes,
  flattens and transposes only) computes on the codes: the quantizer's `(code - zero point) * s_x`
  layer becomes `code - zero point` (an exact integer of bits + 1 at most; removed when the zero
  point is 0, e.g. int8), so the accumulator is an exact narrow integer (8 + 8 bits plus the
  growth of the sum). When another layer reads the dequantized values too (a residual branch),
  that layer keeps them and the integer layer gets its own path from the codes:
  `<quantizer>_for_<layer>` (code - zero point) and copies of the moves, `<move>_for_<layer>`.
  The input's scale joins the weight scales in the scale layer (s_x * s_w per channel); a bias
  on that grid (onnxruntime's int32 bias codes) becomes integer codes in the layer, any other
  bias stays in the scale layer. When the scale layer feeds a split quantizer
  (scale s_y, zero point z_y), it merges into that quantizer's `_codes` layer: one multiplier
  per channel s_x * s_w / s_y plus z_y, onnxruntime's requantization. These multipliers are
  float32 numbers held exactly (24 significant bits, whatever their magnitude); the warning says
  they are the rounded scales.
* A float affine layer between a split dequantizer and a split quantizer (the bias Add of a QDQ
  MLP: DequantizeLinear -> Add(constant) -> QuantizeLinear) keeps its float32 constants exactly
  and its sum `auto` (exact, not capped): the next quantizer rounds the value the model computes;
  its result keeps the fractional bits of that sum and the integer bits of the next quantizer's
  range (one step beyond its end codes), saturating as that quantizer does.

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

Before (QDQ: int8 input codes at scale 0.02, int8 weights at 0.1 / 0.2, uint8 output at 0.05):

    %q = nn.quantize %x {layer = "xq", quantizer = #nn.quant<uniform, bits = 8, scale = 0.02>}
    %d = nn.dense %q {layer = "fc", bias = dense<[0.5, 0.2]>, weight_quantizer =
                      #nn.quant<uniform, shape = [2], bits = 8, scale = [0.1, 0.2]>, ...}
    %y = nn.quantize %d {layer = "yq", quantizer = #nn.quant<uniform, bits = 8, signed = false,
                         scale = 0.05, zero_point = 10.0>}

After (the dense adds integers; 0.02 * 0.1 / 0.05 = 0.04 is the one multiplier of channel 0):

    %c = nn.batchnorm %x {layer = "xq_codes", scale = dense<50.0>, precision = {result =
                          !hls.fixed<8, 8, RND_CONV, SAT>, ...}, ...}
    %d = nn.dense %c {layer = "fc", weight = <int8 codes>, bias = dense<[250.0, 50.0]>, ...}
    %y = nn.batchnorm %d {layer = "yq_codes", scale = dense<[0.04, 0.08]>, bias = dense<10.0>,
                          precision = {result = !hls.ufixed<8, 8, RND_CONV, SAT>, ...}, ...}
    %v = nn.batchnorm %y {layer = "yq", scale = dense<0.05>, bias = dense<-0.5>, ...}
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


def _set_constant_types(
    op: nn.BatchNormOp, scale: np.ndarray, bias: np.ndarray, significant: bool = False
) -> None:
    """A scale layer's constants: exact when they are short dyadic numbers (codes, zero points,
    quantized biases), else rounded to SCALE_BITS fractional bits (the warning says so). With
    `significant`, the constants are exact up to SCALE_BITS + 1 bits of width, whatever their
    magnitude (a combined multiplier s_x * s_w / s_y ~ 1e-4 keeps 24 significant bits, not 10)."""
    for var, values in (("scale", scale), ("bias", bias)):
        exact = exact_precision(values)
        if exact is None and not np.any(values):
            exact = FixedPrecision(1, 1)
        if significant:
            short = exact is not None and exact.width <= SCALE_BITS + 1
        else:
            short = exact is not None and exact.fractional <= SCALE_BITS
        t = exact if short and exact is not None else _constant_precision(values, significant)
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


def _split_weight_scale(op: nn.DenseOp | nn.ConvBaseOp, q: UniformQuantizer) -> nn.BatchNormOp:
    """weights = codes * scale[channel]: keep the codes, move the scale (and bias) to a layer after
    (the warning comes once `_integer_layer` has tried to take the input's scale in too)."""
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
    return scale_op


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


def _constant_precision(values: np.ndarray, significant: bool = False) -> FixedPrecision:
    """A type for approximated constants: SCALE_BITS fractional bits and the integer bits needed
    (with `significant`: SCALE_BITS + 1 bits of width below the largest magnitude's top bit)."""
    magnitude = float(np.abs(values).max()) if values.size else 1.0
    top = int(np.floor(np.log2(magnitude))) + 2 if magnitude > 0 else 1
    if significant:
        return FixedPrecision(SCALE_BITS + 1, top, True)
    integer = max(1, top)
    return FixedPrecision(integer + SCALE_BITS, integer, True)


def _insert_after(op: Operation, new: nn.NNLayerOp, users: list) -> None:
    """Insert `new` after op and route op's former users to it."""
    block = op.parent_block()
    assert block is not None
    block.insert_op_after(new, op)
    for use in users:
        use.operation.operands[use.index] = new.results[0]


def _type_constants(op: nn.DenseOp | nn.ConvBaseOp) -> nn.BatchNormOp | None:
    """Type the layer's quantized constants; returns the scale layer a non-power-of-two weight
    scale moved to, if any."""
    weight_q = op.weight_quantizer.quantizer() if op.weight_quantizer is not None else None
    if isinstance(weight_q, UniformQuantizer) and not weight_q.power_of_two:
        return _split_weight_scale(op, weight_q)
    if weight_q is not None:
        weight = nn.to_numpy(op.weight)
        _check_grid(op, "weight", weight, weight_q)
        _constant_type(op, "weight", weight)
    if op.bias is not None and op.bias_quantizer is not None:
        bias = nn.to_numpy(op.bias)
        bias_q = op.bias_quantizer.quantizer()
        _check_grid(op, "bias", bias, bias_q)
        _constant_type(op, "bias", bias)
    return None


# ----- tensors --------------------------------------------------------------------------------------------


def _single_user(value: SSAValue) -> Operation | None:
    uses = list(value.uses)
    return uses[0].operation if len(uses) == 1 else None


@dataclass(frozen=True)
class _Dequantizer:
    """The two scale layers a non-power-of-two tensor quantizer became (`split_scale`)."""

    to_codes: nn.BatchNormOp
    to_values: nn.BatchNormOp
    scale: np.ndarray
    """Per channel (the last axis), float64."""
    zero: np.ndarray
    codes: FixedPrecision
    """The integer type of the codes (int8 / uint8, RND_CONV, SAT)."""


@dataclass
class _Folder:
    assigned: dict[tuple[int, str], FixedPrecision]
    """Types this pass gave (id(op), var), so a second quantizer is not taken for a user's pin."""
    by_values: dict[int, _Dequantizer] = field(default_factory=dict[int, _Dequantizer])
    """The split quantizers by id of their `to_values` layer."""
    by_codes: dict[int, _Dequantizer] = field(default_factory=dict[int, _Dequantizer])
    """The same by id of their `to_codes` layer."""

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
        split = _Dequantizer(
            to_codes, to_values, np.broadcast_to(scale, channels).astype(np.float64),
            np.broadcast_to(zero, channels).astype(np.float64), codes_t,
        )  # fmt: skip
        self.by_values[id(to_values)] = split
        self.by_codes[id(to_codes)] = split
        name = _name(q_op)
        q_op.detach()
        q_op.erase()
        warn(
            f"{name}: its scale is not a power of two; it becomes two scale layers "
            f"('{layer}_codes' into {codes_t}, then '{layer}') whose constants are rounded to "
            f"{SCALE_BITS} fractional bits: values within one quantization step",
            ApproximationWarning,
        )


# ----- integer-only layers (QDQ) ----------------------------------------------------------------------------

MOVES = (nn.ReshapeOp, nn.FlattenOp, nn.TransposeOp)
"""Layers that only move values: a dequantizer's scale passes through them unchanged."""

BIAS_CODE_TOLERANCE = 2.0**-20
"""Relative distance from an integer within which a bias divided by s_x * s_w is taken as integer
codes: onnxruntime stores the bias as int32 codes at scale float32(s_x * s_w) and dequantizes them
in float32, two roundings of 2**-24 each."""


def _user_pinned(op: nn.NNLayerOp, var: str) -> bool:
    return isinstance(op.get_precision(var), FixedPointType) and not op.is_quantizer_typed(var)


@dataclass(frozen=True)
class _InputPath:
    """How an integer-code layer reads a split quantizer: through `moves` (nearest the quantizer
    first); `shared` when another layer reads a value on the way too (a residual branch)."""

    source: _Dequantizer
    moves: list[nn.NNLayerOp]
    shared: bool


def _input_dequantizer(layer: nn.DenseOp | nn.ConvBaseOp, folder: _Folder) -> _InputPath | None:
    """The split quantizer whose values the layer reads, through moves only; None when there is
    none, when a layer on the way is traced or its result pinned."""
    value = layer.operands[0]
    moves: list[nn.NNLayerOp] = []
    shared = False
    while True:
        owner = value.owner
        if not isinstance(owner, nn.NNLayerOp):
            return None
        if owner.trace is not None or _user_pinned(owner, "result"):
            return None
        shared = shared or _single_user(value) is None
        found = folder.by_values.get(id(owner))
        if found is not None:
            return _InputPath(found, moves[::-1], shared)
        if not isinstance(owner, MOVES):
            return None
        moves.append(owner)
        value = owner.operands[0]


def _integer_type(low: float, high: float) -> FixedPrecision:
    """The narrowest integer type holding [low, high] (integers)."""
    if low >= 0:
        return FixedPrecision(max(1, int(high).bit_length()), max(1, int(high).bit_length()), False)
    width = max(int(-low - 1).bit_length(), int(high).bit_length()) + 1
    return FixedPrecision(width, width, True)


def _integer_layer(layer: nn.DenseOp | nn.ConvBaseOp, scale_op: nn.BatchNormOp, folder: _Folder) -> None:
    """dequantize(codes) -> [moves] -> layer(integer weight codes) -> scale layer: the layer
    computes on `codes - zero point` (an integer of bits + 1 at most; nothing when the zero point
    is 0), its accumulator is an exact narrow integer, the input's scale s_x joins the weight scales
    s_w in the scale layer, and a bias on the grid s_x * s_w becomes integer codes in the layer.
    When the scale layer feeds a split quantizer (scale s_y), it merges into that quantizer's
    `_codes` layer: one multiplier per channel, s_x * s_w / s_y (onnxruntime's requantization)."""
    path = _input_dequantizer(layer, folder)
    if (
        path is None
        or _single_user(layer.output) is not scale_op
        or scale_op.trace is not None
        or len(set(path.source.scale.tolist())) != 1
        or path.source.scale[0] <= 0
    ):
        warn(
            f"{_name(layer)}: its weight scale is not a power of two; an explicit per-channel "
            f"scale layer '{scale_op.layer_name}' multiplies by it (constants rounded to "
            f"{SCALE_BITS} fractional bits)",
            ApproximationWarning,
        )
        return
    source = path.source
    if path.shared:
        _private_codes(layer, path, folder)
    else:
        _subtract_zero_point(source)
    combined = float(source.scale[0]) * nn.to_numpy(scale_op.scale).astype(np.float64)
    bias = nn.to_numpy(scale_op.bias).astype(np.float64)
    codes = np.round(bias / combined)
    if (
        np.any(bias)
        and np.all(np.abs(codes) < 2.0**24)
        and np.all(np.abs(bias / combined - codes) <= BIAS_CODE_TOLERANCE * np.maximum(1.0, np.abs(codes)))
        and not _user_pinned(layer, "bias")
    ):
        layer.bias = nn.dense_attr(codes.astype(np.float32))
        layer.set_precision("bias", precision_type(exact_precision(codes) or FixedPrecision(1, 1)))
        layer.mark_quantizer_typed("bias")
        bias = np.zeros_like(bias)
    target = _single_user(scale_op.output)
    requantize = folder.by_codes.get(id(target)) if target is not None else None
    if requantize is not None and not _user_pinned(scale_op, "result"):
        to_codes = requantize.to_codes
        scale = combined / requantize.scale
        shift = bias / requantize.scale + requantize.zero
        to_codes.scale, to_codes.bias = nn.dense_attr(scale), nn.dense_attr(shift)
        to_codes.operands[0] = layer.output
        scale_op.detach()
        scale_op.erase()
        _set_constant_types(to_codes, nn.to_numpy(to_codes.scale), nn.to_numpy(to_codes.bias), significant=True)
        where = f"'{to_codes.layer_name}' (s_x * s_w / s_y, and the output's zero point)"
    else:
        scale_op.scale, scale_op.bias = nn.dense_attr(combined), nn.dense_attr(bias)
        _set_constant_types(scale_op, nn.to_numpy(scale_op.scale), nn.to_numpy(scale_op.bias), significant=True)
        where = f"'{scale_op.layer_name}' (s_x * s_w)"
    warn(
        f"{_name(layer)}: computes on the integer codes of its input ('{source.to_values.layer_name}') "
        f"and weights; the non-power-of-two scales are one multiplier per channel in {where}, "
        f"rounded to {SCALE_BITS} significant bits",
        ApproximationWarning,
    )


def _private_codes(layer: nn.DenseOp | nn.ConvBaseOp, path: _InputPath, folder: _Folder) -> None:
    """A residual branch: other layers read the dequantized values (or a move of them), so the
    integer layer gets its own copy of the path from the codes: `code - zero point` (none when the
    zero point is 0) and the same moves, named after it. Layers of the old path that no one reads
    any more go."""
    source, suffix = path.source, f"_for_{layer.layer_name}"
    block = layer.parent_block()
    assert block is not None
    taken = {op.layer_name for op in block.ops if isinstance(op, nn.NNLayerOp)}
    value: SSAValue = source.to_codes.output
    if np.any(source.zero):
        minus_zero = nn.BatchNormOp(
            value, np.ones_like(source.scale), -source.zero, _free_name(source.to_values.layer_name + suffix, taken),
        )  # fmt: skip
        block.insert_op_before(minus_zero, layer)
        _type_code_differences(minus_zero, source)
        value = minus_zero.output
    for move in path.moves:
        copy = move.clone()
        copy.layer = StringAttr(_free_name(move.layer_name + suffix, taken))
        copy.operands[0] = value
        block.insert_op_before(copy, layer)
        value = copy.results[0]
    old = layer.operands[0]
    layer.operands[0] = value
    for dropped in [*path.moves[::-1], source.to_values]:
        if old.owner is not dropped or list(dropped.results[0].uses):
            break
        old = dropped.operands[0]
        folder.by_values.pop(id(dropped), None)
        dropped.detach()
        dropped.erase()


def _free_name(wanted: str, taken: set[str]) -> str:
    name, count = wanted, 1
    while name in taken:
        count += 1
        name = f"{wanted}_{count}"
    taken.add(name)
    return name


def _type_code_differences(op: nn.BatchNormOp, source: _Dequantizer) -> None:
    """`code - zero point` in the narrowest integer type holding every difference (exact)."""
    low = source.codes.min_value - float(source.zero.max())
    high = source.codes.max_value - float(source.zero.min())
    _set_constant_types(op, nn.to_numpy(op.scale), nn.to_numpy(op.bias))
    op.set_precision("result", precision_type(_integer_type(low, high)))
    op.mark_quantizer_typed("result")


def _subtract_zero_point(source: _Dequantizer) -> None:
    """The dequantizer's `to_values` layer computes `code - zero point` (exact, narrow integer), or
    disappears when the zero point is 0 (its readers take the codes)."""
    to_values = source.to_values
    if not np.any(source.zero):
        to_values.output.replace_all_uses_with(source.to_codes.output)
        to_values.detach()
        to_values.erase()
        return
    to_values.scale = nn.dense_attr(np.ones_like(source.scale))
    to_values.bias = nn.dense_attr(-source.zero)
    _type_code_differences(to_values, source)


def _type_between_quantizers(op: nn.BatchNormOp, folder: _Folder) -> None:
    """A float affine layer between a dequantizer and a quantizer (the bias Add of a QDQ MLP as
    onnxruntime and PyTorch write it: DequantizeLinear -> Add(constant) -> QuantizeLinear): its
    constants are float32 numbers, held exactly (SCALE_BITS + 1 bits of width), and its sum is
    exact (no maximum-precision cap: its inputs are the quantizer's codes times its scale), so the
    next quantizer rounds exactly the value the model computes. Its result keeps every fractional
    bit of that sum and only the integer bits of the next quantizer's range (one step beyond each
    end code), saturating: beyond that range the quantizer saturates to the same end code."""
    if id(op) in folder.by_values or id(op) in folder.by_codes or op.quantizer_typed is not None:
        return
    producer = op.input.owner
    reader = _single_user(op.output)
    if id(producer) not in folder.by_values or id(reader) not in folder.by_codes:
        return
    if any(_user_pinned(op, var) for var in op.PRECISION_VARS):
        return
    for var in op.PRECISION_VARS:
        op.set_precision(var, StringAttr(nn.AUTO))
    _set_constant_types(op, nn.to_numpy(op.scale), nn.to_numpy(op.bias), significant=True)
    source, target = folder.by_values[id(producer)], folder.by_codes[id(reader)]
    codes_fraction = _fractional(source.to_codes, "result")
    if codes_fraction is None:
        return
    fraction = _affine_fractional(op, _affine_fractional(source.to_values, codes_fraction))
    if fraction is None:
        return
    ends = np.array([target.codes.min_value - 2, target.codes.max_value + 2])
    largest = float((np.abs(ends[:, None] - target.zero[None, :]) * target.scale[None, :]).max())
    integer = int(np.floor(np.log2(largest))) + 2
    op.set_precision(
        "result",
        precision_type(FixedPrecision(integer + fraction, integer, True, Quant.TRN, Overflow.SAT)),
    )
    op.mark_quantizer_typed("result")


def _fractional(op: nn.NNLayerOp, var: str) -> int | None:
    value = op.get_precision(var)
    return value.precision.fractional if isinstance(value, FixedPointType) else None


def _affine_fractional(op: nn.BatchNormOp, input_fraction: int | None) -> int | None:
    """The fractional bits of a scale layer's exact result (x * scale + bias, x with
    `input_fraction` bits), or of its typed result; None when its types are not known yet."""
    for var in ("result", "accum"):
        typed = _fractional(op, var)
        if typed is not None:
            return typed
    scale, bias = _fractional(op, "scale"), _fractional(op, "bias")
    if input_fraction is None or scale is None or bias is None:
        return None
    return max(input_fraction + scale, bias)


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
            split: list[tuple[nn.DenseOp | nn.ConvBaseOp, nn.BatchNormOp]] = []
            for layer in list(function.body.block.ops):
                if isinstance(layer, nn.DenseOp | nn.ConvBaseOp):
                    scale_op = _type_constants(layer)
                    if scale_op is not None:
                        split.append((layer, scale_op))
            folder = _Folder({})
            for layer in list(function.body.block.ops):
                if isinstance(layer, QuantizeOp):
                    folder.fold(layer)
            for layer in list(function.body.block.ops):
                if isinstance(layer, nn.BatchNormOp):
                    _type_between_quantizers(layer, folder)
            for layer, scale_op in split:
                _integer_layer(layer, scale_op, folder)
