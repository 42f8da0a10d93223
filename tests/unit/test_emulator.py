"""The numpy emulator of the `hls` dialect, op by op.

Three kinds of checks:
- hand-computed values from the docstring rules of nnhls/dialects/hls.py on tiny cases, including
  saturation, wrap-around and rounding inside accumulators, where the order of the steps matters;
- a literal scalar model written straight from those docstrings (Python Fractions and the scalar
  `convert_int` of nnhls.dialects.fixed, one sample and one element at a time), compared bit for bit
  with the vectorised emulator on random data, in narrow types that saturate and wide ones that
  need more than 64 bits;
- with wide precisions, agreement with float arithmetic within a tolerance.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np
import pytest
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from nnhls.compiler.context import make_context
from nnhls.dialects import hls
from nnhls.dialects.fixed import (
    FixedPrecision,
    Overflow,
    Quant,
    convert_int,
    convert_mantissas,
    parse_precision,
    quantize,
    to_mantissa,
)
from nnhls.interpreters.emulator import run_hls, run_hls_fixed, trace_hls
from nnhls.ops import kernel_op_classes

RNG = np.random.default_rng(7)
P = parse_precision


# ----- building one-op functions ----------------------------------------------------------------------------


def ty(p: FixedPrecision) -> str:
    name = "fixed" if p.signed else "ufixed"
    tail = f", {p.rounding.value}, {p.overflow.value}, {p.sat_bits}" if p.has_modes else ""
    return f"!hls.{name}<{p.width}, {p.integer}{tail}>"


def vt(shape: Sequence[int], p: FixedPrecision, stream: bool = False) -> str:
    dims = "x".join(map(str, shape))
    if stream:
        return f"!hls.stream<{dims}x{ty(p)}, depth {math.prod(shape[:-1]) or 1}>"
    return f"!hls.array<{dims}x{ty(p)}>"


def consts(m: np.ndarray) -> str:
    m = np.asarray(m, dtype=np.int64)
    return f"dense<{m.tolist()}> : tensor<{'x'.join(map(str, m.shape))}xi64>"


def ints(values: Sequence[int]) -> str:
    return f"array<i64: {', '.join(map(str, values))}>"


def single(
    op: str,
    operands: Sequence[tuple[Sequence[int], FixedPrecision]],
    result: tuple[Sequence[int], FixedPrecision],
    attrs: str,
    stream: bool = False,
) -> ModuleOp:
    """A module whose hls.func applies one kernel op to its arguments and returns the result."""
    io = "io_stream dataflow" if stream else "io_parallel pipeline"
    args = ", ".join(f"%a{i}: {vt(s, p, stream)}" for i, (s, p) in enumerate(operands))
    names = ", ".join(f"%a{i}" for i in range(len(operands)))
    in_types = ", ".join(vt(s, p, stream) for s, p in operands)
    out = vt(*result, stream=stream)
    sep = ", " if attrs else ""
    text = (
        f"hls.func @top {io} {{\n^bb0({args}):\n"
        f'  %r = {op} {names} {{layer = "l"{sep}{attrs}}} : ({in_types}) -> {out}\n'
        f"  hls.return %r : {out}\n}}"
    )
    module = Parser(make_context(), "builtin.module {" + text + "}").parse_module()
    module.verify()
    return module


def run1(module: ModuleOp, *inputs: np.ndarray) -> np.ndarray:
    return run_hls(module, list(inputs))[0]


def dense_module(
    w: np.ndarray,
    b: np.ndarray,
    x_t: FixedPrecision,
    w_t: FixedPrecision,
    acc_t: FixedPrecision,
    res_t: FixedPrecision,
    lead: Sequence[int] = (),
) -> ModuleOp:
    attrs = (
        f"weight = {consts(w)}, weight_t = {ty(w_t)}, bias = {consts(b)}, bias_t = {ty(w_t)}, "
        f"accum_t = {ty(acc_t)}, strategy = #hls<strategy latency>"
    )
    n_in, n_out = w.shape
    return single("hls.dense", [((*lead, n_in), x_t)], ((*lead, n_out), res_t), attrs)


# ----- the literal scalar model of the docstrings ---------------------------------------------------------


def cast(v: Fraction, t: FixedPrecision) -> Fraction:
    """cast<t>(v) for an exact dyadic value, through the scalar twin of the C++ conversion."""
    k = v.denominator.bit_length() - 1
    assert v.denominator == 1 << k
    return Fraction(convert_int(v.numerator, t.fractional - k, t)) / Fraction(2) ** t.fractional


def fr(values: np.ndarray, t: FixedPrecision) -> np.ndarray:
    """Mantissas of t as an object array of exact Fractions."""
    out = np.empty(values.shape, dtype=object)
    for i, m in np.ndenumerate(values):
        out[i] = Fraction(int(m)) / Fraction(2) ** t.fractional
    return out


def to_float(values: np.ndarray) -> np.ndarray:
    return np.vectorize(float, otypes=[np.float64])(values)


def quantized_inputs(
    shape: Sequence[int], t: FixedPrecision, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Random float inputs and their exact values in t (as the emulator's input conversion gives)."""
    x = RNG.normal(size=shape) * scale
    return x, fr(to_mantissa(x, t), t)


def rand_mantissas(shape: Sequence[int], t: FixedPrecision) -> np.ndarray:
    return RNG.integers(t.min_mantissa, t.max_mantissa + 1, size=shape, dtype=np.int64)


def literal_mac(acc: Fraction, terms: Sequence[Fraction], acc_t: FixedPrecision) -> Fraction:
    """acc = cast(acc + cast(term)) in order."""
    for term in terms:
        acc = cast(acc + cast(term, acc_t), acc_t)
    return acc


def literal_dense(x, w, b, acc_t, res_t) -> np.ndarray:
    batch, (n_in, n_out) = x.shape[0], w.shape
    y = np.empty((batch, n_out), dtype=object)
    for s, j in itertools.product(range(batch), range(n_out)):
        acc = literal_mac(cast(b[j], acc_t), [x[s, i] * w[i, j] for i in range(n_in)], acc_t)
        y[s, j] = cast(acc, res_t)
    return y


