"""Overflow scan: where a model's fixed-point types saturate or wrap on given data.

`overflow_scan(module, inputs)` runs the module's `hls.func` kernel by kernel with the exact
emulator rules (nnhls/ops, `KernelRules.emulate`), on the values the hardware really computes.
Each kernel runs twice on the same operands: as typed, which feeds the next kernel, and with its
result types and `accum_t` widened (same fractional bits, signed, WRAP, at least 16 more integer
bits and up to 62 bits wide, so the fast integer paths apply), whose
output is the value the layer would produce if nothing overflowed. Comparing that ideal value
with the type's range counts, per layer and variable, the values that saturated (SAT modes) or
wrapped (WRAP), how far beyond the range they were, and the fewest integer bits holding them:

    input    the model inputs against the input types (C++ assignment, as predict does)
    accum    the complete sums against accum_t, for kernels whose rules say they accumulate
             (dense, convolutions, dot); partial sums are not seen (a wrapping accumulator only
             needs the complete sum to fit)
    result   each kernel's output against its result type (result_1... for further results)

    accum, variance   a layer norm's row sums (accum_t) and sums of squared differences from the
             mean (variance_t holds them before the multiplication by 1/n), from the exact
             inputs (the rules' `internal_values`)

A table lookup clamps an input beyond the table's range; those are not counted here.

A result whose type a quantizer of the model set (the kernel's `quantized_result`: QKeras
`quantized_relu(4, 0)` saturating at 1, a QONNX Quant, an HGQ SAT quantizer, a QDQ int8 code) is
recorded `by_design`: its saturation is the model's semantics, not an overflow, so `overflowing`
leaves it out of predict's warning while the report still counts it, labelled. Accumulators and
types chosen by auto, the cap or the user are never by design.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr
from xdsl.ir import Attribute, SSAValue

from nnhls import ops
from nnhls.dialects import hls
from nnhls.dialects.fixed import FAST_WIDTH, FixedPrecision, Overflow, Quant, to_mantissa
from nnhls.dialects.types import ArrayType, FixedPointType, StreamType, fixed_type
from nnhls.errors import InputDataError
from nnhls.interpreters.emulator import hls_function
from nnhls.ops.exact import FixedArray, cast, norm

WIDENING = 16
"""Integer bits at least added to a type for the ideal run (more, up to FAST_WIDTH bits)."""


@dataclass(frozen=True)
class OverflowRecord:
    """Values of one variable of one layer that lie outside its type (see the module docstring)."""

    layer: str
    var: str
    type: FixedPrecision
    count: int
    """Values outside the type's range (they saturated or wrapped)."""
    total: int
    """Values checked (samples x elements)."""
    low: float
    high: float
    """The observed range of the ideal values."""
    excess: float
    """How far the farthest value lay beyond the range (0 when none did)."""
    integer: int
    """The fewest integer bits (sign included) holding [low, high] with the type's fractional bits."""
    by_design: bool = False
    """The type is a quantizer's: values beyond it saturate (or wrap) as the model was trained."""

    @property
    def mode(self) -> str:
        mode = "saturated" if self.type.overflow.value.startswith("SAT") else "wrapped"
        return f"{mode} by its quantizer (by design)" if self.by_design else mode

    def as_row(self) -> dict[str, object]:
        t = self.type
        return {
            "layer": self.layer, "var": self.var, "type": str(t), "overflows": self.count,
            "checked": self.total, "mode": self.mode if self.count else "",
            "observed": f"[{self.low:g}, {self.high:g}]", "range": f"[{t.min_value:g}, {t.max_value:g}]",
            "excess": self.excess, "integer_bits": t.integer,
            "proposed_integer_bits": t.integer if self.by_design else self.integer,
            "by_design": self.by_design,
        }  # fmt: skip


def needed_integer_bits(low: float, high: float, t: FixedPrecision) -> int:
    """The fewest integer bits (sign included when t is signed or low < 0) that hold [low, high]
    with t's fractional bits."""
    signed = t.signed or low < 0
    frac = t.fractional
    integer = -frac + 1
    while True:
        candidate = FixedPrecision(max(integer + frac, 1), integer, signed)
        if candidate.min_value <= low and high <= candidate.max_value:
            return integer
        integer += 1


