"""The hls4ml-shaped helpers around the model object: backends, precision types, templates,
print_dict / plot_model, the trace result and the config object (no C++ build needed)."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import numpy as np
import pytest

import nnhls
from nnhls.config import ConfigError
from nnhls.model.graph import HLSConfig, TraceResult
from nnhls.model.plot import model_to_dot, plot_model, print_dict
from nnhls.model.types import (
    FixedPrecisionType,
    IntegerPrecisionType,
    RoundingMode,
    SaturationMode,
    UnspecifiedPrecisionType,
)


def test_backends_as_hls4ml_lists_them() -> None:
    assert nnhls.backends.get_available_backends() == ["vitis", "vivado"]
    backend = nnhls.backends.get_backend("vivado")
    assert backend.name == "Vivado"
    p = backend.convert_precision_string("ap_fixed<18,8,AP_RND_CONV,AP_SAT>")
    assert p == FixedPrecisionType(18, 8, True, RoundingMode.RND_CONV, SaturationMode.SAT)
    assert (p.width, p.integer, p.fractional, p.signed) == (18, 8, 10, True)
    assert str(p) == "fixed<18,8,RND_CONV,SAT>" and p == "fixed<18,8,RND_CONV,SAT>"
    assert backend.convert_precision_string("uint<4>") == IntegerPrecisionType(4, signed=False)
    assert isinstance(backend.convert_precision_string("auto"), UnspecifiedPrecisionType)
    with pytest.raises(ConfigError, match="fixed<16,6"):
        backend.convert_precision_string("fixed<16,6")
    with pytest.raises(ConfigError, match="valid backends: Vitis, Vivado"):
        nnhls.backends.get_backend("VivadoAccelerator")


def test_precision_types_check_their_range() -> None:
    assert FixedPrecisionType(8, 3).min == -4.0 and FixedPrecisionType(8, 3).max == 4.0 - 2**-5
    assert IntegerPrecisionType(8, False).max == 255
    with pytest.raises(ValueError, match="width"):
        FixedPrecisionType(0, 0)


def test_templates_give_the_header_library_paths() -> None:
    assert (nnhls.templates.AP_TYPES / "ap_fixed.h").is_file()
    assert nnhls.templates.template_path("nnet_utils", "nnet_dense.h").is_file()
    with pytest.raises(FileNotFoundError, match="nnhls has: ap_types, nnet_utils"):
        nnhls.templates.template_path("vivado")
    with pytest.raises(FileNotFoundError, match="not part of"):
        nnhls.templates.template_path("ap_types", "..", "..", "converters.py")


def test_print_dict_indents_nested_entries(capsys: pytest.CaptureFixture[str]) -> None:
    print_dict({"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1}, "LayerName": {"fc1": {"Trace": True}}})
    assert capsys.readouterr().out.splitlines() == [
        "Model",
        "  Precision:   fixed<16,6>",
        "  ReuseFactor: 1",
        "LayerName",
        "  fc1",
        "    Trace: True",
    ]


class _Var:
    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape
        self.type = type("T", (), {"precision": "fixed<16,6>"})()


class _Layer:
    """A stand-in with the attributes plot_model reads (the real layers are tested with real models)."""

    def __init__(self, model: _Model, name: str, inputs: list[str]) -> None:
        self.model, self.name, self.inputs, self.class_name, self.precision = model, name, inputs, "Dense", {}

    def get_output_variable(self) -> _Var:
        return _Var((4,))


class _Model:
    def __init__(self, names: list[str]) -> None:
        self.graph = {}
        previous: list[str] = []
        for name in names:
            self.graph[name] = _Layer(self, name, previous)
            previous = [name]

    def get_layers(self) -> list[_Layer]:
        return list(self.graph.values())


def test_plot_model_escapes_names_and_writes_dot(tmp_path: Path) -> None:
    hostile = 'x"; system("touch PWNED"); "\\'
    dot = model_to_dot(_Model(["in", hostile]), show_shapes=True)
    assert 'label="x\\"; system(\\"touch PWNED\\"); \\"\\\\: Dense' in dot
    assert "n0 -> n1;" in dot and dot.count("->") == 1
    plot_model(_Model(["a", "b"]), to_file=tmp_path / "model.dot")
    assert (tmp_path / "model.dot").read_text().startswith("digraph model {")
    with pytest.raises(ConfigError, match="rankdir"):
        model_to_dot(_Model(["a"]), rankdir="sideways")
    with pytest.raises(ConfigError, match=r"use \.dot/\.gv"):
        plot_model(_Model(["a"]), to_file=tmp_path / "model.txt")
    (tmp_path / "link.dot").symlink_to(tmp_path / "elsewhere.dot")
    with pytest.raises(ConfigError, match="symbolic link"):
        plot_model(_Model(["a"]), to_file=tmp_path / "link.dot")
    if shutil.which("dot") is None:
        with pytest.raises(ConfigError, match="Graphviz's 'dot' program"):
            plot_model(_Model(["a"]), to_file=tmp_path / "model.png")
    else:
        plot_model(_Model(["a"]), to_file=tmp_path / "model.png")
        assert (tmp_path / "model.png").read_bytes()[:4] == b"\x89PNG"


def test_trace_result_unpacks_as_hls4ml_and_reads_as_a_dict() -> None:
    layers = {"fc1": np.ones((2, 3)), "out": np.zeros((2, 1))}
    result = TraceResult(layers, np.zeros((2, 1)))
    prediction, traced = result
    assert prediction is result.prediction and traced == result
    assert dict(result).keys() == layers.keys() and {**result}.keys() == layers.keys()
    assert len(result) == 2 and "fc1" in result and list(result.keys()) == ["fc1", "out"]
    assert type(copy.deepcopy(result)) is dict


def test_hls_config_is_the_config_dict() -> None:
    config = HLSConfig({"OutputDir": "prj", "ProjectName": "net", "HLSConfig": {"Model": {"Strategy": "Resource", "ReuseFactor": 4}}})
    assert config.config is config and config["OutputDir"] == "prj"
    assert config.get_config_value("IOType", "io_parallel") == "io_parallel"
    assert config.get_project_dir() == "net_prj" and config.get_output_dir() == "prj"
    assert config.model_strategy == "resource" and config.model_rf == 4 and config.model_precision == {"default": "fixed<16,6>"}
    assert config.backend.name == "Vitis" and config.flows == []
    assert type(copy.deepcopy(config)) is dict and copy.deepcopy(config) == config
    with pytest.raises(ConfigError, match="not attached"):
        config.get_reuse_factor("fc1")
