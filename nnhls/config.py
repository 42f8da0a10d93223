"""The configuration model: hls4ml-compatible dicts/YAML -> validated, fully resolved settings.

Top-level keys (dict or YAML, same names as hls4ml): see `TOP_LEVEL_KEYS`. `HLSConfig` has three
levels, `Model`, `LayerType` and `LayerName`; every key is validated strictly (unknown keys are
errors with a did-you-mean suggestion), and every error is one `ConfigError` with a one-line message.

Precedence, per key and per precision variable (most specific first):

    LayerName[layer].Precision[var] > LayerName[layer].Precision (string)
      > LayerType[t].Precision[var] > LayerType[t].Precision (string)
      > Model.Precision[var] > Model.Precision.default (or the Model.Precision string)

    ReuseFactor, Strategy, Compression, Trace: LayerName > LayerType > Model (TraceOutput for Trace)
    ParallelizationFactor, TableSize, ExpTableSize, InvTableSize, Implementation, Static:
      LayerName > LayerType > built-in default (1, 1024, 1024, 1024, stable, True)
    RecurrentReuseFactor: LayerName > LayerType > the layer's resolved ReuseFactor
    Softmax tables: at each level ExpTableSize/InvTableSize beat TableSize.

Unlike hls4ml, a LayerName entry does not shadow the LayerType/Model entries of keys it does not set.

LayerType names: a layer matches every name in `layer_type_names(op)`, tried in that order (the
most specific first): the framework class (Keras, PyTorch or ONNX spelling, e.g. `MaxPooling2D`,
`MaxPool2d`, `MaxPool`), hls4ml's class (`Pooling2D`) and our op kind (`pool`), from the op (kind,
rank, pool op, activation kind: each op's rules in nnhls/ops give them). The two ops of a
separable convolution are recognised by the framework class the front end records in their
`layer_type` property.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nnhls import ops as registry
from nnhls.dialects import bitgrowth, nn, tables
from nnhls.dialects.fixed import ACCEPTED_SPELLINGS, FixedPrecision, PrecisionError, parse_precision
from nnhls.dialects.kinds import (
    IOType,
    PipelineStyle,
    SoftmaxImpl,
    Strategy,
)
from nnhls.errors import ConfigError, ConfigWarning, warn
from nnhls.ops.quantize import QuantizeOp
from nnhls.quoting import IdentifierError, check_cpp_identifier

# ----- key sets ---------------------------------------------------------------------------------------------

TOP_LEVEL_KEYS: tuple[str, ...] = (
    "OutputDir", "ProjectName", "ProjectDir", "Version", "KerasJson", "KerasH5", "KerasModel",
    "OnnxModel", "PytorchModel", "InputShape", "InputData", "OutputPredictions", "Backend", "Part",
    "ClockPeriod", "ClockUncertainty", "IOType", "HLSConfig", "WriterConfig", "MaximumSize",
    "Stamp", "InputShapes", "OutputShapes",
)  # fmt: skip
HLS_CONFIG_KEYS: tuple[str, ...] = ("Model", "LayerType", "LayerName", "InputShape")
"""InputShape: PyTorch input shape, put here by config_from_pytorch_model as hls4ml does."""
MODEL_KEYS: tuple[str, ...] = (
    "Precision", "ReuseFactor", "Strategy", "PipelineStyle", "PipelineInterval", "Compression",
    "BramFactor", "TraceOutput", "SnapReuseFactor", "ChannelsLastConversion", "TransposeOutputs",
    "ConvImplementation",
)  # fmt: skip
WRITER_KEYS: tuple[str, ...] = (
    "Namespace", "WriteWeightsTxt", "WriteTar", "TBOutputStream", "WriteEmulationConstants",
)  # fmt: skip
BACKENDS: tuple[str, ...] = ("Vitis", "Vivado")
CHANNELS_LAST: tuple[str, ...] = ("full", "internal", "off")
CANONICAL_STRATEGY = {Strategy.LATENCY: "Latency", Strategy.RESOURCE: "Resource", Strategy.UNROLLED: "Unrolled"}

COMMON_LAYER_KEYS: tuple[str, ...] = ("Precision", "ReuseFactor", "Trace", "Strategy")
"""Strategy is accepted on every layer as hls4ml scripts set it in loops over all layers: on dense
and convolution layers it is the strategy, on a softmax a synonym of Implementation (stable,
latency, argmax), elsewhere it has no effect (a warning unless it is the default Latency).
Each op's further keys are its rules' `config_keys` (nnhls/ops)."""
CONV_IMPLEMENTATIONS: tuple[str, ...] = ("LineBuffer", "Encoded", "Pointwise")
"""hls4ml's io_stream convolution/pooling implementations; nnhls computes all three with its
line-buffer kernel (identical results), Pointwise only for 1x1 kernels."""


def applicable_keys(op_name: str) -> tuple[str, ...]:
    """The LayerType/LayerName keys that apply to an op (by its `nn.*` name; its rules' keys)."""
    rules = registry.rules_by_name(op_name)
    return COMMON_LAYER_KEYS + (rules.config_keys if rules is not None else ())


def all_layer_keys() -> tuple[str, ...]:
    """Every key some layer accepts (for did-you-mean suggestions)."""
    extra = (k for cls in registry.nn_op_classes() for k in registry.rules(cls).config_keys)
    return tuple(dict.fromkeys((*COMMON_LAYER_KEYS, *extra)))


# ----- LayerType names ------------------------------------------------------------------------------------


def layer_type_names(op: nn.NNLayerOp) -> tuple[str, ...]:
    """Every LayerType key that matches `op`, most specific first (framework, hls4ml, op kind)."""
    return (*registry.rules(op).layer_type_names(op), op.name.removeprefix("nn."))


def known_type_names() -> tuple[str, ...]:
    """Every LayerType key some op can match (for did-you-mean suggestions)."""
    names: list[str] = []
    for cls in registry.nn_op_classes():
        names += [*registry.rules(cls).all_type_names(), cls.name.removeprefix("nn.")]
    return tuple(dict.fromkeys(names))


# ----- value checks ---------------------------------------------------------------------------------------


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'X'?)' for the closest choice, or ''."""
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[word.lower()]] if word.lower() in lowered else []
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_keys(where: str, entry: Mapping[str, Any], allowed: Sequence[str]) -> None:
    """Every key of `entry` must be in `allowed`; else an error with a suggestion."""
    for key in entry:
        if key not in allowed:
            hint = did_you_mean(str(key), allowed)
            raise ConfigError(f"{where}: unknown key '{key}'{hint}; valid keys: {', '.join(allowed)}")