def literal_conv(
    x, w, b, strides, dilations, pads, depthwise, acc_t, res_t, out_shape
) -> np.ndarray:
    rank = len(strides)
    kernel, channels, last = w.shape[:rank], w.shape[rank], w.shape[-1]
    y = np.empty((x.shape[0], *out_shape), dtype=object)
    for s in range(x.shape[0]):
        for pix in itertools.product(*(range(n) for n in out_shape[:-1])):
            for f in range(out_shape[-1]):
                c_of, m = (f // last, f % last) if depthwise else (None, f)
                terms = []
                for k in itertools.product(*(range(n) for n in kernel)):
                    pos = [
                        pix[a] * strides[a] + k[a] * dilations[a] - pads[2 * a] for a in range(rank)
                    ]
                    if any(p < 0 or p >= x.shape[a + 1] for a, p in enumerate(pos)):
                        continue
                    for c in [c_of] if depthwise else range(channels):
                        terms.append(x[(s, *pos, c)] * w[(*k, c, m)])
                y[(s, *pix, f)] = cast(literal_mac(cast(b[f], acc_t), terms, acc_t), res_t)
    return y


R32 = FixedPrecision(32, 1, False, Quant.RND)


def literal_average(values: Sequence[Fraction], n: int, acc_t, res_t) -> Fraction:
    acc = Fraction(0)
    for v in values:
        acc = cast(acc + v, acc_t)
    return cast(acc * fr(to_mantissa(np.array(1.0 / n), R32), R32)[()], res_t)


def assert_exact(actual: np.ndarray, expected_fractions: np.ndarray) -> None:
    assert actual.shape == expected_fractions.shape
    np.testing.assert_array_equal(actual, to_float(expected_fractions))


# ----- registry ------------------------------------------------------------------------------------------------


def test_every_kernel_op_has_an_evaluator() -> None:
    kernels = [op for op in hls.HLS_OPS if op not in (hls.FuncOp, hls.ReturnOp)]
    assert [op.name for op in kernels if op not in kernel_op_classes()] == []


# ----- casts ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "x", "expected"),
    [
        # TRN floors, WRAP keeps the low bits: 5.75 -> 5.5 -> wraps in [-4, 4) to -2.5.
        ("fixed<4,3>", [5.75, -0.75, 1.25], [-2.5, -1.0, 1.0]),
        # RND: ties up; SAT clamps to [-4, 3.5].
        ("fixed<4,3,RND,SAT>", [0.25, -0.25, 0.75, 9.0, -9.0], [0.5, 0.0, 1.0, 3.5, -4.0]),
        # RND_CONV: ties to even; SAT_SYM: the minimum is -max.
        (
            "fixed<4,3,RND_CONV,SAT_SYM>",
            [0.25, 0.75, 1.25, -9.0, -4.0],
            [0.0, 1.0, 1.0, -3.5, -3.5],
        ),
        # SAT_ZERO: zero on overflow.
        ("fixed<4,3,TRN,SAT_ZERO>", [3.5, 4.0, -4.0, -4.5], [3.5, 0.0, -4.0, 0.0]),
        # RND_ZERO / RND_INF / RND_MIN_INF on ties of both signs.
        ("fixed<8,7,RND_ZERO>", [0.25, -0.25, 0.75, 1.0], [0.0, 0.0, 0.5, 1.0]),
        ("fixed<8,7,RND_INF>", [0.25, -0.25], [0.5, -0.5]),
        ("fixed<8,7,RND_MIN_INF>", [0.25, -0.25], [0.0, -0.5]),
        ("fixed<8,7,TRN_ZERO>", [0.75, -0.75], [0.5, -0.5]),
        # Unsigned SAT: negatives become 0.
        ("ufixed<4,2,TRN,SAT>", [-1.0, 5.0, 1.5], [0.0, 3.75, 1.5]),
        # WRAP with one saturation bit: an overflow keeps the sign bit of the value, the rest wraps.
        ("fixed<4,4,TRN,WRAP,1>", [9.0, -9.0, 3.0], [1.0, -1.0, 3.0]),
    ],
)
def test_cast_modes(target: str, x: list[float], expected: list[float]) -> None:
    src = P("fixed<24,12>")
    module = single("hls.cast", [((len(x),), src)], ((len(x),), P(target)), "")
    np.testing.assert_array_equal(run1(module, np.array([x])), [expected])


def test_cast_between_wide_types_is_exact() -> None:
    src, dst = P("fixed<100,60>"), P("fixed<90,20,RND,SAT>")
    module = single("hls.cast", [((3,), src)], ((3,), dst), "")
    x = np.array([[2.0**50 + 0.5, -(2.0**-30) * 3, 1e-12]])
    got = run_hls_fixed(module, x)[0]
    m_src = to_mantissa(x, src)
    expected = [convert_int(int(v), dst.fractional - src.fractional, dst) for v in m_src[0]]
    assert got.t == dst and [int(v) for v in got.m[0]] == expected
    assert int(got.m[0, 2]) == 1 << 30 and int(got.m[0, 1]) == -(3 << 40)
    assert int(got.m[0, 0]) == dst.max_mantissa  # 2**50 does not fit 20 integer bits: SAT


# ----- dense: the accumulation order ----------------------------------------------------------------------


def test_dense_saturating_accumulator_depends_on_order() -> None:
    # acc in [-8, 7]: with weights 1 the steps are 0 -> 6 -> 7 (saturated) -> 1, not the exact 6.
    acc_t = P("fixed<4,4,TRN,SAT>")
    x_t, w_t, res_t = P("fixed<8,8>"), P("fixed<4,4>"), P("fixed<8,8>")
    w = np.ones((3, 1), dtype=np.int64)
    module = dense_module(w, np.zeros(1, dtype=np.int64), x_t, w_t, acc_t, res_t)
    np.testing.assert_array_equal(
        run1(module, np.array([[6, 6, -6], [-6, 6, 6], [6, -6, 6]])), [[1], [6], [6]]
    )


def test_dense_wrapping_accumulator_matches_modular_sum() -> None:
    # int<4> wraps: 6 + 6 = 12 -> -4, -4 - 6 = -10 -> 6: the exact sum, whatever the order.
    acc_t = P("fixed<4,4>")
    x_t, w_t = P("fixed<8,8>"), P("fixed<4,4>")
    w = np.array([[1], [1], [1]], dtype=np.int64)
    module = dense_module(w, np.array([1]), x_t, w_t, acc_t, P("fixed<8,8>"))
    # bias 1: 1 + 6 + 6 - 6 = 7; 1 + 7 -> -8, -8 + 7 = -1, -1 + 7 = 6 (= 22 mod 16).
    np.testing.assert_array_equal(run1(module, np.array([[6, 6, -6], [7, 7, 7]])), [[7], [6]])


def test_dense_rounds_each_product_into_the_accumulator() -> None:
    # x = 0.75 and w = 0.5: the product 0.375 is 1.5 LSBs of fixed<8,6> (F = 2).
    x_t, w_t = P("ufixed<4,2>"), P("fixed<4,2>")
    w = np.array([[2], [2]], dtype=np.int64)  # 0.5 with F = 2
    x = np.array([[0.75, 0.75]])
    for acc, expected in (
        ("fixed<8,6,RND>", 1.0),
        ("fixed<8,6>", 0.5),
        ("fixed<8,6,RND_CONV>", 1.0),
    ):
        module = dense_module(w, np.zeros(1, dtype=np.int64), x_t, w_t, P(acc), P("fixed<16,8>"))
        assert run1(module, x)[0, 0] == expected, acc
    # RND_CONV rounds 0.375 to 0.5 (2 LSBs, even); 0.125 (0.5 LSB) rounds to 0 under RND_CONV.
    module = dense_module(
        np.array([[1]]),
        np.zeros(1, dtype=np.int64),
        x_t,
        w_t,
        P("fixed<8,6,RND_CONV>"),
        P("fixed<16,8>"),
    )
    assert run1(module, np.array([[0.5]]))[0, 0] == 0.0


def test_dense_bias_and_result_casts() -> None:
    # bias 1.75 cast to an accumulator with one fractional bit (TRN): 1.5; result cast SAT to [-2, 1.5].
    x_t, w_t = P("fixed<8,4>"), P("fixed<8,4>")
    w = np.array([[16]], dtype=np.int64)  # 1.0
    b = np.array([28], dtype=np.int64)  # 1.75
    module = dense_module(w, b, x_t, w_t, P("fixed<12,11>"), P("fixed<3,2,TRN,SAT>"))
    np.testing.assert_array_equal(
        run1(module, np.array([[0.0], [-1.0], [-5.0]])), [[1.5], [0.5], [-2.0]]
    )


