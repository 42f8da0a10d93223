"""nn-infer-precision: each bit-growth rule against hand-computed types, and no accumulator overflow.

Expected types below are worked out by hand from the rules in the pass docstring (product
(W1 + W2, I1 + I2), ceil(log2 n) bits for n terms, ...), never read back from the implementation.
The overflow tests drive every accumulator with the worst-case inputs of its input type and check
the exact sum (computed with nnhls.dialects.fixed integer arithmetic) fits the inferred type, and
that the bit-exact emulator of the lowered hls IR returns that exact sum.
"""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from nnhls.compiler.context import make_context
from nnhls.dialects import nn
from nnhls.dialects.bitgrowth import fitted, grow, range_type, union
from nnhls.dialects.fixed import (
    FixedPrecision,
    add_type,
    mul_type,
    parse_precision,
    sub_type,
    to_mantissa,
)
from nnhls.dialects.types import FixedPointType
from nnhls.ops.base import PrecisionInferenceError
from nnhls.ops.merge import merge_result
from nnhls.passes.nn_infer_precision import InferPrecisionPass, infer_function

P = parse_precision


def parse(text: str) -> ModuleOp:
    return Parser(make_context(), text).parse_module()


def infer(text: str) -> ModuleOp:
    module = parse(text)
    InferPrecisionPass().apply(make_context(), module)
    module.verify()
    return module


def layer(module: ModuleOp, name: str) -> nn.NNLayerOp:
    for op in module.walk():
        if isinstance(op, nn.NNLayerOp) and op.layer_name == name:
            return op
    raise KeyError(name)


def types(module: ModuleOp, name: str) -> dict[str, str]:
    op = layer(module, name)
    assert op.precision is not None
    out: dict[str, str] = {}
    for var, value in op.precision.data.items():
        assert isinstance(value, FixedPointType), f"{name}.{var} left unresolved"
        out[var] = str(value.precision)
    return out


AUTO4 = 'precision = {weight = !hls.fixed<16, 6>, bias = !hls.fixed<16, 6>, accum = "auto", result = "auto"}'


def dense_model(
    n_in: int,
    n_out: int,
    bias: bool = True,
    weight: float = 0.5,
    prec: str = AUTO4,
    attrs: str = "",
) -> str:
    b = f", bias = dense<0.25> : tensor<{n_out}xf32>" if bias else ""
    return f"""
func.func @m(%a: tensor<{n_in}xf32>) -> tensor<{n_out}xf32> attributes {{{attrs}}} {{
  %x = nn.input %a {{layer = "in"}} : (tensor<{n_in}xf32>) -> tensor<{n_in}xf32>
  %d = nn.dense %x {{layer = "fc", {prec}, weight = dense<{weight}> : tensor<{n_in}x{n_out}xf32>{b}}} : (tensor<{n_in}xf32>) -> tensor<{n_out}xf32>
  func.return %d : tensor<{n_out}xf32>
}}"""


# ----- dense and convolution --------------------------------------------------------------------------------


def test_dense_accumulator_matches_hand_computation() -> None:
    # product fixed<32,12>; 8 products + bias = 9 terms -> ceil(log2 9) = 4 bits: fixed<36,16>
    # (hls4ml's verified value for this layer).
    module = infer(dense_model(8, 3))
    assert types(module, "fc") == {
        "weight": "fixed<16,6>",
        "bias": "fixed<16,6>",
        "accum": "fixed<36,16>",
        "result": "fixed<36,16>",
    }


def test_dense_without_bias_counts_only_products() -> None:
    # 8 products -> 3 bits: fixed<35,15>.
    assert types(infer(dense_model(8, 3, bias=False)), "fc")["accum"] == "fixed<35,15>"


def test_dense_single_input_with_bias() -> None:
    # 1 product + bias = 2 terms -> 1 bit: fixed<33,13>.
    assert types(infer(dense_model(1, 2)), "fc")["accum"] == "fixed<33,13>"


