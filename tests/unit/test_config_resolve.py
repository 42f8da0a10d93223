"""Config model and nn-apply-config: granularity, every key, precedence case by case, every error."""

from __future__ import annotations

from typing import Any

import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import IntegerAttr, ModuleOp
from xdsl.parser import Parser

from nnhls.compiler.context import make_context
from nnhls.config import ConfigError, layer_type_names, resolve
from nnhls.dialects import nn
from nnhls.passes.nn_apply_config import ApplyConfigPass, apply_config

MODEL = """
func.func @m(%x: tensor<2x2x1xf32>) -> tensor<2xf32> {
  %in = nn.input %x {layer = "input_1"} : (tensor<2x2x1xf32>) -> tensor<2x2x1xf32>
  %c = nn.conv2d %in {layer = "conv", weight = dense<1.0> : tensor<1x1x1x1xf32>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<2x2x1xf32>) -> tensor<2x2x1xf32>
  %r = nn.activation %c {layer = "conv_relu", kind = #hls<activation relu>} : (tensor<2x2x1xf32>) -> tensor<2x2x1xf32>
  %p = nn.pool %r {layer = "pool", op = #hls<pool_op max>, pool_size = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<2x2x1xf32>) -> tensor<2x2x1xf32>
  %f = nn.flatten %p {layer = "flatten"} : (tensor<2x2x1xf32>) -> tensor<4xf32>
  %d = nn.dense %f {layer = "fc1", weight = dense<0.5> : tensor<4x2xf32>, bias = dense<0.0> : tensor<2xf32>} : (tensor<4xf32>) -> tensor<2xf32>
  %e = nn.dense %d {layer = "fc2", weight = dense<0.5> : tensor<2x2xf32>} : (tensor<2xf32>) -> tensor<2xf32>
  %s = nn.softmax %e {layer = "softmax"} : (tensor<2xf32>) -> tensor<2xf32>
  func.return %s : tensor<2xf32>
}
"""


def module() -> ModuleOp:
    return Parser(make_context(), MODEL).parse_module()


def configured(config: dict[str, Any]) -> dict[str, nn.NNLayerOp]:
    m = module()
    apply_config(m, config)
    m.verify()
    return {op.layer_name: op for op in m.walk() if isinstance(op, nn.NNLayerOp)}


def ops() -> list[nn.NNLayerOp]:
    return [op for op in module().walk() if isinstance(op, nn.NNLayerOp)]


def prec(op: nn.NNLayerOp, var: str) -> str:
    value = op.get_precision(var)
    return str(value) if isinstance(value, str) or value is None else value.cpp()


def rf(op: nn.NNLayerOp) -> int:
    assert op.reuse_factor is not None
    return op.reuse_factor.value.data


