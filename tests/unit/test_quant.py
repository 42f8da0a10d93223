"""The framework-neutral quantizers (nnhls.dialects.quant) against the ap_fixed model in fixed.py.

A uniform quantizer with a power-of-two scale is a fixed-point type; the two implementations are
independent (float64 floor arithmetic here, integer mantissas with rounding bits there), so their
agreement on ties, saturation and wrap-around checks both.
"""

from __future__ import annotations

import numpy as np
import pytest

from nnhls.dialects import fixed
from nnhls.dialects.fixed import FixedPrecision
from nnhls.dialects.quant import (
    BinaryQuantizer,
    Po2Quantizer,
    QuantizerError,
    QuantOverflow,
    Rounding,
    TernaryQuantizer,
    UniformQuantizer,
    round_with,
)

RNG = np.random.default_rng(7)


def _samples(step: float, span: float) -> np.ndarray:
    """Random values, exact ties, values just off ties, and values far out of range."""
    ties = (RNG.integers(-200, 200, 400) + 0.5) * step
    off = ties + RNG.choice([-1, 1], 400) * step * 2.0**-20
    spread = RNG.normal(0, span, 400)
    return np.concatenate([ties, off, spread, [0.0, -0.0, 1e30, -1e30, span * 7, -span * 7]])


@pytest.mark.parametrize("rounding", [r for r in Rounding if r is not Rounding.CEIL])
@pytest.mark.parametrize(
    ("bits", "signed", "exponent", "narrow", "overflow"),
    [
        (6, True, -5, False, QuantOverflow.SAT),
        (6, True, -5, True, QuantOverflow.SAT),
        (4, False, -2, False, QuantOverflow.SAT),
        (8, True, 1, False, QuantOverflow.WRAP),
        (5, False, -7, False, QuantOverflow.WRAP),
        (1, True, 0, False, QuantOverflow.SAT),
    ],
)
def test_power_of_two_quantizer_is_the_fixed_point_type(
    rounding: Rounding,
    bits: int,
    signed: bool,
    exponent: int,
    narrow: bool,
    overflow: QuantOverflow,
) -> None:
    q = UniformQuantizer.make(
        bits, signed, 2.0**exponent, narrow=narrow, rounding=rounding, overflow=overflow
    )
    precision = q.fixed_precision()
    assert precision is not None
    assert (precision.width, precision.integer, precision.signed) == (bits, bits + exponent, signed)
    x = _samples(2.0**exponent, 2.0 ** (bits + exponent))
    assert np.array_equal(q(x), fixed.quantize(x, precision))


def test_rounding_modes_on_ties() -> None:
    y = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.25, -0.75])
    expected = {
        Rounding.RND_CONV: [-2, -2, -0, 0, 2, 2, 0, -1],
        Rounding.RND: [-2, -1, 0, 1, 2, 3, 0, -1],
        Rounding.RND_INF: [-3, -2, -1, 1, 2, 3, 0, -1],
        Rounding.RND_MIN_INF: [-3, -2, -1, 0, 1, 2, 0, -1],
        Rounding.RND_ZERO: [-2, -1, 0, 0, 1, 2, 0, -1],
        Rounding.TRN: [-3, -2, -1, 0, 1, 2, 0, -1],
        Rounding.TRN_ZERO: [-2, -1, 0, 0, 1, 2, 0, 0],
        Rounding.CEIL: [-2, -1, 0, 1, 2, 3, 1, 0],
    }
    for mode, values in expected.items():
        assert round_with(y, mode).tolist() == values, mode


def test_zero_point_and_non_power_of_two_scale() -> None:
    q = UniformQuantizer.make(8, False, 0.1, zero_point=128)
    assert q.fixed_precision() is None
    assert q.code_range()[0] == 0 and q.code_range()[1] == 255
    assert q([0.0, 0.04, 0.05, 0.15, -20.0, 20.0]).tolist() == pytest.approx(
        [0.0, 0.0, 0.0, 0.2, -12.8, 12.7]
    )


