"""hls4ml-shaped conversion entry points (`nnhls.converters`).

    hls_model = nnhls.converters.convert_from_keras_model(
        model, hls_config=config, output_dir="my-hls-test", backend="Vitis", io_type="io_parallel")
    hls_model = nnhls.converters.convert_from_config("config.yml")

Each builds the full validated top-level config (backend defaults + arguments + `hls_config`),
imports the model into `nn` IR, validates the HLSConfig against its layers, and returns
`HLSModel(module, config, pipeline)`.
"""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp, StringAttr

from nnhls.backends import get_backend
from nnhls.compiler.hls_model import HLSModel
from nnhls.compiler.pipeline import configured_module
from nnhls.config import (
    TOP_LEVEL_KEYS,
    ConfigError,
    config_to_yaml,
    load_yaml_text,
    parse_model_section,
    resolve_paths,
    validate_config,
)
from nnhls.dialects import nn
from nnhls.dialects.fixed import FixedPrecision
from nnhls.dialects.nn import AUTO
from nnhls.frontends.keras import import_keras_model
from nnhls.frontends.pytorch import load_pytorch
from nnhls.utils import onnx_model, per_sample_shapes

CONVERTER_KWARGS = (
    "io_type",
    "part",
    "clock_period",
    "clock_uncertainty",
    "namespace",
    "write_weights_txt",
    "write_tar",
    "tb_output_stream",
)
"""Keyword arguments of convert_from_*_model beyond the named ones (hls4ml's)."""
_MODEL_KEYS = ("KerasModel", "KerasJson", "KerasH5", "OnnxModel", "PytorchModel")


def build_config(
    hls_config: Mapping[str, Any] | None,
    output_dir: str,
    project_name: str,
    input_data_tb: str | None,
    output_data_tb: str | None,
    backend: str,
    **kwargs: Any,
) -> dict[str, Any]:
    """The full top-level config: backend defaults, then the arguments, then `hls_config`."""
    extra = {k: kwargs.pop(k) for k in list(kwargs) if k in TOP_LEVEL_KEYS}  # model paths etc.
    unknown = sorted(set(kwargs) - set(CONVERTER_KWARGS))
    if unknown:
        hint = difflib.get_close_matches(unknown[0], CONVERTER_KWARGS, n=1)
        raise ConfigError(
            f"unknown argument {unknown[0]}="
            + (f" (did you mean {hint[0]}=?)" if hint else "")
            + f"; the converters take {', '.join(CONVERTER_KWARGS)}"
        )
    if hls_config is not None and not isinstance(hls_config, Mapping):
        raise ConfigError(
            f"hls_config must be a mapping (a dict or the YAML's HLSConfig), got {type(hls_config).__name__} {hls_config!r:.60}"
        )
    config = get_backend(backend).create_initial_config(**kwargs)
    config.update(extra)
    config.update({"OutputDir": output_dir, "ProjectName": project_name})
    if input_data_tb is not None:
        config["InputData"] = input_data_tb
    if output_data_tb is not None:
        config["OutputPredictions"] = output_data_tb
    hls = dict(hls_config or {})
    model = dict(hls.get("Model") or {})
    model.setdefault("Precision", "fixed<16,6>")  # as hls4ml's converters
    model.setdefault("ReuseFactor", 1)
    hls["Model"] = model
    config["HLSConfig"] = hls
    return validate_config(config)


def make_hls_model(module: ModuleOp, config: dict[str, Any], pipeline: str | None) -> HLSModel:
    """`ModelGraph(module, config, pipeline)`: an HLSModel with hls4ml's ModelGraph API, over the
    imported, not yet configured module."""
    from nnhls.model.graph import ModelGraph

    return ModelGraph(module, config, pipeline)


def _finish(module: ModuleOp, config: dict[str, Any], pipeline: str | None) -> Any:
    """Check the config against the model (errors surface at conversion time), then wrap both."""
    _input_precision_from_data(module, config)
    configured_module(module.clone(), config)
    return make_hls_model(module, config, pipeline)