def test_conv2d_counts_kernel_times_channels() -> None:
    # 3x3 kernel x 2 channels = 18 products + bias = 19 terms -> 5 bits: fixed<37,17>.
    text = f"""
func.func @m(%a: tensor<5x5x2xf32>) -> tensor<3x3x4xf32> {{
  %x = nn.input %a {{layer = "in"}} : (tensor<5x5x2xf32>) -> tensor<5x5x2xf32>
  %c = nn.conv2d %x {{layer = "conv", {AUTO4}, weight = dense<0.5> : tensor<3x3x2x4xf32>, bias = dense<1.0> : tensor<4xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>}} : (tensor<5x5x2xf32>) -> tensor<3x3x4xf32>
  func.return %c : tensor<3x3x4xf32>
}}"""
    assert types(infer(text), "conv")["accum"] == "fixed<37,17>"


def test_depthwise_counts_kernel_only() -> None:
    # 3x3 kernel = 9 products, no bias -> 4 bits: fixed<36,16>.
    text = f"""
func.func @m(%a: tensor<5x5x2xf32>) -> tensor<3x3x2xf32> {{
  %x = nn.input %a {{layer = "in"}} : (tensor<5x5x2xf32>) -> tensor<5x5x2xf32>
  %c = nn.depthwise_conv2d %x {{layer = "dw", {AUTO4}, weight = dense<0.5> : tensor<3x3x2x1xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>}} : (tensor<5x5x2xf32>) -> tensor<3x3x2xf32>
  func.return %c : tensor<3x3x2xf32>
}}"""
    assert types(infer(text), "dw")["accum"] == "fixed<36,16>"


def test_unsigned_input_times_signed_weight() -> None:
    # relu of fixed<16,6> -> ufixed<15,5>; times fixed<8,2>: product fixed<23,7> (signed, one of
    # them is); 4 products + bias fixed<16,6> (F 10 < 16): union fixed<23,7>; 5 terms -> 3 bits.
    text = """
func.func @m(%a: tensor<4xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<4xf32>) -> tensor<4xf32>
  %r = nn.activation %x {layer = "relu", precision = {result = "auto"}, kind = #hls<activation relu>} : (tensor<4xf32>) -> tensor<4xf32>
  %d = nn.dense %r {layer = "fc", precision = {weight = !hls.fixed<8, 2>, bias = !hls.fixed<16, 6>, accum = "auto", result = "auto"}, weight = dense<0.5> : tensor<4x2xf32>, bias = dense<1.0> : tensor<2xf32>} : (tensor<4xf32>) -> tensor<2xf32>
  func.return %d : tensor<2xf32>
}"""
    module = infer(text)
    assert types(module, "relu")["result"] == "ufixed<15,5>"
    assert types(module, "fc")["accum"] == "fixed<26,10>"


def test_auto_weights_fewest_integer_bits() -> None:
    # Default width 16. Largest |w| 0.7 -> [-1, 1) needs I = 1; 3.0 -> I = 3 ([-4, 4));
    # 0.2 -> I = -1 ([-0.25, 0.25)); exactly -1.0 -> I = 1; exactly 1.0 -> I = 2.
    d = FixedPrecision(16, 6)
    assert fitted(np.array([0.7, -0.2]), d) == FixedPrecision(16, 1)
    assert fitted(np.array([3.0]), d) == FixedPrecision(16, 3)
    assert fitted(np.array([0.2, -0.1]), d) == FixedPrecision(16, -1)
    assert fitted(np.array([-1.0]), d) == FixedPrecision(16, 1)
    assert fitted(np.array([1.0]), d) == FixedPrecision(16, 2)
    assert fitted(np.zeros(3), d) == FixedPrecision(16, 1)


def test_auto_weights_in_a_layer() -> None:
    prec = 'precision = {weight = "auto", bias = "auto", accum = "auto", result = "auto"}'
    module = infer(dense_model(2, 2, weight=3.0, prec=prec))
    t = types(module, "fc")
    # weight 3.0 -> fixed<16,3>; bias 0.25 -> fixed<16,-1> ([-0.25, 0.25) holds 0.25? no: 0.25 is
    # the excluded top, so I = 0: fixed<16,0>). product fixed<32,9>, F 23 vs bias F 16 -> union
    # fixed<32,9>; 3 terms -> 2 bits: fixed<34,11>.
    assert t["weight"] == "fixed<16,3>"
    assert t["bias"] == "fixed<16,0>"
    assert t["accum"] == "fixed<34,11>"