def error(config: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        resolve(config, ops())
    return str(info.value)


# ----- granularity and the seed's examples -----------------------------------------------------------


def test_seed_model_granularity_every_variable() -> None:
    """'fixed<16,6> for every variable and a ReuseFactor of 1 throughout.'"""
    layers = configured({"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1}})
    for op in layers.values():
        for var in op.PRECISION_VARS:
            assert prec(op, var) == "ap_fixed<16,6>", (op.layer_name, var)
        assert rf(op) == 1


def test_seed_layer_type_dense() -> None:
    """'all variables in any Dense layers ... fixed<14,5> while any other layer types use fixed<16,6>.'"""
    layers = configured({"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1}, "LayerType": {"Dense": {"Precision": "fixed<14,5>"}}})
    for name in ("fc1", "fc2"):
        assert {prec(layers[name], v) for v in nn.DenseOp.PRECISION_VARS} == {"ap_fixed<14,5>"}
    assert prec(layers["conv"], "weight") == "ap_fixed<16,6>"
    assert prec(layers["softmax"], "result") == "ap_fixed<16,6>"


def test_seed_layer_name_dense1() -> None:
    config = {
        "Model": {"Precision": "fixed<16,6>", "ReuseFactor": 16},
        "LayerName": {"fc1": {"Precision": {"weight": "fixed<14,2>", "bias": "fixed<14,4>", "result": "fixed<16,6>"}, "ReuseFactor": 12, "Strategy": "Resource"}},
    }
    layers = configured(config)
    fc1, fc2 = layers["fc1"], layers["fc2"]
    assert (prec(fc1, "weight"), prec(fc1, "bias"), prec(fc1, "result")) == ("ap_fixed<14,2>", "ap_fixed<14,4>", "ap_fixed<16,6>")
    assert prec(fc1, "accum") == "ap_fixed<16,6>"  # not named: model default
    assert rf(fc1) == 12 and rf(fc2) == 16
    assert isinstance(fc1, nn.DenseOp) and isinstance(fc2, nn.DenseOp)
    assert fc1.strategy is not None and fc1.strategy.data.value == "resource"
    assert fc2.strategy is not None and fc2.strategy.data.value == "latency"


def test_seed_python_overrides() -> None:
    config: dict[str, Any] = {"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1}, "LayerName": {"fc1": {"Precision": {"weight": "auto"}, "ReuseFactor": 1}}}
    config["LayerName"]["fc1"]["ReuseFactor"] = 2
    config["LayerName"]["fc1"]["Precision"]["weight"] = "fixed<8,4>"
    fc1 = configured(config)["fc1"]
    assert rf(fc1) == 2 and prec(fc1, "weight") == "ap_fixed<8,4>"


def test_name_granularity_auto_stays_auto() -> None:
    layers = configured({"LayerName": {"fc1": {"Precision": {"weight": "auto", "result": "auto"}}}})
    assert prec(layers["fc1"], "weight") == "auto" and prec(layers["fc1"], "bias") == "ap_fixed<16,6>"


# ----- precedence ------------------------------------------------------------------------------------------


def test_precedence_precision_per_variable() -> None:
    config = {
        "Model": {"Precision": {"default": "fixed<16,6>", "accum": "fixed<24,12>"}},
        "LayerType": {"Dense": {"Precision": {"bias": "fixed<10,4>"}}, "dense": {"Precision": "fixed<12,4>"}},
        "LayerName": {"fc1": {"Precision": {"weight": "fixed<8,2>"}}},
    }
    fc1 = configured(config)["fc1"]
    assert prec(fc1, "weight") == "ap_fixed<8,2>"  # LayerName variable
    assert prec(fc1, "bias") == "ap_fixed<10,4>"  # framework-class LayerType variable
    assert prec(fc1, "accum") == "ap_fixed<12,4>"  # op-kind LayerType string beats Model variable
    conv = configured(config)["conv"]
    assert prec(conv, "accum") == "ap_fixed<24,12>" and prec(conv, "weight") == "ap_fixed<16,6>"


def test_precedence_name_string_beats_type_variable() -> None:
    config = {"LayerType": {"Dense": {"Precision": {"weight": "fixed<10,4>"}}}, "LayerName": {"fc1": {"Precision": "fixed<8,3>"}}}
    layers = configured(config)
    assert prec(layers["fc1"], "weight") == "ap_fixed<8,3>"
    assert prec(layers["fc2"], "weight") == "ap_fixed<10,4>"


def test_precedence_per_key_not_shadowed() -> None:
    """Unlike hls4ml, a LayerName entry does not hide LayerType keys it does not set."""
    config = {"Model": {"ReuseFactor": 4}, "LayerType": {"Conv2D": {"ParallelizationFactor": 2, "ReuseFactor": 2}}, "LayerName": {"conv": {"Trace": True}}}
    conv = configured(config)["conv"]
    assert isinstance(conv, nn.Conv2DOp)
    assert conv.parallelization_factor is not None and conv.parallelization_factor.value.data == 2
    assert rf(conv) == 2 and conv.trace is not None
    assert rf(configured(config)["fc1"]) == 4


def test_model_keys_and_defaults() -> None:
    config = {"Model": {"Strategy": "RESOURCE", "Compression": True, "TraceOutput": True, "PipelineStyle": "Pipeline", "PipelineInterval": 4, "SnapReuseFactor": True, "BramFactor": 1e9, "Precision": {"default": "fixed<18,8>", "maximum": "fixed<24,12>"}}}
    m = module()
    apply_config(m, config)
    function = next(op for op in m.ops if isinstance(op, func.FuncOp))
    text = str(function.attributes)
    for part in ("nn.default_precision", "nn.max_precision", "nn.pipeline_interval", "nn.snap_reuse_factor", "pipeline"):
        assert part in text
    fc1 = next(op for op in m.walk() if isinstance(op, nn.DenseOp))
    assert fc1.compression is not None and fc1.trace is not None
    assert fc1.strategy is not None and fc1.strategy.data.value == "resource"


def test_softmax_and_activation_tables() -> None:
    config = {"LayerType": {"Softmax": {"TableSize": 512, "InvTableSize": 256, "Implementation": "argmax"}, "Activation": {"TableSize": 2048}}, "LayerName": {"softmax": {"ExpTableSize": 4096}}}
    layers = configured(config)
    sm = layers["softmax"]
    assert isinstance(sm, nn.SoftmaxOp) and sm.exp_table_size is not None and sm.inv_table_size is not None
    assert (sm.exp_table_size.value.data, sm.inv_table_size.value.data) == (4096, 256)
    assert sm.implementation is not None and sm.implementation.data.value == "argmax"
    act = layers["conv_relu"]
    assert isinstance(act, nn.ActivationOp) and act.table_size is not None and act.table_size.value.data == 2048


def test_json_option_and_io_type() -> None:
    m = module()
    ApplyConfigPass(config_json='{"IOType": "io_stream", "HLSConfig": {"Model": {"ReuseFactor": 2}}}').apply(make_context(), m)
    assert "io_stream" in str(m)


# ----- LayerType names -------------------------------------------------------------------------------------


def test_layer_type_names() -> None:
    names = {op.layer_name: layer_type_names(op) for op in ops()}
    assert names["input_1"] == ("InputLayer", "Input", "input")
    assert names["pool"] == ("MaxPooling2D", "MaxPool2d", "MaxPool", "Pooling2D", "pool")
    assert names["conv_relu"][0] == "ReLU" and "Activation" in names["conv_relu"]
    assert names["fc1"][0] == "Dense" and "Linear" in names["fc1"] and names["fc1"][-1] == "dense"


@pytest.mark.parametrize("type_name", ["MaxPooling2D", "Pooling2D", "MaxPool2d", "pool"])
def test_layer_type_pool_spellings(type_name: str) -> None:
    pool = configured({"LayerType": {type_name: {"Precision": {"accum": "fixed<9,4>"}}}})["pool"]
    assert prec(pool, "accum") == "ap_fixed<9,4>"


# ----- errors ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"Modle": {}}, "HLSConfig: unknown key 'Modle' (did you mean 'Model'?); valid keys: Model, LayerType, LayerName, InputShape"),
        ({"Model": {"ReuseFactr": 1}}, "HLSConfig.Model: unknown key 'ReuseFactr' (did you mean 'ReuseFactor'?)"),
        ({"Model": {"Precision": "auto"}}, "HLSConfig.Model.Precision: 'auto' is allowed only at layer level"),
        ({"Model": {"Precision": "fixed<16"}}, "HLSConfig.Model.Precision: cannot read precision 'fixed<16': expected fixed<W,I>"),
        ({"Model": {"Precision": {"wieght": "fixed<8,3>"}}}, "HLSConfig.Model.Precision: unknown variable 'wieght' (did you mean 'weight'?)"),
        ({"Model": {"ReuseFactor": 0}}, "HLSConfig.Model.ReuseFactor must be a positive integer, got 0"),
        ({"Model": {"ReuseFactor": "2"}}, "HLSConfig.Model.ReuseFactor must be a positive integer, got '2'"),
        ({"Model": {"Strategy": "Fast"}}, "HLSConfig.Model.Strategy: invalid value 'Fast'; valid values: Latency, Resource, Unrolled"),
        ({"Model": {"PipelineStyle": "flow"}}, "HLSConfig.Model.PipelineStyle: invalid value 'flow'; valid values: auto, pipeline, dataflow"),
        ({"Model": {"PipelineInterval": -1}}, "HLSConfig.Model.PipelineInterval must be a positive integer, got -1"),
        ({"Model": {"PipelineStyle": "dataflow", "PipelineInterval": 2}}, "HLSConfig.Model.PipelineInterval needs PipelineStyle 'pipeline' (or 'auto'), not 'dataflow'"),
        ({"Model": {"Compression": "yes"}}, "HLSConfig.Model.Compression must be true or false, got 'yes'"),
        ({"Model": {"ChannelsLastConversion": "on"}}, "HLSConfig.Model.ChannelsLastConversion: invalid value 'on'; valid values: full, internal, off"),
        ({"Model": {"BramFactor": -1}}, "HLSConfig.Model.BramFactor must be a non-negative number, got -1"),
        ({"LayerName": {"fc3": {}}}, "HLSConfig.LayerName.fc3: no layer named 'fc3' (did you mean 'fc2'?); layers: input_1, conv, conv_relu, pool, flatten, fc1, fc2, softmax"),
        ({"LayerName": {"fc1": {"ParallelizationFactor": 2}}}, "HLSConfig.LayerName.fc1: key 'ParallelizationFactor' does not apply to layer 'fc1' (nn.dense); applicable keys: Precision, ReuseFactor, Trace, Strategy, Compression"),
        ({"LayerName": {"softmax": {"Strategy": "Stabel"}}}, "HLSConfig.LayerName.softmax.Strategy: invalid value 'Stabel' (did you mean 'stable'?)"),
        ({"LayerName": {"softmax": {"Parallel": 1}}}, "HLSConfig.LayerName.softmax: unknown key 'Parallel'"),
        ({"LayerName": {"fc1": {"Precison": "fixed<8,3>"}}}, "HLSConfig.LayerName.fc1: unknown key 'Precison' (did you mean 'Precision'?)"),
        ({"LayerName": {"fc1": {"Precision": {"weight": "fixd<8,4>"}}}}, "HLSConfig.LayerName.fc1.Precision.weight: cannot read precision 'fixd<8,4>': expected fixed<W,I>, ufixed<W,I>, int<W>, uint<W>"),
        ({"LayerName": {"fc1": {"Precision": {"table": "fixed<8,4>"}}}}, "HLSConfig.LayerName.fc1.Precision: unknown variable 'table'; this layer has: weight, bias, accum, result"),
        ({"LayerName": {"fc1": {"Precision": 16}}}, "HLSConfig.LayerName.fc1.Precision: expected a precision string"),
        ({"LayerName": {"fc1": {"ReuseFactor": 2.5}}}, "HLSConfig.LayerName.fc1.ReuseFactor must be a positive integer, got 2.5"),
        ({"LayerName": {"fc1": {"Strategy": "fast"}}}, "HLSConfig.LayerName.fc1.Strategy: invalid value 'fast'; valid values: Latency, Resource, Unrolled"),
        ({"LayerName": {"softmax": {"Implementation": "legacy"}}}, "HLSConfig.LayerName.softmax.Implementation: invalid value 'legacy'; valid values: stable, latency, argmax"),
        ({"LayerName": {"conv": {"ConvImplementation": "Pixelwise"}}}, "HLSConfig.LayerName.conv.ConvImplementation: invalid value 'Pixelwise'; valid values: LineBuffer, Encoded, Pointwise"),
        ({"LayerName": {"pool": {"ConvImplementation": "Pointwise"}}}, "nn.pool 'pool': ConvImplementation 'Pointwise' needs a 1x1 convolution kernel"),
        ({"LayerName": {"conv": {"Trace": 1}}}, "HLSConfig.LayerName.conv.Trace must be true or false, got 1"),
        ({"LayerName": {"fc1": "fixed<8,3>"}}, "HLSConfig.LayerName.fc1 must be a mapping, got str 'fixed<8,3>'"),
        ({"LayerType": {"Dens": {}}}, "HLSConfig.LayerType.Dens: unknown layer type 'Dens' (did you mean 'Dense'?)"),
        ({"LayerType": {"Dense": {"TableSize": 8}}}, "HLSConfig.LayerType.Dense: key 'TableSize' does not apply to layer type 'Dense'; applicable keys: Precision, ReuseFactor, Trace, Strategy, Compression"),
        ({"LayerType": {"Activation": {"TableSize": 0}}}, "HLSConfig.LayerType.Activation.TableSize must be a positive integer, got 0"),
    ],
)
def test_errors(config: dict[str, Any], message: str) -> None:
    assert error(config).startswith(message)


def test_io_type_error() -> None:
    with pytest.raises(ConfigError, match="IOType: invalid value 'io_serial'; valid values: io_parallel, io_stream"):
        resolve({}, ops(), "io_serial")


def test_config_error_is_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize(("value", "expected"), [(100, 100), (1e9, 1_000_000_000), (0, 0)])
def test_bram_factor_reaches_the_model_function(value: float, expected: int) -> None:
    m = module()
    apply_config(m, {"Model": {"BramFactor": value}})
    function = next(op for op in m.walk() if isinstance(op, func.FuncOp))
    attr = function.attributes["nn.bram_factor"]
    assert isinstance(attr, IntegerAttr) and attr.value.data == expected


def test_no_bram_factor_no_attribute() -> None:
    m = module()
    apply_config(m, {"Model": {}})
    function = next(op for op in m.walk() if isinstance(op, func.FuncOp))
    assert "nn.bram_factor" not in function.attributes
