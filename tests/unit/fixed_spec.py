"""The vendor's documented conversion rules, written a second time as plainly as possible.

An oracle for the differential tests, independent of the bit-level code in nnhls.dialects.fixed and
of our C++ headers: exact rational arithmetic (fractions.Fraction), one branch per documented mode
(UG1399, "Quantization Modes" / "Overflow Modes"), and C's rule for integer types (a value with a
fractional part assigned to ap_int / ap_uint truncates towards zero, then wraps modulo 2**W).
Slow (a few microseconds per value) and meant to stay obvious rather than fast.
"""

from __future__ import annotations

import math
from fractions import Fraction

from nnhls.dialects.fixed import FixedPrecision, Overflow, Quant


def exact(x: float) -> Fraction:
    """The exact value of a finite double."""
    return Fraction(x)


def _floor(v: Fraction) -> int:
    return math.floor(v)


def _quantize(scaled: Fraction, q: Quant) -> int:
    """Round `scaled` (the value in units of the destination LSB) to an integer by mode q."""
    lower = _floor(scaled)
    frac = scaled - lower
    if frac == 0:
        return lower
    half = Fraction(1, 2)
    if q is Quant.TRN:  # towards minus infinity
        return lower
    if q is Quant.TRN_ZERO:  # towards zero
        return lower if scaled > 0 else lower + 1
    if frac != half:  # every RND mode rounds to the nearest when there is no tie
        return lower + 1 if frac > half else lower
    # Ties: the modes differ only here.
    if q is Quant.RND:  # towards plus infinity
        return lower + 1
    if q is Quant.RND_ZERO:
        return lower + 1 if scaled < 0 else lower
    if q is Quant.RND_INF:  # away from zero
        return lower + 1 if scaled > 0 else lower
    if q is Quant.RND_MIN_INF:
        return lower
    return lower if lower % 2 == 0 else lower + 1  # RND_CONV: to even


def _wrap(y: int, width: int, signed: bool) -> int:
    low = y % (1 << width)
    if signed and low >= 1 << (width - 1):
        low -= 1 << width
    return low


def _overflow(y: int, p: FixedPrecision) -> int:
    lo = -(1 << (p.width - 1)) if p.signed else 0
    hi = (1 << (p.width - 1)) - 1 if p.signed else (1 << p.width) - 1
    if p.overflow is Overflow.SAT_SYM and p.signed:
        lo = -hi if p.width > 1 else -1
    if lo <= y <= hi:
        return y
    if p.overflow is Overflow.SAT_ZERO:
        return 0
    if p.overflow in (Overflow.SAT, Overflow.SAT_SYM):
        return hi if y > hi else lo
    # WRAP: keep the low W bits; with N saturation bits, a signed result takes the sign of the
    # original value and the N - 1 bits below the sign its complement, an unsigned one N ones
    # at the top; the other bits are the original's.
    n = min(p.sat_bits, p.width)
    bits = y % (1 << p.width)
    if n:
        if p.signed:
            negative = y < 0
            sign = 1 << (p.width - 1)
            bits = bits | sign if negative else bits & ~sign
            for i in range(p.width - n, p.width - 1):
                bits = bits & ~(1 << i) if negative else bits | (1 << i)
        else:
            for i in range(p.width - n, p.width):
                bits |= 1 << i
    return _wrap(bits, p.width, p.signed)


def convert(value: Fraction, p: FixedPrecision) -> int:
    """The raw mantissa that `p y = value;` stores, by the documented rules."""
    scaled = value * Fraction(2) ** p.fractional
    if p.is_int:
        return _wrap(math.trunc(scaled), p.width, p.signed)
    return _overflow(_quantize(scaled, p.rounding), p)


def from_double(x: float, p: FixedPrecision) -> int:
    """`p y = x;` for a double x. Infinities and NaN are outside the documented rules: the vendor's
    library (and ours) reads them as huge values (zero low bits, saturating where the mode does)."""
    if math.isnan(x) or math.isinf(x):
        huge = Fraction(2) ** 1100 * (-1 if math.copysign(1.0, x) < 0 else 1)
        return convert(huge, p)
    return convert(exact(x), p)


def boundary_values(p: FixedPrecision) -> list[float]:
    """Doubles at and around every boundary of p: 0, each LSB and half LSB near 0, the extremes
    and just beyond them, the wrap-around points, and both signs of each (exactly representable
    in a double when the type is at most 50 bits wide; wider types get the nearest doubles)."""
    step = Fraction(2) ** -p.fractional
    lo = -(1 << (p.width - 1)) if p.signed else 0
    hi = (1 << (p.width - 1)) - 1 if p.signed else (1 << p.width) - 1
    anchors = [0, 1, -1, 2, -2, lo, hi, lo - 1, hi + 1, 2 * hi + 2, 2 * lo - 1, 3 * (hi + 1)]
    offsets = [Fraction(k, 8) for k in range(-12, 13)]
    out: set[float] = set()
    for a in anchors:
        for d in offsets:
            for sign in (1, -1):
                v = sign * (a + d) * step
                if abs(v) < 2**1023:
                    out.add(float(v))
    out.update([0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300, 0.3, -0.3, 0.49, -0.49, 0.5, -0.5])
    return sorted(out)
