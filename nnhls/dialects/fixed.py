"""The fixed-point number type shared by the whole compiler.

`FixedPrecision` describes one `ap_fixed` / `ap_ufixed` / `ap_int` / `ap_uint` type: total width W,
integer bits I (sign included for signed types), signedness, quantization mode, overflow mode and
saturation bits. It is plain Python (no xDSL), so the config validator, precision inference, the
`!hls.fixed` type verifier, the numpy emulator and codegen all read the same rules.

Precision strings follow the spelling hls4ml users write in their configs:

    fixed<16,6>   ufixed<8,3>   int<8>   uint<4>   ap_fixed<18,8,AP_RND,AP_SAT>   fixed<16, 6, rnd_conv, sat, 0>

The `ap_` prefix is optional, spaces are allowed, and mode names may be given with or without `AP_`
in any case.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

from nnhls.errors import PrecisionError

MAX_WIDTH = 1024
"""The widest type a model may declare: the vendor library's default limit (AP_INT_MAX_W)."""

MAX_OPERATOR_WIDTH = 32768
"""The widest full-precision operator result (e.g. the 2048-bit product of two 1024-bit values).
The vendor's C++ accepts intermediates this wide (its absolute ceiling); so do our headers."""


class Quant(str, Enum):  # noqa: UP042 (str() spelling relied upon elsewhere)
    """Quantization (rounding) modes of ap_fixed, applied when fractional bits are dropped."""

    TRN = "TRN"
    """Truncate towards minus infinity (the default)."""
    TRN_ZERO = "TRN_ZERO"
    """Truncate towards zero."""
    RND = "RND"
    """Round to nearest, ties towards plus infinity."""
    RND_ZERO = "RND_ZERO"
    """Round to nearest, ties towards zero."""
    RND_INF = "RND_INF"
    """Round to nearest, ties away from zero."""
    RND_MIN_INF = "RND_MIN_INF"
    """Round to nearest, ties towards minus infinity."""
    RND_CONV = "RND_CONV"
    """Round to nearest, ties to even (convergent rounding)."""


class Overflow(str, Enum):  # noqa: UP042
    """Overflow modes of ap_fixed, applied when integer bits are dropped."""

    WRAP = "WRAP"
    """Keep the low bits (two's complement wrap-around), optionally saturating N high bits."""
    SAT = "SAT"
    """Saturate to the minimum or maximum value."""
    SAT_ZERO = "SAT_ZERO"
    """Set the result to zero on overflow."""
    SAT_SYM = "SAT_SYM"
    """Saturate symmetrically: the minimum of a signed type is -max instead of -max - 1."""


@dataclass(frozen=True)
class FixedPrecision:
    """An arbitrary-precision fixed-point or integer type, as the vendor's ap types define it."""

    width: int
    """Total number of bits W (1 to 1024)."""
    integer: int
    """Integer bits I, sign included for signed types; may exceed W or be zero or negative."""
    signed: bool = True
    rounding: Quant = Quant.TRN
    overflow: Overflow = Overflow.WRAP
    sat_bits: int = 0
    """Number of saturated high bits in WRAP mode (the vendor's N parameter)."""
    is_int: bool = False
    """Spelled as an integer type (ap_int / ap_uint); then integer == width."""

    def __post_init__(self) -> None:
        check_precision(self)

    # ----- construction -----------------------------------------------------------------------
    @staticmethod
    def integer_type(width: int, signed: bool = True) -> FixedPrecision:
        """ap_int<W> (signed) or ap_uint<W>."""
        return FixedPrecision(width, width, signed, is_int=True)

    def with_modes(
        self,
        rounding: Quant | None = None,
        overflow: Overflow | None = None,
        sat_bits: int | None = None,
    ) -> FixedPrecision:
        """The same width and integer bits with other quantization / overflow settings."""
        new = replace(
            self,
            rounding=self.rounding if rounding is None else rounding,
            overflow=self.overflow if overflow is None else overflow,
            sat_bits=self.sat_bits if sat_bits is None else sat_bits,
        )
        if new.is_int and new.has_modes:
            return replace(new, is_int=False)
        return new

    # ----- numeric properties -----------------------------------------------------------------
    @property
    def fractional(self) -> int:
        """Fractional bits F = W - I (negative when I > W)."""
        return self.width - self.integer

    @property
    def step(self) -> float:
        """Value of one least significant bit."""
        return 2.0 ** (-self.fractional)

    @property
    def min_mantissa(self) -> int:
        """Smallest raw integer (value / step) the type holds."""
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_mantissa(self) -> int:
        """Largest raw integer (value / step) the type holds."""
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def min_value(self) -> float:
        return self.min_mantissa * self.step

    @property
    def max_value(self) -> float:
        return self.max_mantissa * self.step

    @property
    def has_modes(self) -> bool:
        """Whether any quantization / overflow setting differs from the default TRN, WRAP, 0."""
        return (self.rounding, self.overflow, self.sat_bits) != (Quant.TRN, Overflow.WRAP, 0)

    # ----- spelling -----------------------------------------------------------------------------
    def cpp(self) -> str:
        """The C++ type: `ap_fixed<16,6>`, `ap_uint<8>`, `ap_fixed<18,8,AP_RND,AP_SAT,0>`."""
        prefix = "" if self.signed else "u"
        if self.is_int:
            return f"ap_{prefix}int<{self.width}>"
        args = f"{self.width},{self.integer}"
        if self.has_modes:
            args += f",AP_{self.rounding.value},AP_{self.overflow.value},{self.sat_bits}"
        return f"ap_{prefix}fixed<{args}>"

    def __str__(self) -> str:
        """The config spelling: `fixed<16,6>`, `uint<8>`, `fixed<18,8,RND,SAT>`."""
        prefix = "" if self.signed else "u"
        if self.is_int:
            return f"{prefix}int<{self.width}>"
        args = f"{self.width},{self.integer}"
        if self.has_modes:
            args += f",{self.rounding.value},{self.overflow.value}"
            if self.sat_bits:
                args += f",{self.sat_bits}"
        return f"{prefix}fixed<{args}>"


