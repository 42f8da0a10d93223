"""nn-apply-config: validate an hls4ml-style configuration and write it onto the nn ops.

The configuration is either a YAML file (`config_file`, for nnhls-opt) or JSON text
(`config_json`, set from Python). Both may hold a full top-level config (with `HLSConfig`,
`IOType`, ...) or just the HLSConfig mapping (`Model` / `LayerType` / `LayerName`). Precedence
(LayerName > LayerType > Model, per key and per precision variable) is resolved here, so every
op leaves with its complete configuration; see `nnhls.config`.

Before (`config_file` holding `HLSConfig: {Model: {Precision: fixed<16,6>, ReuseFactor: 1},
LayerName: {fc1: {Precision: {weight: fixed<8,4>}, ReuseFactor: 2}}}`):

    func.func @m(%x: tensor<4xf32>) -> tensor<2xf32> {
      %0 = nn.input %x {layer = "input_1"} : (tensor<4xf32>) -> tensor<4xf32>
      %1 = nn.dense %0 {layer = "fc1", weight = dense<...>} : (tensor<4xf32>) -> tensor<2xf32>
      ...

After:

    func.func @m(...) attributes {nn.default_precision = !hls.fixed<16, 6>,
                                  nn.io_type = #hls<io_type io_parallel>,
                                  nn.pipeline_style = #hls<pipeline_style auto>} {
      %0 = nn.input %x {layer = "input_1", precision = {result = !hls.fixed<16, 6>},
                        reuse_factor = 1 : i64} ...
      %1 = nn.dense %0 {layer = "fc1", precision = {accum = !hls.fixed<16, 6>,
                        bias = !hls.fixed<16, 6>, result = !hls.fixed<16, 6>,
                        weight = !hls.fixed<8, 4>}, reuse_factor = 2 : i64,
                        strategy = #hls<strategy latency>, ...} ...
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, ModuleOp, StringAttr, UnitAttr, i64
from xdsl.ir import Attribute
from xdsl.passes import ModulePass

from nnhls.config import (
    ConfigError,
    LayerSettings,
    ModelSettings,
    load_yaml_text,
    resolve,
    validate_config,
)
from nnhls.dialects import nn
from nnhls.dialects.fixed import FixedPrecision
from nnhls.dialects.types import (
    IOTypeAttr,
    PipelineStyleAttr,
    SoftmaxImplAttr,
    StrategyAttr,
    fixed_type,
)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read '{path}': {error}") from None


def load_config_text(config_file: str, config_json: str) -> dict[str, Any]:
    """The configuration mapping from a YAML file or JSON text (empty: defaults)."""
    if config_file and config_json:
        raise ConfigError("nn-apply-config: give config_file or config_json, not both")
    if config_file:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(f"nn-apply-config: config file '{config_file}' not found")
        data = load_yaml_text(_read_text(path), f"'{config_file}'")
    elif config_json:
        try:
            data = json.loads(config_json)
        except json.JSONDecodeError as error:
            raise ConfigError(f"nn-apply-config: config_json is not valid JSON: {error}") from None
    else:
        data = {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"nn-apply-config: the configuration must be a mapping, got {type(data).__name__}"
        )
    return {str(k): v for k, v in data.items()}  # pyright: ignore[reportUnknownVariableType]


def split_config(data: Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    """(HLSConfig, IOType) from either a full top-level config or a bare HLSConfig."""
    if any(k in data for k in ("Model", "LayerType", "LayerName")) or not data:
        return data, "io_parallel"
    top = validate_config(data)
    return top.get("HLSConfig") or {}, top.get("IOType", "io_parallel")


def layer_ops(function: func.FuncOp) -> list[nn.NNLayerOp]:
    return [op for op in function.walk() if isinstance(op, nn.NNLayerOp)]


def _precision_attr(value: FixedPrecision | str) -> Attribute:
    return StringAttr(nn.AUTO) if isinstance(value, str) else fixed_type(value)


def _int(value: int) -> IntegerAttr:
    return IntegerAttr(value, i64)


def write_layer(op: nn.NNLayerOp, s: LayerSettings) -> None:
    """Write one layer's resolved settings as op properties."""
    props = op.properties
    props["precision"] = DictionaryAttr({var: _precision_attr(p) for var, p in s.precision.items()})
    props["reuse_factor"] = _int(s.reuse_factor)
    if s.trace:
        props["trace"] = UnitAttr()
    else:
        props.pop("trace", None)
    if s.strategy is not None:
        props["strategy"] = StrategyAttr(s.strategy)
    if s.compression:
        props["compression"] = UnitAttr()
    if s.parallelization_factor is not None:
        props["parallelization_factor"] = _int(s.parallelization_factor)
    if s.table_size is not None:
        props["table_size"] = _int(s.table_size)
    if s.exp_table_size is not None and s.inv_table_size is not None:
        props["exp_table_size"] = _int(s.exp_table_size)
        props["inv_table_size"] = _int(s.inv_table_size)
    if s.implementation is not None:
        props["implementation"] = SoftmaxImplAttr(s.implementation)
    if s.recurrent_reuse_factor is not None:
        props["recurrent_reuse_factor"] = _int(s.recurrent_reuse_factor)
    if s.static is False:
        props["unrolled"] = UnitAttr()
    else:
        props.pop("unrolled", None)
    if s.skip:
        _mark_skipped(op)


def _mark_skipped(op: nn.NNLayerOp) -> None:
    """hls4ml's softmax `Skip`: allowed only where the softmax result is only a model output."""
    if any(not isinstance(use.operation, func.ReturnOp) for use in op.results[0].uses):
        raise ConfigError(
            f"softmax '{op.layer_name}': Skip removes a final softmax; this one's result feeds other layers"
        )
    op.attributes[nn.SKIP_ATTR] = UnitAttr()

def write_model(function: func.FuncOp, m: ModelSettings) -> None:
    """Model-level settings as discardable attributes of the model function."""
    attrs = function.attributes
    attrs[nn.DEFAULT_PRECISION_ATTR] = fixed_type(m.default_precision)
    if m.max_precision is not None:
        attrs[nn.MAX_PRECISION_ATTR] = fixed_type(m.max_precision)
    attrs[nn.IO_TYPE_ATTR] = IOTypeAttr(m.io_type)
    attrs[nn.PIPELINE_STYLE_ATTR] = PipelineStyleAttr(m.pipeline_style)
    if m.pipeline_interval is not None:
        attrs[nn.PIPELINE_INTERVAL_ATTR] = _int(m.pipeline_interval)
    if m.snap_reuse_factor:
        attrs[nn.SNAP_REUSE_FACTOR_ATTR] = UnitAttr()
    if m.bram_factor is not None:
        attrs[nn.BRAM_FACTOR_ATTR] = _int(m.bram_factor)


def apply_config(module: ModuleOp, data: Mapping[str, Any]) -> None:
    """Validate `data` (full config or HLSConfig) against the module and write it onto it."""
    hls, io_type = split_config(data)
    for function in (op for op in module.ops if isinstance(op, func.FuncOp)):
        ops = layer_ops(function)
        resolved = resolve(hls, ops, io_type)
        for op in ops:
            write_layer(op, resolved.layers[op.layer_name])
        write_model(function, resolved.model)


@dataclass(frozen=True)
class ApplyConfigPass(ModulePass):
    """Validate the configuration against the model's layers and write it onto the nn ops."""

    name = "nn-apply-config"

    config_file: str = ""
    """A YAML file (full hls4ml config or bare HLSConfig)."""
    config_json: str = ""
    """The same as JSON text (set from Python)."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        apply_config(op, load_config_text(self.config_file, self.config_json))
