"""hls4ml-shaped helpers that generate a starting HLSConfig from a model (`nnhls.utils`).

    config = nnhls.utils.config_from_keras_model(model, granularity="name", backend="Vitis")
    config["LayerName"]["fc1"]["ReuseFactor"] = 2
    config["LayerName"]["fc1"]["Precision"]["weight"] = "fixed<8,4>"

Granularity: `model` gives only `Model` (every variable of every layer gets `default_precision`);
`type` adds one `LayerType` entry per layer class, keyed by the first name of
`nnhls.config.layer_type_names` (a framework class name that really matches, unlike
hls4ml's); `name` adds one `LayerName` entry per layer with `auto` precisions (precision inference
chooses them). `model` may be an in-memory model or a file path (Keras: a `.keras`/full `.h5`
file, or a `(json, weights_h5)` pair).

PyTorch options (hls4ml's, kept in `Model`):

* `channels_last_conversion`: PyTorch is channels-first, the kernels channels-last.
  `"full"` (default): the generated design takes channels-first input (as the PyTorch model) and
  transposes it once after the input, e.g. input (3, 32, 32) stays (3, 32, 32).
  `"internal"`: the design expects channels-last input data: feed `x.transpose(0, 2, 3, 1)`,
  i.e. (32, 32, 3). `"off"`: no conversion (only for models without spatial layers, e.g. MLPs).
* `transpose_outputs`: with `True`, spatial outputs are transposed back to channels-first so
  `predict` matches `model(x)` directly, e.g. a (16, 8, 8) conv output; with `False` (hls4ml's
  default) they come out channels-last, (8, 8, 16).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from xdsl.dialects.builtin import ModuleOp

from nnhls.config import ConfigError, choice, layer_type_names, precision
from nnhls.dialects import nn
from nnhls.dialects.kinds import ActivationKind
from nnhls.model.plot import plot_model, print_dict
from nnhls.ops.recurrent import RecurrentOp

__all__ = [
    "config_from_keras_model", "config_from_onnx_model", "config_from_pytorch_model",
    "link_existing_project", "plot_model", "print_dict",
]  # fmt: skip

GRANULARITIES = ("model", "type", "name")
TABLE_PRECISION = "fixed<18,8>"
SOFTMAX_PRECISION = "fixed<18,8,RND,SAT>"
_PARAM_KINDS = {
    ActivationKind.PRELU,
    ActivationKind.LEAKY_RELU,
    ActivationKind.ELU,
    ActivationKind.THRESHOLDED_RELU,
}


def _model_section(
    default_precision: str, reuse_factor: int, max_precision: str | None
) -> dict[str, Any]:
    precision("default_precision", default_precision, allow_auto=False)
    prec: dict[str, Any] = {"default": default_precision}
    if max_precision is not None:
        if str(max_precision).strip().lower() != "none":
            precision("max_precision", max_precision, allow_auto=False)
        prec["maximum"] = max_precision
    if isinstance(reuse_factor, bool) or not isinstance(reuse_factor, int) or reuse_factor < 1:
        raise ConfigError(f"default_reuse_factor must be a positive integer, got {reuse_factor!r}")
    return {
        "Precision": prec,
        "ReuseFactor": reuse_factor,
        "Strategy": "Latency",
        "BramFactor": 1_000_000_000,
        "TraceOutput": False,
    }


def layer_entry(op: nn.NNLayerOp, reuse_factor: int) -> dict[str, Any]:
    """The per-layer keys hls4ml generates for this kind of layer (auto precisions)."""
    prec: dict[str, Any] = {
        v: "auto"
        for v in op.PRECISION_VARS
        if v not in ("table", "param", "exp_table", "inv_table", "inv_inp")
    }
    entry: dict[str, Any] = {"Trace": False, "Precision": prec}
    if isinstance(op, nn.DenseOp | nn.ConvBaseOp | nn.PoolingOp):
        entry["ReuseFactor"] = reuse_factor
    if isinstance(op, nn.ConvBaseOp):
        entry["ParallelizationFactor"] = 1
        entry["ConvImplementation"] = "LineBuffer"
    if isinstance(op, nn.ActivationOp):
        entry["TableSize"] = 1024
        prec["table"] = TABLE_PRECISION
        if op.activation in _PARAM_KINDS:
            prec["param"] = "auto"
    if isinstance(op, RecurrentOp):
        entry.update({"ReuseFactor": reuse_factor, "RecurrentReuseFactor": reuse_factor, "Static": True, "TableSize": 1024})
    if isinstance(op, nn.SoftmaxOp):
        entry.update({"Implementation": "stable", "TableSize": 1024})
        prec.update(
            {
                "table": TABLE_PRECISION,
                "exp_table": SOFTMAX_PRECISION,
                "inv_table": SOFTMAX_PRECISION,
                "inv_inp": SOFTMAX_PRECISION,
                "accum": SOFTMAX_PRECISION,
            }
        )
    return entry


def module_layers(module: ModuleOp) -> list[nn.NNLayerOp]:
    """The layer ops of an imported module, in order."""
    return [op for op in module.walk() if isinstance(op, nn.NNLayerOp)]


def config_from_module(
    module: ModuleOp,
    granularity: str = "model",
    backend: str | None = None,
    default_precision: str = "fixed<16,6>",
    default_reuse_factor: int = 1,
    max_precision: str | None = None,
    calibration: Calibrate | None = None,
) -> dict[str, Any]:
    """The HLSConfig for an imported nn module (shared by the config_from_* functions)."""
    granularity = choice("granularity", granularity, GRANULARITIES)
    if backend is not None:
        from nnhls.backends import get_backend

        get_backend(backend)
    config: dict[str, Any] = {
        "Model": _model_section(default_precision, default_reuse_factor, max_precision)
    }
    if granularity == "type":
        types: dict[str, Any] = {}
        for op in module_layers(module):
            types.setdefault(layer_type_names(op)[0], layer_entry(op, default_reuse_factor))
        config["LayerType"] = types
    elif granularity == "name":
        config["LayerName"] = {op.layer_name: layer_entry(op, default_reuse_factor) for op in module_layers(module)}
    if calibration is not None and calibration.data is not None:
        calibrate_config(config, module, calibration)
    return config


@dataclass
class Calibrate:
    """The calibration arguments of config_from_*_model (see `calibrate_config`)."""

    data: Any
    target: float = 0.99
    margin: int = 0
    tolerance: float | None = None
    plot: str | None = None


def calibrate_config(config: dict[str, Any], module: ModuleOp, calibration: Calibrate) -> None:
    """Pin data-calibrated types into a name-granularity config (nn-calibrate-precision's search:
    nnhls.compiler.nn_calibrate_precision); with `plot`, save the search's accuracy vs BOPs."""
    from nnhls.compiler.nn_calibrate_precision import calibrate, check_inputs, format_calibration
    from nnhls.compiler.pipeline import configured_module

    if "LayerName" not in config:
        raise ConfigError("calibration_data needs granularity='name' (calibration chooses types per layer)")
    data = calibration.data
    arrays = list(data) if isinstance(data, list | tuple) else [data]
    configured = configured_module(module.clone(), {"HLSConfig": config})
    result = calibrate(configured, check_inputs(configured, arrays), calibration.target, calibration.margin, calibration.tolerance)
    for layer, types in result.types.items():
        precision = config["LayerName"][layer].setdefault("Precision", {})
        for var, t in types.items():
            precision[var] = str(t)
    if calibration.plot is not None:
        from nnhls.model.profiling import plot_calibration

        plot_calibration(result, calibration.plot)
    print(format_calibration(result), file=sys.stderr)


