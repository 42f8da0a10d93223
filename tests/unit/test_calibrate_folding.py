"""nn-calibrate-precision on batchnorms that nn-canonicalize folds or fuses: the calibrated types
go where conversion keeps them (the folded dense's weight, bias and accum on the dense, its result
on the batchnorm; a fused pair's types on the second batchnorm, whose configuration the fused op
keeps), so the calibrated module still folds and fuses, and measures what was calibrated."""

from __future__ import annotations

import numpy as np
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from nnhls.compiler.context import make_context
from nnhls.compiler.nn_calibrate_precision import apply_calibration, calibrate
from nnhls.dialects import nn
from nnhls.dialects.types import FixedPointType
from nnhls.passes.nn_apply_config import ApplyConfigPass
from nnhls.passes.nn_canonicalize import CanonicalizePass

MODEL = """
func.func @m(%a: tensor<4xf32>) -> tensor<3xf32> {
  %x = nn.input %a {layer = "in"} : (tensor<4xf32>) -> tensor<4xf32>
  %b1 = nn.batchnorm %x {layer = "bn1", scale = dense<[1.5, 0.7, 1.2, 0.9]> : tensor<4xf32>, bias = dense<[0.1, -0.2, 0.0, 0.3]> : tensor<4xf32>} : (tensor<4xf32>) -> tensor<4xf32>
  %b2 = nn.batchnorm %b1 {layer = "bn2", scale = dense<[0.8, 1.3, 0.6, 1.1]> : tensor<4xf32>, bias = dense<[0.0, 0.2, -0.1, 0.05]> : tensor<4xf32>} : (tensor<4xf32>) -> tensor<4xf32>
  %d = nn.dense %b2 {layer = "fc", weight = dense<[[0.5, -1.25, 0.75, 0.3], [1.5, 0.2, -0.6, 0.9], [-0.4, 0.8, 1.1, -1.3], [0.7, -0.9, 0.25, 0.6]]> : tensor<4x4xf32>, bias = dense<[0.1, -0.2, 0.05, 0.3]> : tensor<4xf32>} : (tensor<4xf32>) -> tensor<4xf32>
  %n = nn.batchnorm %d {layer = "bn3", scale = dense<[2.5, 0.75, 3.1, 1.7]> : tensor<4xf32>, bias = dense<[0.5, -1.0, 0.2, 0.0]> : tensor<4xf32>} : (tensor<4xf32>) -> tensor<4xf32>
  %r = nn.activation %n {layer = "relu", kind = #hls<activation relu>} : (tensor<4xf32>) -> tensor<4xf32>
  %o = nn.dense %r {layer = "out", weight = dense<[[0.9, -0.7, 0.3], [-0.5, 1.2, 0.4], [0.6, 0.1, -1.1], [-0.3, 0.5, 0.8]]> : tensor<4x3xf32>} : (tensor<4xf32>) -> tensor<3xf32>
  func.return %o : tensor<3xf32>
}"""


def configured() -> ModuleOp:
    module = Parser(make_context(), MODEL).parse_module()
    ApplyConfigPass(config_json='{"LayerName": {"fc": {"Precision": "auto"}, "bn2": {"Precision": "auto"}}}').apply(make_context(), module)
    return module


def layer_names(module: ModuleOp) -> list[str]:
    return [op.layer_name for op in module.walk() if isinstance(op, nn.NNLayerOp)]


def test_calibrated_types_keep_the_fold_and_the_fusion() -> None:
    module = configured()
    data = np.random.default_rng(0).normal(size=(300, 4))
    calibration = calibrate(module, [data])
    types = calibration.types
    assert set(types["fc"]) == {"weight", "bias", "accum"}  # the folded dense's, without its result
    assert set(types["bn3"]) == {"result"}  # the folded layer's result, where the fold takes it from
    assert "bn1" not in types and {"scale", "bias", "result"} <= set(types["bn2"])  # the fused pair's
    apply_calibration(module, calibration)
    CanonicalizePass().apply(make_context(), module)
    assert layer_names(module) == ["in", "bn1", "fc", "relu", "out"]  # folded and fused, as calibrated
    ops = {op.layer_name: op for op in module.walk() if isinstance(op, nn.NNLayerOp)}
    for layer, var, source in (("fc", "weight", "fc"), ("fc", "result", "bn3"), ("bn1", "scale", "bn2")):
        value = ops[layer].get_precision(var)
        assert isinstance(value, FixedPointType) and value.precision == types[source][var], (layer, var)