# ----- pooling, batchnorm -----------------------------------------------------------------------------------


def pool_model(op: str, size: int, pads: str = "0, 0, 0, 0", count_pad: str = "") -> str:
    out = (4 + sum(int(p) for p in pads.split(",")[:2]) - size) // size + 1
    return f"""
func.func @m(%a: tensor<4x4x1xf32>) -> tensor<{out}x{out}x1xf32> {{
  %x = nn.input %a {{layer = "in"}} : (tensor<4x4x1xf32>) -> tensor<4x4x1xf32>
  %p = nn.pool %x {{layer = "pool", precision = {{accum = "auto", result = "auto"}}, op = #hls<pool_op {op}>, pool_size = array<i64: {size}, {size}>, strides = array<i64: {size}, {size}>, pads = array<i64: {pads}>{count_pad}}} : (tensor<4x4x1xf32>) -> tensor<{out}x{out}x1xf32>
  func.return %p : tensor<{out}x{out}x1xf32>
}}"""


def test_max_pool_keeps_input_type() -> None:
    assert types(infer(pool_model("max", 2)), "pool") == {
        "accum": "fixed<16,6>",
        "result": "fixed<16,6>",
    }


def test_average_pool_power_of_two_window() -> None:
    # 2x2 = 4 values -> 2 more bits in the sum; dividing by 4 is exact: result = input type.
    assert types(infer(pool_model("average", 2)), "pool") == {
        "accum": "fixed<18,8>",
        "result": "fixed<16,6>",
    }


def test_average_pool_odd_window_gets_a_guard_bit() -> None:
    # 3x3 = 9 values -> 4 bits; 1/9 is rounded, so one more integer bit in the result.
    t = types(infer(pool_model("average", 3, pads="1, 0, 1, 0", count_pad=", count_pad")), "pool")
    assert t == {"accum": "fixed<20,10>", "result": "fixed<17,7>"}


def test_batchnorm() -> None:
    # x fixed<16,6> * scale fixed<16,6> = fixed<32,12>; + bias fixed<16,6>: union fixed<32,12>,
    # 2 terms -> fixed<33,13>.
    text = """
func.func @m(%a: tensor<2xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<2xf32>) -> tensor<2xf32>
  %b = nn.batchnorm %x {layer = "bn", precision = {scale = !hls.fixed<16, 6>, bias = !hls.fixed<16, 6>, accum = "auto", result = "auto"}, scale = dense<[2.0, 0.5]> : tensor<2xf32>, bias = dense<[0.0, -1.0]> : tensor<2xf32>} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %b : tensor<2xf32>
}"""
    assert types(infer(text), "bn")["result"] == "fixed<33,13>"


# ----- activations and softmax ------------------------------------------------------------------------------


def activation_model(kind: str, in_prec: str = "!hls.fixed<16, 6>", extra: str = "") -> str:
    return f"""
func.func @m(%a: tensor<4xf32>) -> tensor<4xf32> {{
  %x = nn.input %a {{layer = "in", precision = {{result = {in_prec}}}}} : (tensor<4xf32>) -> tensor<4xf32>
  %r = nn.activation %x {{layer = "act", precision = {{result = "auto", table = "auto", param = "auto"}}, kind = #hls<activation {kind}>{extra}}} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %r : tensor<4xf32>
}}"""