def test_per_channel_and_per_element_broadcast() -> None:
    q = UniformQuantizer.make([4, 4, 0], [True, False, True], [0.5, 0.25, 1.0])
    x = np.array([[3.3, -1.0, 5.0], [100.0, 100.0, -100.0]])
    assert q(x).tolist() == [[3.5, 0.0, 0.0], [3.5, 3.75, 0.0]]
    assert not q.homogeneous and q.fixed_precision() is None
    # The one type that holds all: sign from channel 0, 2 integer bits (3.5, 3.75), 2 fraction bits.
    envelope = q.envelope_precision((2, 3))
    assert envelope == FixedPrecision(5, 3, True)
    assert np.array_equal(fixed.quantize(q(x), envelope), q(x))


def test_narrow_unsigned_and_wrap() -> None:
    narrow = UniformQuantizer.make(3, False, 1.0, narrow=True)
    assert narrow([10.0, 6.0, -1.0]).tolist() == [6.0, 6.0, 0.0]
    assert narrow.fixed_precision() is None  # no ap mode drops the top code
    wrap = UniformQuantizer.make(3, True, 1.0, overflow=QuantOverflow.WRAP)
    assert wrap([4.0, 5.0, -5.0, 3.0]).tolist() == [-4.0, -3.0, 3.0, 3.0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bits": -1}, "bit width"),
        ({"bits": 4, "scale": 0.0}, "scale must be positive"),
        ({"bits": 4, "scale": float("nan")}, "scale must be positive"),
        ({"bits": 4, "zero_point": 0.5}, "zero point must be an integer"),
        ({"bits": [4, 4], "scale": [1.0, 1.0, 1.0]}, "do not broadcast"),
    ],
)
def test_invalid_parameters(kwargs: dict, message: str) -> None:
    with pytest.raises(QuantizerError, match=message):
        UniformQuantizer.make(**kwargs)


def test_binary_ternary_po2() -> None:
    x = np.array([-2.0, -0.2, 0.0, 0.2, 0.9])
    assert BinaryQuantizer(np.asarray(0.5))(x).tolist() == [-0.5, -0.5, 0.5, 0.5, 0.5]
    assert BinaryQuantizer(zero_one=True)(x).tolist() == [0, 0, 1, 1, 1]
    assert TernaryQuantizer(0.33)(x).tolist() == [-1, 0, 0, 0, 1]
    po2 = Po2Quantizer(-4, 0, max_value=1.0, zero_below=1e-7)
    # 0.2 -> log2 = -2.32 -> 2**-2; 0.9 -> 2**0; 0 -> smallest power, sign +1; -2 -> clipped to 1.
    assert po2(x).tolist() == [-1.0, -0.25, 0.0625, 0.25, 1.0]
    # Rounding of log2 switches exactly at 2**(k + 1/2).
    edge = 2.0**-1.5
    assert po2([np.nextafter(edge, 0), np.nextafter(edge, 1)]).tolist() == [0.25, 0.5]
    relu = Po2Quantizer(-3, 3, zero_below=1e-7, relu=True, negative_slope=0.5)
    assert relu([-4.0, 3.0, -0.0]).tolist() == [-2.0, 4.0, 0.125]


# ----- the #nn.quant attribute --------------------------------------------------------------------------


def _quant_context():
    from xdsl.context import Context
    from xdsl.ir import Dialect

    from nnhls.dialects.quantizer_attr import QuantizerAttr, QuantizerParams

    ctx = Context()
    ctx.load_dialect(Dialect("nn", [], [QuantizerAttr, QuantizerParams]))
    return ctx