def _record(layer: str, var: str, t: FixedPrecision, values: np.ndarray, by_design: bool = False) -> OverflowRecord:
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    if flat.size == 0:
        return OverflowRecord(layer, var, t, 0, 0, 0.0, 0.0, 0.0, t.integer, by_design)
    low, high = float(flat.min()), float(flat.max())
    outside = (flat < t.min_value) | (flat > t.max_value)
    excess = max(t.min_value - low, high - t.max_value, 0.0)
    return OverflowRecord(
        layer, var, t, int(np.count_nonzero(outside)), flat.size, low, high, excess,
        needed_integer_bits(low, high, t), by_design,
    )  # fmt: skip


def _wide(t: FixedPrecision) -> FixedPrecision:
    extra = max(WIDENING, FAST_WIDTH - t.width) + (not t.signed)
    return FixedPrecision(t.width + extra, t.integer + extra, True, t.rounding, Overflow.WRAP)


def _wide_accumulator(op: hls.HLSKernelOp, args: Sequence[FixedArray], accum: FixedPrecision) -> FixedPrecision:
    """The accumulator of the ideal run: `_wide(accum)`, or, for a dense / convolution whose
    products lose s bits to the accumulator, W + s <= 64 bits wide when that holds every sum
    the data can reach (|x| max times the weights' absolute sum, plus the largest bias): the
    emulator's wrapping MAC then runs in int64 lanes (ops.exact._mac_lanes) instead of casting
    every product, and the sums are still exact (a conv1d's overflow scan was most of predict)."""
    wide = _wide(accum)
    weight_t, weight = op.properties.get("weight_t"), op.properties.get("weight")
    if not isinstance(weight_t, FixedPointType) or not isinstance(weight, DenseIntOrFPElementsAttr) or not args or wide.rounding is not Quant.TRN:
        return wide
    dropped = args[0].t.fractional + weight_t.precision.fractional - accum.fractional
    lanes = 64 - dropped
    if dropped <= 0 or lanes >= wide.width:
        return wide
    weights = np.abs(hls.mantissas(weight).astype(np.float64)) * weight_t.precision.step
    bias = op.properties.get("bias")
    bias_t = op.properties.get("bias_t")
    largest_bias = 0.0
    if isinstance(bias, DenseIntOrFPElementsAttr) and isinstance(bias_t, FixedPointType):
        largest_bias = float(np.abs(hls.mantissas(bias).astype(np.float64)).max(initial=0.0)) * bias_t.precision.step
    largest_x = float(np.abs(args[0].to_float()).max(initial=0.0))
    # Truncating each product loses less than one accumulator step: the count of terms bounds it.
    bound = largest_x * float(weights.sum()) + largest_bias + weights.size * accum.step
    integer = max(accum.integer + 1, math.frexp(bound)[1] + 2)  # sign and rounding slack
    if integer + accum.fractional > lanes:
        return wide
    return FixedPrecision(lanes, lanes - accum.fractional, True, wide.rounding, Overflow.WRAP)


def _wide_value_type(ty: Attribute, element_t: FixedPrecision | None = None) -> Attribute:
    """An array or stream type whose element type is `element_t` (by default its own, widened)."""
    if not isinstance(ty, ArrayType | StreamType):
        return ty
    element = fixed_type(element_t if element_t is not None else _wide(ty.element_type.precision))
    if isinstance(ty, ArrayType):
        return ArrayType(ty.get_shape(), element)  # pyright: ignore[reportCallIssue]
    return StreamType(ty.get_shape(), element, ty.depth.data)  # pyright: ignore[reportCallIssue]


def _ideal(op: hls.HLSKernelOp, args: Sequence[FixedArray], accum: FixedPrecision | None = None) -> list[FixedArray]:
    """The kernel's outputs with wide result types; with `accum`, a wide accum_t and results at
    its fractional bits (the complete sums)."""
    properties = dict(op.properties)
    result_types = [_wide_value_type(r.type) for r in op.results]
    if accum is not None:
        wide = _wide_accumulator(op, args, accum)
        properties["accum_t"] = fixed_type(wide)
        result_types = [_wide_value_type(r.type, wide) for r in op.results]
    clone = type(op).create(
        operands=list(op.operands),
        result_types=result_types,
        properties=properties,
        attributes=dict(op.attributes),
    )
    try:
        return list(ops.kernel_rules(clone).emulate(clone, list(args)))
    finally:
        clone.drop_all_references()