def as_mapping(where: str, value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a mapping, got {type(value).__name__} {value!r}")
    return value


def choice(where: str, value: Any, valid: Sequence[str]) -> str:
    """A case-insensitive choice among `valid`, returned in its canonical spelling."""
    if isinstance(value, str):
        for v in valid:
            if v.lower() == value.strip().lower():
                return v
    raise ConfigError(f"{where}: invalid value {value!r}; valid values: {', '.join(valid)}")


def positive_int(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where} must be a positive integer, got {value!r}")
    return value


def boolean(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, got {value!r}")
    return value


_STRATEGY_SYNONYMS = {"resourceunrolled": Strategy.UNROLLED}
"""hls4ml's `ResourceUnrolled` / `resource_unrolled` is our Unrolled (the same RF legality, no
max RF, II = RF)."""
_UNSUPPORTED_STRATEGIES = ("distributed_arithmetic", "da")


def _strategy_or_none(value: Any) -> Strategy | None:
    if not isinstance(value, str):
        return None
    key = value.strip().lower().replace("_", "")
    if key in _STRATEGY_SYNONYMS:
        return _STRATEGY_SYNONYMS[key]
    return next((s for s in Strategy if s.value == key), None)


def strategy(where: str, value: Any) -> Strategy:
    """A layer strategy: Latency, Resource, Unrolled (also hls4ml's ResourceUnrolled), any case."""
    chosen = _strategy_or_none(value)
    if chosen is not None:
        return chosen
    if isinstance(value, str) and value.strip().lower() in _UNSUPPORTED_STRATEGIES:
        raise ConfigError(f"{where}: strategy '{value}' (hls4ml's distributed arithmetic, da4ml) is not supported by nnhls; use Latency, Resource or Unrolled")
    return Strategy(choice(where, value, tuple(CANONICAL_STRATEGY.values())).lower())


def precision(where: str, value: Any, allow_auto: bool) -> FixedPrecision | str:
    """A parsed precision string, or "auto" where allowed."""
    if isinstance(value, str) and value.strip().lower() == nn.AUTO:
        if allow_auto:
            return nn.AUTO
        raise ConfigError(f"{where}: 'auto' is allowed only at layer level; give a type like fixed<16,6>")
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a precision string ({ACCEPTED_SPELLINGS}), got {value!r}")
    try:
        return parse_precision(value)
    except PrecisionError as error:
        raise ConfigError(f"{where}: {error}") from None


def canonical_precision(value: FixedPrecision | str) -> str:
    """A precision as hls4ml spells it in a config (`fixed<16,6>`, `ufixed<8,0,RND,SAT>`)."""
    if isinstance(value, str):
        return value
    if value.is_int:
        return f"{'' if value.signed else 'u'}int<{value.width}>"
    fields = [str(value.width), str(value.integer)]
    if value.rounding.name != "TRN" or value.overflow.name != "WRAP" or value.sat_bits:
        fields += [value.rounding.name, value.overflow.name]
    if value.sat_bits:
        fields.append(str(value.sat_bits))
    return f"{'' if value.signed else 'u'}fixed<{','.join(fields)}>"


MAX_YAML_BYTES = 16 << 20
"""Largest YAML configuration read (16 MiB)."""
MAX_YAML_NODES = 200_000
"""Most nodes a YAML document may expand to, aliases counted at every use (a billion-laughs
document is refused before anything is built from it)."""


def load_yaml_text(text: str, where: str = "the YAML text") -> Any:
    """A YAML document through yaml's safe loader, with duplicate keys and documents expanding
    to more than MAX_YAML_NODES nodes refused; every problem is a one-line ConfigError. Values
    tagged `!relative` come back as RelativePath (see resolve_paths)."""
    import yaml

    if len(text) > MAX_YAML_BYTES:
        raise ConfigError(f"{where}: {len(text)} bytes is larger than the {MAX_YAML_BYTES >> 20} MiB a configuration may have")

    class Loader(yaml.SafeLoader):
        def construct_document(self, node: yaml.Node) -> Any:
            _check_expanded_size(node, where)
            return super().construct_document(node)

        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:
                    raise ConfigError(f"{where}, line {key_node.start_mark.line + 1}: a mapping key must be a plain value") from None
                if duplicate:
                    raise ConfigError(f"{where}, line {key_node.start_mark.line + 1}: duplicate key {key!r}")
            return super().construct_mapping(node, deep=deep)

    def relative(loader: yaml.SafeLoader, node: yaml.Node) -> RelativePath:
        return RelativePath(loader.construct_scalar(node))  # pyright: ignore[reportArgumentType]

    Loader.add_constructor(RELATIVE_TAG, relative)
    try:
        return yaml.load(text, Loader=Loader)
    except yaml.YAMLError as error:
        raise ConfigError(f"cannot read YAML {where}: {' '.join(str(error).split())}") from None
    except RecursionError:
        raise ConfigError(f"cannot read YAML {where}: nested too deeply") from None


def _check_expanded_size(root: Any, where: str) -> None:
    import yaml

    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        children: list[Any] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if not done:
            if any(id(child) in visiting for child in children):
                raise ConfigError(f"{where}: a recursive alias (a value that contains itself)")
            visiting.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        visiting.discard(id(node))
        sizes[id(node)] = 1 + sum(sizes.get(id(child), 1) for child in children)
        if sizes[id(node)] > MAX_YAML_NODES:
            raise ConfigError(
                f"{where}: the document expands to more than {MAX_YAML_NODES} values (aliases counted at each use); "
                "a configuration never needs that many"
            )


def valid_identifier(where: str, value: Any) -> str:
    try:
        return check_cpp_identifier(value, where)
    except IdentifierError as error:
        raise ConfigError(str(error)) from None


# ----- resolved settings ----------------------------------------------------------------------------------


@dataclass
class ModelSettings:
    """The validated Model section."""

    default_precision: FixedPrecision
    max_precision: FixedPrecision | None = bitgrowth.DEFAULT_MAXIMUM
    """The cap on `auto` types (Precision.maximum; `none`: exact bit growth)."""
    var_precision: dict[str, FixedPrecision] = field(default_factory=dict[str, FixedPrecision])
    reuse_factor: int = 1
    strategy: Strategy = Strategy.LATENCY
    pipeline_style: PipelineStyle = PipelineStyle.AUTO
    pipeline_interval: int | None = None
    compression: bool = False
    trace: bool = False
    snap_reuse_factor: bool = False
    io_type: IOType = IOType.IO_PARALLEL
    bram_factor: int | None = None
    """Dense/conv layers with more weights than this keep them in BRAM (hls4ml's BramFactor)."""
    conv_implementation: str = "LineBuffer"


@dataclass
class LayerSettings:
    """The fully resolved configuration of one layer (what nn-apply-config writes on its op)."""

    precision: dict[str, FixedPrecision | str]
    reuse_factor: int
    trace: bool
    strategy: Strategy | None = None
    compression: bool | None = None
    parallelization_factor: int | None = None
    table_size: int | None = None
    exp_table_size: int | None = None
    inv_table_size: int | None = None
    implementation: SoftmaxImpl | None = None
    skip: bool = False
    """Softmax `Skip`: the layer is removed (its input becomes the model output)."""
    recurrent_reuse_factor: int | None = None
    """Recurrent layers: the reuse factor of the recurrent (state) product (default: ReuseFactor)."""
    static: bool | None = None
    """Recurrent layers (hls4ml's `Static`): one cell instance reused over time (True, the default)
    or the time loop fully unrolled (False)."""


DEFAULT_PRECISION = str(bitgrowth.DEFAULT_PRECISION)
"""The model default precision when the config gives none (hls4ml's fixed<16,6>)."""


def parse_model_section(model: Mapping[str, Any], io_type: Any = "io_parallel") -> ModelSettings:
    """Validate HLSConfig.Model (strict keys, typed values)."""
    where = "HLSConfig.Model"
    check_keys(where, model, MODEL_KEYS)
    settings = ModelSettings(default_precision=parse_precision(DEFAULT_PRECISION))
    settings.io_type = IOType(choice("IOType", io_type, [t.value for t in IOType]))
    _model_precision(settings, model.get("Precision", DEFAULT_PRECISION))
    if "ReuseFactor" in model:
        settings.reuse_factor = positive_int(f"{where}.ReuseFactor", model["ReuseFactor"])
    if "Strategy" in model:
        settings.strategy = strategy(f"{where}.Strategy", model["Strategy"])
    if "PipelineStyle" in model:
        style = choice(f"{where}.PipelineStyle", model["PipelineStyle"], [s.value for s in PipelineStyle])
        settings.pipeline_style = PipelineStyle(style)
    if model.get("PipelineInterval") is not None:
        settings.pipeline_interval = positive_int(f"{where}.PipelineInterval", model["PipelineInterval"])
        if settings.pipeline_style == PipelineStyle.DATAFLOW:
            raise ConfigError(
                f"{where}.PipelineInterval needs PipelineStyle 'pipeline' (or 'auto'), not 'dataflow'"
            )
    for key, attr in (("Compression", "compression"), ("TraceOutput", "trace"), ("SnapReuseFactor", "snap_reuse_factor"), ("TransposeOutputs", None)):
        if key in model:
            value = boolean(f"{where}.{key}", model[key])
            if attr is not None:
                setattr(settings, attr, value)
    if "BramFactor" in model:
        settings.bram_factor = _bram_factor(f"{where}.BramFactor", model["BramFactor"])
    if "ChannelsLastConversion" in model:
        choice(f"{where}.ChannelsLastConversion", model["ChannelsLastConversion"], CHANNELS_LAST)
    if "ConvImplementation" in model:
        impl = choice(f"{where}.ConvImplementation", model["ConvImplementation"], CONV_IMPLEMENTATIONS)
        if impl == "Pointwise":
            raise ConfigError(f"{where}.ConvImplementation: Pointwise applies to 1x1 convolutions only; set it per layer (LayerName)")
        settings.conv_implementation = impl
    return settings


def _bram_factor(where: str, value: Any) -> int:
    # hls4ml writes 1e9 (a float) here; any positive number is accepted.
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where} must be a non-negative number, got {value!r}")
    return int(min(value, 1 << 62))


def _model_precision(settings: ModelSettings, value: Any) -> None:
    where = "HLSConfig.Model.Precision"
    if not isinstance(value, Mapping):
        settings.default_precision = _fixed(where, value)
        return
    entries: Mapping[str, Any] = value
    for var, text in entries.items():
        key = str(var)
        if key == "default":
            settings.default_precision = _fixed(f"{where}.default", text)
        elif key == "maximum":
            no_cap = text is None or (isinstance(text, str) and text.strip().lower() == "none")
            settings.max_precision = None if no_cap else _fixed(f"{where}.maximum", text)
        elif key in _all_precision_vars():
            settings.var_precision[key] = _fixed(f"{where}.{key}", text)
        else:
            allowed = ("default", "maximum", *_all_precision_vars())
            raise ConfigError(f"{where}: unknown variable '{key}'{did_you_mean(key, allowed)}; valid: {', '.join(allowed)}")


def _fixed(where: str, value: Any) -> FixedPrecision:
    result = precision(where, value, allow_auto=False)
    assert isinstance(result, FixedPrecision)
    return result


def _all_precision_vars() -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for op in registry.nn_op_classes() for v in op.PRECISION_VARS))