@pytest.mark.parametrize(
    ("x_t", "w_t", "acc_t", "res_t"),
    [
        (
            "fixed<8,3>",
            "fixed<6,2>",
            "fixed<10,5,TRN,SAT>",
            "fixed<8,4,RND,SAT>",
        ),  # rounded products
        ("fixed<8,3>", "fixed<6,2>", "fixed<14,5,TRN,SAT>", "fixed<8,4,RND,SAT>"),  # exact products
        ("fixed<8,3>", "fixed<6,2>", "fixed<9,4,RND,SAT_SYM>", "fixed<8,4>"),
        ("fixed<8,3>", "fixed<6,2>", "fixed<13,4>", "fixed<8,4>"),  # wrapping, exact products
        ("ufixed<8,3>", "fixed<6,2>", "ufixed<9,5,TRN,SAT>", "ufixed<8,4>"),  # unsigned accumulator
        ("fixed<8,3>", "fixed<6,2>", "fixed<9,5>", "fixed<6,3>"),  # wrapping
        (
            "fixed<8,3>",
            "fixed<6,2>",
            "fixed<9,5,TRN,WRAP,2>",
            "fixed<6,3>",
        ),  # wrap, saturation bits
        # wrapping, truncated products, summed in integer lanes: 32-bit lanes at W_acc + dropped
        # bits = 26, 32 (the edge) and 64-bit lanes just past it (33) and at theirs (64)
        ("fixed<16,6>", "fixed<16,6>", "fixed<16,6>", "fixed<16,6>"),
        ("fixed<16,6>", "fixed<16,6>", "fixed<22,12>", "fixed<16,6>"),
        ("fixed<16,6>", "fixed<16,6>", "fixed<23,13>", "fixed<16,6>"),
        ("ufixed<16,6>", "fixed<16,6>", "ufixed<23,13>", "ufixed<16,6>"),  # unsigned, 64-bit lanes
        ("ufixed<12,2>", "fixed<12,2>", "ufixed<21,11>", "ufixed<12,6>"),  # unsigned, 32-bit lanes
        ("fixed<33,3>", "fixed<33,3>", "fixed<4,3>", "fixed<8,4>"),  # 60 + 4 bits: 64-bit lanes
        ("fixed<34,3>", "fixed<33,3>", "fixed<4,3>", "fixed<8,4>"),  # 61 + 4 bits: no lanes
        ("fixed<40,10>", "fixed<40,8>", "fixed<90,24,RND,SAT>", "fixed<70,20,RND>"),  # > 64 bits
        ("fixed<40,10>", "fixed<40,8>", "fixed<80,12>", "fixed<70,20>"),  # wide, wrapping
        ("fixed<40,10>", "fixed<40,8>", "fixed<70,10,RND,SAT>", "fixed<70,20>"),  # wide, rounded
    ],
)
def test_dense_matches_literal_model(x_t: str, w_t: str, acc_t: str, res_t: str) -> None:
    xp, wp, ap, rp = P(x_t), P(w_t), P(acc_t), P(res_t)
    w = rand_mantissas((6, 4), wp)
    b = rand_mantissas((4,), wp)
    x, xf = quantized_inputs((7, 6), xp, 3.0)
    module = dense_module(w, b, xp, wp, ap, rp)
    got = run_hls_fixed(module, x)[0]
    expected = literal_dense(xf, fr(w, wp), fr(b, wp), ap, rp)
    np.testing.assert_array_equal(fr(got.m, rp), expected)


def test_dense_on_leading_axes_and_mixed_safe_rows() -> None:
    # Most rows are small (exact fast path); a few are huge and saturate (sequential path).
    xp, wp, ap, rp = P("fixed<12,8>"), P("fixed<8,4>"), P("fixed<14,6,TRN,SAT>"), P("fixed<12,7>")
    w = rand_mantissas((5, 3), wp)
    b = rand_mantissas((3,), wp)
    x, xf = quantized_inputs((4, 3, 5), xp, 0.2)
    x[1, 2] *= 400.0
    xf = fr(to_mantissa(x, xp), xp)
    module = dense_module(w, b, xp, wp, ap, rp, lead=(3,))
    got = run_hls_fixed(module, x)[0]
    expected = literal_dense(xf.reshape(12, 5), fr(w, wp), fr(b, wp), ap, rp).reshape(4, 3, 3)
    np.testing.assert_array_equal(fr(got.m, rp), expected)


# ----- convolutions ----------------------------------------------------------------------------------------------


def conv_module(
    op: str,
    in_shape,
    w,
    b,
    strides,
    dilations,
    pads,
    x_t,
    w_t,
    acc_t,
    res_t,
    stream=False,
) -> tuple[ModuleOp, tuple[int, ...]]:
    rank = len(strides)
    depthwise = "depthwise" in op
    n_out = w.shape[-2] * w.shape[-1] if depthwise else w.shape[-1]
    spatial = tuple(
        (in_shape[a] + pads[2 * a] + pads[2 * a + 1] - dilations[a] * (w.shape[a] - 1) - 1)
        // strides[a]
        + 1
        for a in range(rank)
    )
    out_shape = (*spatial, n_out)
    attrs = (
        f"weight = {consts(w)}, weight_t = {ty(w_t)}, bias = {consts(b)}, bias_t = {ty(w_t)}, "
        f"accum_t = {ty(acc_t)}, strides = {ints(strides)}, dilations = {ints(dilations)}, "
        f"pads = {ints(pads)}, strategy = #hls<strategy latency>"
    )
    return single(op, [(in_shape, x_t)], (out_shape, res_t), attrs, stream), out_shape


CONV_CASES = [
    ("hls.conv1d", (9, 3), (3, 3, 2), (2,), (1,), (1, 2)),
    ("hls.conv1d", (10, 2), (3, 2, 3), (1,), (2,), (2, 2)),
    ("hls.conv2d", (5, 6, 2), (3, 2, 2, 3), (1, 2), (1, 1), (1, 1, 0, 1)),
    ("hls.depthwise_conv1d", (8, 3), (3, 3, 2), (1,), (1,), (1, 1)),
    ("hls.depthwise_conv2d", (5, 5, 2), (2, 3, 2, 2), (2, 1), (1, 1), (0, 1, 1, 1)),
]


@pytest.mark.parametrize(("op", "in_shape", "w_shape", "strides", "dilations", "pads"), CONV_CASES)
@pytest.mark.parametrize(
    ("x_t", "w_t", "acc_t", "res_t"),
    [
        ("fixed<8,3>", "fixed<6,2>", "fixed<10,5,TRN,SAT>", "fixed<8,4,RND,SAT>"),
        ("fixed<8,3>", "fixed<6,2>", "fixed<9,5,RND>", "fixed<8,5>"),
        ("fixed<8,3>", "fixed<6,2>", "fixed<9,5>", "fixed<8,5>"),  # wrapping: integer lanes
        ("fixed<16,6>", "fixed<16,6>", "fixed<23,13>", "fixed<8,5>"),  # 64-bit lanes
        ("fixed<8,3>", "fixed<6,2>", "fixed<13,4,TRN,SAT>", "fixed<8,4>"),
        ("fixed<36,10>", "fixed<36,8>", "fixed<72,20,RND,SAT>", "fixed<64,20>"),
    ],
)
def test_convolutions_match_literal_model(
    op: str,
    in_shape,
    w_shape,
    strides,
    dilations,
    pads,
    x_t: str,
    w_t: str,
    acc_t: str,
    res_t: str,
) -> None:
    xp, wp, ap, rp = P(x_t), P(w_t), P(acc_t), P(res_t)
    w = rand_mantissas(w_shape, wp)
    depthwise = "depthwise" in op
    b = rand_mantissas((w_shape[-2] * w_shape[-1] if depthwise else w_shape[-1],), wp)
    module, out_shape = conv_module(op, in_shape, w, b, strides, dilations, pads, xp, wp, ap, rp)
    x, xf = quantized_inputs((3, *in_shape), xp, 3.0)
    got = run_hls_fixed(module, x)[0]
    expected = literal_conv(
        xf, fr(w, wp), fr(b, wp), strides, dilations, pads, depthwise, ap, rp, out_shape
    )
    np.testing.assert_array_equal(fr(got.m, rp), expected)