@pytest.mark.parametrize(
    ("quantizer", "text"),
    [
        (UniformQuantizer.make(6, True, 2.0**-5), "#nn.quant<uniform, bits = 6, scale = 0.03125>"),
        (
            UniformQuantizer.make(8, False, 0.02, 128),
            "#nn.quant<uniform, bits = 8, signed = false, scale = 0.02, zero_point = 128.0>",
        ),
        (
            UniformQuantizer.make(
                [4, 4, 0],
                [True, False, True],
                [0.5, 0.25, 1.0],
                rounding=Rounding.TRN,
                overflow=QuantOverflow.WRAP,
            ),
            "#nn.quant<uniform, shape = [3], bits = [4, 4, 0], signed = [true, false, true], "
            "scale = [0.5, 0.25, 1.0], rounding = TRN, overflow = WRAP>",
        ),
        (
            BinaryQuantizer(np.asarray(0.5), zero_positive=False),
            "#nn.quant<binary, scale = 0.5, zero_positive = false>",
        ),
        (
            TernaryQuantizer(0.5, upper_inclusive=False),
            "#nn.quant<ternary, threshold = 0.5, upper_inclusive = false>",
        ),
        (
            Po2Quantizer(-8, 0, 1.0, 1e-7),
            "#nn.quant<po2, min_exp = -8, max_exp = 0, max_value = 1.0, zero_below = 1.0e-07>",
        ),
    ],
)
def test_quantizer_attribute_prints_parses_and_means_the_same(quantizer, text: str) -> None:
    import io

    from xdsl.parser import Parser
    from xdsl.printer import Printer

    from nnhls.dialects.quantizer_attr import QuantizerAttr

    attr = QuantizerAttr.from_quantizer(quantizer)
    out = io.StringIO()
    Printer(stream=out).print_attribute(attr)
    assert out.getvalue() == text
    parsed = Parser(_quant_context(), text).parse_attribute()
    assert parsed == attr
    x = np.linspace(-4, 4, 81)[:, None] * np.ones(3)
    assert np.array_equal(parsed.quantizer()(x), quantizer(x))  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("#nn.quant<uniform, scale = 0.5>", "missing bits"),
        ("#nn.quant<uniform, bits = 4, color = 3>", "unknown parameter 'color'"),
        ("#nn.quant<uniform, shape = [3], bits = [4, 5]>", "'bits' takes one value or 3"),
        ("#nn.quant<uniform, bits = 4, scale = -1.0>", "scale must be positive"),
        ("#nn.quant<binary, narrow = true>", "unknown parameter 'narrow'"),
    ],
)
def test_invalid_quantizer_attributes(text: str, message: str) -> None:
    from xdsl.parser import Parser
    from xdsl.utils.exceptions import VerifyException

    with pytest.raises(VerifyException, match=message):
        Parser(_quant_context(), text).parse_attribute().verify()


@pytest.mark.parametrize(
    ("values", "spelled"),
    [
        ([1.0, -1.0], "fixed<2,2>"),
        ([1.0, 0.0, -1.0], "fixed<2,2>"),
        ([0.96875, -1.0], "fixed<6,1>"),
        ([-4.0, 3.5], "fixed<4,3>"),
        ([2.0**-8, -1.0, 0.5], "fixed<9,1>"),
        ([100.0, 0.75], "ufixed<9,7>"),
        ([0.25, 0.5], "ufixed<2,0>"),
    ],
)
def test_exact_precision_is_exact_and_narrowest(values: list[float], spelled: str) -> None:
    from nnhls.dialects.quant import exact_precision

    p = exact_precision(values)
    assert str(p) == spelled
    assert p is not None and np.array_equal(fixed.quantize(values, p), values)
    narrower = [
        FixedPrecision(p.width - 1, p.integer - 1, p.signed),  # one integer bit less
        FixedPrecision(p.width - 1, p.integer, p.signed),  # one fractional bit less
    ]
    for q in narrower:
        if q.width >= 1:
            assert not np.array_equal(fixed.quantize(values, q), values), q


def test_exact_precision_of_random_quantized_weights() -> None:
    from nnhls.dialects.quant import exact_precision

    q = UniformQuantizer.make(6, True, 2.0**-5, narrow=True)
    w = q(RNG.normal(0, 0.5, (64, 32)))
    p = exact_precision(w)
    assert p is not None and p.width <= 6 and np.array_equal(fixed.quantize(w, p), w)
    assert exact_precision([0.0, 0.0]) is None
    assert exact_precision([np.inf]) is None