def check_precision(p: FixedPrecision) -> None:
    """Raise PrecisionError for a type the vendor library cannot express, even as an operator's
    intermediate result (declared types are checked further by check_declared)."""
    if p.width < 1:
        raise PrecisionError(f"width must be between 1 and {MAX_WIDTH}, got {p.width}")
    if p.width > MAX_OPERATOR_WIDTH:
        raise PrecisionError(
            f"a {p.width}-bit result exceeds the {MAX_OPERATOR_WIDTH}-bit limit of the ap types"
        )
    if p.sat_bits < 0 or p.sat_bits > p.width:
        raise PrecisionError(
            f"saturation bits must be between 0 and the width {p.width}, got {p.sat_bits}"
        )
    if p.is_int and p.integer != p.width:
        raise PrecisionError("an integer type has as many integer bits as its width")


def check_declared(p: FixedPrecision) -> FixedPrecision:
    """p itself, or PrecisionError when p is wider than a model may declare (MAX_WIDTH)."""
    if p.width > MAX_WIDTH:
        raise PrecisionError(f"width must be between 1 and {MAX_WIDTH}, got {p.width}")
    return p


_QUANT_NAMES = {q.value for q in Quant}
_OVERFLOW_NAMES = {o.value for o in Overflow}
_PRECISION_RE = re.compile(r"^\s*(ap_)?(u?)(fixed|int)\s*<(.*)>\s*$", re.IGNORECASE)

_AC_RE = re.compile(r"^\s*ac_(fixed|int)\s*<(.*)>\s*$", re.IGNORECASE)

ACCEPTED_SPELLINGS = (
    "fixed<W,I>, ufixed<W,I>, int<W>, uint<W> (optionally ap_ prefixed, with quantization, overflow "
    "and saturation bits: fixed<W,I,RND,SAT,0>), ac_fixed<W,I[,S[,Q[,O]]]>, ac_int<W[,S]>"
)

_AC_QUANT = {f"AC_{q.value}": q for q in Quant}
_AC_OVERFLOW = {f"AC_{o.value}": o for o in Overflow}
_AC_SIGNED = {"true": True, "1": True, "false": False, "0": False}


def _parse_ac(text: str, kind: str, fields: list[str]) -> FixedPrecision:
    """`ac_fixed<W,I,S,Q,O>` / `ac_int<W,S>` (Algorithmic C types) as the ap type that holds exactly
    the same values with the same quantization and overflow behaviour. S (signed) defaults to true,
    Q to AC_TRN, O to AC_WRAP; AC_RND_CONV_ODD has no ap counterpart and is refused."""
    n_numbers = 1 if kind == "int" else 2
    if not n_numbers <= len(fields) <= n_numbers + (1 if kind == "int" else 3):
        raise PrecisionError(f"cannot read precision '{text}': expected {ACCEPTED_SPELLINGS}")
    try:
        numbers = [int(f) for f in fields[:n_numbers]]
    except ValueError:
        raise PrecisionError(f"cannot read precision '{text}': width and integer bits must be integers") from None
    signed = True
    if len(fields) > n_numbers:
        flag = fields[n_numbers].lower()
        if flag not in _AC_SIGNED:
            raise PrecisionError(f"cannot read precision '{text}': the signedness field must be true or false, got '{fields[n_numbers]}'")
        signed = _AC_SIGNED[flag]
    if kind == "int":
        return FixedPrecision(numbers[0], numbers[0], signed, is_int=True)
    modes = [f.upper() for f in fields[3:]]
    if modes and modes[0] == "AC_RND_CONV_ODD":
        raise PrecisionError(f"'{text}': AC_RND_CONV_ODD (round half to odd) has no ap_fixed counterpart; use AC_RND_CONV")
    if modes and modes[0] not in _AC_QUANT:
        raise PrecisionError(f"unknown quantization mode '{fields[3]}' in '{text}'; accepted: {', '.join(sorted(_AC_QUANT))}")
    if len(modes) > 1 and modes[1] not in _AC_OVERFLOW:
        raise PrecisionError(f"unknown overflow mode '{fields[4]}' in '{text}'; accepted: {', '.join(sorted(_AC_OVERFLOW))}")
    rounding = _AC_QUANT[modes[0]] if modes else Quant.TRN
    overflow = _AC_OVERFLOW[modes[1]] if len(modes) > 1 else Overflow.WRAP
    return FixedPrecision(numbers[0], numbers[1], signed, rounding, overflow)