def test_conv_hand_computed_saturation_order() -> None:
    # One output pixel, kernel positions in order (x0, x1, x2) with weights 1 and acc in [-8, 7]:
    # 7 + 7 -> 7 (SAT), then -7 -> 0; left padding reads zero and changes nothing.
    xp, wp, ap = P("fixed<8,8>"), P("fixed<4,4>"), P("fixed<4,4,TRN,SAT>")
    w = np.ones((3, 1, 1), dtype=np.int64)
    module, _ = conv_module(
        "hls.conv1d",
        (3, 1),
        w,
        np.zeros(1, np.int64),
        (1,),
        (1,),
        (1, 1),
        xp,
        wp,
        ap,
        P("fixed<8,8>"),
    )
    # outputs: [pad, 7, 7] -> 7; [7, 7, -7] -> 0; [7, -7, pad] -> 0
    np.testing.assert_array_equal(run1(module, np.array([[[7], [7], [-7]]]))[0, :, 0], [7, 0, 0])


def test_io_stream_gives_the_same_bits_as_io_parallel() -> None:
    xp, wp, ap, rp = P("fixed<8,3>"), P("fixed<6,2>"), P("fixed<10,5,TRN,SAT>"), P("fixed<8,4>")
    w = rand_mantissas((3, 3, 2, 4), wp)
    b = rand_mantissas((4,), wp)
    x = RNG.normal(size=(4, 6, 6, 2)) * 3
    zero = (0, 0, 0, 0)
    parallel, _ = conv_module("hls.conv2d", (6, 6, 2), w, b, (1, 1), (1, 1), zero, xp, wp, ap, rp)
    stream, _ = conv_module(
        "hls.conv2d", (6, 6, 2), w, b, (1, 1), (1, 1), zero, xp, wp, ap, rp, stream=True
    )
    np.testing.assert_array_equal(run1(parallel, x), run1(stream, x))


# ----- pooling -------------------------------------------------------------------------------------------------


def pool_module(in_shape, kind, size, strides, pads, x_t, acc_t, res_t, count_pad=False):
    rank = len(size)
    spatial = tuple(
        (in_shape[a] + pads[2 * a] + pads[2 * a + 1] - size[a]) // strides[a] + 1
        for a in range(rank)
    )
    attrs = (
        f"op = #hls<pool_op {kind}>, pool_size = {ints(size)}, strides = {ints(strides)}, "
        f"pads = {ints(pads)}, {'count_pad, ' if count_pad else ''}accum_t = {ty(acc_t)}"
    )
    out_shape = (*spatial, in_shape[-1])
    return single("hls.pool", [(in_shape, x_t)], (out_shape, res_t), attrs), out_shape


def test_average_pool_hand_computed() -> None:
    # r = cast<ap_ufixed<32,1,RND>>(1/3) = 715827883 * 2**-31 (2**31 / 3 = 715827882.67 rounds up).
    # Windows [1, 1, 0.5] and [1, 0.5, 2]: 2.5 * r = 0.8333333337 -> TRN to F = 8: 213/256;
    # 3.5 * r = 1.1666666672 -> 298/256.
    xp, rp = P("fixed<8,4>"), P("fixed<16,8>")
    module, _ = pool_module((4, 1), "average", (3,), (1,), (0, 0), xp, P("fixed<12,6>"), rp)
    y = run1(module, np.array([[[1.0], [1.0], [0.5], [2.0]]]))
    np.testing.assert_array_equal(y[0, :, 0] * 256, [213, 298])
    # With padding the count is the in-bounds positions: [pad, 1, 1] -> 2 * 0.5; [0.5, 2, pad] -> 1.25.
    module, _ = pool_module((4, 1), "average", (3,), (3,), (1, 1), xp, P("fixed<12,6>"), rp)
    y = run1(module, np.array([[[1.0], [1.0], [0.5], [2.0]]]))
    np.testing.assert_array_equal(y[0, :, 0], [1.0, 1.25])


def test_average_pool_count_pad_and_saturating_sum() -> None:
    # count_pad divides by the full window (3): acc = 0 + 1 + 1 = 2, 2 * r -> 170/256 (TRN).
    xp, rp = P("fixed<8,4>"), P("fixed<16,8>")
    module, _ = pool_module(
        (3, 1), "average", (3,), (1,), (1, 0), xp, P("fixed<12,6>"), rp, count_pad=True
    )
    y = run1(module, np.array([[[1.0], [1.0], [7.0]]]))
    r = Fraction(715827883, 1 << 31)
    assert y[0, 0, 0] == math.floor(2 * r * 256) / 256
    # A saturating accumulator in [-4, 3.75]: 3 + 3 -> 3.75, then -3 -> 0.75; average 0.75 / 4.
    module, _ = pool_module(
        (2, 2, 1), "average", (2, 2), (2, 2), (0, 0, 0, 0), xp, P("fixed<5,3,TRN,SAT>"), rp
    )
    y = run1(module, np.array([[[[3.0], [3.0]], [[-3.0], [0.0]]]]))
    assert y.reshape(-1)[0] == 0.75 / 4


def test_max_pool_padding_never_wins() -> None:
    xp = P("fixed<8,4>")
    module, _ = pool_module((3, 1), "max", (2,), (2,), (1, 1), xp, xp, P("fixed<8,4>"))
    np.testing.assert_array_equal(
        run1(module, np.array([[[-3.0], [-5.0], [-1.5]]]))[0, :, 0], [-3.0, -1.5]
    )


@pytest.mark.parametrize("kind", ["average", "max"])
@pytest.mark.parametrize(
    ("in_shape", "size", "strides", "pads"),
    [
        ((7, 2), (3,), (2,), (1, 1)),
        ((5, 6, 2), (2, 3), (2, 2), (1, 0, 1, 1)),
        ((4, 4, 3), (2, 2), (1, 1), (0, 0, 0, 0)),
    ],
)
def test_pooling_matches_literal_model(kind: str, in_shape, size, strides, pads) -> None:
    xp, ap, rp = P("fixed<8,3>"), P("fixed<8,4,TRN,SAT>"), P("fixed<10,4,RND>")
    module, out_shape = pool_module(in_shape, kind, size, strides, pads, xp, ap, rp)
    x, xf = quantized_inputs((3, *in_shape), xp, 2.5)
    got = run1(module, x)
    rank = len(size)
    expected = np.empty((3, *out_shape), dtype=object)
    for s in range(3):
        for pix in itertools.product(*(range(n) for n in out_shape[:-1])):
            for c in range(in_shape[-1]):
                values = []
                for k in itertools.product(*(range(n) for n in size)):
                    pos = [pix[a] * strides[a] + k[a] - pads[2 * a] for a in range(rank)]
                    if all(0 <= p < in_shape[a] for a, p in enumerate(pos)):
                        values.append(xf[(s, *pos, c)])
                if kind == "max":
                    expected[(s, *pix, c)] = cast(max(values), rp)
                else:
                    expected[(s, *pix, c)] = literal_average(values, len(values), ap, rp)
    assert_exact(got, expected)


