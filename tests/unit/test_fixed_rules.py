"""The numpy twin of the ap types against the vendor's documented rules (tests/unit/fixed_spec.py).

Every quantization x overflow mode (saturation bits included), signed and unsigned, ap_int /
ap_uint, at and around every boundary of each type: the twin in nnhls.dialects.fixed must give the
mantissa the documented rules give. The C++ headers are held to the twin (and to the same oracle)
by test_fixed_diff.py, and to the vendor's headers when NNHLS_VENDOR_AP_TYPES is set.
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
from fixed_spec import _quantize, boundary_values, convert, exact, from_double

from nnhls.dialects.fixed import (
    MAX_WIDTH,
    FixedPrecision,
    Overflow,
    PrecisionError,
    Quant,
    count_outside,
    mul,
    mul_type,
    parse_precision,
    requantize,
    to_mantissa,
)

SHAPES = [(1, 1), (2, 0), (4, 4), (6, 2), (8, -2), (8, 11), (12, 5), (16, 6), (24, 0), (40, 13)]
OVERFLOWS = [
    (Overflow.WRAP, 0), (Overflow.WRAP, 1), (Overflow.WRAP, 3), (Overflow.SAT, 0),
    (Overflow.SAT_ZERO, 0), (Overflow.SAT_SYM, 0),
]  # fmt: skip
INT_WIDTHS = [1, 2, 7, 8, 12, 16, 31, 32, 33, 48, 62, 64, 65, 100]


def _fixed_types() -> list[FixedPrecision]:
    out = []
    for q in Quant:
        for o, n in OVERFLOWS:
            for w, i in SHAPES:
                for signed in (True, False):
                    out.append(FixedPrecision(w, i, signed, q, o, min(n, w)))
    return out


def _int_types() -> list[FixedPrecision]:
    return [FixedPrecision.integer_type(w, s) for w in INT_WIDTHS for s in (True, False)]


def _check(p: FixedPrecision, xs: list[float]) -> list[str]:
    got = [int(v) for v in to_mantissa(np.array(xs), p).reshape(-1).tolist()]
    bad = []
    for x, g in zip(xs, got, strict=True):
        want = from_double(x, p)
        if g != want:
            bad.append(f"{p.cpp()} = {x!r}: nnhls {g}, documented rule {want}")
    return bad


@pytest.mark.parametrize("q", list(Quant), ids=lambda q: q.value)
def test_from_double_every_mode_near_every_boundary(q: Quant) -> None:
    """ap_fixed / ap_ufixed from double: one quantization mode, every overflow mode and shape."""
    rng = np.random.default_rng(7)
    problems: list[str] = []
    count = 0
    for p in (t for t in _fixed_types() if t.rounding is q):
        xs = boundary_values(p)
        span = float(2.0 ** (p.integer + 1))
        xs += rng.uniform(-span, span, 64).tolist()
        count += len(xs)
        problems += _check(p, xs)
    assert count > 20_000
    assert not problems, "\n".join(problems[:20]) + f"\n({len(problems)} mismatches)"


def test_integer_types_from_double_truncate_towards_zero() -> None:
    """ap_int / ap_uint from double: towards zero, then wrap (the vendor's rule, C's rule)."""
    rng = np.random.default_rng(11)
    problems: list[str] = []
    for p in _int_types():
        xs = boundary_values(p) + rng.uniform(-(2.0**p.width), 2.0**p.width, 200).tolist()
        problems += _check(p, xs)
    assert not problems, "\n".join(problems[:20]) + f"\n({len(problems)} mismatches)"


@pytest.mark.parametrize(
    ("spelling", "x", "value"),
    [
        # The reproductions (checked against the vendor's headers).
        ("uint<7>", -32.47, 96),
        ("int<12>", -4505.6, -409),
        ("int<8>", -3.7, -3),
        ("int<8>", 3.7, 3),
        ("int<8>", 300.5, 44),
        ("int<8>", -0.7, 0),
        ("fixed<8,8>", -3.7, -4),  # a fixed-point type keeps its own mode (TRN: towards -inf)
        # UG1399 "Overflow Modes": documented results.
        ("fixed<4,4,RND,SAT>", 19.0, 7),
        ("fixed<4,4,RND,SAT>", -19.0, -8),
        ("ufixed<4,4,RND,SAT>", 19.0, 15),
        ("ufixed<4,4,RND,SAT>", -19.0, 0),
        ("fixed<4,4,RND,SAT_ZERO>", 19.0, 0),
        ("fixed<4,4,RND,SAT_ZERO>", -19.0, 0),
        ("ufixed<4,4,RND,SAT_ZERO>", 19.0, 0),
        ("fixed<4,4,RND,SAT_SYM>", 19.0, 7),
        ("fixed<4,4,RND,SAT_SYM>", -19.0, -7),
        ("ufixed<4,4,RND,SAT_SYM>", -19.0, 0),
        ("fixed<4,4,RND,WRAP>", 31.0, -1),
        ("fixed<4,4,RND,WRAP>", -19.0, -3),
        ("ufixed<4,4,RND,WRAP>", 19.0, 3),
        ("ufixed<4,4,RND,WRAP>", -19.0, 13),
    ],
)
def test_documented_examples(spelling: str, x: float, value: float) -> None:
    p = parse_precision(spelling)
    got = float(to_mantissa(np.array([x]), p)[0]) * p.step
    assert got == value
    assert from_double(x, p) * p.step == value  # the oracle agrees with the documentation too


def test_fixed_to_integer_truncates_towards_zero() -> None:
    """`ap_int<W> y = x_fixed;` drops the fraction towards zero too (the vendor's to_ap_int_base)."""
    rng = np.random.default_rng(3)
    for src in (FixedPrecision(16, 6), FixedPrecision(20, 14, False), FixedPrecision(70, 30)):
        m = [int(v) for v in rng.integers(-(1 << 15), 1 << 15, 500)]
        if not src.signed:
            m = [abs(v) for v in m]
        m += [src.min_mantissa, src.max_mantissa, 0, -1 if src.signed else 1]
        for dst in (FixedPrecision.integer_type(8), FixedPrecision.integer_type(5, False)):
            got = [int(v) for v in requantize(np.array(m, dtype=object), src, dst).tolist()]
            want = [convert(v * exact(src.step), dst) for v in m]
            assert got == want, (src, dst)


def test_operator_results_wider_than_1024_bits() -> None:
    """Intermediates beyond the declarable width: a product of two 1024-bit values is exact."""
    a = FixedPrecision(1024, 600)
    assert mul_type(a, a) == FixedPrecision(2048, 1200)
    assert mul_type(a, FixedPrecision(64, 10)).width == 1088
    m, r = mul(np.array([7 << 423], dtype=object), a, np.array([-(9 << 422)], dtype=object), a)
    assert int(m[0]) * exact(r.step) == exact(-7.875)


def test_declared_types_stay_within_1024_bits() -> None:
    with pytest.raises(PrecisionError, match="between 1 and 1024"):
        parse_precision("fixed<1025,10>")
    assert parse_precision(f"int<{MAX_WIDTH}>").width == MAX_WIDTH


def _saturated_by_the_rules(x: float, p: FixedPrecision) -> bool:
    """Whether the documented rules saturate the constant x in p: its rounded value (towards zero
    for ap_int) lies outside what p holds (SAT_SYM: symmetric); constants never wrap."""
    rules = FixedPrecision(p.width, p.width, p.signed, Quant.TRN_ZERO) if p.is_int else p
    overflow = Overflow.SAT_SYM if rules.overflow is Overflow.SAT_SYM else Overflow.SAT
    rounded = _quantize(exact(x) * Fraction(2) ** rules.fractional, rules.rounding)
    return from_double(x, replace(rules, overflow=overflow, sat_bits=0)) != rounded


@pytest.mark.parametrize("overflow", [Overflow.SAT, Overflow.SAT_SYM, Overflow.WRAP], ids=lambda o: o.value)
def test_count_outside_counts_what_saturation_changes(overflow: Overflow) -> None:
    """The constants reported as saturated are exactly those the rules change beyond rounding: a
    value just past the largest that rounds back to it is not (3e-4 in fixed<1,-9,RND,SAT> is
    0), one that rounds past it is."""
    types = [FixedPrecision(w, i, signed, q, overflow) for q in Quant for w, i in SHAPES for signed in (True, False)]
    types += [FixedPrecision(1, -9, True, Quant.RND, overflow)] + _int_types()
    bad = []
    for p in types:
        xs = [x for x in boundary_values(p) if math.isfinite(x)]
        want = sum(_saturated_by_the_rules(x, p) for x in xs)
        if count_outside(np.array(xs), p) != want:
            bad.append(f"{p.cpp()}: count_outside {count_outside(np.array(xs), p)}, rules {want}")
    assert not bad, bad[:10]
    assert count_outside(np.array([3e-4, -2e-4, 5e-4]), FixedPrecision(1, -9, True, Quant.RND, Overflow.SAT)) == 1
