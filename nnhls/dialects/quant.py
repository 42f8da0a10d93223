"""Quantizers as the quantization-aware frameworks define them, in one framework-neutral form.

Every quantizer that QKeras, HGQ, QONNX / Brevitas and ONNX QDQ put into a model is one of four
kinds, each with exact numpy semantics here (plain Python, no xDSL, like `fixed.py`), so the front
ends, the `nn` quantizer op, the quantization-inference pass and the interpreters share one rule:

* `UniformQuantizer` — an integer grid: q = overflow(round(x / scale + zero_point)),
  y = (q - zero_point) * scale, with q in the range of a `bits`-wide signed or unsigned integer
  (narrow range drops the most negative code). scale, zero point, bits and signedness broadcast
  against the tensor (channels last, no batch axis): a scalar is per tensor, a vector over the last
  axis is per channel, a full-shape array is per element (HGQ). bits == 0 means the value is 0.
* `BinaryQuantizer` — y = scale if x >= 0 else -scale (QONNX BipolarQuant, QKeras binary); with
  `zero_one` the low level is 0 instead of -scale (QKeras binary(use_01=True)).
* `TernaryQuantizer` — y = scale * sign(x) where |x| >= threshold, else 0 (QKeras ternary).
* `Po2Quantizer` — y = sign(x) * 2**clip(round(log2 |x|), min_exp, max_exp) with sign(0) = +1 and
  |x| below `zero_below` mapped to 2**min_exp (QKeras quantized_po2: never zero).

Rounding modes use the ap_fixed names (RND_CONV is half to even, QONNX's ROUND; RND is half up;
TRN is floor), plus CEIL for QONNX. Overflow is SAT (clip to the integer range) or WRAP (two's
complement wrap-around, HGQ's default).

A uniform quantizer with a power-of-two scale and zero point 0 is exactly a fixed-point type:
`fixed_precision()` gives it (ap_fixed<bits, bits + log2(scale)>, with the rounding and overflow
modes that make `fixed.quantize` produce the same values), and `envelope_precision()` gives the
narrowest single type holding every value of a per-element quantizer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from nnhls.dialects.fixed import FixedPrecision, Overflow, Quant
from nnhls.errors import ModelError

FloatArray = npt.NDArray[np.float64]


class Rounding(StrEnum):
    """How x / scale + zero_point becomes an integer (ap_fixed names, plus CEIL)."""

    RND_CONV = "RND_CONV"
    """Nearest, ties to even (QONNX ROUND / HALF_EVEN, QKeras, numpy.round)."""
    RND = "RND"
    """Nearest, ties towards plus infinity (HGQ RND: floor(x + 0.5); QONNX HALF_UP for x >= 0)."""
    RND_INF = "RND_INF"
    """Nearest, ties away from zero (C round(); QKeras auto_po2 alpha; QONNX HALF_UP)."""
    RND_MIN_INF = "RND_MIN_INF"
    """Nearest, ties towards minus infinity."""
    RND_ZERO = "RND_ZERO"
    """Nearest, ties towards zero (QONNX HALF_DOWN)."""
    TRN = "TRN"
    """Floor (QONNX FLOOR, HGQ TRN)."""
    TRN_ZERO = "TRN_ZERO"
    """Towards zero (QONNX ROUND_TO_ZERO)."""
    CEIL = "CEIL"
    """Ceiling (QONNX CEIL); no ap_fixed equivalent."""


class QuantOverflow(StrEnum):
    """What happens to integers beyond the range of the quantizer."""

    SAT = "SAT"
    """Clip to the range (narrow range: symmetric)."""
    WRAP = "WRAP"
    """Two's complement wrap-around modulo 2**bits."""


class QuantizerError(ModelError):
    """Quantizer parameters that describe no quantizer (names the offending parameter)."""


def round_with(y: FloatArray, mode: Rounding) -> FloatArray:
    """Round float64 values to integers with `mode` (exact: floor and half comparisons are exact)."""
    floor = np.floor(y)
    frac = y - floor  # exact for |y| < 2**52
    if mode is Rounding.TRN:
        return floor
    if mode is Rounding.CEIL:
        return np.ceil(y)
    if mode is Rounding.TRN_ZERO:
        return np.trunc(y)
    above, tie = frac > 0.5, frac == 0.5
    if mode is Rounding.RND:
        up = above | tie
    elif mode is Rounding.RND_MIN_INF:
        up = above
    elif mode is Rounding.RND_INF:
        up = above | (tie & (y > 0))
    elif mode is Rounding.RND_ZERO:
        up = above | (tie & (y < 0))
    else:  # RND_CONV
        up = above | (tie & (np.mod(floor, 2.0) == 1.0))
    return floor + up