def test_global_pooling() -> None:
    xp, ap, rp = P("fixed<8,3>"), P("fixed<9,4,TRN,SAT>"), P("fixed<12,4>")
    x, xf = quantized_inputs((4, 3, 2, 2), xp, 3.0)
    for kind in ("average", "max"):
        attrs = f"op = #hls<pool_op {kind}>, accum_t = {ty(ap)}"
        module = single("hls.global_pool", [((3, 2, 2), xp)], ((2,), rp), attrs)
        got = run1(module, x)
        expected = np.empty((4, 2), dtype=object)
        for s, c in itertools.product(range(4), range(2)):
            values = [xf[s, i, j, c] for i in range(3) for j in range(2)]
            expected[s, c] = (
                cast(max(values), rp) if kind == "max" else literal_average(values, 6, ap, rp)
            )
        assert_exact(got, expected)


# ----- batchnorm, merges, dot, shapes ---------------------------------------------------------------------


def test_batchnorm_is_one_cast_of_the_exact_affine_map() -> None:
    # x = 1.5, scale = 0.625, bias = 0.25: 1.1875 exactly, then one RND cast to F = 2: 1.25.
    xp, sp = P("fixed<8,4>"), P("fixed<8,2>")
    attrs = f"scale = {consts(np.array([40, -64]))}, scale_t = {ty(sp)}, bias = {consts(np.array([16, 0]))}, bias_t = {ty(sp)}"
    module = single("hls.batchnorm", [((2,), xp)], ((2,), P("fixed<8,6,RND>")), attrs)
    np.testing.assert_array_equal(run1(module, np.array([[1.5, 1.5]])), [[1.25, -1.5]])


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("add", [1.5, -0.5]),
        ("sub", [-1.0, 3.875]),  # 7.5 saturates to the maximum of fixed<6,3>
        ("mul", [0.375, -4.0]),  # 0.3125 is 2.5 LSBs: RND gives 3; -14 saturates
        ("average", [0.75, -0.25]),
        ("maximum", [1.25, 3.5]),
        ("minimum", [0.25, -4.0]),
    ],
)
def test_merges_hand_computed(kind: str, expected: list[float]) -> None:
    # a = [0.25, 3.5] in fixed<8,4>, b = [1.25, -4] in fixed<6,4>; result fixed<6,3,RND,SAT> (F = 3).
    module = single(
        "hls.merge",
        [((2,), P("fixed<8,4>")), ((2,), P("fixed<6,4>"))],
        ((2,), P("fixed<6,3,RND,SAT>")),
        f"kind = #hls<merge {kind}>",
    )
    got = run1(module, np.array([[0.25, 3.5]]), np.array([[1.25, -4.0]]))
    np.testing.assert_array_equal(got, [expected])


def test_merge_average_rounds_the_half() -> None:
    # (0.125 + 0) * 0.5 = 0.0625: exact inside, then RND to F = 3 gives 0.125, TRN gives 0.
    for res, value in (("fixed<8,5,RND>", 0.125), ("fixed<8,5>", 0.0)):
        module = single(
            "hls.merge", [((1,), P("fixed<8,4>"))] * 2, ((1,), P(res)), "kind = #hls<merge average>"
        )
        assert run1(module, np.array([[0.125]]), np.array([[0.0]]))[0, 0] == value


def test_dot_saturates_in_order() -> None:
    # products 6, 6, -6 into [-8, 7] (SAT): 6 -> 7 -> 1; then the result.
    xp, ap = P("fixed<8,8>"), P("fixed<4,4,TRN,SAT>")
    module = single(
        "hls.dot", [((3,), xp), ((3,), xp)], ((1,), P("fixed<8,8>")), f"accum_t = {ty(ap)}"
    )
    got = run1(module, np.array([[3, 2, -3], [1, 1, 1]]), np.array([[2, 3, 2], [2, 2, 2]]))
    np.testing.assert_array_equal(got, [[1], [6]])


def test_concat_reshape_transpose_pad_crop_upsample() -> None:
    xp, rp = P("fixed<8,4>"), P("fixed<6,3,RND,SAT>")
    x = RNG.normal(size=(2, 3, 4, 2)) * 3
    q = quantize(quantize(x, xp), rp)
    cases: list[tuple[str, tuple[int, ...], str, Callable[[np.ndarray], np.ndarray]]] = [
        ("hls.reshape", (24,), "", lambda v: v.reshape(2, 24)),
        (
            "hls.transpose",
            (2, 3, 4),
            f"perm = {ints((2, 0, 1))}",
            lambda v: v.transpose(0, 3, 1, 2),
        ),
        (
            "hls.pad",
            (4, 7, 2),
            f"pads = {ints((1, 0, 2, 1))}",
            lambda v: np.pad(v, ((0, 0), (1, 0), (2, 1), (0, 0))),
        ),
        ("hls.crop", (1, 3, 2), f"crops = {ints((1, 1, 0, 1))}", lambda v: v[:, 1:2, 0:3]),
        (
            "hls.upsample",
            (6, 12, 2),
            f"factors = {ints((2, 3))}",
            lambda v: v.repeat(2, 1).repeat(3, 2),
        ),
        ("hls.cast", (3, 4, 2), "", lambda v: v),
    ]
    for op, shape, attrs, ref in cases:
        module = single(op, [((3, 4, 2), xp)], (shape, rp), attrs)
        np.testing.assert_array_equal(run1(module, x), ref(q), err_msg=op)
    module = single(
        "hls.concat", [((3, 4, 2), xp), ((3, 4, 2), xp)], ((3, 4, 4), rp), "axis = 2 : i64"
    )
    np.testing.assert_array_equal(
        run1(module, x, -x), np.concatenate([q, quantize(quantize(-x, xp), rp)], axis=-1)
    )


def test_clone_returns_independent_copies() -> None:
    xp = P("fixed<8,4>")
    t = vt((4, 2), xp, stream=True)
    text = (
        f"hls.func @top io_stream dataflow {{\n^bb0(%x: {t}):\n"
        f'  %a, %b = hls.clone %x {{layer = "c"}} : ({t}) -> ({t}, {t})\n'
        f"  hls.return %a, %b : {t}, {t}\n}}"
    )
    module = Parser(make_context(), "builtin.module {" + text + "}").parse_module()
    a, b = run_hls_fixed(module, np.ones((3, 4, 2)))
    assert a.m is not b.m and np.array_equal(a.m, b.m)
    a.m[0, 0, 0] = 5
    assert b.m[0, 0, 0] == 16


# ----- activations ---------------------------------------------------------------------------------------------


def activation(kind: str, xp, rp, extra: str = "", shape=(6,)) -> ModuleOp:
    sep = ", " if extra else ""
    return single(
        "hls.activation", [(shape, xp)], (shape, rp), f"kind = #hls<activation {kind}>{sep}{extra}"
    )


