"""The exact decimal text of weights (synthesis headers, WriteWeightsTxt files): each distinct
mantissa is formatted once and gathered by index; the text must be exactly repr() of the
double m * 2**-F for every value, whichever path (table over the range, or np.unique) ran."""

from __future__ import annotations

import numpy as np
import pytest

from nnhls.codegen.files import MAX_EXACT_BITS, decimal_values, weight_header, weight_txt
from nnhls.codegen.firmware import CodegenError, Constant
from nnhls.dialects.fixed import FixedPrecision


def _constant(values: np.ndarray, width: int, integer: int) -> Constant:
    return Constant("w", "w_t", FixedPrecision(width, integer), values.astype(np.int64), "fc: weights")


def _direct(const: Constant) -> list[str]:
    return [repr(float(m) * 2.0 ** -const.precision.fractional) for m in const.values.tolist()]


@pytest.mark.parametrize(
    ("values", "width", "integer"),
    [
        (np.random.default_rng(0).integers(-400, 400, size=5000), 24, 12),  # narrow range: the table path
        (np.random.default_rng(1).integers(-(2**40), 2**40, size=3000), 48, 8),  # wide range: np.unique
        (np.array([-(2**52) + 1, 0, 2**52 - 1, 5, 5, -3]), 53, 3),  # the 53-bit edge
        (np.array([7]), 8, 2),
        (np.array([0, 0, 0, 0]), 16, 6),
    ],
)
def test_decimal_values_are_repr_of_every_exact_double(values: np.ndarray, width: int, integer: int) -> None:
    const = _constant(values, width, integer)
    expected = _direct(const)
    assert decimal_values(const) == expected
    assert weight_txt(const) == ", ".join(expected) + "\n"
    header = weight_header(const)
    body = header[header.index("= {\n") + 4 : header.index("\n};")]
    assert [v.strip() for v in body.replace("\n", "").split(",") if v.strip()] == expected
    assert all(len(line.split(", ")) <= 8 for line in body.splitlines())


def test_mantissas_past_53_bits_are_refused() -> None:
    with pytest.raises(CodegenError, match="wider than 53 bits"):
        decimal_values(_constant(np.array([1, -(1 << MAX_EXACT_BITS)]), 60, 4))


def test_no_values_give_no_text() -> None:
    assert decimal_values(_constant(np.zeros(0), 16, 6)) == []
