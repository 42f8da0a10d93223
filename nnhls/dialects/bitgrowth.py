"""Hardware bit-growth rules on fixed-point types: the type arithmetic precision inference,
lowering and the table rules share.

A type is (W, I, F = W - I). `union(a, b)` holds every value of a and b (signed if either is,
F = max F, I = max I plus one when only the other one is signed); `grow(t, n)` adds
ceil(log2 n) integer bits to t (the sum of n terms of type t never overflows); `product(a, b)`
is (Wa + Wb, Ia + Ib); `accumulator` is the type of bias + a sum of n products, which no partial
sum can overflow. `range_type` is the narrowest type holding an interval, `fitted` a weight
type holding quantized values, `cap` applies a maximum precision. For example, nine products of
fixed<16,6> by fixed<8,2> sum in grow(product(...), 9) = fixed<28,12>.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np

from nnhls.dialects.fixed import MAX_WIDTH, FixedPrecision, Overflow, Quant, to_mantissa
from nnhls.dialects.types import FixedPointType, fixed_type

DEFAULT_PRECISION = FixedPrecision(16, 6)
"""The model default when no configuration gave one (hls4ml's fixed<16,6>)."""

DEFAULT_MAXIMUM = FixedPrecision(24, 12, True, Quant.RND, Overflow.SAT)
"""The cap on `auto` types when the configuration gives no `Precision.maximum`
(fixed<24,12,RND,SAT>): 24 bits fit one DSP multiplier input (27 x 18 on UltraScale+), and a
capped value rounds and saturates instead of wrapping. `maximum: none` keeps exact bit growth."""


# ----- type arithmetic -------------------------------------------------------------------------------------


def clog2(n: int) -> int:
    """ceil(log2 n) for n >= 1."""
    return max(n - 1, 0).bit_length()


def make_type(width: int, integer: int, signed: bool) -> FixedPrecision:
    """A plain (TRN, WRAP) type; widths below one bit are widened by fractional bits."""
    return FixedPrecision(max(width, 1), integer, signed)


def union(*types: FixedPrecision) -> FixedPrecision:
    """The narrowest type holding every value of each type (exactly)."""
    signed = any(t.signed for t in types)
    frac = max(t.fractional for t in types)
    integer = max(t.integer + (signed and not t.signed) for t in types)
    return make_type(integer + frac, integer, signed)


def grow(t: FixedPrecision, terms: int) -> FixedPrecision:
    """Type of a sum of `terms` values of type t: ceil(log2 terms) more integer bits."""
    extra = clog2(max(terms, 1))
    return make_type(t.width + extra, t.integer + extra, t.signed)


def product(a: FixedPrecision, b: FixedPrecision) -> FixedPrecision:
    """Type of a * b: (W1 + W2, I1 + I2)."""
    return make_type(a.width + b.width, a.integer + b.integer, a.signed or b.signed)


def accumulator(
    x: FixedPrecision, w: FixedPrecision, bias: FixedPrecision | None, n: int
) -> FixedPrecision:
    """Type of bias + sum of n products x * w: no partial sum can overflow it."""
    p = product(x, w)
    if bias is None:
        return grow(p, n)
    return grow(union(p, bias), n + 1)


def _holds(t: FixedPrecision, lo: float, hi: float) -> bool:
    """Whether t's range contains [lo, hi], compared exactly (t.max_value as a float rounds up to
    the next power of two beyond 53 bits: ufixed<69,0> would seem to hold 1.0)."""
    scale = Fraction(2) ** t.fractional
    return Fraction(lo) * scale >= t.min_mantissa and Fraction(hi) * scale <= t.max_mantissa


def range_type(
    lo: float, hi: float, frac: int, like: FixedPrecision | None = None
) -> FixedPrecision:
    """The fewest integer bits (with `frac` fractional bits) holding [lo, hi]; unsigned if lo >= 0.

    `like` gives the quantization / overflow modes.
    """
    signed = lo < 0
    magnitude = max(abs(lo), abs(hi), 2.0**-frac)
    integer = math.floor(math.log2(magnitude)) - 1
    while True:
        t = FixedPrecision(max(integer + frac, 1), integer, signed)
        if _holds(t, lo, hi) and integer + frac >= 1:
            break
        integer += 1
    if like is None:
        return t
    return t.with_modes(like.rounding, like.overflow, like.sat_bits)


def fitted(values: np.ndarray, default: FixedPrecision) -> FixedPrecision:
    """Weights' auto type: the default's width and modes, the fewest integer bits that hold every
    value once quantized (signed; an all-zero tensor gets one integer bit)."""
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    largest = float(np.max(np.abs(flat))) if flat.size else 0.0
    width = default.width
    if largest == 0.0:
        return FixedPrecision(width, 1, True, default.rounding, default.overflow, default.sat_bits)
    integer = math.floor(math.log2(largest)) + 1
    while True:
        t = FixedPrecision(width, integer, True, default.rounding, Overflow.WRAP)
        wide = FixedPrecision(min(width + 8, MAX_WIDTH), integer + 8, True, default.rounding)
        m = to_mantissa(flat, wide)
        if m.min() >= t.min_mantissa and m.max() <= t.max_mantissa:
            return t.with_modes(default.rounding, default.overflow, default.sat_bits)
        integer += 1


def cap(t: FixedPrecision, maximum: FixedPrecision | None) -> FixedPrecision:
    """Apply max_precision: width and integer bits capped independently, with the maximum's modes."""
    if maximum is None or (t.width <= maximum.width and t.integer <= maximum.integer):
        return t
    width, integer = min(t.width, maximum.width), min(t.integer, maximum.integer)
    return FixedPrecision(
        width, integer, t.signed, maximum.rounding, maximum.overflow, maximum.sat_bits
    )


# ----- attribute <-> precision (cached: attributes are immutable and hash by parameters) ---------


@lru_cache(maxsize=4096)
def type_precision(attr: FixedPointType) -> FixedPrecision:
    """The FixedPrecision of an `!hls.*` type."""
    return attr.precision


@lru_cache(maxsize=4096)
def precision_type(p: FixedPrecision) -> FixedPointType:
    """The `!hls.*` type of a FixedPrecision."""
    return fixed_type(p)