def _as_array(value: npt.ArrayLike, dtype: Any) -> npt.NDArray[Any]:
    array = np.array(value, dtype=dtype)
    array.setflags(write=False)
    return array


def _is_power_of_two(values: FloatArray) -> bool:
    """Whether every value is a positive power of two (exactly)."""
    if not (values > 0).all() or not np.isfinite(values).all():
        return False
    mantissa, _ = np.frexp(values)
    return bool((mantissa == 0.5).all())


def _uniform(values: npt.NDArray[Any]) -> bool:
    return values.size == 0 or bool((values == values.flat[0]).all())


@dataclass(frozen=True, eq=False)
class UniformQuantizer:
    """An integer grid with scale and zero point (see the module docstring for the semantics)."""

    bits: npt.NDArray[np.int64]
    """Bit width of the integer codes, sign included (broadcast; 0 gives the value 0)."""
    signed: npt.NDArray[np.bool_]
    """Whether the codes are two's complement signed (broadcast; HGQ's keep_negative)."""
    scale: FloatArray = field(default_factory=lambda: _as_array(1.0, np.float64))
    """Value of one code step (broadcast; positive)."""
    zero_point: FloatArray = field(default_factory=lambda: _as_array(0.0, np.float64))
    """Code that represents the value 0 (broadcast; integer valued)."""
    narrow: bool = False
    """Drop the most negative code of a signed range (symmetric range; QKeras symmetric=1) or the
    largest code of an unsigned one (QONNX narrow unsigned)."""
    rounding: Rounding = Rounding.RND_CONV
    overflow: QuantOverflow = QuantOverflow.SAT

    @staticmethod
    def make(
        bits: npt.ArrayLike,
        signed: npt.ArrayLike = True,
        scale: npt.ArrayLike = 1.0,
        zero_point: npt.ArrayLike = 0.0,
        narrow: bool = False,
        rounding: Rounding = Rounding.RND_CONV,
        overflow: QuantOverflow = QuantOverflow.SAT,
    ) -> UniformQuantizer:
        """A validated quantizer from array-likes (QuantizerError names a bad parameter)."""
        q = UniformQuantizer(
            _as_array(bits, np.int64),
            _as_array(signed, np.bool_),
            _as_array(scale, np.float64),
            _as_array(zero_point, np.float64),
            bool(narrow),
            Rounding(rounding),
            QuantOverflow(overflow),
        )
        q.check()
        return q

    def check(self) -> None:
        if (self.bits < 0).any() or (self.bits > 64).any():
            raise QuantizerError(f"bit width must be between 0 and 64, got {self.bits.tolist()}")
        if not (np.isfinite(self.scale).all() and (self.scale > 0).all()):
            raise QuantizerError(f"scale must be positive and finite, got {self.scale.tolist()}")
        zp = self.zero_point
        if not (np.isfinite(zp).all() and (zp == np.round(zp)).all()):
            raise QuantizerError(f"zero point must be an integer, got {zp.tolist()}")
        try:
            np.broadcast_shapes(
                self.bits.shape, self.signed.shape, self.scale.shape, self.zero_point.shape
            )
        except ValueError as e:
            raise QuantizerError(f"parameter shapes do not broadcast: {e}") from e

    # ----- integer range ------------------------------------------------------------------------
    def code_range(self) -> tuple[FloatArray, FloatArray]:
        """Smallest and largest integer code (broadcast arrays, float64 for exact arithmetic)."""
        bits = self.bits.astype(np.float64)
        high = np.where(self.signed, np.exp2(bits - 1) - 1, np.exp2(bits) - 1)
        low = np.where(self.signed, -np.exp2(bits - 1), 0.0)
        if self.narrow:
            low = np.where(self.signed, low + 1, low)
            high = np.where(self.signed, high, high - 1)
        zero = self.bits == 0
        return np.where(zero, 0.0, low), np.where(zero, 0.0, high)

    def value_range(self) -> tuple[FloatArray, FloatArray]:
        """Smallest and largest value the quantizer outputs (broadcast arrays)."""
        low, high = self.code_range()
        return (low - self.zero_point) * self.scale, (high - self.zero_point) * self.scale

    # ----- semantics ------------------------------------------------------------------------------
    def codes(self, x: npt.ArrayLike) -> FloatArray:
        """Integer codes of x (float64 array)."""
        y = np.asarray(x, dtype=np.float64) / self.scale + self.zero_point
        q = round_with(y, self.rounding)
        low, high = self.code_range()
        if self.overflow is QuantOverflow.SAT:
            q = np.clip(q, low, high)
        else:  # q is integer valued, so the float modulo is exact; 2**1024 (inf) wraps to 0
            span = high - low + 1
            with np.errstate(invalid="ignore"):
                r = np.where(np.isfinite(q), np.mod(q, np.maximum(span, 1)), 0.0)
            q = np.where(r > high, r - span, r)
        return np.where(self.bits == 0, self.zero_point, q)

    def __call__(self, x: npt.ArrayLike) -> FloatArray:
        """Quantized values of x (float64; exact whenever x / scale is, e.g. power-of-two scales)."""
        return (self.codes(x) - self.zero_point) * self.scale

    # ----- fixed-point view -----------------------------------------------------------------------
    @property
    def power_of_two(self) -> bool:
        """Whether every scale is a power of two and every zero point is 0."""
        return _is_power_of_two(self.scale) and bool((self.zero_point == 0).all())

    @property
    def homogeneous(self) -> bool:
        """One scale, bit width and signedness for the whole tensor."""
        return _uniform(self.scale) and _uniform(self.bits) and _uniform(self.signed)

    def fixed_precision(self) -> FixedPrecision | None:
        """The ap_fixed type whose conversion from a float equals this quantizer, if any.

        Needs a homogeneous power-of-two quantizer with zero point 0, an ap rounding mode and not
        the narrow unsigned range (no ap mode drops the top code).
        """
        if not (self.power_of_two and self.homogeneous) or self.rounding is Rounding.CEIL:
            return None
        bits, signed = int(self.bits.flat[0]), bool(self.signed.flat[0])
        if bits == 0 or (self.narrow and not signed):
            return None
        exponent = int(np.frexp(self.scale.flat[0])[1]) - 1  # scale = 2**exponent
        overflow = Overflow.WRAP
        if self.overflow is QuantOverflow.SAT:
            overflow = Overflow.SAT_SYM if self.narrow and signed else Overflow.SAT
        elif self.narrow:
            return None
        return FixedPrecision(bits, bits + exponent, signed, Quant(self.rounding.value), overflow)

    def element_precisions(
        self, shape: tuple[int, ...]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Per element (width, integer bits, signed) for a power-of-two quantizer of `shape`."""
        if not self.power_of_two:
            raise QuantizerError("only a power-of-two quantizer with zero point 0 is a fixed type")
        bits = np.broadcast_to(self.bits, shape)
        exponent = np.frexp(np.broadcast_to(self.scale, shape))[1].astype(np.int64) - 1
        return bits, bits + exponent, np.broadcast_to(self.signed, shape)

    def envelope_precision(self, shape: tuple[int, ...]) -> FixedPrecision | None:
        """The narrowest ap_fixed type holding every value of this power-of-two quantizer (a
        per-element or per-channel one included); None when every element has 0 bits."""
        bits, integer, signed = self.element_precisions(shape)
        live = bits > 0
        if not live.any():
            return None
        any_signed = bool(signed[live].any())
        # Integer bits excluding the sign, and fractional bits, each at their maximum.
        magnitude_int = int((integer - signed)[live].max())
        frac = int((bits - integer)[live].max())
        width = magnitude_int + frac + int(any_signed)
        if width <= 0:  # every value below one LSB of any other: keep one bit
            width, frac = 1, frac
        return FixedPrecision(width, width - frac, any_signed)


@dataclass(frozen=True, eq=False)
class BinaryQuantizer:
    """y = scale where x >= 0 (x > 0 when not `zero_positive`), else -scale (0 with zero_one)."""

    scale: FloatArray = field(default_factory=lambda: _as_array(1.0, np.float64))
    zero_one: bool = False
    zero_positive: bool = True
    """Where 0 goes: +scale (QONNX BipolarQuant, QKeras binary) or the low level (the old Keras
    binary_tanh, 2 * round(hard_sigmoid(x)) - 1, rounds 0.5 to even)."""

    def __call__(self, x: npt.ArrayLike) -> FloatArray:
        xs = np.asarray(x, dtype=np.float64)
        low = 0.0 if self.zero_one else -1.0
        high = xs >= 0 if self.zero_positive else xs > 0
        return np.where(high, 1.0, low) * self.scale


@dataclass(frozen=True, eq=False)
class TernaryQuantizer:
    """y = scale where x >= threshold, -scale where x <= -threshold, else 0.

    `upper_inclusive` / `lower_inclusive` say whether x == +-threshold reaches the outer level
    (QKeras ternary: both; the old Keras ternarize: x > t and x <= -t).
    """

    threshold: float
    scale: FloatArray = field(default_factory=lambda: _as_array(1.0, np.float64))
    upper_inclusive: bool = True
    lower_inclusive: bool = True

    def __call__(self, x: npt.ArrayLike) -> FloatArray:
        xs = np.asarray(x, dtype=np.float64)
        t = self.threshold
        up = xs >= t if self.upper_inclusive else xs > t
        down = xs <= -t if self.lower_inclusive else xs < -t
        return np.where(up, 1.0, np.where(down, -1.0, 0.0)) * self.scale


@dataclass(frozen=True, eq=False)
class Po2Quantizer:
    """y = sign(x) * 2**clip(round(log2 |x|), min_exp, max_exp); sign(0) = +1.

    `max_value` clips |x| first; |x| < `zero_below` gives 2**min_exp (QKeras's epsilon); with
    `relu`, negative x give 2**(exponent of slope * |x|) negated, or 2**min_exp when the slope is 0
    (QKeras quantized_relu_po2). log2 is rounded exactly: up from 2**(k + 1/2) on.
    """

    min_exp: int
    max_exp: int
    max_value: float | None = None
    zero_below: float = 0.0
    relu: bool = False
    negative_slope: float = 0.0

    def exponents(self, magnitude: FloatArray) -> FloatArray:
        a = magnitude if self.max_value is None else np.minimum(magnitude, self.max_value)
        safe = np.where(a > 0, a, 1.0)
        mantissa, exp = np.frexp(safe)  # safe = mantissa * 2**exp, mantissa in [0.5, 1)
        # round(log2(a)) = exp - 1 + (mantissa * 2 >= sqrt(2)); mantissa**2 * 2 >= 1 is exact-ish:
        # compare the squared mantissa in float64 (exact for float32 inputs).
        up = (mantissa.astype(np.float64) ** 2) * 2.0 >= 1.0
        e = exp.astype(np.float64) - 1.0 + up
        e = np.clip(e, self.min_exp, self.max_exp)
        return np.where(magnitude < self.zero_below, float(self.min_exp), e)

    def __call__(self, x: npt.ArrayLike) -> FloatArray:
        xs = np.asarray(x, dtype=np.float64)
        if not self.relu:
            sign = np.where(xs >= 0, 1.0, -1.0)
            return sign * np.exp2(self.exponents(np.abs(xs)))
        positive = np.exp2(self.exponents(np.maximum(xs, 0.0)))
        if self.negative_slope == 0.0:
            return positive
        negative = -np.exp2(self.exponents(np.maximum(-xs, 0.0) * self.negative_slope))
        return np.where(xs >= 0, positive, negative)

    def values(self) -> FloatArray:
        """Every magnitude the quantizer can output (powers of two), ascending."""
        return np.exp2(np.arange(self.min_exp, self.max_exp + 1, dtype=np.float64))


AnyQuantizer = UniformQuantizer | BinaryQuantizer | TernaryQuantizer | Po2Quantizer


def exponent_of_power_of_two(value: float) -> int | None:
    """k when value == 2**k exactly, else None."""
    if not (value > 0 and math.isfinite(value)):
        return None
    mantissa, exp = math.frexp(value)
    return exp - 1 if mantissa == 0.5 else None


def exact_precision(values: npt.ArrayLike) -> FixedPrecision | None:
    """The narrowest ap_fixed type holding every value exactly (quantized weights and biases).

    None when some value is not a finite dyadic rational of at most 53 significant bits (a float
    that no fixed-point type holds exactly within MAX_WIDTH bits) or all values are zero.
    """
    xs = np.asarray(values, dtype=np.float64).reshape(-1)
    if xs.size == 0 or not np.isfinite(xs).all():
        return None
    nonzero = xs[xs != 0]
    if nonzero.size == 0:
        return None
    mantissa, exponent = np.frexp(nonzero)  # x = mantissa * 2**exponent, 0.5 <= |mantissa| < 1
    # Fractional bits each value needs: strip trailing zero bits of its 53-bit mantissa.
    ints = np.abs(np.ldexp(mantissa, 53)).astype(np.int64)
    trailing = np.zeros(ints.shape, dtype=np.int64)
    rest = ints.copy()
    for shift in (32, 16, 8, 4, 2, 1):
        zero = (rest & ((1 << shift) - 1)) == 0
        trailing += np.where(zero, shift, 0)
        rest = np.where(zero, rest >> shift, rest)
    frac = int((53 - exponent.astype(np.int64) - trailing).max())
    signed = bool((xs < 0).any())
    # Integer bits (sign excluded) for the largest magnitude, and for the most negative value,
    # which a two's complement type holds one bit cheaper when it is a power of two.
    high = float(xs.max())
    low = float(xs.min())
    magnitude = 0
    if high > 0:
        magnitude = max(magnitude, int(np.floor(np.log2(high))) + 1)
    if low < 0:
        magnitude = max(magnitude, int(np.ceil(np.log2(-low))))
    width = magnitude + frac + int(signed)
    if width < 1 or width > 1024:
        return None
    return FixedPrecision(width, width - frac, signed)


# ----- monotone step functions on a fixed-point grid -------------------------------------------------

StepFunction = Callable[[npt.NDArray[np.float64], npt.NDArray[np.int64]], FloatArray]
"""f(values, channels): a monotone (non-decreasing or non-increasing) step function per channel."""


def step_breakpoints(
    f: StepFunction, t: FixedPrecision, channels: int
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """Where a monotone step function changes value over every value of the type t, per channel.

    Returns (thresholds, levels): thresholds[c, k] is the mantissa (of t) of the first grid value
    of level k + 1, ascending, and levels[c, k] the function's value from thresholds[c, k - 1] on
    (levels[c, 0] from t's smallest value), so that

        f(x, c) == levels[c, #{k : mantissa(x) >= thresholds[c, k]}]

    for every value x of t. Channels with fewer steps repeat their last threshold and level (the
    count then skips levels nobody reaches). Bisection on the mantissas: exact for any monotone f,
    about log2(range) evaluations per step, all channels at once. Beyond 53 bits f sees each
    value rounded to the nearest float64 (as a framework computing in float64 would; rounding is
    monotone, so the thresholds stay exact for that function).
    """
    if t.width > 62:
        raise QuantizerError(f"thresholds need an input type of at most 62 bits, got {t}")
    scale = 2.0 ** -t.fractional

    def at(m: npt.NDArray[np.int64], c: npt.NDArray[np.int64]) -> FloatArray:
        return np.asarray(f(m.astype(np.float64) * scale, c), dtype=np.float64)

    chan = np.arange(channels, dtype=np.int64)
    lo = np.full(channels, t.min_mantissa, dtype=np.int64)
    hi = np.full(channels, t.max_mantissa, dtype=np.int64)
    first = at(lo, chan)
    # Open intervals (c, a, b) with f(a) != f(b): a step lies in (a, b].
    c, a, b = chan, lo, hi
    fa, fb = first, at(hi, chan)
    found_c: list[npt.NDArray[np.int64]] = []
    found_m: list[npt.NDArray[np.int64]] = []
    while c.size:
        open_ = fa != fb
        c, a, b, fa, fb = c[open_], a[open_], b[open_], fa[open_], fb[open_]
        done = b - a == 1
        found_c.append(c[done])
        found_m.append(b[done])
        c, a, b, fa, fb = c[~done], a[~done], b[~done], fa[~done], fb[~done]
        mid = a + (b - a) // 2
        fm = at(mid, c)
        c, a, b = np.concatenate([c, c]), np.concatenate([a, mid]), np.concatenate([mid, b])
        fa, fb = np.concatenate([fa, fm]), np.concatenate([fm, fb])
    steps_c = np.concatenate(found_c) if found_c else np.zeros(0, np.int64)
    steps_m = np.concatenate(found_m) if found_m else np.zeros(0, np.int64)
    per_channel = [np.sort(steps_m[steps_c == k]) for k in range(channels)]
    n = max(max((s.size for s in per_channel), default=0), 1)  # C++ arrays are never empty
    thresholds = np.full((channels, n), t.min_mantissa, dtype=np.int64)
    levels = np.repeat(first[:, None], n + 1, axis=1)
    for k, steps in enumerate(per_channel):
        if steps.size == 0:
            continue
        values = at(steps, np.full(steps.size, k, dtype=np.int64))
        thresholds[k, : steps.size] = steps
        thresholds[k, steps.size :] = steps[-1]
        levels[k, 1 : steps.size + 1] = values
        levels[k, steps.size + 1 :] = values[-1]
    return thresholds, levels