def _checked_inputs(function: hls.FuncOp, inputs: Sequence[np.ndarray]) -> list[tuple[str, FixedPrecision, np.ndarray]]:
    args = function.body.block.args
    if len(inputs) != len(args):
        raise InputDataError(f"'{function.sym_name.data}' has {len(args)} inputs, got {len(inputs)} arrays")
    checked: list[tuple[str, FixedPrecision, np.ndarray]] = []
    for arg, array in zip(args, inputs, strict=True):
        shape = hls.shape_of(arg)
        a = np.asarray(array, dtype=np.float64)
        if a.shape[1:] != shape:
            raise InputDataError(f"input '{arg.name_hint}' must have shape (batch, {', '.join(map(str, shape))}), got {a.shape}")
        checked.append((arg.name_hint or "input", hls.value_type(arg).element_type.precision, a))
    return checked


def overflow_scan(module: object, inputs: np.ndarray | Sequence[np.ndarray]) -> list[OverflowRecord]:
    """One record per model input and per layer variable (input, accum, result...) of the
    module's hls.func on float batches (see the module docstring), in program order."""
    function = hls_function(module)  # pyright: ignore[reportArgumentType]
    arrays = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
    values: dict[SSAValue, FixedArray] = {}
    records: list[OverflowRecord] = []
    for arg, (name, t, a) in zip(function.body.block.args, _checked_inputs(function, arrays), strict=True):
        records.append(_record(name, "input", t, a))
        values[arg] = FixedArray(norm(to_mantissa(a, t)), t)
    for op in function.body.block.ops:
        if not isinstance(op, hls.HLSKernelOp):
            continue
        args = [values[v] for v in op.operands]
        actual = ops.kernel_rules(op).emulate(op, args)
        records += _layer_records(op, args, actual)
        for result, value in zip(op.results, actual, strict=True):
            values[result] = value
    return records


def _layer_records(op: hls.HLSKernelOp, args: Sequence[FixedArray], actual: Sequence[FixedArray]) -> list[OverflowRecord]:
    layer = op.layer_name
    quantized = op.quantized_result is not None
    found: list[OverflowRecord] = []
    accum = op.properties.get("accum_t")
    if ops.kernel_rules(op).accumulates and isinstance(accum, FixedPointType):
        # One run gives the complete sums; the result check casts them to the result's
        # fractional bits (what the result would hold had the accumulator not overflowed).
        t = accum.precision
        sums = _ideal(op, args, t)[0]
        found.append(_record(layer, "accum", t, sums.to_float()))
        result_t = actual[0].t
        found.append(_record(layer, "result", result_t, cast(sums.exact, _wide(result_t)).to_float(), quantized))
        return found
    for var, t, values in ops.kernel_rules(op).internal_values(op, args):
        found.append(_record(layer, var, t, values))
    ideal = _ideal(op, args)
    for index, (value, real) in enumerate(zip(ideal, actual, strict=True)):
        found.append(
            _record(layer, "result" if index == 0 else f"result_{index}", real.t, value.to_float(), quantized and index == 0)
        )
    return found


def overflowing(records: Sequence[OverflowRecord], by_design: bool = False) -> list[OverflowRecord]:
    """The records of variables that overflowed (saturated or wrapped where no quantizer set the
    type); with `by_design`, those that saturated or wrapped at a quantizer's type instead."""
    return [r for r in records if r.count and r.by_design == by_design]


def summary(records: Sequence[OverflowRecord], limit: int = 6) -> str:
    """`fc1 result (12 of 6400 values, saturated), ...` for the warnings."""
    bad = overflowing(records)
    parts = [f"'{r.layer}' {r.var} ({r.count} of {r.total} values {r.mode}, up to {r.excess:g} beyond {r.type})" for r in bad[:limit]]
    more = f" and {len(bad) - limit} more" if len(bad) > limit else ""
    return ", ".join(parts) + more


def proposed_integer_bits(record: OverflowRecord) -> int:
    """The integer bits `record` proposes (at least the type's own)."""
    return max(record.integer, record.type.integer) if record.count and not record.by_design else record.type.integer


__all__ = ["OverflowRecord", "needed_integer_bits", "overflow_scan", "overflowing", "summary"]