def _mode_name(text: str) -> str:
    name = text.strip().upper()
    return name[3:] if name.startswith("AP_") else name


def parse_precision(text: str) -> FixedPrecision:
    """Parse a precision string such as `fixed<16,6>`, `ap_ufixed<8, 3, AP_RND, AP_SAT>` or
    `ac_fixed<8,3,false,AC_RND,AC_SAT>`."""
    ac = _AC_RE.match(text)
    if ac is not None:
        return _parse_ac(text, ac.group(1).lower(), [f.strip() for f in ac.group(2).split(",")])
    match = _PRECISION_RE.match(text)
    if match is None:
        raise PrecisionError(f"cannot read precision '{text}': expected {ACCEPTED_SPELLINGS}")
    unsigned, kind, body = match.group(2), match.group(3).lower(), match.group(4)
    fields = [f.strip() for f in body.split(",")]
    n_numbers = 1 if kind == "int" else 2
    if len(fields) < n_numbers or (kind == "int" and len(fields) != 1) or len(fields) > 5:
        raise PrecisionError(f"cannot read precision '{text}': expected {ACCEPTED_SPELLINGS}")
    try:
        if not all(re.fullmatch(r"-?[0-9]+", f) for f in fields[:n_numbers]):
            raise ValueError  # int() would take '1_6', ' 16 ' or '١٦'
        numbers = [int(f) for f in fields[:n_numbers]]
    except ValueError:
        raise PrecisionError(
            f"cannot read precision '{text}': width and integer bits must be integers"
        ) from None
    signed = unsigned == ""
    if kind == "int":
        return check_declared(FixedPrecision(numbers[0], numbers[0], signed, is_int=True))
    rounding, overflow, sat_bits = Quant.TRN, Overflow.WRAP, 0
    if len(fields) >= 3:
        name = _mode_name(fields[2])
        if name not in _QUANT_NAMES:
            raise PrecisionError(
                f"unknown quantization mode '{fields[2]}' in '{text}'; accepted: "
                + ", ".join(sorted(_QUANT_NAMES))
            )
        rounding = Quant(name)
    if len(fields) >= 4:
        name = _mode_name(fields[3])
        if name not in _OVERFLOW_NAMES:
            raise PrecisionError(
                f"unknown overflow mode '{fields[3]}' in '{text}'; accepted: "
                + ", ".join(sorted(_OVERFLOW_NAMES))
            )
        overflow = Overflow(name)
    if len(fields) == 5:
        try:
            sat_bits = int(fields[4])
        except ValueError:
            raise PrecisionError(
                f"saturation bits must be an integer in '{text}', got '{fields[4]}'"
            ) from None
    return check_declared(
        FixedPrecision(numbers[0], numbers[1], signed, rounding, overflow, sat_bits)
    )


# ================================================================================================
# Numpy twin of the C++ ap types (nnhls/hls_lib/ap_types): bit-exact quantization and arithmetic.
#
# A value of type p is a raw integer mantissa m with value m * 2**-p.fractional. Converting an
# exact value x * 2**-F_src to p follows the same three steps as the C++ headers:
#   1. align the binary point (shift by d = F_dst - F_src);
#   2. quantize: when bits are dropped, the floor is incremented by one LSB depending on the mode,
#      the first dropped bit (qb), whether any bit below it is set (r), the sign and the parity;
#   3. overflow: if the rounded value is out of range (or is the minimum under SAT_SYM), saturate,
#      zero, or wrap (optionally forcing the N top bits), as the vendor documents.
# Integer types (ap_int / ap_uint) convert like C: a value with fractional bits (a double or an
# ap_fixed) truncates towards zero, then wraps; ap_fixed<W, W> keeps its own quantization mode (TRN:
# towards minus infinity). Widths up to FAST_WIDTH run vectorised on int64; wider types run exactly
# on Python ints (object arrays).
# ================================================================================================

FAST_WIDTH = 62
"""Widest type handled on the int64 fast path (results and sources must fit with headroom)."""

_DOUBLE_BITS = 53
"""Bits of a float64 mantissa (|m| < 2**53 after splitting a double into m * 2**e)."""


def _round_up_int(q: Quant, qb: bool, r: bool, neg: bool, odd: bool) -> bool:
    """Whether dropping bits rounds the floor up by one LSB (scalar twin of apx::round_up)."""
    if q is Quant.TRN:
        return False
    if q is Quant.TRN_ZERO:
        return neg and (qb or r)
    if q is Quant.RND:
        return qb
    if q is Quant.RND_ZERO:
        return qb and (r or neg)
    if q is Quant.RND_MIN_INF:
        return qb and r
    if q is Quant.RND_INF:
        return qb and (r or not neg)
    return qb and (r or odd)  # RND_CONV: ties to even


def _wrap_int(y: int, width: int, signed: bool) -> int:
    """Keep the low `width` bits of y, read as two's complement when signed."""
    low = y & ((1 << width) - 1)
    if signed and low >> (width - 1):
        return low - (1 << width)
    return low