# ----- per-layer entries ----------------------------------------------------------------------------------


@dataclass
class LayerEntry:
    """One validated LayerType or LayerName entry (precision parsed, values checked)."""

    precision_all: FixedPrecision | str | None = None
    precision_vars: dict[str, FixedPrecision | str] = field(default_factory=dict[str, FixedPrecision | str])
    values: dict[str, Any] = field(default_factory=dict[str, Any])


def _type_key(key: Any, precision_vars: Sequence[str]) -> str | None:
    """The precision variable a raw hls4ml type key names (`exp_table_t` -> `exp_table`), if any."""
    if isinstance(key, str) and key.endswith("_t") and key[:-2] in precision_vars:
        return key[:-2]
    return None


def parse_layer_entry(where: str, entry: Any, keys: Sequence[str], precision_vars: Sequence[str], what: str = "this layer") -> LayerEntry:
    """Validate one LayerType/LayerName entry against the keys and variables of its layer(s).

    hls4ml's raw type keys (`table_t`, `exp_table_t`, `accum_t`...) are the precision variables
    without `_t`, beside Precision or inside it. As in hls4ml, a raw key wins over
    `Precision.<var>` (configs from config_from_* carry those, and scripts then set the raw key);
    the raw key given both inside and beside Precision must agree.
    """
    mapping = as_mapping(where, entry)
    type_keys = [f"{v}_t" for v in precision_vars]
    for key in mapping:
        if key in keys or _type_key(key, precision_vars):
            continue
        if key in all_layer_keys():
            raise ConfigError(f"{where}: key '{key}' does not apply to {what}; applicable keys: {', '.join(keys)}")
        hint = did_you_mean(str(key), (*all_layer_keys(), *type_keys))
        raise ConfigError(f"{where}: unknown key '{key}'{hint}; applicable keys: {', '.join((*keys, *type_keys))}")
    result = LayerEntry()
    for key, value in mapping.items():
        k = f"{where}.{key}"
        if key == "Precision":
            _layer_precision(result, k, value, precision_vars)
        elif key in ("ReuseFactor", "RecurrentReuseFactor", "ParallelizationFactor", "TableSize", "ExpTableSize", "InvTableSize"):
            result.values[key] = positive_int(k, value)
        elif key == "Strategy":
            result.values[key] = (k, _strategy_text(k, value))
        elif key in ("Compression", "Trace", "Skip", "Static"):
            result.values[key] = boolean(k, value)
        elif key == "Implementation":
            result.values[key] = SoftmaxImpl(choice(k, value, [i.value for i in SoftmaxImpl]))
        elif key == "ConvImplementation":
            result.values[key] = choice(k, value, CONV_IMPLEMENTATIONS)
    raw: dict[str, tuple[str, FixedPrecision | str]] = {}
    if isinstance(mapping.get("Precision"), Mapping):
        for key, value in mapping["Precision"].items():
            var = _type_key(key, precision_vars)
            if var is not None:
                raw[var] = (f"{where}.Precision.{key}", precision(f"{where}.Precision.{key}", value, allow_auto=True))
    for key, value in mapping.items():
        var = _type_key(key, precision_vars)
        if var is not None:
            parsed = precision(f"{where}.{key}", value, allow_auto=True)
            if var in raw and raw[var][1] != parsed:
                raise ConfigError(f"{where}.{key}: disagrees with {raw[var][0]} ({parsed} and {raw[var][1]})")
            raw[var] = (f"{where}.{key}", parsed)
    for var, (_, parsed) in raw.items():
        result.precision_vars[var] = parsed  # the raw key wins over Precision.<var>, as in hls4ml
    return result


