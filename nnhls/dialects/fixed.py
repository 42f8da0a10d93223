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

import re
from dataclasses import dataclass, replace
from enum import Enum

MAX_WIDTH = 1024
"""The widest type the vendor's arbitrary precision library accepts (and the seed allows)."""


class Quant(str, Enum):
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


class Overflow(str, Enum):
    """Overflow modes of ap_fixed, applied when integer bits are dropped."""

    WRAP = "WRAP"
    """Keep the low bits (two's complement wrap-around), optionally saturating N high bits."""
    SAT = "SAT"
    """Saturate to the minimum or maximum value."""
    SAT_ZERO = "SAT_ZERO"
    """Set the result to zero on overflow."""
    SAT_SYM = "SAT_SYM"
    """Saturate symmetrically: the minimum of a signed type is -max instead of -max - 1."""


class PrecisionError(ValueError):
    """A precision string or type that cannot describe an ap_fixed / ap_int type."""


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
    """Raise PrecisionError for a type the vendor library cannot express."""
    if not 1 <= p.width <= MAX_WIDTH:
        raise PrecisionError(f"width must be between 1 and {MAX_WIDTH}, got {p.width}")
    if p.sat_bits < 0 or p.sat_bits > p.width:
        raise PrecisionError(
            f"saturation bits must be between 0 and the width {p.width}, got {p.sat_bits}"
        )
    if p.is_int and p.integer != p.width:
        raise PrecisionError("an integer type has as many integer bits as its width")


_QUANT_NAMES = {q.value for q in Quant}
_OVERFLOW_NAMES = {o.value for o in Overflow}
_PRECISION_RE = re.compile(r"^\s*(ap_)?(u?)(fixed|int)\s*<(.*)>\s*$", re.IGNORECASE)

ACCEPTED_SPELLINGS = "fixed<W,I>, ufixed<W,I>, int<W>, uint<W> (optionally ap_ prefixed, with quantization, overflow and saturation bits: fixed<W,I,RND,SAT,0>)"


def _mode_name(text: str) -> str:
    name = text.strip().upper()
    return name[3:] if name.startswith("AP_") else name


def parse_precision(text: str) -> FixedPrecision:
    """Parse a precision string such as `fixed<16,6>` or `ap_ufixed<8, 3, AP_RND, AP_SAT>`."""
    match = _PRECISION_RE.match(text)
    if match is None:
        raise PrecisionError(f"cannot read precision '{text}': expected {ACCEPTED_SPELLINGS}")
    unsigned, kind, body = match.group(2), match.group(3).lower(), match.group(4)
    fields = [f.strip() for f in body.split(",")]
    n_numbers = 1 if kind == "int" else 2
    if len(fields) < n_numbers or (kind == "int" and len(fields) != 1) or len(fields) > 5:
        raise PrecisionError(f"cannot read precision '{text}': expected {ACCEPTED_SPELLINGS}")
    try:
        numbers = [int(f) for f in fields[:n_numbers]]
    except ValueError:
        raise PrecisionError(
            f"cannot read precision '{text}': width and integer bits must be integers"
        ) from None
    signed = unsigned == ""
    if kind == "int":
        return FixedPrecision(numbers[0], numbers[0], signed, is_int=True)
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
    return FixedPrecision(numbers[0], numbers[1], signed, rounding, overflow, sat_bits)