@pytest.mark.parametrize(
    ("kind", "in_prec", "extra", "expected"),
    [
        ("relu", "!hls.fixed<16, 6>", "", "ufixed<15,5>"),  # unsigned input type
        ("relu", "!hls.ufixed<8, 3>", "", "ufixed<8,3>"),  # already unsigned
        ("relu6", "!hls.fixed<16, 6>", "", "ufixed<13,3>"),  # [0, 6]: 3 integer bits, F 10
        ("sigmoid", "!hls.fixed<16, 6>", "", "ufixed<11,1>"),  # [0, 1] with the default F 10
        ("tanh", "!hls.fixed<16, 6>", "", "fixed<12,2>"),  # [-1, 1] with F 10
        ("hard_tanh", "!hls.fixed<8, 4>", "", "fixed<6,2>"),  # [-1, 1] with the input F 4
        ("linear", "!hls.fixed<8, 4>", "", "fixed<8,4>"),
        ("leaky_relu", "!hls.fixed<16, 6>", ", alpha = 0.1 : f64", "fixed<16,6>"),
        ("leaky_relu", "!hls.fixed<16, 6>", ", alpha = 3.0 : f64", "fixed<18,8>"),  # 3 * -32 = -96
    ],
)
def test_activation_results(kind: str, in_prec: str, extra: str, expected: str) -> None:
    assert types(infer(activation_model(kind, in_prec, extra)), "act")["result"] == expected


def test_softmax_types() -> None:
    # result ufixed<11,1>; exp table [0, 1] -> ufixed<11,1>; the sum of 10 entries needs
    # ceil(log2 10) = 4 more bits: ufixed<15,5>.
    text = """
func.func @m(%a: tensor<10xf32>) -> tensor<10xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<10xf32>) -> tensor<10xf32>
  %s = nn.softmax %x {layer = "sm", precision = {result = "auto", exp_table = "auto", accum = "auto", inv_table = "auto"}} : (tensor<10xf32>) -> tensor<10xf32>
  func.return %s : tensor<10xf32>
}"""
    t = types(infer(text), "sm")
    assert (t["result"], t["exp_table"], t["accum"]) == (
        "ufixed<11,1>",
        "ufixed<11,1>",
        "ufixed<15,5>",
    )
    # The inverse table spans [0, 16) (a power of two above the largest sum 10): its first entry
    # 1 / (0.5 * 16 / 1024) = 128 needs 8 integer bits.
    assert t["inv_table"] == "ufixed<18,8>"


# ----- merges and shape ops -------------------------------------------------------------------------------


def test_merge_rules_by_hand() -> None:
    a, b, c = P("fixed<16,6>"), P("ufixed<8,3>"), P("fixed<12,2>")
    add3 = nn.AddOp.__new__(nn.AddOp)
    # union of the three: signed, F = max(10, 5, 10) = 10, I = max(6, 3 + 1, 2) = 6; 3 terms: +2.
    assert merge_result(add3, [a, b, c]) == FixedPrecision(18, 8)
    assert merge_result(nn.MaximumOp.__new__(nn.MaximumOp), [a, b]) == FixedPrecision(16, 6)
    assert merge_result(nn.MulOp.__new__(nn.MulOp), [a, b]) == FixedPrecision(24, 9)
    assert merge_result(nn.AverageOp.__new__(nn.AverageOp), [a, a]) == FixedPrecision(17, 6)