def _strategy_text(where: str, value: Any) -> str:
    """A Strategy value that is a layer strategy or a softmax implementation (checked per layer later)."""
    if _strategy_or_none(value) is not None:
        return str(value)
    if isinstance(value, str) and value.strip().lower() in [i.value for i in SoftmaxImpl]:
        return value
    if isinstance(value, str) and value.strip().lower() in _UNSUPPORTED_STRATEGIES:
        strategy(where, value)
    names = [*CANONICAL_STRATEGY.values(), "ResourceUnrolled", *(i.value for i in SoftmaxImpl)]
    hint = did_you_mean(str(value), names) if isinstance(value, str) else ""
    raise ConfigError(f"{where}: invalid value {value!r}{hint}; valid values: Latency, Resource, Unrolled (ResourceUnrolled); on a softmax: stable, latency, argmax")


def _layer_precision(result: LayerEntry, where: str, value: Any, variables: Sequence[str]) -> None:
    if not isinstance(value, Mapping):
        result.precision_all = precision(where, value, allow_auto=True)
        return
    entries: Mapping[str, Any] = value
    for var, text in entries.items():
        key = str(var)
        if _type_key(key, variables):
            continue  # raw type keys are read by parse_layer_entry
        if key not in variables:
            raise ConfigError(f"{where}: unknown variable '{key}'{did_you_mean(key, variables)}; this layer has: {', '.join(variables)}")
        result.precision_vars[key] = precision(f"{where}.{key}", text, allow_auto=True)