def _input_precision_from_data(module: ModuleOp, config: dict[str, Any]) -> None:
    """Resolve an `auto` input type from InputData: the fewest integer bits holding its largest
    value (unsigned when it has no negative values), with the model default's fractional bits.

    Without data an `auto` input keeps the model default, and predict() warns about values
    beyond it. The chosen type is written into the config (and so into the project's YAML).
    """
    data_file = config.get("InputData")
    inputs = [op for op in module.walk() if isinstance(op, nn.InputOp)]
    layers = (config.get("HLSConfig") or {}).get("LayerName") or {}
    if not isinstance(data_file, str) or not Path(data_file).is_file() or len(inputs) != 1:
        return
    entry = layers.get(inputs[0].layer_name)
    if not isinstance(entry, Mapping) or not _is_auto_result(entry.get("Precision")):  # pyright: ignore[reportUnknownMemberType]
        return
    values = (
        np.load(data_file, allow_pickle=False)
        if data_file.endswith(".npy")
        else np.loadtxt(data_file, ndmin=2)
    )
    if values.size == 0:
        return
    chosen = _holding_type(
        float(values.min()),
        float(values.max()),
        parse_model_section(config["HLSConfig"]["Model"]).default_precision,
    )
    config["HLSConfig"] = copy.deepcopy(config["HLSConfig"])
    precision = config["HLSConfig"]["LayerName"][inputs[0].layer_name].get("Precision")
    if isinstance(precision, dict):
        precision["result"] = chosen
    else:
        config["HLSConfig"]["LayerName"][inputs[0].layer_name]["Precision"] = chosen


def _is_auto_result(precision: Any) -> bool:
    if isinstance(precision, Mapping):
        return precision.get("result") == AUTO  # pyright: ignore[reportUnknownMemberType]
    return precision == AUTO


def _holding_type(low: float, high: float, default: FixedPrecision) -> str:
    """`fixed<W,I>` / `ufixed<W,I>` holding [low, high] with default's fractional bits."""
    frac = default.fractional
    magnitude = max(abs(low), abs(high)) + 2.0**-frac
    integer = max(math.ceil(math.log2(magnitude)), 0)
    if low < 0:
        return f"fixed<{integer + 1 + frac},{integer + 1}>"
    return f"ufixed<{integer + frac},{integer}>"


def convert_from_keras_model(
    model: Any,
    output_dir: str = "my-hls-test",
    project_name: str = "myproject",
    input_data_tb: str | None = None,
    output_data_tb: str | None = None,
    backend: str = "Vitis",
    hls_config: Mapping[str, Any] | None = None,
    pipeline: str | None = None,
    **kwargs: Any,
) -> Any:
    """Keras model (in memory or path) -> HLSModel. kwargs: io_type, part, clock_period, clock_uncertainty."""
    config = build_config(
        hls_config, output_dir, project_name, input_data_tb, output_data_tb, backend, **kwargs
    )
    module = import_keras_model(model)
    _rename(module, config["ProjectName"])
    return _finish(module, config, pipeline)


def convert_from_onnx_model(
    model: Any,
    output_dir: str = "my-hls-test",
    project_name: str = "myproject",
    input_data_tb: str | None = None,
    output_data_tb: str | None = None,
    backend: str = "Vitis",
    hls_config: Mapping[str, Any] | None = None,
    pipeline: str | None = None,
    **kwargs: Any,
) -> Any:
    """ONNX model (ModelProto, qonnx ModelWrapper or path) -> HLSModel."""
    from nnhls.frontends.onnx import import_onnx

    config = build_config(
        hls_config, output_dir, project_name, input_data_tb, output_data_tb, backend, **kwargs
    )
    return _finish(import_onnx(onnx_model(model), name=config["ProjectName"]), config, pipeline)