@pytest.mark.parametrize("seed", range(5))
def test_binary_rules_agree_with_the_ap_operators(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(50):
        ts = [
            FixedPrecision(int(w), int(w) - int(f), bool(s))
            for w, f, s in rng.integers([1, -4, 0], [20, 12, 2], (2, 3))
        ]
        a, b = ts
        assert grow(union(a, b), 2) == add_type(a, b).with_modes()
        assert merge_result(nn.SubOp.__new__(nn.SubOp), [a, b]) == sub_type(a, b)
        assert merge_result(nn.MulOp.__new__(nn.MulOp), [a, b]) == mul_type(a, b)


def test_range_type() -> None:
    assert range_type(0.0, 1.0, 10) == FixedPrecision(11, 1, False)
    assert range_type(-1.0, 1.0, 10) == FixedPrecision(12, 2, True)
    assert range_type(-1.0, 0.5, 4) == FixedPrecision(5, 1, True)
    # Beyond 53 bits ufixed<69,0>'s largest value rounds to 1.0 as a float: compared exactly, 1.0
    # needs an integer bit (a clip to [0, 1] after a wide accumulator wrapped 1.0 to 0).
    assert range_type(0.0, 1.0, 69) == FixedPrecision(70, 1, False)
    assert range_type(-1.0, 1.0, 69) == FixedPrecision(71, 2, True)
    assert range_type(0.0, 6.0, 0) == FixedPrecision(3, 3, False)


def test_shape_ops_keep_the_input_type() -> None:
    text = """
func.func @m(%a: tensor<2x2xf32>) -> tensor<4xf32> {
  %x = nn.input %a {layer = "in", precision = {result = !hls.fixed<9, 3>}} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %t = nn.transpose %x {layer = "t", precision = {result = "auto"}, perm = array<i64: 1, 0>} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %f = nn.flatten %t {layer = "f", precision = {result = "auto"}} : (tensor<2x2xf32>) -> tensor<4xf32>
  func.return %f : tensor<4xf32>
}"""
    module = infer(text)
    assert types(module, "f")["result"] == "fixed<9,3>"


# ----- model settings -----------------------------------------------------------------------------------------


def test_absent_precision_uses_the_model_default() -> None:
    module = infer(
        dense_model(
            4,
            2,
            prec='precision = {accum = "auto"}',
            attrs="nn.default_precision = !hls.fixed<10, 4>",
        )
    )
    # weight, bias, result absent -> fixed<10,4>; accum: product fixed<20,8>, 5 terms -> +3.
    assert types(module, "fc") == {
        "weight": "fixed<10,4>",
        "bias": "fixed<10,4>",
        "accum": "fixed<23,11>",
        "result": "fixed<10,4>",
    }


def test_max_precision_caps_width_and_integer_bits() -> None:
    attrs = (
        "nn.default_precision = !hls.fixed<16, 6>, nn.max_precision = !hls.fixed<24, 10, RND, SAT>"
    )
    module = infer(dense_model(8, 3, attrs=attrs))
    assert types(module, "fc")["accum"] == "fixed<24,10,RND,SAT>"


def test_report_marks_capped_and_pinned_types() -> None:
    attrs = "nn.max_precision = !hls.fixed<24, 10>"
    module = parse(dense_model(8, 3, attrs=attrs))
    function = next(iter(module.ops))
    from xdsl.dialects import func

    assert isinstance(function, func.FuncOp)
    choices = {(c.layer, c.var): c.how for c in infer_function(function)}
    assert choices[("fc", "weight")] == "pinned"
    assert choices[("fc", "accum")] == "auto, capped"
    assert choices[("in", "result")] == "default"


def test_too_wide_type_is_an_error_naming_the_layer() -> None:
    prec = 'precision = {weight = !hls.fixed<600, 6>, bias = !hls.fixed<16, 6>, accum = "auto", result = "auto"}'
    text = dense_model(4, 2, prec=prec).replace(
        'layer = "in"', 'layer = "in", precision = {result = !hls.fixed<600, 6>}'
    )
    with pytest.raises(PrecisionInferenceError, match=r"nn\.dense 'fc': inferred accum type"):
        infer(text)


# ----- no overflow on worst-case inputs ----------------------------------------------------------------------


def worst_case_sums(
    w: np.ndarray,
    b: np.ndarray,
    x_t: FixedPrecision,
    w_t: FixedPrecision,
    b_t: FixedPrecision,
    acc_t: FixedPrecision,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact extreme accumulator mantissas (in acc_t's LSBs) of x @ w + b over all inputs of x_t."""
    wm = np.asarray(to_mantissa(w, w_t), dtype=object)
    bm = np.asarray(to_mantissa(b, b_t), dtype=object)
    lo_x, hi_x = x_t.min_mantissa, x_t.max_mantissa
    shift_p = acc_t.fractional - (x_t.fractional + w_t.fractional)
    shift_b = acc_t.fractional - b_t.fractional
    assert shift_p >= 0 and shift_b >= 0, "the accumulator must keep every fractional bit"
    high = np.where(wm > 0, wm * hi_x, wm * lo_x).sum(axis=0) * (1 << shift_p) + bm * (1 << shift_b)
    low = np.where(wm > 0, wm * lo_x, wm * hi_x).sum(axis=0) * (1 << shift_p) + bm * (1 << shift_b)
    return low, high


@pytest.mark.parametrize(
    ("x_prec", "w_prec", "b_prec", "n_in"),
    [
        ("fixed<16,6>", "fixed<16,6>", "fixed<16,6>", 8),
        ("ufixed<8,3>", "fixed<6,1>", "fixed<12,8>", 33),
        ("fixed<4,4>", "ufixed<4,0>", "fixed<3,1>", 2),
    ],
)
def test_dense_accumulator_never_overflows(
    x_prec: str, w_prec: str, b_prec: str, n_in: int
) -> None:
    x_t, w_t, b_t = P(x_prec), P(w_prec), P(b_prec)
    rng = np.random.default_rng(n_in)
    w = rng.uniform(w_t.min_value, w_t.max_value, (n_in, 5))
    w[0, :] = w_t.min_value  # the extreme weights are the worst case
    w[1, :] = w_t.max_value
    b = rng.uniform(b_t.min_value, b_t.max_value, 5)
    b[0] = b_t.min_value
    prec = f'precision = {{weight = !hls.{x_type(w_t)}, bias = !hls.{x_type(b_t)}, accum = "auto", result = "auto"}}'
    text = dense_model(n_in, 5, prec=prec).replace(
        'layer = "in"', f'layer = "in", precision = {{result = !hls.{x_type(x_t)}}}'
    )
    module = parse(text)
    layer_op = layer(module, "fc")
    assert isinstance(layer_op, nn.DenseOp)
    layer_op.weight = nn.dense_attr(w)
    layer_op.bias = nn.dense_attr(b)
    InferPrecisionPass().apply(make_context(), module)
    acc_t = P(types(module, "fc")["accum"])
    low, high = worst_case_sums(w.astype(np.float32), b.astype(np.float32), x_t, w_t, b_t, acc_t)
    assert min(low) >= acc_t.min_mantissa and max(high) <= acc_t.max_mantissa
    # And it is not wasteful: at most one bit (sign alignment) above the textbook bound.
    assert acc_t.integer <= max(x_t.integer + w_t.integer, b_t.integer) + n_in.bit_length() + 1


def x_type(p: FixedPrecision) -> str:
    """The `fixed<W, I>` spelling of a plain type in IR."""
    return f"{'' if p.signed else 'u'}fixed<{p.width}, {p.integer}>"


def test_softmax_sum_never_overflows() -> None:
    # n entries, each at most the exp table's maximum, sum into grow(exp_t, n) without overflow.
    exp_t = FixedPrecision(11, 1, False)
    for n in (2, 3, 10, 64, 100):
        acc_t = grow(exp_t, n)
        assert acc_t.fractional == exp_t.fractional
        assert n * exp_t.max_mantissa <= acc_t.max_mantissa


def test_emulator_accumulates_worst_case_inputs_exactly() -> None:
    emulator = pytest.importorskip("nnhls.interpreters.emulator")
    from nnhls.passes.lower_nn_to_hls import lower_module

    x_t, w_t = P("fixed<8,3>"), P("fixed<8,2>")
    w = np.array(
        [
            [1.984375, -2.0, 0.5],
            [-2.0, 1.984375, 1.0],
            [1.984375, 1.984375, -2.0],
            [-2.0, -2.0, 1.0],
        ]
    )
    b = np.array([1.5, -2.0, 0.0])
    prec = f'precision = {{weight = !hls.{x_type(w_t)}, bias = !hls.{x_type(w_t)}, accum = "auto", result = "auto"}}'
    text = dense_model(4, 3, prec=prec).replace(
        'layer = "in"', f'layer = "in", precision = {{result = !hls.{x_type(x_t)}}}'
    )
    module = parse(text)
    op = layer(module, "fc")
    assert isinstance(op, nn.DenseOp)
    op.weight, op.bias = nn.dense_attr(w), nn.dense_attr(b)
    InferPrecisionPass().apply(make_context(), module)
    lower_module(module, "io_parallel")
    # Every input at one extreme or the other, signs chosen per output to push the sum outwards.
    xs = np.array(
        [[x_t.max_value if v > 0 else x_t.min_value for v in w[:, j]] for j in range(3)]
        + [[x_t.min_value if v > 0 else x_t.max_value for v in w[:, j]] for j in range(3)]
    )
    (y,) = emulator.run_hls(module, xs)
    np.testing.assert_array_equal(y, xs @ w + b)


def test_auto_param_holds_the_kernel_constants() -> None:
    # selu's kernel multiplies by its scale 1.0507 (beta): two integer bits at the default width.
    assert types(infer(activation_model("selu")), "act")["param"] == "fixed<16,2>"
    # leaky_relu without alpha uses the framework default 0.3: no integer bit ([-0.5, 0.5)).
    assert types(infer(activation_model("leaky_relu")), "act")["param"] == "fixed<16,0>"


EXACT_CHAIN = """
func.func @chain(%a: tensor<6x6x2xf32>) -> tensor<3xf32> {
  %x = nn.input %a {layer = "in", precision = {result = !hls.fixed<8, 3>}} : (tensor<6x6x2xf32>) -> tensor<6x6x2xf32>
  %c = nn.conv2d %x {layer = "conv", precision = {weight = "auto", bias = "auto", accum = "auto", result = "auto"}, weight = dense<[[[[1.875, -2.0, 0.5], [-1.25, 1.5, -2.0]], [[1.75, 0.125, -2.0], [1.875, -0.5, 1.0]], [[-2.0, 1.875, 0.25], [0.75, -1.0, 1.875]]], [[[1.875, -2.0, 0.5], [-1.25, 1.5, -2.0]], [[1.75, 0.125, -2.0], [1.875, -0.5, 1.0]], [[-2.0, 1.875, 0.25], [0.75, -1.0, 1.875]]], [[[-2.0, 1.875, 1.5], [1.25, -1.5, 2.0]], [[-1.75, -0.125, 1.875], [-1.875, 0.5, -1.0]], [[1.875, -2.0, -0.25], [-0.75, 1.0, -1.875]]]]> : tensor<3x3x2x3xf32>, bias = dense<[1.5, -2.0, 0.25]> : tensor<3xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<6x6x2xf32>) -> tensor<6x6x3xf32>
  %b = nn.batchnorm %c {layer = "bn", precision = {scale = "auto", bias = "auto", accum = "auto", result = "auto"}, scale = dense<[1.5, -0.75, 3.0]> : tensor<3xf32>, bias = dense<[-4.0, 0.5, 2.0]> : tensor<3xf32>} : (tensor<6x6x3xf32>) -> tensor<6x6x3xf32>
  %r = nn.activation %b {layer = "relu", precision = {result = "auto"}, kind = #hls<activation relu>} : (tensor<6x6x3xf32>) -> tensor<6x6x3xf32>
  %p = nn.pool %r {layer = "avg", precision = {accum = "auto", result = "auto"}, op = #hls<pool_op average>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<6x6x3xf32>) -> tensor<3x3x3xf32>
  %s = nn.add %p, %p, %p {layer = "add", precision = {result = "auto"}} : (tensor<3x3x3xf32>, tensor<3x3x3xf32>, tensor<3x3x3xf32>) -> tensor<3x3x3xf32>
  %g = nn.global_pool %s {layer = "gap", precision = {accum = "auto", result = "auto"}, op = #hls<pool_op max>} : (tensor<3x3x3xf32>) -> tensor<3xf32>
  %d = nn.dense %g {layer = "fc", precision = {weight = "auto", bias = "auto", accum = "auto", result = "auto"}, weight = dense<[[-2.0, 1.875, 0.5], [1.875, -2.0, -1.0], [0.25, 1.0, -2.0]]> : tensor<3x3xf32>, bias = dense<[-3.5, 3.75, 0.0]> : tensor<3xf32>} : (tensor<3xf32>) -> tensor<3xf32>
  func.return %d : tensor<3xf32>
}
"""


def chain_module(text: str) -> ModuleOp:
    """EXACT_CHAIN with the worst-case conv weights: filter 0 all at the weight type's minimum
    (-2), filter 1 all at its maximum (1.875), filter 2 alternating."""
    module = parse(text)
    conv = layer(module, "conv")
    assert isinstance(conv, nn.Conv2DOp)
    w = np.empty((3, 3, 2, 3))
    w[..., 0], w[..., 1] = -2.0, 1.875
    w[..., 2] = np.where(np.arange(18).reshape(3, 3, 2) % 2, -2.0, 1.875)
    conv.weight = nn.dense_attr(w)
    return module


def test_exact_chain_never_overflows_in_the_emulator() -> None:
    # Every type is inferred and exact, weights are dyadic: on inputs at the extremes of
    # fixed<8,3> the emulated hls IR must equal the float reference exactly. Any accumulator
    # that overflowed would show up as a large difference (checked below by shrinking one).
    emulator = pytest.importorskip("nnhls.interpreters.emulator")
    from nnhls.dialects import bitgrowth
    from nnhls.interpreters.reference import run_reference
    from nnhls.passes.lower_nn_to_hls import lower_module

    x_t = P("fixed<8,3>")
    rng = np.random.default_rng(7)
    xs = np.where(rng.random((64, 6, 6, 2)) < 0.5, x_t.min_value, x_t.max_value)
    xs[0], xs[1] = x_t.min_value, x_t.max_value
    (reference,) = run_reference(chain_module(EXACT_CHAIN), xs)

    def emulate() -> np.ndarray:
        module = chain_module(EXACT_CHAIN)
        InferPrecisionPass().apply(make_context(), module)
        lower_module(module, "io_parallel")
        return emulator.run_hls(module, xs)[0]

    np.testing.assert_array_equal(emulate(), reference)
    # The check has teeth: two bits fewer of sum growth makes the accumulators overflow.
    original = bitgrowth.grow
    try:
        bitgrowth.grow = lambda t, n: original(t, max(n // 4, 1))
        assert np.max(np.abs(emulate() - reference)) > 1.0
    finally:
        bitgrowth.grow = original


@pytest.mark.parametrize("k", [5, 6])
def test_average_guard_bit_prevents_wrapping(k: int) -> None:
    # The average multiplies by 1/n rounded to ufixed<32,1,RND>: for n = 25 or 36 that rounds up,
    # so an all-minimum window lands one LSB below the input type's minimum. With the input type
    # as result (hls4ml's rule) that wraps to the maximum; the inferred guard bit keeps it.
    emulator = pytest.importorskip("nnhls.interpreters.emulator")
    from nnhls.passes.lower_nn_to_hls import lower_module

    text = f"""
func.func @m(%a: tensor<{k}x{k}x1xf32>) -> tensor<1x1x1xf32> {{
  %x = nn.input %a {{layer = "in", precision = {{result = !hls.fixed<8, 3>}}}} : (tensor<{k}x{k}x1xf32>) -> tensor<{k}x{k}x1xf32>
  %p = nn.pool %x {{layer = "pool", precision = {{accum = "auto", result = RESULT}}, op = #hls<pool_op average>, pool_size = array<i64: {k}, {k}>, strides = array<i64: {k}, {k}>, pads = array<i64: 0, 0, 0, 0>}} : (tensor<{k}x{k}x1xf32>) -> tensor<1x1x1xf32>
  func.return %p : tensor<1x1x1xf32>
}}"""
    xs = np.full((1, k, k, 1), -4.0)
    results = []
    for result in ('"auto"', "!hls.fixed<8, 3>"):
        module = infer(text.replace("RESULT", result))
        lower_module(module, "io_parallel")
        results.append(float(emulator.run_hls(module, xs)[0].reshape(-1)[0]))
    inferred, input_type = results
    assert abs(inferred - -4.0) <= 2**-5
    assert input_type > 0  # wrapped around