# ----- resolution -----------------------------------------------------------------------------------------


@dataclass
class ResolvedConfig:
    """Model settings plus per-layer settings, keyed by layer name."""

    model: ModelSettings
    layers: dict[str, LayerSettings]


def resolve(hls_config: Mapping[str, Any], ops: Sequence[nn.NNLayerOp], io_type: Any = "io_parallel") -> ResolvedConfig:
    """Validate an HLSConfig against the model's layer ops and resolve every layer's settings."""
    hls = as_mapping("HLSConfig", hls_config)
    check_keys("HLSConfig", hls, HLS_CONFIG_KEYS)
    model = parse_model_section(as_mapping("HLSConfig.Model", hls.get("Model")), io_type)
    by_type = _parse_layer_types(as_mapping("HLSConfig.LayerType", hls.get("LayerType")), ops)
    by_name = _parse_layer_names(as_mapping("HLSConfig.LayerName", hls.get("LayerName")), ops)
    layers: dict[str, LayerSettings] = {}
    quantized = _quantization_aware(ops)
    for op in ops:
        types = [by_type[t] for t in layer_type_names(op) if t in by_type]
        entries = ([by_name[op.layer_name]] if op.layer_name in by_name else []) + types
        layers[op.layer_name] = _resolve_layer(op, entries, model, quantized and not _bare_input(op))
    return ResolvedConfig(model, layers)


def _quantization_aware(ops: Sequence[nn.NNLayerOp]) -> bool:
    """Whether the model holds quantizers (then its types come from them, not the Model default)."""
    return any(
        isinstance(op, QuantizeOp)
        or getattr(op, "weight_quantizer", None) is not None
        or getattr(op, "bias_quantizer", None) is not None
        for op in ops
    )


def _bare_input(op: nn.NNLayerOp) -> bool:
    """A model input no quantizer reads directly: it keeps the Model precision (the data type)."""
    if not isinstance(op, nn.InputOp):
        return False
    return not any(isinstance(use.operation, QuantizeOp) for use in op.output.uses)


def _type_ops() -> dict[str, list[str]]:
    """LayerType name -> op names it can match (for validating entries without a model): the
    fixed class names of each op (ops whose names depend on the instance are left out)."""
    table: dict[str, list[str]] = {}
    for cls in registry.nn_op_classes():
        names = registry.rules(cls).type_names
        for n in (*names, cls.name.removeprefix("nn.")) if names else ():
            table.setdefault(n, []).append(cls.name)
    return table


def _parse_layer_types(section: Mapping[str, Any], ops: Sequence[nn.NNLayerOp]) -> dict[str, LayerEntry]:
    known = known_type_names()
    matches: dict[str, list[nn.NNLayerOp]] = {}
    for op in ops:
        for t in layer_type_names(op):
            matches.setdefault(t, []).append(op)
    static = _type_ops()
    entries: dict[str, LayerEntry] = {}
    for type_name, entry in section.items():
        where = f"HLSConfig.LayerType.{type_name}"
        if type_name not in known:
            raise ConfigError(f"{where}: unknown layer type '{type_name}'{did_you_mean(str(type_name), known)}")
        op_names = {op.name for op in matches.get(type_name, [])} or set(static.get(type_name, []))
        op_classes = [c for c in registry.nn_op_classes() if c.name in op_names]
        keys = _union(applicable_keys(n) for n in sorted(op_names)) or COMMON_LAYER_KEYS
        variables = _union(c.PRECISION_VARS for c in op_classes) or _all_precision_vars()
        entries[type_name] = parse_layer_entry(where, entry, keys, variables, f"layer type '{type_name}'")
    return entries


