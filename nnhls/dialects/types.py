"""Types and enum attributes shared by the `nn` and `hls` dialects.

Fixed-point scalars (`!hls.fixed<16, 6>`, `!hls.ufixed<8, 3, RND, SAT>`, `!hls.int<8>`, `!hls.uint<4>`),
the io_parallel array type `!hls.array<8x8x3x!hls.fixed<16, 6>>` and the io_stream channel type
`!hls.stream<8x8x3x!hls.fixed<16, 6>, depth 64>` (one element per pixel, all channels packed), plus the
attributes of the configuration enums of `kinds.py` (strategy, io type, pipeline style, softmax
implementation, pooling op, activation kind, merge kind). The numeric rules live in `fixed.py`;
these classes only carry and print them. Both dialects import this module; neither imports the
other. (The `hls` prefix of the spelling is historical: nn IR writes its precisions as `!hls.fixed`.)
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from math import prod
from typing import ClassVar

from xdsl.dialects.builtin import ArrayAttr, DenseArrayBase, IntAttr, IntegerType, i64
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Attribute, ParametrizedAttribute, SpacedOpaqueSyntaxAttribute, TypeAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from nnhls.dialects.fixed import FixedPrecision, Overflow, PrecisionError, Quant, check_declared
from nnhls.dialects.kinds import (
    ActivationKind,
    IOType,
    MergeKind,
    PipelineStyle,
    PoolOp,
    SoftmaxImpl,
    Strategy,
)


@irdl_attr_definition
class StrategyAttr(EnumAttribute[Strategy], SpacedOpaqueSyntaxAttribute):
    name = "hls.strategy"


@irdl_attr_definition
class IOTypeAttr(EnumAttribute[IOType], SpacedOpaqueSyntaxAttribute):
    name = "hls.io_type"


@irdl_attr_definition
class PipelineStyleAttr(EnumAttribute[PipelineStyle], SpacedOpaqueSyntaxAttribute):
    name = "hls.pipeline_style"


@irdl_attr_definition
class SoftmaxImplAttr(EnumAttribute[SoftmaxImpl], SpacedOpaqueSyntaxAttribute):
    name = "hls.softmax_impl"


@irdl_attr_definition
class PoolOpAttr(EnumAttribute[PoolOp], SpacedOpaqueSyntaxAttribute):
    name = "hls.pool_op"


@irdl_attr_definition
class ActivationKindAttr(EnumAttribute[ActivationKind], SpacedOpaqueSyntaxAttribute):
    name = "hls.activation"


@irdl_attr_definition
class MergeKindAttr(EnumAttribute[MergeKind], SpacedOpaqueSyntaxAttribute):
    name = "hls.merge"


# ----- integer-array properties -------------------------------------------------------------------

IntList = DenseArrayBase[IntegerType]
"""An `array<i64: ...>` property (strides, pads, perm...)."""


def int_array(values: Sequence[int]) -> IntList:
    """An `array<i64: ...>` property."""
    return DenseArrayBase.from_list(i64, [int(v) for v in values])


def ints(attr: IntList | None) -> tuple[int, ...]:
    """The values of an `array<i64: ...>` property (empty when absent)."""
    return () if attr is None else tuple(int(v) for v in attr.get_values())


def conv_output_size(size: int, kernel: int, stride: int, dilation: int, pad: int) -> int:
    """Output length of a convolution or pooling window along one axis (pad: both sides)."""
    return (size + pad - dilation * (kernel - 1) - 1) // stride + 1


# ----- fixed-point scalar types -------------------------------------------------------------------

_QUANT_BY_NAME = {q.value: q for q in Quant}
_OVERFLOW_BY_NAME = {o.value: o for o in Overflow}
_QUANTS, _OVERFLOWS = tuple(Quant), tuple(Overflow)


@cache
def _precision(width: int, int_bits: int, signed: bool, quant: int, overflow: int, sat_bits: int) -> FixedPrecision:
    """The (immutable) precision of a fixed type's parameters, built once: the emulator asks for
    it on every kernel of every chunk."""
    return FixedPrecision(width, int_bits, signed, _QUANTS[quant], _OVERFLOWS[overflow], sat_bits)


class FixedPointType(ParametrizedAttribute, TypeAttribute):
    """Common behaviour of the four ap_* scalar types (not registered itself)."""

    SIGNED: ClassVar[bool] = True
    IS_INT: ClassVar[bool] = False

    @property
    def precision(self) -> FixedPrecision:
        raise NotImplementedError

    def cpp(self) -> str:
        return self.precision.cpp()

    def verify(self) -> None:
        try:
            check_declared(self.precision)
        except PrecisionError as error:
            raise VerifyException(f"invalid {self.name} type: {error}") from None


class _FixedBase(FixedPointType):
    width: IntAttr
    int_bits: IntAttr
    quant: IntAttr
    """Index into Quant (stored as an int so the type stays a plain parametrized attribute)."""
    overflow: IntAttr
    """Index into Overflow."""
    sat_bits: IntAttr

    def __init__(
        self,
        width: int,
        int_bits: int,
        quant: Quant = Quant.TRN,
        overflow: Overflow = Overflow.WRAP,
        sat_bits: int = 0,
    ) -> None:
        super().__init__(
            IntAttr(width),
            IntAttr(int_bits),
            IntAttr(list(Quant).index(quant)),
            IntAttr(list(Overflow).index(overflow)),
            IntAttr(sat_bits),
        )

    @property
    def precision(self) -> FixedPrecision:
        return _precision(self.width.data, self.int_bits.data, self.SIGNED, self.quant.data, self.overflow.data, self.sat_bits.data)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            width = parser.parse_integer(allow_boolean=False)
            parser.parse_punctuation(",")
            int_bits = parser.parse_integer(allow_boolean=False)
            quant, overflow, sat_bits = Quant.TRN, Overflow.WRAP, 0
            if parser.parse_optional_punctuation(","):
                quant = _QUANT_BY_NAME.get(parser.parse_identifier()) or parser.raise_error(
                    "expected a quantization mode: " + ", ".join(_QUANT_BY_NAME)
                )
                if parser.parse_optional_punctuation(","):
                    overflow = _OVERFLOW_BY_NAME.get(
                        parser.parse_identifier()
                    ) or parser.raise_error("expected an overflow mode: " + ", ".join(_OVERFLOW_BY_NAME))
                    if parser.parse_optional_punctuation(","):
                        sat_bits = parser.parse_integer(allow_boolean=False)
        return (
            IntAttr(width),
            IntAttr(int_bits),
            IntAttr(list(Quant).index(quant)),
            IntAttr(list(Overflow).index(overflow)),
            IntAttr(sat_bits),
        )

    def print_parameters(self, printer: Printer) -> None:
        p = self.precision
        fields = [str(p.width), str(p.integer)]
        tail = [p.rounding.value, p.overflow.value, str(p.sat_bits)]
        defaults = [Quant.TRN.value, Overflow.WRAP.value, "0"]
        while tail and tail[-1] == defaults[len(tail) - 1]:
            tail.pop()
        printer.print_string("<" + ", ".join(fields + tail) + ">")


@irdl_attr_definition
class FixedType(_FixedBase):
    """Signed fixed point `ap_fixed<W, I, Q, O, N>`: `!hls.fixed<16, 6>`, `!hls.fixed<18, 8, RND, SAT>`."""

    name = "hls.fixed"


@irdl_attr_definition
class UFixedType(_FixedBase):
    """Unsigned fixed point `ap_ufixed<W, I, Q, O, N>`: `!hls.ufixed<8, 3>`."""

    name = "hls.ufixed"
    SIGNED: ClassVar[bool] = False


class _IntBase(FixedPointType):
    width: IntAttr
    IS_INT: ClassVar[bool] = True

    def __init__(self, width: int) -> None:
        super().__init__(IntAttr(width))

    @property
    def precision(self) -> FixedPrecision:
        return FixedPrecision.integer_type(self.width.data, self.SIGNED)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            width = parser.parse_integer(allow_boolean=False)
        return (IntAttr(width),)

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string(f"<{self.width.data}>")


@irdl_attr_definition
class IntType(_IntBase):
    """Signed integer `ap_int<W>`: `!hls.int<8>`."""

    name = "hls.int"


@irdl_attr_definition
class UIntType(_IntBase):
    """Unsigned integer `ap_uint<W>`: `!hls.uint<8>`."""

    name = "hls.uint"
    SIGNED: ClassVar[bool] = False


def fixed_type(p: FixedPrecision) -> FixedPointType:
    """The `!hls.*` type spelling a precision."""
    # pyright does not see the __init__ of irdl_attr_definition classes, hence the ignores.
    if p.is_int:
        int_cls: type[_IntBase] = IntType if p.signed else UIntType
        return int_cls(p.width)  # pyright: ignore[reportCallIssue]
    cls: type[_FixedBase] = FixedType if p.signed else UFixedType
    return cls(p.width, p.integer, p.rounding, p.overflow, p.sat_bits)  # pyright: ignore[reportCallIssue]


# ----- aggregates -----------------------------------------------------------------------------------


def _parse_shaped(parser: AttrParser) -> tuple[list[int], Attribute]:
    dims, element = parser.parse_ranked_shape()
    if not isinstance(element, FixedPointType):
        parser.raise_error("expected a fixed-point element type (!hls.fixed, !hls.int, ...)")
    return dims, element


class _ShapedFixed(ParametrizedAttribute, TypeAttribute):
    shape: ArrayAttr[IntAttr]
    element_type: FixedPointType

    def get_shape(self) -> tuple[int, ...]:
        return tuple(d.data for d in self.shape.data)

    @property
    def size(self) -> int:
        return prod(self.get_shape())

    def _verify_shape(self) -> None:
        if any(d < 1 for d in self.get_shape()):
            raise VerifyException(f"{self.name} dimensions must be positive, got {self.get_shape()}")


@irdl_attr_definition
class ArrayType(_ShapedFixed):
    """An io_parallel tensor: a fully partitioned C array, `!hls.array<8x8x3x!hls.fixed<16, 6>>`."""

    name = "hls.array"

    def __init__(self, shape: Sequence[int], element_type: FixedPointType) -> None:
        super().__init__(ArrayAttr([IntAttr(d) for d in shape]), element_type)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            dims, element = _parse_shaped(parser)
        return (ArrayAttr([IntAttr(d) for d in dims]), element)

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string("<")
        printer.print_dimension_list(self.get_shape())
        printer.print_string("x")
        printer.print_attribute(self.element_type)
        printer.print_string(">")

    def verify(self) -> None:
        self._verify_shape()


@irdl_attr_definition
class StreamType(_ShapedFixed):
    """An io_stream tensor: `hls::stream<nnet::array<T, C>>` with one element per pixel.

    `!hls.stream<8x8x3x!hls.fixed<16, 6>, depth 64>` carries 64 elements of 3 packed channels; the
    FIFO depth is part of the type because each SSA value is one FIFO in the dataflow region.
    """

    name = "hls.stream"
    depth: IntAttr

    def __init__(self, shape: Sequence[int], element_type: FixedPointType, depth: int) -> None:
        super().__init__(ArrayAttr([IntAttr(d) for d in shape]), element_type, IntAttr(depth))

    @property
    def pack(self) -> int:
        """Values per stream element (the channel dimension)."""
        return self.get_shape()[-1]

    @property
    def n_elements(self) -> int:
        """Number of elements (pixels) that flow through the stream."""
        return self.size // self.pack

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            dims, element = _parse_shaped(parser)
            parser.parse_punctuation(",")
            parser.parse_keyword("depth")
            depth = parser.parse_integer(allow_boolean=False)
        return (ArrayAttr([IntAttr(d) for d in dims]), element, IntAttr(depth))

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string("<")
        printer.print_dimension_list(self.get_shape())
        printer.print_string("x")
        printer.print_attribute(self.element_type)
        printer.print_string(f", depth {self.depth.data}>")

    def verify(self) -> None:
        self._verify_shape()
        if self.depth.data < 1:
            raise VerifyException(f"stream depth must be at least 1, got {self.depth.data}")


def _same_parameters(self: ParametrizedAttribute, other: object) -> bool:
    return type(self) is type(other) and self.parameters == other.parameters  # pyright: ignore[reportAttributeAccessIssue]


def _hash_parameters(self: ParametrizedAttribute) -> int:
    return hash((type(self), self.parameters))


# The parameters are declared on undecorated base classes, so the dataclass equality generated for
# the registered classes sees no fields (every FixedType compared equal); compare parameters.
for _cls in (FixedType, UFixedType, IntType, UIntType, ArrayType, StreamType):
    _cls.__eq__ = _same_parameters  # pyright: ignore[reportAttributeAccessIssue]
    _cls.__hash__ = _hash_parameters  # pyright: ignore[reportAttributeAccessIssue]


HLS_TYPES: list[type[Attribute]] = [
    FixedType,
    UFixedType,
    IntType,
    UIntType,
    ArrayType,
    StreamType,
    StrategyAttr,
    IOTypeAttr,
    PipelineStyleAttr,
    SoftmaxImplAttr,
    PoolOpAttr,
    ActivationKindAttr,
    MergeKindAttr,
]
