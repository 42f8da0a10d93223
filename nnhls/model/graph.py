"""`ModelGraph`: the converted model as hls4ml scripts see it (`nnhls.model.graph`).

What `nnhls.converters.convert_from_*` return. It is the compiler's `HLSModel` (IR at every
stage, write / compile / predict / trace / build) plus hls4ml's `ModelGraph` API:

    hls_model.get_layers()                       # Layer objects in execution order
    hls_model.graph["fc1"].get_weights("weight")  # name -> Layer
    hls_model.get_input_variables(), hls_model.get_output_variables(), hls_model.output_vars
    hls_model.inputs, hls_model.outputs          # input / output layer names
    hls_model.config.get_config_value("IOType")  # HLSConfig: also the config dict itself
    y = hls_model.predict(x)                      # x one unbatched sample -> y unbatched too
    y, layers = hls_model.trace(x)                # hls4ml's unpacking; layers["fc1"] also works

Layers view the `scheduled` IR (precisions resolved, schedule chosen); see nnhls.model.layers.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from xdsl.dialects.builtin import StringAttr
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Operation

from nnhls.backends import Backend, get_backend
from nnhls.compiler.hls_model import HLSModel
from nnhls.config import ConfigError, LayerSettings, layer_type_names, resolve
from nnhls.dialects import nn
from nnhls.dialects.fixed import FixedPrecision
from nnhls.model.layers import Layer, build_layers
from nnhls.model.types import (
    NamedType,
    PrecisionType,
    TensorVariable,
    UnspecifiedPrecisionType,
    WeightVariable,
    from_fixed,
)
from nnhls.passes.nn_apply_config import split_config

ArrayLike = Any


class HLSConfig(dict[str, Any]):
    """The full configuration dict, with hls4ml's `HLSConfig` accessors on top.

    `hls_model.config["IOType"]` and `hls_model.config.get_config_value("IOType")` are the same;
    `hls_model.config.config` is the dict itself. Per-layer lookups follow nnhls's precedence
    (LayerName > LayerType > Model, per key).
    """

    def __init__(self, config: Mapping[str, Any], model: ModelGraph | None = None) -> None:
        super().__init__(config)
        self._model = model

    def __reduce__(self) -> Any:  # copies are plain dicts (never a copy of the model)
        return (dict, (dict(self),))

    # ----- top level -----------------------------------------------------------------------------
    @property
    def config(self) -> HLSConfig:
        return self

    @property
    def backend(self) -> Backend:
        return get_backend(str(self.get("Backend", "Vitis")))

    def get_config_value(self, key: str, default: Any = None) -> Any:
        return self.get(key, default)

    def get_project_name(self) -> str:
        return str(self.get("ProjectName", "myproject"))

    def get_project_dir(self) -> str:
        return str(self.get("ProjectDir") or f"{self.get_project_name()}_prj")

    def get_output_dir(self) -> str:
        return str(self.get("OutputDir", "my-hls-test"))

    def get_writer_config(self) -> dict[str, Any]:
        return dict(self.get("WriterConfig") or {})

    @property
    def writer_config(self) -> dict[str, Any]:
        return self.get_writer_config()

    @property
    def _hls(self) -> Mapping[str, Any]:
        return self.get("HLSConfig") or {}

    @property
    def _model_section(self) -> Mapping[str, Any]:
        return self._hls.get("Model") or {}

    @property
    def model_precision(self) -> dict[str, str]:
        """Model-level precisions, {'default': ...} plus any per-variable ones."""
        precision = self._model_section.get("Precision", "fixed<16,6>")
        return dict(precision) if isinstance(precision, Mapping) else {"default": precision}  # pyright: ignore[reportUnknownArgumentType]

    @property
    def model_rf(self) -> int:
        return int(self._model_section.get("ReuseFactor", 1))

    @property
    def model_strategy(self) -> str:
        return str(self._model_section.get("Strategy", "Latency")).lower()

    @property
    def model_compression(self) -> bool:
        return bool(self._model_section.get("Compression", False))

    @property
    def model_bf(self) -> float:
        return float(self._model_section.get("BramFactor", np.inf))

    @property
    def model_conv_implementation(self) -> str:
        return str(self._model_section.get("ConvImplementation", "LineBuffer"))

    @property
    def pipeline_style(self) -> str:
        return str(self._model_section.get("PipelineStyle", "auto"))

    @property
    def pipeline_ii(self) -> int | None:
        return self._model_section.get("PipelineInterval")

    @property
    def trace_output(self) -> bool:
        return bool(self._model_section.get("TraceOutput", False))

    @property
    def flows(self) -> list[str]:
        """nnhls has one pass pipeline, not hls4ml flows: see HLSModel.ir() and pipeline=."""
        return []

    # ----- per layer -----------------------------------------------------------------------------
    def _layer_entries(self, layer: Layer | str) -> list[Mapping[str, Any]]:
        """The config entries that apply to a layer, most specific first (LayerName, LayerType...)."""
        name = layer if isinstance(layer, str) else layer.name
        entries: list[Mapping[str, Any]] = []
        by_name = (self._hls.get("LayerName") or {}).get(name)
        if isinstance(by_name, Mapping):
            entries.append(by_name)  # pyright: ignore[reportUnknownArgumentType]
        types = self._hls.get("LayerType") or {}
        for type_name in self._type_names(name):
            entry = types.get(type_name)
            if isinstance(entry, Mapping) and entry not in entries:
                entries.append(entry)  # pyright: ignore[reportUnknownArgumentType]
        return entries

    def _type_names(self, name: str) -> tuple[str, ...]:
        if self._model is None:
            return ()
        op = self._model.configured_op(name)
        return () if op is None else layer_type_names(op)

    def get_layer_config(self, layer: Layer | str) -> dict[str, Any]:
        """LayerType entries merged with the LayerName entry (name wins), as hls4ml merges them."""
        merged: dict[str, Any] = {}
        for entry in reversed(self._layer_entries(layer)):
            merged.update(entry)
        return merged

    def get_layer_config_value(self, layer: Layer | str, key: str, default: Any = None) -> Any:
        """One key: LayerName, then LayerType, then Model."""
        for entry in self._layer_entries(layer):
            if key in entry:
                return entry[key]
        return self._model_section.get(key, default)

    def _settings(self, layer: Layer | str) -> LayerSettings:
        if self._model is None:
            raise ConfigError("this config is not attached to a converted model")
        name = layer if isinstance(layer, str) else layer.name
        return self._model.layer_settings(name)

    def get_precision(self, layer: Layer | str, var: str = "default") -> tuple[PrecisionType, str]:
        """(precision, typedef name) of one variable as configured (`auto` before inference)."""
        settings = self._settings(layer)
        name = layer if isinstance(layer, str) else layer.name
        if var == "default":
            var = "result"
        if var not in settings.precision:
            raise ConfigError(f"layer '{name}' has no precision variable '{var}'; it has: {', '.join(settings.precision)}")
        value = settings.precision[var]
        precision = from_fixed(value) if isinstance(value, FixedPrecision) else UnspecifiedPrecisionType()
        return precision, f"{name}_{var}_t"

    def get_reuse_factor(self, layer: Layer | str) -> int:
        return self._settings(layer).reuse_factor

    def get_strategy(self, layer: Layer | str) -> str:
        strategy = self._settings(layer).strategy
        return "latency" if strategy is None else str(strategy.value)

    def is_resource_strategy(self, layer: Layer | str) -> bool:
        return self.get_strategy(layer) == "resource"

    def get_compression(self, layer: Layer | str) -> bool:
        return bool(self._settings(layer).compression)

    def get_conv_implementation(self, layer: Layer | str) -> str:
        return str(self.get_layer_config_value(layer, "ConvImplementation", "LineBuffer"))

    def get_target_cycles(self, layer: Layer | str) -> None:
        return None

    def get_bram_size(self, layer: Layer | str) -> float:
        return self.model_bf


class TraceResult(dict[str, np.ndarray]):
    """`{layer name: output (n, *shape)}` that also unpacks as hls4ml's `(prediction, dict)`.

        layers = hls_model.trace(x); layers["fc1"]          # nnhls
        y, layers = hls_model.trace(x)                       # hls4ml

    Iterating gives the pair (that is what makes the unpacking work): walk the layers with
    `.items()` / `.keys()`. `dict(result)`, `len`, `in` and indexing act on the layers.
    """

    def __init__(self, traces: Mapping[str, np.ndarray], prediction: Any) -> None:
        super().__init__(traces)
        self.prediction = prediction

    def __iter__(self) -> Iterator[Any]:  # pyright: ignore[reportIncompatibleMethodOverride]
        return iter((self.prediction, dict(self.items())))

    def __reduce__(self) -> Any:
        return (dict, (dict(self.items()),))


class ModelGraph(HLSModel):
    """A converted model with hls4ml's `ModelGraph` API (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._config = HLSConfig(self._config, self)
        self._graph: OrderedDict[str, Layer] | None = None
        self._configured: dict[str, nn.NNLayerOp] | None = None
        self._settings: dict[str, LayerSettings] | None = None
        self._scheduled_func: FuncOp | None = None

    @classmethod
    def reopened(cls, model: HLSModel) -> ModelGraph:
        """The hls4ml-shaped object of a project reopened by link_existing_project: built from the
        files on disk, with its layer graph when the project holds its nn IR."""
        graph = cls(model._imported, model.config, hls_module=model.hls_module)  # pyright: ignore[reportPrivateUsage]
        graph._on_disk = True
        return graph

    @property
    def config(self) -> HLSConfig:  # pyright: ignore[reportIncompatibleMethodOverride]
        assert isinstance(self._config, HLSConfig)
        return self._config

    # ----- the layer graph ------------------------------------------------------------------------
    def _need_model(self, what: str) -> None:
        if self._imported is None:
            raise ConfigError(
                f"{what} needs the converted model; this one was reopened from a project written without "
                "its nn IR (<ProjectName>.nn.mlir: write() the model again to add it), "
                "which supports compile, predict, trace and build"
            )

    def _scheduled(self) -> FuncOp:
        if self._scheduled_func is None:
            self._need_model("the layer graph")
            module = self._run_to("scheduled")
            funcs = [op for op in module.walk() if isinstance(op, FuncOp)]
            self._scheduled_func = funcs[0]
        return self._scheduled_func

    @property
    def graph(self) -> OrderedDict[str, Layer]:
        """Layer name -> Layer, in execution order."""
        if self._graph is None:
            ops = list(self._scheduled().body.block.ops)
            self._graph = OrderedDict(build_layers(self, ops, self.firmware).items())
        return self._graph

    def get_layers(self) -> list[Layer]:
        return list(self.graph.values())

    @property
    def inputs(self) -> list[str]:
        """Names of the input layers (the model inputs, in order)."""
        return [name for name, layer in self.graph.items() if layer.class_name == "Input"]

    @property
    def outputs(self) -> list[str]:
        """Names of the layers whose results the model returns, in order."""
        ret = self._scheduled().body.block.last_op
        assert isinstance(ret, ReturnOp)
        names: list[str] = []
        for value in ret.arguments:
            layer = value.owner.properties.get("layer") if isinstance(value.owner, Operation) else None
            if isinstance(layer, StringAttr):
                names.append(layer.data)
        return names

    @property
    def output_vars(self) -> dict[str, TensorVariable]:
        return {name: layer.get_output_variable() for name, layer in self.graph.items()}

    def get_input_variables(self) -> list[TensorVariable]:
        return [self.graph[name].get_output_variable() for name in self.inputs]

    def get_output_variables(self) -> list[TensorVariable]:
        return [self.graph[name].get_output_variable() for name in self.outputs]

    def get_layer_output_variable(self, output_name: str) -> TensorVariable | None:
        layer = self.graph.get(output_name)
        return None if layer is None else layer.get_output_variable()

    def get_weight_variables(self) -> list[WeightVariable]:
        return [w for layer in self.graph.values() for w in layer.weights.values()]

    def get_layer_types(self) -> dict[str, NamedType]:
        """Every typedef of the model: name -> NamedType."""
        return {t.name: t for layer in self.graph.values() for t in layer.precision.values()}

    # ----- configured settings (for HLSConfig) ----------------------------------------------------
    def configured_op(self, name: str) -> nn.NNLayerOp | None:
        if self._configured is None:
            if self._imported is None:
                return None
            self._configured = {op.layer_name: op for op in self._imported.walk() if isinstance(op, nn.NNLayerOp)}
        return self._configured.get(name)

    def layer_settings(self, name: str) -> LayerSettings:
        if self._settings is None:
            self._need_model("per-layer settings")
            assert self._imported is not None
            ops = [op for op in self._imported.walk() if isinstance(op, nn.NNLayerOp)]
            hls, io_type = split_config(self._config)
            self._settings = resolve(hls, ops, io_type).layers
        if name not in self._settings:
            raise ConfigError(f"no layer named '{name}'; layers: {', '.join(self._settings)}")
        return self._settings[name]

    # ----- running, the way hls4ml returns results --------------------------------------------
    def _single_sample(self, x: ArrayLike | Sequence[ArrayLike]) -> bool:
        """Whether x is one sample without a batch axis (then results have none either)."""
        shapes = [v.shape for v in self.firmware.inputs]
        if len(shapes) == 1:
            arrays = [x[0]] if isinstance(x, list | tuple) and len(x) == 1 and not np.isscalar(x[0]) else [x]  # pyright: ignore[reportUnknownArgumentType]
        elif isinstance(x, list | tuple) and len(x) == len(shapes):  # pyright: ignore[reportUnknownArgumentType]
            arrays = list(x)  # pyright: ignore[reportUnknownArgumentType]
        else:
            return False
        return all(np.shape(a) == shape for a, shape in zip(arrays, shapes, strict=True))

    def predict(
        self, x: ArrayLike | Sequence[ArrayLike], emulator: str = "cpp", *, n_threads: int | None = None
    ) -> np.ndarray | list[np.ndarray]:
        """One array per output, (n, *shape); a single unbatched sample gives unbatched results."""
        result = super().predict(x, emulator, n_threads=n_threads)
        if not self._single_sample(x):
            return result
        return result[0] if isinstance(result, np.ndarray) else [r[0] for r in result]

    def trace(  # pyright: ignore[reportIncompatibleMethodOverride]
        self, x: ArrayLike | Sequence[ArrayLike], layers: Sequence[str] | None = None, emulator: str = "cpp"
    ) -> TraceResult:
        """Layer outputs `{name: (n, *shape)}` that also unpack as `(prediction, dict)`.

        Without `layers`, the layers the config marks `Trace: True` are traced (hls4ml's rule),
        or every layer when none is marked.
        """
        if layers is None and self._imported is not None:
            marked = [name for name, layer in self.graph.items() if layer.get_attr("trace")]
            available = {layer.layer for layer in self.firmware.layers}
            layers = [name for name in marked if name in available] or None
        traces = super().trace(x, layers, emulator)
        return TraceResult(traces, self.predict(x, emulator))

    def build(  # pyright: ignore[reportIncompatibleMethodOverride]
        self,
        reset: bool = False,
        csim: bool = True,
        synth: bool = True,
        cosim: bool = False,
        validation: bool = False,
        export: bool = False,
        vsynth: bool = False,
        fifo_opt: bool = False,
        log_to_stdout: bool = True,
    ) -> dict[str, Any]:
        """Run the HLS tool; returns hls4ml's report sections (`CSynthesisReport`...) together
        with nnhls's own summary keys (`latency_min`, `resources`...).

        `reset` is accepted (every build starts a fresh HLS project); `validation` and `fifo_opt`
        are not supported yet and say so.
        """
        from nnhls.report import parse_vivado_report

        if validation:
            raise ConfigError("build(validation=True) (csim vs cosim log comparison) is not supported by nnhls yet")
        if fifo_opt:
            raise ConfigError("build(fifo_opt=True) (FIFO depth optimisation) is not supported by nnhls yet")
        del reset, log_to_stdout
        ours = super().build(csim=csim, synth=synth, cosim=cosim, export=export, vsynth=vsynth)
        return {**parse_vivado_report(self.output_dir), **ours}