def _union(groups: Iterable[Sequence[str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(k for g in groups for k in g))


def _parse_layer_names(section: Mapping[str, Any], ops: Sequence[nn.NNLayerOp]) -> dict[str, LayerEntry]:
    by_name = {op.layer_name: op for op in ops}
    entries: dict[str, LayerEntry] = {}
    linear: list[tuple[str, LayerEntry]] = []
    for name, entry in section.items():
        where = f"HLSConfig.LayerName.{name}"
        op = by_name.get(str(name))
        if op is None and str(name).endswith(LINEAR_SUFFIX):
            base = _linear_base(where, str(name), by_name)
            linear.append((base, parse_layer_entry(where, entry, (*COMMON_LAYER_KEYS, "TableSize"), ("result", "table"), f"'{name}'")))
            continue
        if op is None:
            raise ConfigError(f"{where}: no layer named '{name}'{did_you_mean(str(name), by_name)}; layers: {', '.join(by_name)}")
        what = f"layer '{name}' ({op.name})"
        entries[str(name)] = parse_layer_entry(where, entry, applicable_keys(op.name), op.PRECISION_VARS, what)
    for base, entry in linear:
        _merge_linear(base, entries.setdefault(base, LayerEntry()), entry)
    return entries


LINEAR_SUFFIX = "_linear"
"""hls4ml gives every layer with a linear activation an activation node `<layer>_linear` (which
its optimizers then remove); configs name it. Its result type is the layer's result type."""


def _linear_base(where: str, name: str, by_name: Mapping[str, nn.NNLayerOp]) -> str:
    base = name[: -len(LINEAR_SUFFIX)]
    op = by_name.get(base)
    if op is None:
        raise ConfigError(f"{where}: no layer named '{name}' nor a layer '{base}' whose linear activation it would be{did_you_mean(name, by_name)}; layers: {', '.join(by_name)}")
    if isinstance(op, nn.ActivationOp | nn.SoftmaxOp | nn.InputOp):
        raise ConfigError(f"{where}: '{base}' is an {op.name} layer; '<layer>_linear' names the linear activation of a layer such as a dense or convolution")
    for use in op.results[0].uses:
        user = use.operation
        if isinstance(user, nn.ActivationOp | nn.SoftmaxOp) and user.layer_name.startswith(f"{base}_"):
            raise ConfigError(f"{where}: layer '{base}' has the activation '{user.layer_name}', not a linear one")
    return base


def _merge_linear(base: str, target: LayerEntry, linear: LayerEntry) -> None:
    """The `<layer>_linear` entry's result type and Trace go to the layer (which must agree)."""
    result = linear.precision_vars.get("result", linear.precision_all)
    if isinstance(result, FixedPrecision):
        own = target.precision_vars.get("result", target.precision_all)
        if isinstance(own, FixedPrecision) and own != result:
            raise ConfigError(f"HLSConfig.LayerName.{base}{LINEAR_SUFFIX}: result type {result} disagrees with layer '{base}''s own {own}")
        target.precision_vars["result"] = result
    if linear.values.get("Trace") and "Trace" not in target.values:
        target.values["Trace"] = True


def _first(entries: Sequence[LayerEntry], *keys: str) -> Any:
    """The value of the first key found in the most specific entry that has any of them."""
    for entry in entries:
        for key in keys:
            if key in entry.values:
                return entry.values[key]
    return None


def _resolve_precision(
    op: nn.NNLayerOp, entries: Sequence[LayerEntry], model: ModelSettings, quantized: bool
) -> dict[str, FixedPrecision | str]:
    """Each variable's precision. In a quantization-aware model the quantizers set the types, so a
    variable no LayerName / LayerType entry sets is `auto` instead of the Model precision."""
    resolved: dict[str, FixedPrecision | str] = {}
    for var in op.PRECISION_VARS:
        value: FixedPrecision | str | None = None
        for entry in entries:
            value = entry.precision_vars.get(var, entry.precision_all)
            if value is not None:
                break
        if value is None:
            value = nn.AUTO if quantized else model.var_precision.get(var, model.default_precision)
        resolved[var] = value
    return resolved


def _resolve_layer(
    op: nn.NNLayerOp, entries: Sequence[LayerEntry], model: ModelSettings, quantized: bool = False
) -> LayerSettings:
    keys = applicable_keys(op.name)
    rf = _first(entries, "ReuseFactor")
    trace = _first(entries, "Trace")
    settings = LayerSettings(
        precision=_resolve_precision(op, entries, model, quantized),
        reuse_factor=model.reuse_factor if rf is None else rf,
        trace=model.trace if trace is None else trace,
    )
    chosen = _first(entries, "Strategy")
    if registry.rules(op).has_strategy:
        settings.strategy = model.strategy if chosen is None else strategy(*chosen)
    elif chosen is not None and "Implementation" not in keys and _strategy_or_none(chosen[1]) != Strategy.LATENCY:
        warn(f"{chosen[0]}: Strategy '{chosen[1]}' has no effect on {op.name} '{op.layer_name}' (it applies to dense and convolution layers)", ConfigWarning, stacklevel=2)
    if "Compression" in keys:
        chosen = _first(entries, "Compression")
        settings.compression = model.compression if chosen is None else chosen
    if "ParallelizationFactor" in keys:
        settings.parallelization_factor = _first(entries, "ParallelizationFactor") or 1
    if "TableSize" in keys and "ExpTableSize" not in keys:
        settings.table_size = _first(entries, "TableSize") or tables.DEFAULT_TABLE_SIZE
    if "ExpTableSize" in keys:
        settings.exp_table_size = _first(entries, "ExpTableSize", "TableSize") or tables.DEFAULT_TABLE_SIZE
        settings.inv_table_size = _first(entries, "InvTableSize", "TableSize") or tables.DEFAULT_TABLE_SIZE
        settings.implementation = _softmax_implementation(op, entries)
        settings.skip = bool(_first(entries, "Skip"))
    if "ConvImplementation" in keys:
        _check_conv_implementation(op, _first(entries, "ConvImplementation") or model.conv_implementation)
    if "RecurrentReuseFactor" in keys:
        chosen = _first(entries, "RecurrentReuseFactor")
        rrf: int = settings.reuse_factor if chosen is None else chosen
        _check_recurrent_reuse_factor(op, rrf)
        settings.recurrent_reuse_factor = rrf
    if "Static" in keys:
        chosen = _first(entries, "Static")
        settings.static = True if chosen is None else chosen
    return settings


def _softmax_implementation(op: nn.NNLayerOp, entries: Sequence[LayerEntry]) -> SoftmaxImpl:
    """Implementation, or Strategy as its synonym, from the most specific entry that sets one.

    In one entry a Strategy naming an implementation wins over Implementation (configs from
    config_from_* carry `Implementation: stable`, and scripts then set Strategy), with a warning
    when they differ; Resource / Unrolled on a softmax have no effect (a warning).
    """
    for entry in entries:
        impl: SoftmaxImpl | None = entry.values.get("Implementation")
        if "Strategy" in entry.values:
            where, text = entry.values["Strategy"]
            if text.strip().lower() in [i.value for i in SoftmaxImpl]:
                chosen = SoftmaxImpl(text.strip().lower())
                if impl is not None and impl != chosen:
                    warn(f"{where}: softmax '{op.layer_name}' uses the '{chosen.value}' implementation (Strategy names it on a softmax) instead of Implementation '{impl.value}'", ConfigWarning, stacklevel=3)
                return chosen
            warn(f"{where}: Strategy '{text}' has no effect on softmax '{op.layer_name}' (on a softmax, Strategy names the implementation: stable, latency, argmax)", ConfigWarning, stacklevel=3)
        if impl is not None:
            return impl
    return SoftmaxImpl.STABLE


def _check_recurrent_reuse_factor(op: nn.NNLayerOp, rrf: int) -> None:
    """At most one reuse per product of the recurrent kernel (units x gates * units)."""
    weight = getattr(op, "recurrent_weight", None)
    if weight is None:
        return
    products = math.prod(weight.get_shape())
    if rrf > products:
        raise ConfigError(
            f"{op.name} '{op.layer_name}': RecurrentReuseFactor {rrf} exceeds the {products} products "
            f"of the recurrent kernel ({' x '.join(map(str, weight.get_shape()))})"
        )


def _check_conv_implementation(op: nn.NNLayerOp, impl: str) -> None:
    where = f"{op.name} '{op.layer_name}'"
    if impl == "Pointwise":
        weight = getattr(op, "weight", None)
        shape = tuple(weight.get_shape()) if weight is not None else ()
        if weight is None or any(k != 1 for k in shape[:-2]):
            raise ConfigError(f"{where}: ConvImplementation 'Pointwise' needs a 1x1 convolution kernel")
    elif impl == "Encoded":
        warn(f"{where}: ConvImplementation 'Encoded' is computed by nnhls's line-buffer kernel (the same results; hls4ml's pixel-mask kernel is not implemented)", ConfigWarning, stacklevel=2)


# ----- top level ------------------------------------------------------------------------------------------


PART_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""An FPGA part name (`xcvu13p-flga2577-2-e`): it reaches Tcl, so nothing else is accepted."""


def plain_values(where: str, value: Any) -> Any:
    """The config with numpy scalars as Python values and tuples as lists; sets, arrays and other
    objects that have no YAML spelling are a ConfigError naming the key."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for k, v in value.items():  # pyright: ignore[reportUnknownVariableType]
            key = k.item() if isinstance(k, np.generic) else k
            if not isinstance(key, str | int | float | bool):
                raise ConfigError(f"{where}: a key must be a string, got {type(key).__name__} {key!r}")
            out[key] = plain_values(f"{where}.{key}", v)
        return out
    if isinstance(value, list | tuple):
        return [plain_values(f"{where}[{i}]", v) for i, v in enumerate(value)]  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    if value is None or isinstance(value, str | int | float | bool) or hasattr(value, "__fspath__"):
        return value
    if where.split(".")[-1] in ("KerasModel", "OnnxModel", "PytorchModel"):
        return value  # an in-memory model object
    raise ConfigError(f"{where} cannot be a {type(value).__name__} ({value!r:.60}): use a number, string, list or mapping")


def validate_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Check the top-level keys and values of a full config; returns a normalised copy.

    Canonical spellings are written back (Backend `Vitis`, Strategy `Latency`...). Layer-level
    entries are validated against the model by `resolve` (nn-apply-config).
    """
    top = dict(as_mapping("config", config))
    check_keys("config", top, TOP_LEVEL_KEYS)
    top = {k: plain_values(k, v) for k, v in top.items()}
    if "OutputDir" in top:
        out = top["OutputDir"]
        if hasattr(out, "__fspath__"):
            out = str(out)
        if not isinstance(out, str) or not out.strip() or "\0" in out:
            raise ConfigError(f"OutputDir must be a directory path (a non-empty string), got {type(out).__name__} {out!r}")
        top["OutputDir"] = out
    if "Part" in top:
        part = top["Part"]
        if not isinstance(part, str) or not PART_PATTERN.fullmatch(part):
            raise ConfigError(f"Part must be an FPGA part name such as 'xcvu13p-flga2577-2-e', got {part!r}")
    if "HLSConfig" in top and top["HLSConfig"] is None:
        raise ConfigError("HLSConfig must be a mapping (Model, LayerType, LayerName), got null")
    if "Backend" in top:
        top["Backend"] = choice("Backend", top["Backend"], BACKENDS)
    if "IOType" in top:
        top["IOType"] = choice("IOType", top["IOType"], [t.value for t in IOType])
    if "ProjectName" in top:
        valid_identifier("ProjectName", top["ProjectName"])
    if "ClockPeriod" in top:
        period = top["ClockPeriod"]
        if isinstance(period, bool) or not isinstance(period, int | float) or not math.isfinite(period) or period <= 0:
            raise ConfigError(f"ClockPeriod must be a positive number of ns, got {period!r}")
    if "ClockUncertainty" in top and not re.fullmatch(r"\s*\d+(\.\d+)?%?\s*", str(top["ClockUncertainty"])):
        raise ConfigError(f"ClockUncertainty must be a percentage like '12.5%' or ns, got {top['ClockUncertainty']!r}")
    _check_writer(as_mapping("WriterConfig", top.get("WriterConfig")))
    if "HLSConfig" in top:
        top["HLSConfig"] = _normalise_hls(as_mapping("HLSConfig", top["HLSConfig"]), top.get("IOType", "io_parallel"))
    return top


def _check_writer(writer: Mapping[str, Any]) -> None:
    check_keys("WriterConfig", writer, WRITER_KEYS)
    for key in ("WriteWeightsTxt", "WriteTar", "WriteEmulationConstants"):
        if key in writer:
            boolean(f"WriterConfig.{key}", writer[key])
    if "TBOutputStream" in writer:
        choice("WriterConfig.TBOutputStream", writer["TBOutputStream"], ("both", "stdout", "file"))
    namespace = writer.get("Namespace")
    if namespace is not None:
        valid_identifier("WriterConfig.Namespace", namespace)


def _normalise_hls(hls: Mapping[str, Any], io_type: Any) -> dict[str, Any]:
    check_keys("HLSConfig", hls, HLS_CONFIG_KEYS)
    result = {k: v for k, v in hls.items()}
    model = dict(as_mapping("HLSConfig.Model", hls.get("Model")))
    parse_model_section(model, io_type)
    if "Strategy" in model:
        model["Strategy"] = CANONICAL_STRATEGY[strategy("HLSConfig.Model.Strategy", model["Strategy"])]
    result["Model"] = model
    for section in ("LayerType", "LayerName"):
        entries = as_mapping(f"HLSConfig.{section}", hls.get(section))
        if entries:
            result[section] = {name: _canonical_entry(f"HLSConfig.{section}.{name}", e) for name, e in entries.items()}
    return result


def _canonical_entry(where: str, entry: Any) -> Any:
    """A layer entry with Strategy in its canonical spelling (the rest is checked against the model)."""
    if not isinstance(entry, Mapping) or "Strategy" not in entry:
        return entry
    fields: dict[str, Any] = dict(entry)  # pyright: ignore[reportUnknownArgumentType]
    text = _strategy_text(f"{where}.Strategy", fields["Strategy"])
    chosen = _strategy_or_none(text)
    if chosen is not None and text.strip().lower() not in [i.value for i in SoftmaxImpl]:
        fields["Strategy"] = CANONICAL_STRATEGY[chosen]
    return fields


# ----- writing ---------------------------------------------------------------------------------------------


PATH_KEYS = ("OutputDir", "KerasJson", "KerasH5", "KerasModel", "OnnxModel", "PytorchModel", "InputData", "OutputPredictions")
"""The top-level keys holding a path."""
RELATIVE_TAG = "!relative"


class RelativePath(str):
    """A YAML path tagged `!relative`: relative to the YAML file's own folder, not to the working
    directory (plain relative paths are, as in hls4ml). nnhls writes the paths of the files a
    YAML names this way when it writes the YAML file itself, so the YAML keeps working wherever
    it is moved together with them."""

    __slots__ = ()


def resolve_paths(config: dict[str, Any], yaml_dir: Any) -> dict[str, Any]:
    """The `!relative` paths of a config read from a YAML file in `yaml_dir` made usable: joined
    to that folder. Plain relative paths stay relative to the working directory (hls4ml's rule)."""
    from pathlib import Path

    resolved = dict(config)
    for key in PATH_KEYS:
        value = resolved.get(key)
        if isinstance(value, RelativePath):
            resolved[key] = str(Path(yaml_dir) / value) if not Path(value).is_absolute() else str(value)
    return resolved


def config_to_yaml(config: Mapping[str, Any]) -> str:
    """The config as YAML text (in-memory model objects are left out; RelativePath values are
    written with their `!relative` tag)."""
    import yaml

    plain = {k: v for k, v in config.items() if isinstance(v, str | int | float | bool | list | dict | type(None))}
    data = json.loads(json.dumps(plain, default=str))
    for key in PATH_KEYS:
        if isinstance(plain.get(key), RelativePath):
            data[key] = RelativePath(plain[key])

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(
        RelativePath, lambda dumper, value: dumper.represent_scalar(RELATIVE_TAG, str(value))
    )
    return yaml.dump(data, Dumper=Dumper, sort_keys=False)
