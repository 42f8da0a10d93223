"""nn-canonicalize: the float reference gives the same outputs before and after, and the no-ops go."""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from nnhls.compiler.context import make_context
from nnhls.dialects import nn
from nnhls.interpreters.reference import run_reference
from nnhls.passes.nn_apply_config import ApplyConfigPass
from nnhls.passes.nn_canonicalize import CanonicalizePass

MODEL = """
func.func @m(%a: tensor<6x6x2xf32>, %b: tensor<5xf32>) -> (tensor<3xf32>, tensor<5xf32>) {
  %x = nn.input %a {layer = "in"} : (tensor<6x6x2xf32>) -> tensor<6x6x2xf32>
  %y = nn.input %b {layer = "in_b"} : (tensor<5xf32>) -> tensor<5xf32>
  %c = nn.conv2d %x {layer = "conv", weight = dense<[[[[0.5, -1.0], [0.25, 2.0]], [[1.0, 0.5], [-0.5, 0.75]]], [[[0.1, 0.2], [0.3, 0.4]], [[-0.2, 0.6], [0.7, -0.8]]]]> : tensor<2x2x2x2xf32>, bias = dense<[0.0, 1.0]> : tensor<2xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 1, 0, 1>} : (tensor<6x6x2xf32>) -> tensor<6x6x2xf32>
  %bn = nn.batchnorm %c {layer = "bn", scale = dense<[2.0, -0.5]> : tensor<2xf32>, bias = dense<[0.1, -1.0]> : tensor<2xf32>} : (tensor<6x6x2xf32>) -> tensor<6x6x2xf32>
  %dw = nn.depthwise_conv2d %bn {layer = "dw", weight = dense<[[[[0.5, 1.5], [0.25, -1.0]]]]> : tensor<1x1x2x2xf32>, bias = dense<[0.5, 0.0, 0.25, 1.0]> : tensor<4xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<6x6x2xf32>) -> tensor<6x6x4xf32>
  %bn2 = nn.batchnorm %dw {layer = "bn2", scale = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>, bias = dense<[0.0, 0.5, 0.0, -0.5]> : tensor<4xf32>} : (tensor<6x6x4xf32>) -> tensor<6x6x4xf32>
  %r = nn.activation %bn2 {layer = "relu", kind = #hls<activation relu>} : (tensor<6x6x4xf32>) -> tensor<6x6x4xf32>
  %p = nn.pool %r {layer = "pool", op = #hls<pool_op max>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<6x6x4xf32>) -> tensor<3x3x4xf32>
  %t1 = nn.transpose %p {layer = "t1", perm = array<i64: 1, 0, 2>} : (tensor<3x3x4xf32>) -> tensor<3x3x4xf32>
  %t2 = nn.transpose %t1 {layer = "t2", perm = array<i64: 1, 0, 2>} : (tensor<3x3x4xf32>) -> tensor<3x3x4xf32>
  %id = nn.transpose %t2 {layer = "t_id", perm = array<i64: 0, 1, 2>} : (tensor<3x3x4xf32>) -> tensor<3x3x4xf32>
  %r1 = nn.reshape %id {layer = "r1"} : (tensor<3x3x4xf32>) -> tensor<9x4xf32>
  %f = nn.flatten %r1 {layer = "flatten"} : (tensor<9x4xf32>) -> tensor<36xf32>
  %dr = nn.dropout %f {layer = "drop"} : (tensor<36xf32>) -> tensor<36xf32>
  %d = nn.dense %dr {layer = "fc", weight = dense<0.05> : tensor<36x3xf32>, bias = dense<[0.1, 0.2, 0.3]> : tensor<3xf32>} : (tensor<36xf32>) -> tensor<3xf32>
  %bn3 = nn.batchnorm %d {layer = "bn3", scale = dense<[1.5, 0.5, 2.0]> : tensor<3xf32>, bias = dense<[0.0, 0.1, 0.2]> : tensor<3xf32>} : (tensor<3xf32>) -> tensor<3xf32>
  %bn4 = nn.batchnorm %bn3 {layer = "bn4", scale = dense<[0.5, 0.5, 0.5]> : tensor<3xf32>, bias = dense<[1.0, 1.0, 1.0]> : tensor<3xf32>} : (tensor<3xf32>) -> tensor<3xf32>
  %l = nn.activation %bn4 {layer = "lin", kind = #hls<activation linear>} : (tensor<3xf32>) -> tensor<3xf32>
  %i = nn.identity %y {layer = "ident"} : (tensor<5xf32>) -> tensor<5xf32>
  %bn5 = nn.batchnorm %i {layer = "bn5", scale = dense<2.0> : tensor<5xf32>, bias = dense<1.0> : tensor<5xf32>} : (tensor<5xf32>) -> tensor<5xf32>
  %bn6 = nn.batchnorm %bn5 {layer = "bn6", scale = dense<3.0> : tensor<5xf32>, bias = dense<-1.0> : tensor<5xf32>} : (tensor<5xf32>) -> tensor<5xf32>
  func.return %l, %bn6 : tensor<3xf32>, tensor<5xf32>
}
"""