def config_from_keras_model(
    model: Any,
    granularity: str = "model",
    backend: str | None = None,
    default_precision: str = "fixed<16,6>",
    default_reuse_factor: int = 1,
    max_precision: str | None = None,
    calibration_data: Any = None,
    target: float = 0.99,
    margin: int = 0,
    tolerance: float | None = None,
    calibration_plot: str | None = None,
) -> dict[str, Any]:
    """HLSConfig for a Keras model (in memory, `.keras`/`.h5` path, or `(json, weights_h5)`).

    With `calibration_data` (inputs, or a list of them for several inputs) and granularity
    'name', every layer's types are chosen on the data: the fewest BOPs keeping `target`
    agreement with the float model (README: "Precision that fits the chip")."""
    from nnhls.frontends.keras import import_keras_model

    calibration = Calibrate(calibration_data, target, margin, tolerance, calibration_plot)
    return config_from_module(import_keras_model(model), granularity, backend, default_precision, default_reuse_factor, max_precision, calibration)


def config_from_onnx_model(
    model: Any,
    granularity: str = "name",
    backend: str | None = None,
    default_precision: str = "fixed<16,6>",
    default_reuse_factor: int = 1,
    max_precision: str | None = None,
    calibration_data: Any = None,
    target: float = 0.99,
    margin: int = 0,
    tolerance: float | None = None,
    calibration_plot: str | None = None,
) -> dict[str, Any]:
    """HLSConfig for an ONNX model (`onnx.ModelProto`, a qonnx `ModelWrapper` or a path);
    default granularity `name`. Calibration as config_from_keras_model."""
    from nnhls.frontends.onnx import import_onnx

    calibration = Calibrate(calibration_data, target, margin, tolerance, calibration_plot)
    return config_from_module(import_onnx(onnx_model(model)), granularity, backend, default_precision, default_reuse_factor, max_precision, calibration)