def _overflow_int(y: int, p: FixedPrecision) -> int:
    """Apply p's overflow mode to the exact rounded mantissa y."""
    w = _wrap_int(y, p.width, p.signed)
    sym_min = p.overflow is Overflow.SAT_SYM and p.signed and y == p.min_mantissa
    if w == y and not sym_min:
        return w
    if p.overflow is Overflow.SAT_ZERO:
        return 0
    if p.overflow in (Overflow.SAT, Overflow.SAT_SYM):
        if y > p.max_mantissa:
            return p.max_mantissa
        if not p.signed:
            return 0
        if p.overflow is Overflow.SAT_SYM:
            return _wrap_int(p.min_mantissa | 1, p.width, True)  # -max (W = 1: -1, like the vendor)
        return p.min_mantissa
    return _wrap_sat_bits_int(w, y < 0, p)


def _wrap_sat_bits_int(w: int, neg: bool, p: FixedPrecision) -> int:
    """WRAP with N saturation bits: force the N top bits (sign of the value, then its complement)."""
    n = min(p.sat_bits, p.width)
    if n == 0:
        return w
    width = p.width
    u = w & ((1 << width) - 1)
    if p.signed:
        top = 1 << (width - 1)
        u = (u | top) if neg else (u & ~top)
        middle = ((1 << (n - 1)) - 1) << (width - n)
        u = (u & ~middle) if neg else (u | middle)
    else:
        u |= ((1 << n) - 1) << (width - n)
    return _wrap_int(u, width, p.signed)


def conversion_target(p: FixedPrecision) -> FixedPrecision:
    """The type whose quantization rules a conversion into p follows: p itself, except that an
    ap_int / ap_uint drops fractional bits towards zero (as the vendor's library does, like C's
    double -> int), where the same-shaped ap_fixed<W, W> would truncate towards minus infinity."""
    if not p.is_int:
        return p
    return FixedPrecision(p.width, p.width, p.signed, Quant.TRN_ZERO)


def convert_int(x: int, shift: int, p: FixedPrecision) -> int:
    """Exact conversion of the value x * 2**(shift - p.fractional) to a mantissa of type p.

    `shift` is F_dst - F_src: positive shifts add fractional bits, negative ones drop bits
    (quantized with p.rounding) before the overflow handling.
    """
    p = conversion_target(p)
    if shift >= 0:
        return _overflow_int(x << shift, p)
    s = -shift
    y = x >> s
    qb = bool((x >> (s - 1)) & 1)
    r = (x & ((1 << (s - 1)) - 1)) != 0
    if _round_up_int(p.rounding, qb, r, x < 0, bool(y & 1)):
        y += 1
    return _overflow_int(y, p)


def _split_double(x: float) -> tuple[int, int]:
    """Split a double into (m, e) with value m * 2**e; infinities and NaN read as ±2**1024."""
    if not math.isfinite(x):
        return (-(1 << 52) if math.copysign(1.0, x) < 0 else 1 << 52), 972
    frac, exp = math.frexp(x)
    return int(frac * (1 << _DOUBLE_BITS)), exp - _DOUBLE_BITS


# ----- vectorised int64 path ----------------------------------------------------------------------
IntArray = npt.NDArray[np.int64]