def convert_from_pytorch_model(
    model: Any,
    input_shape: Any = None,
    output_dir: str = "my-hls-test",
    project_name: str = "myproject",
    input_data_tb: str | None = None,
    output_data_tb: str | None = None,
    backend: str = "Vitis",
    hls_config: Mapping[str, Any] | None = None,
    pipeline: str | None = None,
    **kwargs: Any,
) -> Any:
    """PyTorch module (or archive path) -> HLSModel; input_shape defaults to HLSConfig.InputShape."""
    from nnhls.frontends.pytorch import import_pytorch

    shape = input_shape if input_shape is not None else (hls_config or {}).get("InputShape")
    if shape is None:
        raise ConfigError(
            "a PyTorch model needs input_shape (or HLSConfig.InputShape), batch axis excluded"
        )
    config = build_config(
        hls_config, output_dir, project_name, input_data_tb, output_data_tb, backend, **kwargs
    )
    config["InputShape"] = shape
    model_cfg = config["HLSConfig"]["Model"]
    module = import_pytorch(
        load_pytorch(model),
        _shapes(shape),
        name=config["ProjectName"],
        channels_last_conversion=model_cfg.get("ChannelsLastConversion", "full"),
        transpose_outputs=model_cfg.get("TransposeOutputs", False),
    )
    return _finish(module, config, pipeline)


def _shapes(shape: Any) -> Any:
    return per_sample_shapes(shape)


def _rename(module: ModuleOp, name: str) -> None:
    nn.model_function(module).sym_name = StringAttr(name)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML config file (a safe loader): relative paths are relative to the working directory,
    as in hls4ml, except values tagged `!relative`, which are relative to the YAML's folder."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"config file '{file}' not found")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read '{file}': {error}") from None
    data = load_yaml_text(text, f"'{file}'")
    if not isinstance(data, dict):
        raise ConfigError(f"'{file}' does not hold a configuration mapping")
    config: dict[str, Any] = {str(k): v for k, v in data.items()}  # pyright: ignore[reportUnknownVariableType]
    return resolve_paths(config, file.parent)


def convert_from_config(config: str | Path | Mapping[str, Any], pipeline: str | None = None) -> Any:
    """YAML path or dict -> HLSModel. Reads KerasJson+KerasH5, KerasH5 alone, KerasModel, OnnxModel or PytorchModel."""
    data = load_yaml(config) if isinstance(config, str | Path) else dict(config)
    validate_config(data)
    common = {
        "output_dir": data.get("OutputDir", "my-hls-test"),
        "project_name": data.get("ProjectName", "myproject"),
        "input_data_tb": data.get("InputData"),
        "output_data_tb": data.get("OutputPredictions"),
        "backend": data.get("Backend", "Vitis"),
        "hls_config": data.get("HLSConfig"),
        "pipeline": pipeline,
        "io_type": data.get("IOType", "io_parallel"),
    }
    for key, arg in (
        ("Part", "part"),
        ("ClockPeriod", "clock_period"),
        ("ClockUncertainty", "clock_uncertainty"),
    ):
        if key in data:
            common[arg] = data[key]
    # Everything else on the top level (model paths, WriterConfig...) is carried into the config.
    skip = (
        "OutputDir",
        "ProjectName",
        "InputData",
        "OutputPredictions",
        "Backend",
        "HLSConfig",
        "IOType",
        "Part",
        "ClockPeriod",
        "ClockUncertainty",
    )
    common.update({k: v for k, v in data.items() if k not in skip})
    if data.get("OnnxModel") is not None:
        return convert_from_onnx_model(data["OnnxModel"], **common)
    if data.get("PytorchModel") is not None:
        return convert_from_pytorch_model(data["PytorchModel"], data.get("InputShape"), **common)
    if data.get("KerasModel") is not None:
        return convert_from_keras_model(data["KerasModel"], **common)
    if data.get("KerasJson") is not None:
        if data.get("KerasH5") is None:
            raise ConfigError("KerasJson needs KerasH5 (the weights file)")
        return convert_from_keras_model((data["KerasJson"], data["KerasH5"]), **common)
    if data.get("KerasH5") is not None:
        return convert_from_keras_model(data["KerasH5"], **common)
    raise ConfigError(
        "the config names no model: give KerasJson+KerasH5, KerasH5, KerasModel, OnnxModel or PytorchModel"
    )


def write_config_yaml(config: Mapping[str, Any], path: str | Path) -> None:
    """Write the config as YAML (the project writer's hls4ml_config.yml)."""
    Path(path).write_text(config_to_yaml(config))