def onnx_model(model: Any) -> Any:
    """The ModelProto inside a qonnx `ModelWrapper` (read through its `.model`, as hls4ml does;
    qonnx itself is not needed), or the model as given (a ModelProto or a path)."""
    import onnx

    inner = getattr(model, "model", None)
    return inner if isinstance(inner, onnx.ModelProto) else model


def config_from_pytorch_model(
    model: Any,
    input_shape: tuple[int, ...] | Sequence[tuple[int, ...]],
    granularity: str = "model",
    backend: str | None = None,
    default_precision: str = "ap_fixed<16,6>",
    default_reuse_factor: int = 1,
    channels_last_conversion: str = "full",
    transpose_outputs: bool = False,
    max_precision: str | None = None,
    calibration_data: Any = None,
    target: float = 0.99,
    margin: int = 0,
    tolerance: float | None = None,
    calibration_plot: str | None = None,
) -> dict[str, Any]:
    """HLSConfig for a PyTorch model; see the module docstring for the two layout options.

    `input_shape` is the per-sample shape, `(3, 32, 32)`, or with hls4ml's `None` batch axis,
    `(None, 3, 32, 32)`; a list of shapes for several inputs. It is stored as
    `HLSConfig.InputShape` so `convert_from_pytorch_model` finds it, as in hls4ml.
    """
    from nnhls.frontends.pytorch import import_pytorch, load_pytorch

    mode = choice("channels_last_conversion", channels_last_conversion, ("full", "internal", "off"))
    input_shape = per_sample_shapes(input_shape)
    module = import_pytorch(load_pytorch(model), input_shape, channels_last_conversion=mode, transpose_outputs=transpose_outputs)
    calibration = Calibrate(calibration_data, target, margin, tolerance, calibration_plot)
    config = config_from_module(module, granularity, backend, default_precision, default_reuse_factor, max_precision, calibration)
    config["Model"]["ChannelsLastConversion"] = mode
    config["Model"]["TransposeOutputs"] = transpose_outputs
    config["InputShape"] = _shape_list(input_shape)
    return config


def per_sample_shapes(input_shape: Any) -> tuple[int, ...] | list[tuple[int, ...]]:
    """A PyTorch input shape as the front end takes it: one tuple, or a list of tuples for several
    inputs, without the batch axis. Accepts hls4ml's spellings: a leading `None` (batch axis) on
    each shape, `[[None, 16]]` for one input, and YAML strings such as `"(None,16)"`."""
    if isinstance(input_shape, str):
        fields = [f.strip() for f in input_shape.strip().strip("()[]").split(",") if f.strip()]
        input_shape = [None if f.lower() == "none" else _dimension(f, input_shape) for f in fields]
    if not isinstance(input_shape, list | tuple) or not input_shape:
        raise ConfigError(
            f"input_shape must be a shape like (3, 32, 32) or a list of shapes, got {input_shape!r}"
        )
    if all(isinstance(s, list | tuple) for s in input_shape):
        shapes = [_one_shape(s) for s in input_shape]  # pyright: ignore[reportUnknownArgumentType]
        return shapes[0] if len(shapes) == 1 else shapes
    return _one_shape(input_shape)  # pyright: ignore[reportUnknownArgumentType]


def _dimension(text: str, whole: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"input_shape {whole!r}: '{text}' is not a dimension") from None


def _one_shape(shape: Sequence[Any]) -> tuple[int, ...]:
    dims = list(shape)
    if dims and dims[0] is None:
        dims = dims[1:]  # hls4ml's batch axis
    if not dims or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in dims):
        raise ConfigError(
            f"input_shape {tuple(shape)!r}: expected positive dimensions per sample (a leading None batch axis is allowed)"
        )
    return tuple(dims)


def _shape_list(input_shape: Any) -> Any:
    if input_shape and isinstance(input_shape[0], tuple | list):
        return [list(s) for s in input_shape]
    return list(input_shape)


def link_existing_project(path: Any) -> Any:
    """Reopen a project written by HLSModel.write() (see nnhls.compiler.hls_model)."""
    from nnhls.compiler.hls_model import link_existing_project as link
    from nnhls.model.graph import ModelGraph

    reopened = link(path)
    return ModelGraph.reopened(reopened)