def _round_up_vec(
    q: Quant,
    qb: npt.NDArray[np.bool_],
    r: npt.NDArray[np.bool_],
    neg: npt.NDArray[np.bool_],
    odd: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """Vectorised twin of _round_up_int."""
    if q is Quant.TRN:
        return np.zeros_like(qb)
    if q is Quant.TRN_ZERO:
        return neg & (qb | r)
    if q is Quant.RND:
        return qb
    if q is Quant.RND_ZERO:
        return qb & (r | neg)
    if q is Quant.RND_MIN_INF:
        return qb & r
    if q is Quant.RND_INF:
        return qb & (r | ~neg)
    return qb & (r | odd)


def _sign_extend_vec(u: npt.NDArray[np.uint64], width: int, signed: bool) -> IntArray:
    """Low `width` bits of u as int64 (two's complement when signed)."""
    low = (u & np.uint64((1 << width) - 1)).astype(np.int64)
    if signed:
        low = np.where(low >= (1 << (width - 1)), low - (1 << width), low)
    return low


def _convert_vec(x: IntArray, shift: IntArray, xbits: int, p: FixedPrecision) -> IntArray:
    """Vectorised convert_int for p.width <= FAST_WIDTH and |x| < 2**xbits <= 2**62."""
    x = np.asarray(x, dtype=np.int64)
    if np.ndim(shift) == 0:
        uniform = _convert_uniform(x, int(shift), xbits, p)
        if uniform is not None:
            return uniform
    shift = np.broadcast_to(np.asarray(shift, dtype=np.int64), x.shape)
    left = shift >= 0
    # Left shifts: exact while the result stays below 2**62, otherwise certainly out of range
    # (`big`), and then only the low bits matter (for WRAP).
    ls = np.where(left, np.minimum(shift, 63), 0)
    limit = np.left_shift(np.int64(1), np.maximum(62 - ls, 0))
    big = left & (x != 0) & (np.abs(x) >= limit)
    y_left = np.where(big, 0, np.left_shift(x, ls))
    low_big = np.where(
        shift >= 64, np.uint64(0), np.left_shift(x.view(np.uint64), ls.astype(np.uint64))
    )
    # Right shifts: quantize (beyond xbits + 1 the dropped part keeps its class).
    s = np.where(left, 1, np.minimum(-shift, xbits + 1))
    floor = np.right_shift(x, s)
    qb = (np.right_shift(x, s - 1) & 1) != 0
    r = (x & (np.left_shift(np.int64(1), s - 1) - 1)) != 0
    inc = _round_up_vec(p.rounding, qb, r, x < 0, (floor & 1) != 0)
    y = np.where(left, y_left, floor + inc)
    low = np.where(big, low_big, y.view(np.uint64))
    return _overflow_vec(y, big, low, x < 0, p)


def _convert_uniform(x: IntArray, shift: int, xbits: int, p: FixedPrecision) -> IntArray | None:
    """_convert_vec with one shift for every element (the casts of a kernel's products and
    accumulators): the same results with a few passes over the data instead of both branches'
    twenty, which made the numpy emulator of a wide conv layer take minutes. None when a left
    shift may leave int64 (the general path handles those values)."""
    if shift >= 0:
        lo, hi = (int(x.min()), int(x.max())) if x.size else (0, 0)
        if shift > 62 or max(-lo, hi) >= 1 << (62 - shift):
            return None
        y = np.left_shift(x, shift)
    else:
        s = min(-shift, xbits + 1)
        y = np.right_shift(x, s)
        if p.rounding is not Quant.TRN:
            qb = (np.right_shift(x, s - 1) & 1) != 0
            if p.rounding is Quant.RND:
                inc = qb
            else:
                r = (x & ((1 << (s - 1)) - 1)) != 0
                inc = _round_up_vec(p.rounding, qb, r, x < 0, (y & 1) != 0)
            y += inc
    low = p.min_mantissa + (p.overflow is Overflow.SAT_SYM and p.signed)
    if p.overflow in (Overflow.SAT, Overflow.SAT_SYM):
        return np.clip(y, low, p.max_mantissa)  # what _overflow_vec gives values within int64
    if y.size == 0 or (int(y.min()) >= low and int(y.max()) <= p.max_mantissa):
        return y
    return _overflow_vec(y, np.zeros(y.shape, dtype=bool), y.view(np.uint64), x < 0, p)


def _overflow_vec(
    y: IntArray,
    big: npt.NDArray[np.bool_],
    low: npt.NDArray[np.uint64],
    neg: npt.NDArray[np.bool_],
    p: FixedPrecision,
) -> IntArray:
    """Vectorised _overflow_int; `big` marks values beyond int64 whose low bits are in `low`."""
    width, signed = p.width, p.signed
    ok = ~big & (y >= p.min_mantissa) & (y <= p.max_mantissa)
    if p.overflow is Overflow.SAT_SYM and signed:
        ok &= y != p.min_mantissa
    if p.overflow is Overflow.SAT_ZERO:
        bad = np.zeros(y.shape, dtype=np.int64)
    elif p.overflow in (Overflow.SAT, Overflow.SAT_SYM):
        positive = (big & ~neg) | (~big & (y > p.max_mantissa))
        if not signed:
            negative_value = 0
        elif p.overflow is Overflow.SAT_SYM:
            negative_value = _wrap_int(p.min_mantissa | 1, width, True)
        else:
            negative_value = p.min_mantissa
        bad = np.where(positive, p.max_mantissa, negative_value).astype(np.int64)
    else:
        bad = _wrap_sat_bits_vec(low, neg, p)
    return np.where(ok, y, bad).astype(np.int64)


def _wrap_sat_bits_vec(
    low: npt.NDArray[np.uint64], neg: npt.NDArray[np.bool_], p: FixedPrecision
) -> IntArray:
    """Vectorised _wrap_sat_bits_int on the low bits."""
    n = min(p.sat_bits, p.width)
    width = p.width
    u = low & np.uint64((1 << width) - 1)
    if n == 0:
        return _sign_extend_vec(u, width, p.signed)
    if p.signed:
        top = np.uint64(1 << (width - 1))
        middle = np.uint64(((1 << (n - 1)) - 1) << (width - n))
        u = np.where(neg, (u | top) & ~middle, (u & ~top) | middle)
    else:
        u = u | np.uint64(((1 << n) - 1) << (width - n))
    return _sign_extend_vec(u.astype(np.uint64), width, p.signed)


# ----- public API ------------------------------------------------------------------------------------
def _split_doubles(x: npt.NDArray[np.float64]) -> tuple[IntArray, IntArray]:
    """Vectorised _split_double: m * 2**e == x with |m| < 2**53."""
    finite = np.isfinite(x)
    frac, exp = np.frexp(np.where(finite, x, 0.0))
    m = (frac * float(1 << _DOUBLE_BITS)).astype(np.int64)
    e = exp.astype(np.int64) - _DOUBLE_BITS
    huge = np.where(np.signbit(x), -(1 << 52), 1 << 52)
    return np.where(finite, m, huge), np.where(finite, e, 972)


def to_mantissa(x: npt.ArrayLike, p: FixedPrecision) -> npt.NDArray[Any]:
    """Quantize float values to raw mantissas of p, exactly as C++ `p_t y = (double)x;` does.

    Returns int64 for p.width <= FAST_WIDTH, else an object array of Python ints.
    """
    p = conversion_target(p)
    xs = np.asarray(x, dtype=np.float64)
    if p.width <= FAST_WIDTH:
        fast = _quantize_scaled(xs, p)
        if fast is not None:
            return fast
        m, e = _split_doubles(xs)
        return _convert_vec(m, e + p.fractional, _DOUBLE_BITS, p)
    # Wide types: one vectorised conversion per distinct binary exponent of the inputs.
    m, e = _split_doubles(xs.reshape(-1))
    out = np.empty(m.shape, dtype=object)
    for exponent in np.unique(e).tolist():
        sel = e == exponent
        out[sel] = convert_mantissas(m[sel], -exponent, p)
    return out.reshape(xs.shape)


def _quantize_scaled(xs: npt.NDArray[np.float64], p: FixedPrecision) -> IntArray | None:
    """to_mantissa by exact scaling: y = x * 2**F is exact (checked by the round trip), floor(y)
    and the comparisons with floor(y) + 0.5 are exact, so the rounding decision is too. None when
    some value is not finite, loses bits when scaled, or is too large for int64."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        y = np.ldexp(xs, p.fractional)
        if (
            xs.size == 0
            or not (np.abs(y) < 2.0**61).all()
            or not np.array_equal(np.ldexp(y, -p.fractional), xs)
        ):
            return None
    floor = np.floor(y)
    m = floor.astype(np.int64)
    if p.rounding is not Quant.TRN:
        exact = y == floor
        half = floor + 0.5
        qb = ~exact & (y >= half)
        r = ~exact & (y != half)
        m += _round_up_vec(p.rounding, qb, r, xs < 0, (m & 1) != 0)
    low = p.min_mantissa + (p.overflow is Overflow.SAT_SYM and p.signed)
    if int(m.min()) >= low and int(m.max()) <= p.max_mantissa:
        return m
    return _overflow_vec(m, np.zeros(m.shape, dtype=bool), m.view(np.uint64), xs < 0, p)


def saturating(t: FixedPrecision) -> FixedPrecision:
    """The rules a constant follows when it is quantized into t: t's rounding (towards zero for
    ap_int / ap_uint), and saturation at t's range whatever t's overflow mode (SAT_SYM stays
    symmetric). A constant is never wrapped: a weight of 40 in fixed<8,3> becomes the largest
    value of the type, not -24."""
    c = conversion_target(t)
    overflow = Overflow.SAT_SYM if c.overflow is Overflow.SAT_SYM else Overflow.SAT
    return replace(c, overflow=overflow, sat_bits=0)


def constant_mantissas(values: npt.ArrayLike, t: FixedPrecision) -> IntArray:
    """Float constants (weights, biases, scales, bounds, table entries...) as int64 mantissas of
    t, saturating (see `saturating`): the one rule every constant of a model follows, so the C++
    (which reads these mantissas) and the emulator see the same numbers."""
    return np.asarray(to_mantissa(values, saturating(t)), dtype=np.int64)


def count_outside(values: npt.ArrayLike, t: FixedPrecision) -> int:
    """How many values constant_mantissas saturates: those that t's rounding alone does not bring
    into t's range (3e-4 rounds to 0 in fixed<1,-9>, whose range is [-2^-10, 0]: not saturated)."""
    xs = np.asarray(values, dtype=np.float64)
    # The range a saturating conversion holds (SAT_SYM's is symmetric): where it sends extremes.
    extremes = np.array([2.0 * t.min_value - 1.0, 2.0 * t.max_value + 1.0])
    low, high = (int(m) for m in to_mantissa(extremes, saturating(t)).tolist())
    # Candidates by float comparison (ties included: the nearest double of a bound may round past
    # it), then exactly, in mantissas of t's fractional bits.
    outside = xs[(xs <= low * t.step) | (xs >= high * t.step) | np.isinf(xs)]
    finite = outside[np.isfinite(outside)]
    if not finite.size:
        return int(outside.size)
    rules = conversion_target(t)
    # The same fractional bits and rounding, wide enough to hold every value: only the range differs.
    integer = max(rules.integer, math.frexp(float(np.max(np.abs(finite))))[1] + 2)
    wide = FixedPrecision(integer + rules.fractional, integer, True, rules.rounding, Overflow.SAT)
    rounded = [int(m) for m in to_mantissa(finite, wide).tolist()]
    beyond = sum(m < low or m > high for m in rounded)
    return int(outside.size - finite.size + beyond)


