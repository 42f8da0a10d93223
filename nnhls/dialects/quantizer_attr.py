"""`#nn.quant<...>`: a quantizer of `nnhls.dialects.quant` as an IR attribute.

The `nn` quantizer op carries one (the quantizer of a tensor), and weighted layers may carry one per
constant (`weight_quantizer`, `bias_quantizer`), so every quantizer a model holds is printed,
checked and replayable. The syntax is the kind followed by keyword = value pairs; values are
integers, floats (printed so they read back exactly), `true` / `false`, mode names, or lists of
these for per-channel / per-element parameters (with `shape`, the broadcast shape against the
tensor without its batch axis). Parameters at their default value are not printed:

    #nn.quant<uniform, bits = 6, scale = 0.03125>                     (signed, RND_CONV, SAT)
    #nn.quant<uniform, bits = 8, signed = false, scale = 0.02, zero_point = 128>
    #nn.quant<uniform, shape = [3], bits = [4, 4, 0], signed = [true, false, true],
              scale = [0.5, 0.25, 1.0], rounding = TRN, overflow = WRAP>
    #nn.quant<binary, scale = 1.0>
    #nn.quant<ternary, threshold = 0.5, upper_inclusive = false>
    #nn.quant<po2, min_exp = -8, max_exp = 0, max_value = 1.0, zero_below = 1.0000000116860974e-07>
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import Any

import numpy as np
from xdsl.dialects.builtin import ArrayAttr, IntAttr, StringAttr
from xdsl.ir import Attribute, Data, ParametrizedAttribute
from xdsl.irdl import irdl_attr_definition
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

from nnhls.dialects.quant import (
    AnyQuantizer,
    BinaryQuantizer,
    Po2Quantizer,
    QuantizerError,
    QuantOverflow,
    Rounding,
    TernaryQuantizer,
    UniformQuantizer,
)

Scalar = int | float | bool | str
Value = Scalar | list[Scalar]

KINDS = ("uniform", "binary", "ternary", "po2")

# Per kind: parameter -> (default, whether it may be a per-element list).
_PARAMS: dict[str, dict[str, tuple[Any, bool]]] = {
    "uniform": {
        "bits": (None, True),
        "signed": (True, True),
        "scale": (1.0, True),
        "zero_point": (0, True),
        "narrow": (False, False),
        "rounding": (Rounding.RND_CONV.value, False),
        "overflow": (QuantOverflow.SAT.value, False),
    },
    "binary": {"scale": (1.0, True), "zero_one": (False, False), "zero_positive": (True, False)},
    "ternary": {
        "threshold": (None, False),
        "scale": (1.0, True),
        "upper_inclusive": (True, False),
        "lower_inclusive": (True, False),
    },
    "po2": {
        "min_exp": (None, False),
        "max_exp": (None, False),
        "max_value": ("none", False),
        "zero_below": (0.0, False),
        "relu": (False, False),
        "negative_slope": (0.0, False),
    },
}


def _format(value: Value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_format(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)  # shortest exact spelling; the IR lexer wants a '.' before 'e'
        mantissa, e, exponent = text.partition("e")
        return text if "." in mantissa or not e else f"{mantissa}.0e{exponent}"
    return str(value)


@irdl_attr_definition
class QuantizerParams(Data[tuple[tuple[str, Value], ...]]):
    """The keyword parameters of a quantizer, in print order (internal to `QuantizerAttr`)."""

    name = "nn.quant_params"

    @classmethod
    def parse_parameter(cls, parser: AttrParser) -> tuple[tuple[str, Value], ...]:
        raise NotImplementedError  # parsed by QuantizerAttr

    def print_parameter(self, printer: Printer) -> None:
        printer.print_string(", ".join(f"{k} = {_format(v)}" for k, v in self.data))


def _parse_scalar(parser: AttrParser) -> Scalar:
    boolean = parser.parse_optional_boolean()
    if boolean is not None:
        return boolean
    number = parser.parse_optional_number()
    if number is not None:
        return number
    return parser.parse_identifier()


def _parse_value(parser: AttrParser) -> Value:
    if parser.parse_optional_punctuation("[") is not None:
        items = parser.parse_comma_separated_list(
            parser.Delimiter.NONE, lambda: _parse_scalar(parser)
        )
        parser.parse_punctuation("]")
        return items
    return _parse_scalar(parser)


@irdl_attr_definition
class QuantizerAttr(ParametrizedAttribute):
    """A quantizer: its kind, the broadcast shape of its per-element parameters, the parameters."""

    name = "nn.quant"

    kind: StringAttr
    shape: ArrayAttr[IntAttr]
    params: QuantizerParams

    # ----- syntax ---------------------------------------------------------------------------------
    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        with parser.in_angle_brackets():
            kind = parser.parse_identifier()
            if kind not in KINDS:
                parser.raise_error(
                    f"unknown quantizer kind '{kind}'; expected one of {', '.join(KINDS)}"
                )
            shape: list[int] = []
            params: list[tuple[str, Value]] = []
            while parser.parse_optional_punctuation(",") is not None:
                key = parser.parse_identifier()
                parser.parse_punctuation("=")
                value = _parse_value(parser)
                if key == "shape":
                    if not isinstance(value, list) or not all(isinstance(d, int) for d in value):
                        parser.raise_error("shape must be a list of integers")
                    shape = [int(d) for d in value]  # pyright: ignore[reportArgumentType]
                else:
                    params.append((key, value))
        return (
            StringAttr(kind),
            ArrayAttr([IntAttr(d) for d in shape]),
            QuantizerParams(tuple(params)),
        )

    def print_parameters(self, printer: Printer) -> None:
        parts = [self.kind.data]
        if self.shape.data:
            parts.append(f"shape = {_format([d.data for d in self.shape.data])}")
        parts += [f"{k} = {_format(v)}" for k, v in self.params.data]
        printer.print_string("<" + ", ".join(parts) + ">")

    # ----- meaning --------------------------------------------------------------------------------
    def get_shape(self) -> tuple[int, ...]:
        return tuple(d.data for d in self.shape.data)

    def value(self, key: str) -> Any:
        """A parameter's value (its default when not given)."""
        for k, v in self.params.data:
            if k == key:
                return v
        return _PARAMS[self.kind.data][key][0]

    def _array(self, key: str, dtype: Any) -> np.ndarray:
        value = self.value(key)
        if not isinstance(value, list):
            return np.asarray(value, dtype=dtype)
        return np.asarray(value, dtype=dtype).reshape(self.get_shape())

    def verify(self) -> None:
        kind = self.kind.data
        if kind not in _PARAMS:
            raise VerifyException(f"unknown quantizer kind '{kind}'")
        allowed = _PARAMS[kind]
        size = prod(self.get_shape())
        for key, value in self.params.data:
            if key not in allowed:
                raise VerifyException(
                    f"#nn.quant<{kind}>: unknown parameter '{key}'; parameters: {', '.join(allowed)}"
                )
            if isinstance(value, list) and (not allowed[key][1] or len(value) != size):
                raise VerifyException(
                    f"#nn.quant<{kind}>: '{key}' takes one value"
                    + (f" or {size} (the shape)" if allowed[key][1] else "")
                )
        missing = [
            k for k, (default, _) in allowed.items() if default is None and self.value(k) is None
        ]
        if missing:
            raise VerifyException(f"#nn.quant<{kind}>: missing {', '.join(missing)}")
        try:
            self.quantizer()
        except (QuantizerError, ValueError, TypeError) as e:
            raise VerifyException(f"#nn.quant<{kind}>: {e}") from e

    def quantizer(self) -> AnyQuantizer:
        """The quantizer this attribute describes (numpy semantics in nnhls.dialects.quant)."""
        kind = self.kind.data
        if kind == "uniform":
            return UniformQuantizer.make(
                self._array("bits", np.int64),
                self._array("signed", np.bool_),
                self._array("scale", np.float64),
                self._array("zero_point", np.float64),
                narrow=bool(self.value("narrow")),
                rounding=Rounding(str(self.value("rounding"))),
                overflow=QuantOverflow(str(self.value("overflow"))),
            )
        if kind == "binary":
            return BinaryQuantizer(
                self._array("scale", np.float64),
                zero_one=bool(self.value("zero_one")),
                zero_positive=bool(self.value("zero_positive")),
            )
        if kind == "ternary":
            return TernaryQuantizer(
                float(self.value("threshold")),
                self._array("scale", np.float64),
                upper_inclusive=bool(self.value("upper_inclusive")),
                lower_inclusive=bool(self.value("lower_inclusive")),
            )
        max_value = self.value("max_value")
        return Po2Quantizer(
            int(self.value("min_exp")),
            int(self.value("max_exp")),
            None if max_value == "none" else float(max_value),
            float(self.value("zero_below")),
            relu=bool(self.value("relu")),
            negative_slope=float(self.value("negative_slope")),
        )

    @staticmethod
    def from_quantizer(q: AnyQuantizer) -> QuantizerAttr:
        """The attribute of a quantizer (per-element arrays broadcast to one common shape)."""
        if isinstance(q, UniformQuantizer):
            kind = "uniform"
            arrays = {
                "bits": q.bits,
                "signed": q.signed,
                "scale": q.scale,
                "zero_point": q.zero_point,
            }
            scalars: dict[str, Any] = {
                "narrow": q.narrow, "rounding": q.rounding.value, "overflow": q.overflow.value,
            }  # fmt: skip
        elif isinstance(q, BinaryQuantizer):
            kind, arrays = "binary", {"scale": q.scale}
            scalars = {"zero_one": q.zero_one, "zero_positive": q.zero_positive}
        elif isinstance(q, TernaryQuantizer):
            kind, arrays = "ternary", {"scale": q.scale}
            scalars = {
                "threshold": float(q.threshold),
                "upper_inclusive": q.upper_inclusive,
                "lower_inclusive": q.lower_inclusive,
            }
        else:
            kind, arrays = "po2", {}
            scalars = {
                "min_exp": q.min_exp, "max_exp": q.max_exp,
                "max_value": "none" if q.max_value is None else float(q.max_value),
                "zero_below": float(q.zero_below), "relu": q.relu,
                "negative_slope": float(q.negative_slope),
            }  # fmt: skip
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values())) if arrays else ()
        per_element = not all(_is_uniform(a) for a in arrays.values())
        params: list[tuple[str, Value]] = []
        for key, (default, _) in _PARAMS[kind].items():
            if key in arrays:
                array = np.broadcast_to(arrays[key], shape).reshape(-1)
                value: Value = (
                    [_plain(v) for v in array] if not _is_uniform(array) else _plain(array[0])
                )
            else:
                value = scalars[key]
            if not _same(value, default):
                params.append((key, value))
        dims = [int(d) for d in shape] if per_element else []
        return QuantizerAttr(
            StringAttr(kind), ArrayAttr([IntAttr(d) for d in dims]), QuantizerParams(tuple(params))
        )


def _same(value: Value, default: Any) -> bool:
    """Whether a parameter equals its default (so it is not printed)."""
    if default is None or isinstance(value, list):
        return False
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool) and value == default
    if isinstance(default, str) or isinstance(value, str):
        return value == default
    return float(value) == float(default)


def _is_uniform(array: np.ndarray) -> bool:
    return array.size <= 1 or bool((array == array.reshape(-1)[0]).all())


def _plain(value: Any) -> Scalar:
    """A numpy scalar as the Python int / float / bool the syntax prints."""
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    return float(value)
