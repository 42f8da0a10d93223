"""hls4ml-shaped views of types and variables (`nnhls.model.types`).

Scripts written for hls4ml read these off a converted model:

    var = hls_model.get_output_variables()[0]
    var.shape, var.size(), var.type.name, var.type.precision.width, var.type.precision.integer
    w = hls_model.graph["fc1"].get_weights("weight")
    w.data, w.type.precision, w.nzeros

They are read-only snapshots of the compiler's IR: nnhls's configuration lives in the config
dict and the IR, so changing a type goes through the config (`LayerName.<layer>.Precision`) and
a new conversion, never through these objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from math import prod

import numpy as np

from nnhls.dialects.fixed import FixedPrecision, Overflow, Quant, parse_precision


class RoundingMode(Enum):
    """Quantization modes, named as hls4ml names them (`RoundingMode.RND_CONV`)."""

    TRN = "TRN"
    TRN_ZERO = "TRN_ZERO"
    RND = "RND"
    RND_ZERO = "RND_ZERO"
    RND_INF = "RND_INF"
    RND_MIN_INF = "RND_MIN_INF"
    RND_CONV = "RND_CONV"

    def __str__(self) -> str:
        return self.value


class SaturationMode(Enum):
    """Overflow modes, named as hls4ml names them (`SaturationMode.SAT`)."""

    WRAP = "WRAP"
    SAT = "SAT"
    SAT_ZERO = "SAT_ZERO"
    SAT_SYM = "SAT_SYM"

    def __str__(self) -> str:
        return self.value


class PrecisionType:
    """Base of the precision types (`isinstance(p, PrecisionType)` as in hls4ml)."""

    width: int
    signed: bool


@dataclass(frozen=True, eq=False)
class FixedPrecisionType(PrecisionType):
    """`ap_fixed<W,I,Q,O,N>` / `ap_ufixed`: width, integer (sign included), signed, modes."""

    width: int = 16
    integer: int = 6
    signed: bool = True
    rounding_mode: RoundingMode = RoundingMode.TRN
    saturation_mode: SaturationMode = SaturationMode.WRAP
    saturation_bits: int = 0

    def __post_init__(self) -> None:
        self.to_fixed()  # the same range checks as every other precision in nnhls

    @property
    def fractional(self) -> int:
        return self.width - self.integer

    @property
    def min(self) -> float:
        return self.to_fixed().min_value

    @property
    def max(self) -> float:
        return self.to_fixed().max_value

    def to_fixed(self) -> FixedPrecision:
        """The compiler's own type (nnhls.dialects.fixed.FixedPrecision)."""
        return FixedPrecision(
            self.width,
            self.integer,
            self.signed,
            Quant(self.rounding_mode.value),
            Overflow(self.saturation_mode.value),
            self.saturation_bits,
        )

    def __str__(self) -> str:
        return str(self.to_fixed())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.to_fixed() == _parse_or_none(other)
        return isinstance(other, PrecisionType) and precision_to_fixed(other) == self.to_fixed()

    def __hash__(self) -> int:
        return hash(self.to_fixed())


@dataclass(frozen=True, eq=False)
class IntegerPrecisionType(PrecisionType):
    """`ap_int<W>` / `ap_uint<W>`."""

    width: int = 16
    signed: bool = True

    def __post_init__(self) -> None:
        self.to_fixed()

    @property
    def integer(self) -> int:
        return self.width

    @property
    def fractional(self) -> int:
        return 0

    @property
    def min(self) -> float:
        return self.to_fixed().min_value

    @property
    def max(self) -> float:
        return self.to_fixed().max_value

    def to_fixed(self) -> FixedPrecision:
        return FixedPrecision.integer_type(self.width, self.signed)

    def __str__(self) -> str:
        return str(self.to_fixed())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.to_fixed() == _parse_or_none(other)
        return isinstance(other, PrecisionType) and precision_to_fixed(other) == self.to_fixed()

    def __hash__(self) -> int:
        return hash(self.to_fixed())


class UnspecifiedPrecisionType(PrecisionType):
    """A configured `auto` precision (nn-infer-precision chooses the type)."""

    width = 0
    signed = True

    def __str__(self) -> str:
        return "auto"

    def __repr__(self) -> str:
        return "UnspecifiedPrecisionType()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnspecifiedPrecisionType) or other == "auto"

    def __hash__(self) -> int:
        return hash("auto")


def _parse_or_none(text: str) -> FixedPrecision | None:
    try:
        return parse_precision(text)
    except ValueError:
        return None


def from_fixed(p: FixedPrecision) -> FixedPrecisionType | IntegerPrecisionType:
    """The hls4ml-shaped precision of one of our types."""
    if p.is_int:
        return IntegerPrecisionType(p.width, p.signed)
    return FixedPrecisionType(
        p.width, p.integer, p.signed, RoundingMode(p.rounding.value), SaturationMode(p.overflow.value), p.sat_bits
    )


def precision_to_fixed(p: PrecisionType) -> FixedPrecision | None:
    """Our type for a precision object (None for `auto`)."""
    if isinstance(p, FixedPrecisionType | IntegerPrecisionType):
        return p.to_fixed()
    return None


@dataclass(frozen=True)
class NamedType:
    """A precision with the C++ typedef name it has in firmware/defines.h."""

    name: str
    precision: PrecisionType

    def __str__(self) -> str:
        return f"{self.name} = {self.precision}"


@dataclass(frozen=True)
class TensorVariable:
    """A layer output (or model input): its C++ variable, per-sample shape and type."""

    name: str
    shape: tuple[int, ...]
    type: NamedType

    def size(self) -> int:
        """Number of elements of one sample (hls4ml spells this as a method)."""
        return prod(self.shape)

    @property
    def dim_names(self) -> list[str]:
        return [f"N_{self.name.upper()}_{i}" for i in range(len(self.shape))]


@dataclass(frozen=True, eq=False)
class WeightVariable:
    """A layer's constant (weights, biases, scales): the float values from the model and the
    precision they are quantized to in the firmware."""

    name: str
    var_name: str
    data: np.ndarray
    type: NamedType

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def data_length(self) -> int:
        return int(self.data.size)

    @property
    def nzeros(self) -> int:
        """Number of exact zeros in the float data."""
        return int(self.data.size - np.count_nonzero(self.data))

    @property
    def min(self) -> float:
        return float(self.data.min()) if self.data.size else 0.0

    @property
    def max(self) -> float:
        return float(self.data.max()) if self.data.size else 0.0

    def __repr__(self) -> str:
        return f"WeightVariable(name={self.name!r}, shape={self.shape}, type={self.type})"