def parse(text: str) -> ModuleOp:
    return Parser(make_context(), text).parse_module()


def names(module: ModuleOp) -> list[str]:
    return [op.layer_name for op in module.walk() if isinstance(op, nn.NNLayerOp)]


def inputs() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.normal(size=(4, 6, 6, 2)), rng.normal(size=(4, 5))]


def test_reference_outputs_unchanged() -> None:
    module = parse(MODEL)
    before = run_reference(module, inputs())
    CanonicalizePass().apply(make_context(), module)
    module.verify()
    after = run_reference(module, inputs())
    for a, b in zip(before, after, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    # conv+bn, dw+bn2, fc+bn3 (then bn4: the folded fc has one user), bn5+bn6 fused,
    # cancelling and identity transposes, reshape chain, dropout, identity, linear.
    assert names(module) == ["in", "in_b", "conv", "dw", "relu", "pool", "flatten", "fc", "bn5"]


FOLD_PINNED = """
func.func @m(%a: tensor<2xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<2xf32>) -> tensor<2xf32>
  %d = nn.dense %x {layer = "fc", precision = {VAR = !hls.fixed<8, 2>}, weight = dense<0.5> : tensor<2x2xf32>} : (tensor<2xf32>) -> tensor<2xf32>
  %b = nn.batchnorm %d {layer = "bn", scale = dense<2.0> : tensor<2xf32>, bias = dense<1.0> : tensor<2xf32>} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %b : tensor<2xf32>
}"""


def test_folding_respects_a_pinned_result_type() -> None:
    module = parse(FOLD_PINNED.replace("VAR", "result"))
    CanonicalizePass().apply(make_context(), module)
    assert names(module) == ["in", "fc", "bn"]


def test_pinned_weight_type_types_the_folded_weights() -> None:
    # hls4ml's rule: only a pinned result keeps the batchnorm apart; the weight type stays on
    # the folded layer and holds W * scale = 1.0.
    module = parse(FOLD_PINNED.replace("VAR", "weight"))
    CanonicalizePass().apply(make_context(), module)
    assert names(module) == ["in", "fc"]
    fc = next(op for op in module.walk() if isinstance(op, nn.DenseOp))
    assert str(fc.get_precision("weight")) == "!hls.fixed<8, 2>"
    np.testing.assert_array_equal(nn.to_numpy(fc.weight), np.ones((2, 2)))


def test_folding_after_default_config() -> None:
    # nn-apply-config writes the model default everywhere; that is not a pinned type.
    module = parse(MODEL)
    ApplyConfigPass().apply(make_context(), module)
    before = run_reference(module, inputs())
    CanonicalizePass().apply(make_context(), module)
    module.verify()
    assert "bn" not in names(module)
    np.testing.assert_allclose(run_reference(module, inputs())[0], before[0], rtol=1e-5, atol=1e-5)


def test_linear_activation_type_moves_to_producer() -> None:
    text = """
func.func @m(%a: tensor<2xf32>) -> tensor<2xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<2xf32>) -> tensor<2xf32>
  %d = nn.dense %x {layer = "fc", precision = {result = "auto"}, weight = dense<0.5> : tensor<2x2xf32>} : (tensor<2xf32>) -> tensor<2xf32>
  %l = nn.activation %d {layer = "q", precision = {result = !hls.fixed<8, 3>}, kind = #hls<activation linear>} : (tensor<2xf32>) -> tensor<2xf32>
  %k = nn.activation %l {layer = "keep", precision = {result = !hls.fixed<6, 2>}, kind = #hls<activation linear>} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %k : tensor<2xf32>
}"""
    module = parse(text)
    CanonicalizePass().apply(make_context(), module)
    # q's type went onto fc; keep changes the type of a pinned producer, so it stays.
    assert names(module) == ["in", "fc", "keep"]
    fc = next(op for op in module.walk() if isinstance(op, nn.DenseOp))
    assert str(fc.get_precision("result")) == "!hls.fixed<8, 3>"