def requantize(m: npt.ArrayLike, src: FixedPrecision, dst: FixedPrecision) -> npt.NDArray[Any]:
    """Mantissas of type src converted to dst, exactly as C++ `dst_t y = x_src;` does."""
    dst = conversion_target(dst)
    shift = dst.fractional - src.fractional
    if src.width <= FAST_WIDTH and dst.width <= FAST_WIDTH:
        xs = np.asarray(m).astype(np.int64)
        return _convert_vec(xs, np.asarray(shift, dtype=np.int64), src.width, dst)
    xs = np.asarray(m, dtype=object)
    out = np.empty(xs.shape, dtype=object)
    flat = out.reshape(-1)
    for i, v in enumerate(xs.reshape(-1).tolist()):
        flat[i] = convert_int(int(v), shift, dst)
    return out


def from_mantissa(m: npt.ArrayLike, p: FixedPrecision) -> npt.NDArray[np.float64]:
    """Values m * 2**-F as float64 (exact when representable, else the nearest double)."""
    xs = np.asarray(m)
    return np.ldexp(xs.astype(np.float64), -p.fractional)  # object arrays: float(int), rounded


def quantize(x: npt.ArrayLike, p: FixedPrecision) -> npt.NDArray[np.float64]:
    """Float values rounded to type p (quantization, then overflow), as float64."""
    return from_mantissa(to_mantissa(x, p), p)


