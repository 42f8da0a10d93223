"""Lookup tables (nnhls.dialects.tables): entries at the bin centres, ranges that cover the types."""

from __future__ import annotations

import math

import numpy as np

from nnhls.dialects import tables
from nnhls.dialects.fixed import FixedPrecision, parse_precision
from nnhls.dialects.kinds import ActivationKind, SoftmaxImpl
from nnhls.ops import activation

P = parse_precision


def test_sigmoid_table_by_hand() -> None:
    # 4 bins over [-8, 8): centres -6, -2, 2, 6; sigmoid = 0.00247, 0.1192, 0.8808, 0.99753;
    # ufixed<8,0> truncates to 256ths: 0, 30, 225, 255.
    table = activation.activation_table(ActivationKind.SIGMOID, 4, None, P("ufixed<8,0>"))
    assert table.tolist() == [0, 30, 225, 255]


def test_elu_table_covers_the_negative_side_only() -> None:
    assert activation.activation_range(ActivationKind.ELU) == (-8.0, 0.0)
    # alpha 2: the centre -7 of the first of 4 bins gives 2 * (exp(-7) - 1) = -1.998.
    values = activation.activation_values(ActivationKind.ELU, 4, 2.0)
    assert math.isclose(values[0], 2.0 * math.expm1(-7.0))


def test_table_entries_saturate_to_a_pinned_type() -> None:
    # ufixed<8,0> cannot hold exp(0) = 1: the entry saturates to 255/256 instead of wrapping to 0.
    t = tables.softmax_tables(
        SoftmaxImpl.STABLE,
        4,
        P("fixed<16,6>"),
        P("ufixed<8,0>"),
        8,
        P("ufixed<10,2>"),
        P("ufixed<12,5>"),
        8,
    )
    assert t.exp_table[0] == 255


def test_exp_range_covers_the_input_or_the_useful_span() -> None:
    exp_t = P("ufixed<11,1>")  # 10 fractional bits: exp(-d) < 2**-11 beyond d = 11 ln 2 = 7.6
    assert tables.exp_range(SoftmaxImpl.STABLE, P("fixed<16,6>"), exp_t) == 8.0
    # fixed<4,2> spans [-2, 1.5]: differences up to 3.5 -> a range of 4.
    assert tables.exp_range(SoftmaxImpl.STABLE, P("fixed<4,2>"), exp_t) == 4.0
    assert tables.exp_range(SoftmaxImpl.LATENCY, P("fixed<16,6>"), exp_t) == 16.0


def test_entries_beyond_the_exp_range_round_to_zero() -> None:
    # The clamped last entry gives what exp(-d) would round to for every larger d: zero.
    exp_t = P("ufixed<11,1,RND>")
    span = tables.exp_range(SoftmaxImpl.STABLE, P("fixed<16,6>"), exp_t)
    t = tables.softmax_tables(
        SoftmaxImpl.STABLE,
        4,
        P("fixed<16,6>"),
        exp_t,
        1024,
        P("ufixed<13,3>"),
        P("ufixed<20,10>"),
        1024,
    )
    assert t.exp_table[-1] == 0
    assert math.exp(-span) < exp_t.step / 2


def test_every_reachable_sum_has_its_own_inverse_bin() -> None:
    for n in (2, 3, 10, 16, 100):
        acc = FixedPrecision(11 + n.bit_length(), 1 + n.bit_length(), False)
        span = tables.inv_range(n, 1.0, acc)
        assert span > n and span / 2 <= n  # the smallest power of two above n
        size = 1024
        sums = np.linspace(1.0, n, 97)
        assert np.all(np.floor(sums * size / span) <= size - 1)


def test_inverse_entries_by_hand() -> None:
    # range 8 in 8 bins: entries 1 / (j + 0.5) = 2, 0.667, 0.4, ... in ufixed<12,5> (128ths).
    values = tables.inv_values(8, 8.0)
    np.testing.assert_allclose(values[:3], [2.0, 1 / 1.5, 0.4])
    assert tables.quantize_table(values, P("ufixed<12,5>"))[:3].tolist() == [256, 85, 51]


def test_kernel_params_fill_framework_defaults() -> None:
    from xdsl.parser import Parser

    from nnhls.compiler.context import make_context
    from nnhls.dialects import nn

    text = """
func.func @m(%a: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>) {
  %x = nn.input %a {layer = "in"} : (tensor<2xf32>) -> tensor<2xf32>
  %h = nn.activation %x {layer = "hs", kind = #hls<activation hard_sigmoid>} : (tensor<2xf32>) -> tensor<2xf32>
  %s = nn.activation %x {layer = "selu", kind = #hls<activation selu>} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %h, %s : tensor<2xf32>, tensor<2xf32>
}"""
    ops = [
        op
        for op in Parser(make_context(), text).parse_module().walk()
        if isinstance(op, nn.ActivationOp)
    ]
    assert activation.kernel_params(ops[0]) == (1.0 / 6.0, 0.5)  # Keras 3's hard_sigmoid
    assert activation.kernel_params(ops[1]) == (None, activation.SELU_SCALE)
