"""hls4ml-shaped config API: utils.config_from_*, backends, converters, YAML files and their errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
import yaml
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects.builtin import ModuleOp

from nnhls import converters, utils
from nnhls.backends import get_backend
from nnhls.config import ConfigError, validate_config
from nnhls.dialects import nn
from nnhls.frontends.common import FrontendError


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[tuple[ModuleOp, dict[str, Any]]]:
    """Replace HLSModel construction by a recorder (the converters' own job ends there)."""
    calls: list[tuple[ModuleOp, dict[str, Any]]] = []

    def record(module: ModuleOp, config: dict[str, Any], pipeline: str | None) -> tuple[ModuleOp, dict[str, Any]]:
        calls.append((module, config))
        return module, config

    monkeypatch.setattr(converters, "make_hls_model", record)
    return calls


def layers(module: ModuleOp) -> dict[str, nn.NNLayerOp]:
    return {op.layer_name: op for op in module.walk() if isinstance(op, nn.NNLayerOp)}


def small_onnx() -> onnx.ModelProto:
    w = numpy_helper.from_array(np.arange(8, dtype=np.float32).reshape(4, 2) / 8, "w")
    b = numpy_helper.from_array(np.zeros(2, dtype=np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w", "b"], ["h"], name="fc1"), helper.make_node("Relu", ["h"], ["y"], name="relu1")],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
        [w, b],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


# ----- backends --------------------------------------------------------------------------------------------


def test_backend_defaults() -> None:
    vitis = get_backend("Vitis").create_initial_config()
    assert (vitis["Part"], vitis["ClockPeriod"], vitis["ClockUncertainty"], vitis["IOType"]) == ("xcvu13p-flga2577-2-e", 5, "27%", "io_parallel")
    vivado = get_backend("vivado").create_initial_config(io_type="io_stream", clock_period=10)
    assert (vivado["Backend"], vivado["ClockUncertainty"], vivado["IOType"], vivado["ClockPeriod"]) == ("Vivado", "12.5%", "io_stream", 10)
    validate_config(vitis)


def test_backend_unknown() -> None:
    with pytest.raises(ConfigError, match="unknown backend 'Quartus'; valid backends: Vitis, Vivado"):
        get_backend("Quartus")


# ----- config_from_* ---------------------------------------------------------------------------------------


def test_config_from_keras_granularities(corpus: Path) -> None:
    model = (str(corpus / "keras/KERAS_3layer.json"), str(corpus / "keras/KERAS_3layer_weights.h5"))
    by_model = utils.config_from_keras_model(model, granularity="model")
    assert by_model == {"Model": {"Precision": {"default": "fixed<16,6>"}, "ReuseFactor": 1, "Strategy": "Latency", "BramFactor": 1_000_000_000, "TraceOutput": False}}
    by_type = utils.config_from_keras_model(model, granularity="type", backend="Vitis")
    assert list(by_type["LayerType"]) == ["InputLayer", "Dense", "ReLU", "Softmax"]
    by_name = utils.config_from_keras_model(model, granularity="name", default_reuse_factor=2, max_precision="fixed<32,16>")
    fc1 = by_name["LayerName"]["fc1_relu"]
    assert fc1 == {"Trace": False, "Precision": {"weight": "auto", "bias": "auto", "accum": "auto", "result": "auto"}, "ReuseFactor": 2}
    assert by_name["LayerName"]["output_softmax_softmax"]["Implementation"] == "stable"
    assert by_name["Model"]["Precision"]["maximum"] == "fixed<32,16>"


def test_generated_configs_validate(corpus: Path, captured: list[Any]) -> None:
    """Every generated config (each granularity) is accepted by the strict validation."""
    model = (str(corpus / "keras/KERAS_3layer.json"), str(corpus / "keras/KERAS_3layer_weights.h5"))
    for granularity in ("model", "type", "name"):
        config = utils.config_from_keras_model(model, granularity=granularity)
        converters.convert_from_keras_model(model, hls_config=config)
    module, _ = captured[-1]
    converters.configured_module(module, captured[-1][1])
    assert layers(module)["fc1_relu"].get_precision("weight") == "auto"


def test_config_from_onnx_defaults_to_name() -> None:
    config = utils.config_from_onnx_model(small_onnx())
    assert set(config["LayerName"]) >= {"fc1", "relu1"}


def test_config_from_pytorch() -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU())
    config = utils.config_from_pytorch_model(model, (4,), granularity="type")
    assert config["Model"]["ChannelsLastConversion"] == "full" and config["Model"]["TransposeOutputs"] is False
    assert config["Model"]["Precision"]["default"] == "ap_fixed<16,6>" and config["InputShape"] == [4]
    assert "Dense" in config["LayerType"]


def test_config_from_errors() -> None:
    with pytest.raises(ConfigError, match="granularity: invalid value 'layer'; valid values: model, type, name"):
        utils.config_from_onnx_model(small_onnx(), granularity="layer")
    with pytest.raises(ConfigError, match="default_precision: 'auto' is allowed only at layer level"):
        utils.config_from_onnx_model(small_onnx(), default_precision="auto")
    with pytest.raises(ConfigError, match="unknown backend 'Quartus'"):
        utils.config_from_onnx_model(small_onnx(), backend="Quartus")
    with pytest.raises(ConfigError, match="default_reuse_factor must be a positive integer, got 0"):
        utils.config_from_onnx_model(small_onnx(), default_reuse_factor=0)


# ----- converters and YAML ---------------------------------------------------------------------------------


def test_seed_yaml_keras_json_h5(corpus: Path, tmp_path: Path, captured: list[Any], seed_yaml: str) -> None:
    path = tmp_path / "config.yml"
    text = seed_yaml.replace("keras/", f"{corpus}/keras/").replace("generated/", f"{corpus}/generated/")
    path.write_text(text)
    module, config = converters.convert_from_config(path)
    assert config["ProjectName"] == "myproject" and config["IOType"] == "io_parallel"
    converters.configured_module(module, config)
    fc1 = layers(module)["fc1_relu"]
    assert isinstance(fc1, nn.DenseOp) and fc1.compression is not None
    assert fc1.strategy is not None and fc1.strategy.data.value == "resource"
    assert fc1.reuse_factor is not None and fc1.reuse_factor.value.data == 2


def test_yaml_relative_paths_and_keras_h5_alone(
    corpus: Path, tmp_path: Path, captured: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plain relative paths are relative to the working directory (hls4ml's rule); `!relative`
    ones to the YAML's folder."""
    (tmp_path / "m.h5").symlink_to(corpus / "keras/KERAS_3layer_full_model.h5")
    (tmp_path / "config.yml").write_text("KerasH5: m.h5\nProjectName: p3\nBackend: vivado\nHLSConfig:\n  Model:\n    Strategy: resource\n")
    monkeypatch.chdir(tmp_path)
    _, config = converters.convert_from_config(str(tmp_path / "config.yml"))
    assert config["Backend"] == "Vivado" and config["ClockUncertainty"] == "12.5%"
    assert config["HLSConfig"]["Model"]["Strategy"] == "Resource"  # canonical on output
    assert config["KerasH5"] == "m.h5"
    monkeypatch.chdir(corpus)
    (tmp_path / "tagged.yml").write_text("KerasH5: !relative m.h5\nProjectName: p4\n")
    _, config = converters.convert_from_config(str(tmp_path / "tagged.yml"))
    assert config["KerasH5"] == str(tmp_path / "m.h5")


def test_yaml_onnx_model(tmp_path: Path, captured: list[Any]) -> None:
    onnx.save(small_onnx(), tmp_path / "tiny.onnx")
    config = {"OnnxModel": "tiny.onnx", "IOType": "io_stream", "HLSConfig": {"LayerName": {"fc1": {"Precision": {"weight": "fixed<8,2>"}}}}}
    (tmp_path / "c.yml").write_text(yaml.safe_dump(config).replace("OnnxModel: tiny", "OnnxModel: !relative tiny"))
    module, full = converters.convert_from_config(tmp_path / "c.yml")
    converters.configured_module(module, full)
    assert str(layers(module)["fc1"].get_precision("weight")) == "!hls.fixed<8, 2>"
    assert "io_stream" in str(module)


def test_convert_from_onnx_and_yaml_round_trip(tmp_path: Path, captured: list[Any]) -> None:
    _, config = converters.convert_from_onnx_model(small_onnx(), project_name="tiny", io_type="io_stream", part="xc7z020clg400-1", clock_period=10)
    assert (config["Part"], config["ClockPeriod"], config["IOType"]) == ("xc7z020clg400-1", 10, "io_stream")
    path = tmp_path / "out.yml"
    converters.write_config_yaml(config, path)
    assert yaml.safe_load(path.read_text()) == json.loads(json.dumps(config))


def test_convert_from_pytorch_input_shape_from_config(captured: list[Any]) -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(4, 3))
    config = utils.config_from_pytorch_model(model, (4,), granularity="name")
    module, full = converters.convert_from_pytorch_model(model, hls_config=config)
    assert full["InputShape"] == [4]
    converters.configured_module(module, full)


def test_pytorch_needs_input_shape() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(ConfigError, match="a PyTorch model needs input_shape"):
        converters.convert_from_pytorch_model(torch.nn.Linear(2, 2))


def test_pytorch_pickle_refused(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path = tmp_path / "m.pt"
    torch.save({"w": torch.zeros(1)}, path)
    with pytest.raises(FrontendError, match="a pickled PyTorch model or state dict is not accepted"):
        converters.convert_from_config({"PytorchModel": str(path), "InputShape": [1]})


def test_strategy_canonical_on_output() -> None:
    config = validate_config({"HLSConfig": {"Model": {"Strategy": "unrolled"}, "LayerName": {"fc1": {"Strategy": "RESOURCE"}}}})
    assert config["HLSConfig"]["Model"]["Strategy"] == "Unrolled"
    assert config["HLSConfig"]["LayerName"]["fc1"]["Strategy"] == "Resource"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"OutputDr": "x"}, "config: unknown key 'OutputDr' (did you mean 'OutputDir'?)"),
        ({"ProjectName": "my-project"}, "ProjectName must be a valid C identifier"),
        ({"ProjectName": "1st"}, "ProjectName must be a valid C identifier"),
        ({"Backend": "Quartus"}, "Backend: invalid value 'Quartus'; valid values: Vitis, Vivado"),
        ({"IOType": "io_serial"}, "IOType: invalid value 'io_serial'; valid values: io_parallel, io_stream"),
        ({"ClockPeriod": 0}, "ClockPeriod must be a positive number of ns, got 0"),
        ({"ClockUncertainty": "lots"}, "ClockUncertainty must be a percentage"),
        ({"WriterConfig": {"Namespce": "x"}}, "WriterConfig: unknown key 'Namespce' (did you mean 'Namespace'?)"),
        ({"HLSConfig": {"Model": {"Strategy": "da"}}}, "HLSConfig.Model.Strategy: strategy 'da' (hls4ml's distributed arithmetic, da4ml) is not supported by nnhls; use Latency, Resource or Unrolled"),
        ({"HLSConfig": "fixed<16,6>"}, "HLSConfig must be a mapping"),
    ],
)
def test_top_level_errors(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_config(config)
    assert str(info.value).startswith(message)


def test_convert_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="the config names no model"):
        converters.convert_from_config({"ProjectName": "p"})
    with pytest.raises(ConfigError, match="KerasJson needs KerasH5"):
        converters.convert_from_config({"KerasJson": "m.json"})
    with pytest.raises(ConfigError, match=r"config file '.*nope\.yml' not found"):
        converters.convert_from_config(tmp_path / "nope.yml")
    (tmp_path / "list.yml").write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="does not hold a configuration mapping"):
        converters.convert_from_config(tmp_path / "list.yml")
    with pytest.raises(ConfigError, match=r"HLSConfig\.LayerName\.fc9: no layer named 'fc9'"):
        converters.convert_from_onnx_model(small_onnx(), hls_config={"LayerName": {"fc9": {}}})