@pytest.mark.parametrize(
    ("kind", "extra", "expected"),
    [
        ("linear", "", [-3.0, -0.75, 0.0, 0.5, 2.25, 7.0]),
        ("relu", "", [0.0, 0.0, 0.0, 0.5, 2.25, 7.0]),
        ("relu6", "", [0.0, 0.0, 0.0, 0.5, 2.25, 6.0]),
        # alpha = 38/128 in fixed<8,1>; x * alpha then TRN to F = 3: -0.890625 -> -1, -0.2227 -> -0.25.
        (
            "leaky_relu",
            "alpha = 0.296875 : f64, param_t = !hls.fixed<8, 1>",
            [-1.0, -0.25, 0.0, 0.5, 2.25, 7.0],
        ),
        (
            "thresholded_relu",
            "alpha = 0.5 : f64, param_t = !hls.fixed<8, 2>",
            [0.0, 0.0, 0.0, 0.0, 2.25, 7.0],
        ),
        ("hard_tanh", "", [-1.0, -0.75, 0.0, 0.5, 1.0, 1.0]),
        (
            "clip",
            "alpha = -1.5 : f64, beta = 2.0 : f64, param_t = !hls.fixed<8, 3>",
            [-1.5, -0.75, 0.0, 0.5, 2.0, 2.0],
        ),
        # x * 13/64 + 0.5: -3 -> 0; -0.75 -> 0.34765625 -> 0.25 (TRN, F = 3); 2.25 -> 0.957 -> 0.875.
        (
            "hard_sigmoid",
            "alpha = 0.203125 : f64, beta = 0.5 : f64, param_t = !hls.fixed<8, 1>",
            [0.0, 0.25, 0.5, 0.5, 0.875, 1.0],
        ),
    ],
)
def test_exact_activations_hand_computed(kind: str, extra: str, expected: list[float]) -> None:
    module = activation(kind, P("fixed<8,4>"), P("fixed<8,5>"), extra)
    np.testing.assert_array_equal(
        run1(module, np.array([[-3.0, -0.75, 0.0, 0.5, 2.25, 7.0]])), [expected]
    )


@pytest.mark.parametrize("kind", ["relu", "relu6", "hard_tanh", "linear"])
def test_exact_activations_on_types_wider_than_int64(kind: str) -> None:
    """Inferred types can exceed 64 bits (exact bit growth): scalar bounds meet Python-int values."""
    x = np.array([[-3.0, -0.75, 0.0, 0.5, 2.25, 7.0]])
    narrow = run1(activation(kind, P("fixed<8,4>"), P("fixed<8,5>")), x)
    wide = run1(activation(kind, P("fixed<100,40>"), P("fixed<110,45>")), x)
    np.testing.assert_array_equal(wide, narrow)


def test_prelu_uses_the_per_channel_slope() -> None:
    extra = f"param = {consts(np.array([8, 2]))}, param_t = !hls.ufixed<4, 0>"  # 0.5 and 0.125
    module = activation("prelu", P("fixed<8,4>"), P("fixed<10,4>"), extra, shape=(2, 2))
    got = run1(module, np.array([[[-2.0, -2.0], [1.5, -0.5]]]))
    np.testing.assert_array_equal(got, [[[-1.0, -0.25], [1.5, -0.0625]]])


def table_attrs(table: np.ndarray, table_t: FixedPrecision, low: float, high: float) -> str:
    return (
        f"table = {consts(table)}, table_size = {table.size} : i64, table_t = {ty(table_t)}, "
        f"table_min = {low!r} : f64, table_max = {high!r} : f64"
    )


def test_table_activation_indexing_hand_computed() -> None:
    # 8 entries over [-4, 4): step 1. x = -4 -> 0; -0.25 -> 3; 0 -> 4; 3.75 -> 7; 9 -> clamped 7;
    # -9 -> clamped 0. Entries are 10 * i (uint-like mantissas of ufixed<8,8>).
    table = np.arange(8) * 10
    extra = table_attrs(table, P("ufixed<8,8>"), -4.0, 4.0)
    module = activation("sigmoid", P("fixed<10,5>"), P("ufixed<8,8>"), extra)
    got = run1(module, np.array([[-4.0, -0.25, 0.0, 3.75, 9.0, -9.0]]))
    np.testing.assert_array_equal(got, [[0, 30, 40, 70, 70, 0]])


def test_table_activation_bypasses() -> None:
    table = np.arange(8) * 10
    x = np.array([[-9.0, -1.0, 0.0, 2.5, 3.75, 6.0]])
    xp, rp = P("fixed<10,5>"), P("fixed<12,8>")
    # softplus passes x through at and above table_max (4): 6.0; 3.75 still reads entry 7.
    module = activation("softplus", xp, rp, table_attrs(table, P("ufixed<8,8>"), -4.0, 4.0))
    np.testing.assert_array_equal(run1(module, x), [[0, 30, 40, 60, 70, 6.0]])
    # elu: x >= 0 is x itself; negative x reads the table.
    module = activation("elu", xp, rp, table_attrs(table, P("ufixed<8,8>"), -4.0, 4.0))
    np.testing.assert_array_equal(run1(module, x), [[0, 30, 0.0, 2.5, 3.75, 6.0]])
    # selu: x >= 0 is x * beta (beta = 1.0507 ~ 1.046875 in fixed<8,2>), TRN to F = 4.
    extra = (
        table_attrs(table, P("ufixed<8,8>"), -4.0, 4.0)
        + ", beta = 1.046875 : f64, param_t = !hls.fixed<8, 2>"
    )
    module = activation("selu", xp, rp, extra)
    expected = [
        0,
        30,
        0.0,
        math.floor(2.5 * 1.046875 * 16) / 16,
        math.floor(3.75 * 1.046875 * 16) / 16,
        math.floor(6 * 1.046875 * 16) / 16,
    ]
    np.testing.assert_array_equal(run1(module, x), [expected])


def test_table_activation_matches_literal_index_rule() -> None:
    # An odd-looking range [-6, 2) with 64 entries: floor((x + 6) * 64 / 8), clamped.
    xp, tp = P("fixed<12,4>"), P("fixed<10,3>")
    table = rand_mantissas((64,), tp)
    x, xf = quantized_inputs((50, 3), xp, 3.0)
    module = activation(
        "tanh", xp, P("fixed<9,3,RND,SAT>"), table_attrs(table, tp, -6.0, 2.0), shape=(3,)
    )
    expected = np.empty(xf.shape, dtype=object)
    tf = fr(table, tp)
    for i, v in np.ndenumerate(xf):
        entry: Fraction = tf[min(max(math.floor((v + 6) * 64 / 8), 0), 63)]  # pyright: ignore[reportAssignmentType]
        expected[i] = cast(entry, P("fixed<9,3,RND,SAT>"))
    assert_exact(run1(module, x), expected)


# ----- softmax -----------------------------------------------------------------------------------------------


def softmax_module(
    impl: str,
    n: int,
    exp_t,
    inv_t,
    acc_t,
    res_t,
    exp_range=8.0,
    inv_range=8.0,
    sizes=(8, 8),
    x_t=None,
):
    e_size, i_size = sizes
    e_step, i_step = exp_range / e_size, inv_range / i_size
    if impl == "latency":
        exp_vals = [math.exp(-exp_range / 2 + (i + 0.5) * e_step) for i in range(e_size)]
    else:
        exp_vals = [1.0] + [math.exp(-(i + 0.5) * e_step) for i in range(1, e_size)]
    inv_vals = [1.0 / ((j + 0.5) * i_step) for j in range(i_size)]
    exp_m, inv_m = to_mantissa(np.array(exp_vals), exp_t), to_mantissa(np.array(inv_vals), inv_t)
    attrs = (
        f"implementation = #hls<softmax_impl {impl}>, exp_table = {consts(exp_m)}, exp_table_size = {e_size} : i64, "
        f"exp_table_t = {ty(exp_t)}, exp_range = {exp_range!r} : f64, inv_table = {consts(inv_m)}, "
        f"inv_table_size = {i_size} : i64, inv_table_t = {ty(inv_t)}, inv_range = {inv_range!r} : f64, "
        f"accum_t = {ty(acc_t)}"
    )
    module = single("hls.softmax", [((n,), x_t or P("fixed<10,4>"))], ((n,), res_t), attrs)
    return module, fr(exp_m, exp_t), fr(inv_m, inv_t)