# ----- full-precision result types of the C++ operators ------------------------------------------
def _result(
    width: int, integer: int, signed: bool, a: FixedPrecision, b: FixedPrecision
) -> FixedPrecision:
    if a.is_int and b.is_int:
        return FixedPrecision.integer_type(width, signed)
    return FixedPrecision(width, integer, signed)


def add_type(a: FixedPrecision, b: FixedPrecision) -> FixedPrecision:
    """Type of a + b: fractional bits aligned, one more integer bit (mixed signedness: +1 more)."""
    frac = max(a.fractional, b.fractional)
    integer = (
        max(a.integer + (b.signed and not a.signed), b.integer + (a.signed and not b.signed)) + 1
    )
    return _result(integer + frac, integer, a.signed or b.signed, a, b)


def sub_type(a: FixedPrecision, b: FixedPrecision) -> FixedPrecision:
    """Type of a - b: like a + b, always signed."""
    t = add_type(a, b)
    return _result(t.width, t.integer, True, a, b)


def mul_type(a: FixedPrecision, b: FixedPrecision) -> FixedPrecision:
    """Type of a * b: widths and integer bits add up."""
    return _result(a.width + b.width, a.integer + b.integer, a.signed or b.signed, a, b)


def div_type(a: FixedPrecision, b: FixedPrecision) -> FixedPrecision:
    """Type of a / b: the dividend widened by the divisor's fractional bits and its sign bit."""
    fb = b.fractional
    return _result(
        a.width + max(fb, 0) + b.signed, a.integer + fb + b.signed, a.signed or b.signed, a, b
    )


def _as_ints(m: npt.ArrayLike, p: FixedPrecision) -> npt.NDArray[Any]:
    return np.asarray(m).astype(np.int64 if p.width <= FAST_WIDTH else object)


def _fit(values: npt.NDArray[Any], r: FixedPrecision) -> npt.NDArray[Any]:
    """Exact results stored as int64 when r is narrow enough, else as Python ints."""
    if r.width <= FAST_WIDTH:
        return values.astype(np.int64)
    return values.astype(object)


def add(
    ma: npt.ArrayLike, a: FixedPrecision, mb: npt.ArrayLike, b: FixedPrecision
) -> tuple[npt.NDArray[Any], FixedPrecision]:
    """Mantissas and type of the full-precision a + b."""
    r = add_type(a, b)
    wide = object if r.width > FAST_WIDTH else np.int64
    xa, xb = np.asarray(ma).astype(wide), np.asarray(mb).astype(wide)
    return _fit(
        xa * (1 << (r.fractional - a.fractional)) + xb * (1 << (r.fractional - b.fractional)), r
    ), r


def sub(
    ma: npt.ArrayLike, a: FixedPrecision, mb: npt.ArrayLike, b: FixedPrecision
) -> tuple[npt.NDArray[Any], FixedPrecision]:
    """Mantissas and type of the full-precision a - b."""
    r = sub_type(a, b)
    wide = object if r.width > FAST_WIDTH else np.int64
    xa, xb = np.asarray(ma).astype(wide), np.asarray(mb).astype(wide)
    return _fit(
        xa * (1 << (r.fractional - a.fractional)) - xb * (1 << (r.fractional - b.fractional)), r
    ), r


def mul(
    ma: npt.ArrayLike, a: FixedPrecision, mb: npt.ArrayLike, b: FixedPrecision
) -> tuple[npt.NDArray[Any], FixedPrecision]:
    """Mantissas and type of the full-precision a * b."""
    r = mul_type(a, b)
    wide = object if r.width > FAST_WIDTH else np.int64
    return _fit(np.asarray(ma).astype(wide) * np.asarray(mb).astype(wide), r), r