def literal_softmax(xf, impl, e_tab, i_tab, exp_range, inv_range, acc_t, res_t) -> np.ndarray:
    out = np.empty(xf.shape, dtype=object)
    ne, ni = len(e_tab), len(i_tab)
    for s in range(xf.shape[0]):
        row = list(xf[s])
        if impl == "stable":
            idx = [math.floor((max(row) - v) * ne / Fraction(exp_range)) for v in row]
        else:
            idx = [
                math.floor((v + Fraction(exp_range) / 2) * ne / Fraction(exp_range)) for v in row
            ]
        e = [e_tab[min(max(i, 0), ne - 1)] for i in idx]
        acc = Fraction(0)
        for v in e:
            acc = cast(acc + v, acc_t)
        j = min(max(math.floor(acc * ni / Fraction(inv_range)), 0), ni - 1)
        out[s] = [cast(v * i_tab[j], res_t) for v in e]
    return out


def test_softmax_stable_hand_computed() -> None:
    # x = [1, 0, -3]: d = [0, 1, 4], 8 entries over [0, 8): i = [0, 1, 4]; e = [1, exp(-1.5), exp(-4.5)]
    # in ufixed<8,1> (F = 7): [128, 28, 1]/128; s = 157/128 = 1.2265625 in ufixed<10,4> (F = 6):
    # TRN 78/64 = 1.21875, j = floor(1.21875) = 1 -> inv entry 1/1.5 = 85/128 in ufixed<8,1>;
    # y = e * inv -> F = 7 TRN: [85, 18, 0]/128.
    exp_t, inv_t = P("ufixed<8,1>"), P("ufixed<8,1>")
    module, e_tab, i_tab = softmax_module(
        "stable", 3, exp_t, inv_t, P("ufixed<10,4>"), P("ufixed<8,1>")
    )
    assert e_tab[1] == Fraction(28, 128) and i_tab[1] == Fraction(85, 128)
    got = run1(module, np.array([[1.0, 0.0, -3.0]]))
    np.testing.assert_array_equal(got * 128, [[85, 18, 0]])


@pytest.mark.parametrize("impl", ["stable", "latency"])
@pytest.mark.parametrize("acc", ["ufixed<10,4>", "ufixed<8,2,TRN,SAT>", "fixed<12,5,RND,SAT>"])
def test_softmax_matches_literal_model(impl: str, acc: str) -> None:
    exp_t, inv_t, res_t = (
        P("ufixed<10,1,RND,SAT>"),
        P("ufixed<12,4,RND,SAT>"),
        P("ufixed<10,0,RND,SAT>"),
    )
    module, e_tab, i_tab = softmax_module(impl, 5, exp_t, inv_t, P(acc), res_t, sizes=(64, 32))
    x, xf = quantized_inputs((40, 5), P("fixed<10,4>"), 2.0)
    expected = literal_softmax(xf, impl, e_tab, i_tab, 8.0, 8.0, P(acc), res_t)
    assert_exact(run1(module, x), expected)


def test_softmax_argmax_takes_the_first_maximum() -> None:
    module, _, _ = softmax_module(
        "argmax", 4, P("ufixed<8,1>"), P("ufixed<8,1>"), P("ufixed<10,4>"), P("ufixed<8,1>")
    )
    got = run1(module, np.array([[0.5, 2.0, 2.0, -1.0], [-3.0, -3.0, -4.0, -5.0]]))
    np.testing.assert_array_equal(got, [[0, 1, 0, 0], [1, 0, 0, 0]])


def test_softmax_with_wide_precision_is_close_to_float() -> None:
    exp_t, inv_t, res_t = (
        P("ufixed<18,1,RND,SAT>"),
        P("ufixed<24,8,RND,SAT>"),
        P("ufixed<18,0,RND,SAT>"),
    )
    module, _, _ = softmax_module(
        "stable",
        5,
        exp_t,
        inv_t,
        P("ufixed<24,8>"),
        res_t,
        exp_range=16.0,
        inv_range=8.0,
        sizes=(4096, 4096),
        x_t=P("fixed<24,8>"),
    )
    x = RNG.normal(size=(200, 5)) * 2
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(run1(module, x), e / e.sum(axis=1, keepdims=True), atol=5e-3)


# ----- wide precision against float -----------------------------------------------------------------------------


def test_wide_convolutions_and_dense_are_close_to_float() -> None:
    wide, acc = P("fixed<32,12>"), P("fixed<64,28>")
    w = RNG.normal(size=(3, 3, 2, 4))
    b = RNG.normal(size=4)
    wm, bm = to_mantissa(w, wide), to_mantissa(b, wide)
    module, _ = conv_module(
        "hls.conv2d", (6, 6, 2), wm, bm, (1, 1), (1, 1), (1, 1, 1, 1), wide, wide, acc, wide
    )
    x = RNG.normal(size=(5, 6, 6, 2))
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    ref = np.zeros((5, 6, 6, 4)) + b
    for i, j in itertools.product(range(3), range(3)):
        ref += np.einsum("bhwc,cf->bhwf", xp[:, i : i + 6, j : j + 6], w[i, j])
    np.testing.assert_allclose(run1(module, x), ref, atol=1e-3)
    dw = to_mantissa(RNG.normal(size=(20, 7)), wide)
    module = dense_module(dw, to_mantissa(np.zeros(7), wide), wide, wide, acc, wide)
    xd = RNG.normal(size=(30, 20))
    np.testing.assert_allclose(run1(module, xd), xd @ (dw * 2.0**-20), atol=1e-3)


# ----- whole functions ----------------------------------------------------------------------------------------


def mlp_module(sizes: Sequence[int], stream: bool = False) -> ModuleOp:
    """An MLP 16-64-32-32-5 as the lowering emits it: dense + relu per layer, softmax at the end."""
    x_t, w_t = P("fixed<16,6>"), P("fixed<16,6>")
    io = "io_stream dataflow" if stream else "io_parallel pipeline"
    lines = []
    cur, cur_t = "%x", x_t
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        acc = FixedPrecision(
            x_t.width + w_t.width + math.ceil(math.log2(n_in)) + 1,
            x_t.integer + w_t.integer + math.ceil(math.log2(n_in)) + 1,
        )
        w = RNG.integers(-(1 << 9), 1 << 9, size=(n_in, n_out))
        b = RNG.integers(-(1 << 9), 1 << 9, size=(n_out,))
        attrs = (
            f'layer = "fc{i}", weight = {consts(w)}, weight_t = {ty(w_t)}, bias = {consts(b)}, bias_t = {ty(w_t)}, '
            f"accum_t = {ty(acc)}, strategy = #hls<strategy latency>"
        )
        out_t = vt((n_out,), x_t, stream)
        lines.append(
            f"  %d{i} = hls.dense {cur} {{{attrs}}} : ({vt((n_in,), cur_t, stream)}) -> {out_t}"
        )
        act = "relu" if i < len(sizes) - 2 else "linear"
        lines.append(
            f'  %a{i} = hls.activation %d{i} {{layer = "act{i}", kind = #hls<activation {act}>}} : ({out_t}) -> {out_t}'
        )
        cur, cur_t = f"%a{i}", x_t
    out = vt((sizes[-1],), x_t, stream)
    text = (
        f"hls.func @mlp {io} {{\n^bb0(%x: {vt((sizes[0],), x_t, stream)}):\n"
        + "\n".join(lines)
        + f"\n  hls.return {cur} : {out}\n}}"
    )
    module = Parser(make_context(), "builtin.module {" + text + "}").parse_module()
    module.verify()
    return module


def test_trace_lists_every_layer_and_ends_with_the_output() -> None:
    module = mlp_module((16, 8, 4))
    x = RNG.normal(size=(10, 16))
    trace = trace_hls(module, x)
    assert list(trace) == ["fc0", "act0", "fc1", "act1"]
    np.testing.assert_array_equal(trace["act1"], run_hls(module, x)[0])
    np.testing.assert_array_equal(trace["act0"], np.maximum(trace["fc0"], 0))


def test_input_errors() -> None:
    module = mlp_module((16, 8, 4))
    with pytest.raises(ValueError, match="has 1 inputs, got 2"):
        run_hls(module, [np.zeros((1, 16)), np.zeros((1, 16))])
    with pytest.raises(ValueError, match=r"must have shape \(batch, 16\)"):
        run_hls(module, np.zeros((3, 15)))


def test_convert_mantissas_matches_the_scalar_conversion() -> None:
    values = np.array([0, 1, -1, 7, -7, 12345, -12345, (1 << 59) - 1, -(1 << 59)], dtype=np.int64)
    for spec in (
        "fixed<8,3,RND,SAT>",
        "ufixed<12,2,RND_CONV,WRAP,2>",
        "fixed<80,70,RND_INF>",
        "ufixed<90,40,RND_ZERO,SAT>",
        "fixed<70,10,TRN_ZERO>",
    ):
        dst = P(spec)
        for src_frac in (-3, 0, 5, 40):
            got = convert_mantissas(values, src_frac, dst)
            expected = [convert_int(int(v), dst.fractional - src_frac, dst) for v in values]
            assert [int(v) for v in got] == expected, (spec, src_frac)
    big = np.array([1 << 80, -(1 << 75) + 3], dtype=object)
    got = convert_mantissas(big, 20, P("fixed<70,50,RND>"))
    assert [int(v) for v in got] == [convert_int(int(v), 0, P("fixed<70,50,RND>")) for v in big]


@pytest.mark.parametrize(
    "spec",
    ["fixed<16,6>", "ufixed<10,4>", "fixed<7,2,TRN,SAT>", "ufixed<6,6,TRN,SAT_ZERO>",
     "fixed<9,3,TRN,SAT_SYM>", "fixed<12,4,TRN,WRAP,3>", "int<5>", "uint<3>", "fixed<62,20>"],
)  # fmt: skip
def test_truncating_conversion_fast_path_matches_the_scalar_conversion(spec: str) -> None:
    """TRN towards fewer fractional bits (every default per-product cast), in and out of range."""
    dst = P(spec)
    rng = np.random.default_rng(3)
    values = np.concatenate([
        rng.integers(-(1 << 59), 1 << 59, 300), rng.integers(-(1 << 20), 1 << 20, 300),
        np.array([0, -1, 1, (1 << 59) - 1, -(1 << 59)]),
    ]).astype(np.int64)  # fmt: skip
    for src_frac in (dst.fractional + 1, dst.fractional + 13, dst.fractional + 70):
        got = convert_mantissas(values, src_frac, dst)
        expected = [convert_int(int(v), dst.fractional - src_frac, dst) for v in values]
        assert [int(v) for v in got] == expected, (spec, src_frac)


@pytest.mark.parametrize("mode", list(Quant))
@pytest.mark.parametrize("overflow", list(Overflow))
def test_convert_mantissas_on_python_ints_matches_the_scalar_conversion(
    mode: Quant, overflow: Overflow
) -> None:
    # Values of 40 to 130 bits, with ties and exact values, through the vectorised object path.
    rng = np.random.default_rng(11)
    values = [
        int(v) << int(b)
        for v, b in zip(rng.integers(-(1 << 40), 1 << 40, 60), rng.integers(0, 90, 60), strict=True)
    ]
    values += [
        3 << 70,
        -(3 << 70),
        (1 << 100) + (1 << 69),
        -(1 << 100) - (1 << 69),
        0,
        (1 << 61) - 1,
    ]
    m = np.array(values, dtype=object)
    for dst in (
        FixedPrecision(70, 20, True, mode, overflow, 3),
        FixedPrecision(40, 10, False, mode, overflow, 1),
    ):
        for src_frac in (0, 71, 130):
            got = convert_mantissas(m, src_frac, dst)
            expected = [convert_int(v, dst.fractional - src_frac, dst) for v in values]
            assert [int(v) for v in got] == expected, (dst, src_frac)
    assert (
        int(convert_mantissas(np.array(5 << 80, dtype=object), 80, P("fixed<70,20,RND>")))
        == 5 << 50
    )


@pytest.mark.parametrize("mode", list(Quant))
@pytest.mark.parametrize("overflow", list(Overflow))
def test_input_quantization_matches_the_scalar_conversion(mode: Quant, overflow: Overflow) -> None:
    # Half-LSB ties, their neighbours, tiny, huge and negative doubles, through both the scaled
    # (all values moderate) and the general (some value huge) paths of to_mantissa.
    rng = np.random.default_rng(5)
    base = rng.normal(size=200) * 10.0 ** rng.integers(-6, 4, 200)
    extremes = np.array([0.0, -0.0, 1e-300, -1e-300, 5e-324, 1e300, -1e300])
    for p in (
        FixedPrecision(8, 3, True, mode, overflow, 2),
        FixedPrecision(30, 4, False, mode, overflow, 1),
        FixedPrecision(60, 40, True, mode, overflow),
        FixedPrecision(90, 30, True, mode, overflow, 3),  # beyond int64: Python ints
        FixedPrecision(100, 95, False, mode, overflow),
    ):
        ties = np.ldexp(rng.integers(-3000, 3000, 80).astype(np.float64), -p.fractional - 1)
        moderate = np.concatenate(
            [base, ties, np.nextafter(ties, np.inf), np.nextafter(ties, -np.inf)]
        )
        for x in (moderate, np.concatenate([moderate, extremes])):
            got = to_mantissa(x, p)
            expected = []
            for v in x.tolist():
                frac, exp = math.frexp(v)
                expected.append(convert_int(int(frac * (1 << 53)), exp - 53 + p.fractional, p))
            assert [int(v) for v in got] == expected, p


def test_integer_lanes_over_blocks_and_threads_match_the_generic_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lanes of a wrapping, truncating dense layer, over several row blocks on two threads
    (the literal-model cases above are one block), give the generic path's bits."""
    from nnhls.ops import exact

    xp, wp, ap, rp = P("fixed<16,6>"), P("fixed<16,6>"), P("fixed<16,6>"), P("fixed<16,6>")
    w = rand_mantissas((40, 70), wp)
    b = rand_mantissas((70,), wp)
    x, _ = quantized_inputs((9000, 40), xp, 20.0)
    module = dense_module(w, b, xp, wp, ap, rp)
    monkeypatch.setenv("NNHLS_THREADS", "2")
    assert exact._lane_dtype(ap, 10) is np.int32 and exact._LANE_BLOCK // 70 < 9000
    lanes = run_hls_fixed(module, x)[0].m
    monkeypatch.setattr(exact, "_lane_dtype", lambda acc_t, s: None)
    generic = run_hls_fixed(module, x)[0].m
    np.testing.assert_array_equal(lanes, generic)