def div(
    ma: npt.ArrayLike, a: FixedPrecision, mb: npt.ArrayLike, b: FixedPrecision
) -> tuple[npt.NDArray[Any], FixedPrecision]:
    """Mantissas and type of a / b (quotient truncated towards zero, like the C++ operator)."""
    r = div_type(a, b)
    wide = object if max(r.width, b.width) > FAST_WIDTH else np.int64
    num = np.asarray(ma).astype(wide) * (1 << max(b.fractional, 0))
    den = np.asarray(mb).astype(wide)
    if np.any(den == 0):
        raise ZeroDivisionError("fixed-point division by zero")
    quotient = (abs(num) // abs(den)) * np.where((num < 0) != (den < 0), -1, 1)
    return _fit(quotient, r), r


# ----- conversion of exact mantissas between arbitrary binary points --------------------------------
SAFE_BITS = 60
"""int64 mantissas below 2**SAFE_BITS in magnitude leave headroom for one exact add or shift."""


def max_abs(m: npt.NDArray[Any]) -> int:
    """Largest magnitude in an int64 or object array of integers, as a Python int (0 if empty)."""
    if m.size == 0:
        return 0
    return max(-int(m.min()), int(m.max()))


def convert_mantissas(m: npt.ArrayLike, src_frac: int, dst: FixedPrecision) -> npt.NDArray[Any]:
    """Exact values m * 2**-src_frac converted to mantissas of dst, as C++ `dst_t y = x;` does.

    `m` holds integers of any size (int64, or an object array of Python ints), so intermediate
    results of any width can be converted without naming their full-precision type. The result is
    int64 when dst.width <= FAST_WIDTH, and for wider types int64 when every result is below
    2**SAFE_BITS in magnitude, else an object array of Python ints.
    """
    dst = conversion_target(dst)
    xs = np.asarray(m)
    shift = dst.fractional - src_frac
    if xs.dtype != object:
        xs = xs.astype(np.int64, copy=False)
        lo, hi = (int(xs.min()), int(xs.max())) if xs.size else (0, 0)
        if max(-lo, hi) < (1 << SAFE_BITS):
            fast = _convert_small(xs, shift, dst, lo, hi)
            if fast is not None:
                return fast
    out = _convert_objects(xs.astype(object), shift, dst)
    if dst.width <= FAST_WIDTH:
        return out.astype(np.int64)
    return out


def _convert_objects(xs: npt.NDArray[Any], shift: int, dst: FixedPrecision) -> npt.NDArray[Any]:
    """convert_int over an object array: quantization vectorised, overflow per offending element."""
    shape = xs.shape
    xs = xs.reshape(-1)
    if shift >= 0:
        y = xs * (1 << shift)
    else:
        s = -shift
        y = xs >> s
        if dst.rounding is not Quant.TRN:
            qb = ((xs >> (s - 1)) & 1).astype(bool)
            r = (xs & ((1 << (s - 1)) - 1)).astype(bool)
            neg = (xs < 0).astype(bool)
            odd = (y & 1).astype(bool)
            y = y + _round_up_vec(dst.rounding, qb, r, neg, odd).astype(np.int64).astype(object)
    low = dst.min_mantissa + (dst.overflow is Overflow.SAT_SYM and dst.signed)
    bad = np.flatnonzero(~((y >= low) & (y <= dst.max_mantissa)).astype(bool))
    for i in bad.tolist():
        y[i] = _overflow_int(int(y[i]), dst)
    return y.reshape(shape)


def _truncate_small(xs: IntArray, s: int, dst: FixedPrecision, lo: int, hi: int) -> IntArray | None:
    """TRN to fewer fractional bits (a floor shift), then WRAP by masking: the hot path of every
    per-product cast into a default accumulator. None when another overflow mode must act.
    lo, hi: the least and greatest of xs (a floor shift keeps their order)."""
    s = min(s, 63)
    y = np.right_shift(xs, s)
    low = dst.min_mantissa + (dst.overflow is Overflow.SAT_SYM and dst.signed)
    if y.size == 0 or ((lo >> s) >= low and (hi >> s) <= dst.max_mantissa):
        return y
    if dst.overflow is not Overflow.WRAP or dst.sat_bits:
        return None
    mask = np.int64((1 << dst.width) - 1)
    if not dst.signed:
        return y & mask
    half = np.int64(1 << (dst.width - 1))
    return ((y + half) & mask) - half


def _convert_small(xs: IntArray, shift: int, dst: FixedPrecision, lo: int, hi: int) -> IntArray | None:
    """convert_mantissas for |xs| < 2**SAFE_BITS on int64 whose least and greatest values are lo
    and hi, or None when it needs Python ints."""
    if dst.width <= FAST_WIDTH:
        if shift < 0 and dst.rounding is Quant.TRN:
            truncated = _truncate_small(xs, -shift, dst, lo, hi)
            if truncated is not None:
                return truncated
        if 0 <= shift <= SAFE_BITS - max(-lo, hi).bit_length():
            low = dst.min_mantissa + (dst.overflow is Overflow.SAT_SYM and dst.signed)
            if xs.size == 0 or ((lo << shift) >= low and (hi << shift) <= dst.max_mantissa):
                return np.left_shift(xs, shift)  # exact and in range (a new array, as any cast's result)
        return _convert_vec(xs, np.asarray(shift, dtype=np.int64), FAST_WIDTH, dst)
    # A destination wider than int64: the result cannot overflow when it stays small (and is
    # non-negative for unsigned types), so a narrow signed proxy with the same rounding is exact.
    if not dst.signed and xs.size and lo < 0:
        return None
    if shift > 0:
        if max(-lo, hi) >= 1 << max(SAFE_BITS - shift, 0):
            return None
        return np.left_shift(xs, shift)
    proxy = FixedPrecision(
        FAST_WIDTH, FAST_WIDTH - dst.fractional, True, dst.rounding, Overflow.SAT
    )
    return _convert_vec(xs, np.asarray(shift, dtype=np.int64), FAST_WIDTH, proxy)
