"""Numerical profiling plots (hls4ml's `hls4ml.model.profiling`), from the bit-exact emulator.

    from nnhls.model import profiling
    wp, wph, ap, aph = profiling.numerical(model=keras_model, hls_model=hls_model, X=x)
    wph.savefig("weights.png"); aph.savefig("activations.png")
    profiling.save_plots(hls_model, x, "plots/")          # what `nnhls report DIR --data x.npy --plots plots/` writes

Each figure shows one horizontal box per layer of log2 |value| (zeros left out; the box the
quartiles, the whiskers the extremes) and, in grey behind it, the magnitudes the layer's type
can hold: from its step 2**-F to its largest value 2**(I - 1) (2**I unsigned). A box reaching
right of the grey overflows; one left of it rounds to zero. The figures (hls4ml's four):

    wp   the float weights of every dense / convolution / batchnorm layer
    wph  the same weights quantized to their types (weight_t, scale_t), against those types
    ap   the float activations on X (nnhls's float reference of the model), against the types
    aph  the emulated activations on X (the numbers the hardware computes), against the types

`model` is accepted for hls4ml compatibility: the float numbers come from hls_model's own
imported IR (the same weights). `ap` is None for a project reopened from disk (no float IR);
`ap` and `aph` are None without X. `plot_calibration` draws accuracy against total BOPs along a
calibration search. Needs matplotlib (the `plot` extra: pip install 'nnhls[plot]').
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nnhls.errors import UserError

PLOT_EXTRA = "pip install 'nnhls[plot]'"


class MissingPlotExtraError(UserError, ImportError):
    """matplotlib is not installed."""


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise MissingPlotExtraError(f"profiling plots need matplotlib: install the plot extra with {PLOT_EXTRA}") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


Profile = list[tuple[str, np.ndarray, Any]]
"""(layer label, values, FixedPrecision or None) per row of a figure."""


def _log2_magnitudes(values: np.ndarray) -> np.ndarray:
    flat = np.abs(np.asarray(values, dtype=np.float64).reshape(-1))
    flat = flat[flat > 0]
    return np.log2(flat) if flat.size else np.zeros(0)


def _figure(title: str, rows: Profile) -> Any:
    plt = _pyplot()
    fig, axis = plt.subplots(figsize=(8, 0.45 * max(len(rows), 2) + 1.2))
    labels = [label for label, _, _ in rows]
    data = [_log2_magnitudes(values) for _, values, _ in rows]
    for i, (_, _, t) in enumerate(rows):
        if t is not None:
            top = t.integer - (1 if t.signed else 0)
            axis.barh(i + 1, top + t.fractional, left=-t.fractional, height=0.8, color="0.85", zorder=0)
    import matplotlib

    major, minor = (int(part) for part in matplotlib.__version__.split(".")[:2])
    direction: dict[str, Any] = {"orientation": "horizontal"} if (major, minor) >= (3, 10) else {"vert": False}
    axis.boxplot([d if d.size else np.zeros(1) for d in data], whis=(0, 100), widths=0.5, zorder=1, **direction)
    axis.set_yticks(range(1, len(rows) + 1), labels)
    axis.invert_yaxis()
    axis.set_xlabel("log2 |value|  (grey: the magnitudes the layer's type holds)")
    axis.set_title(title)
    fig.tight_layout()
    return fig


def weight_profiles(hls_module: Any, quantized: bool) -> Profile:
    """Per kernel with constants multiplied (weight, scale): the constants and their type."""
    from nnhls.dialects import hls
    from nnhls.dialects.fixed import from_mantissa
    from nnhls.ops.exact import mantissas_of

    rows: Profile = []
    for op in hls_module.walk():
        if not isinstance(op, hls.HLSKernelOp):
            continue
        for name, type_name in (("weight", "weight_t"), ("scale", "scale_t")):
            attr, t_attr = op.properties.get(name), op.properties.get(type_name)
            if attr is None or t_attr is None:
                continue
            t = t_attr.precision  # pyright: ignore[reportAttributeAccessIssue]
            values = from_mantissa(mantissas_of(attr), t)  # pyright: ignore[reportArgumentType]
            rows.append((f"{op.layer_name} {name}", values, t if quantized else None))
    return rows


def float_weight_profiles(module: Any) -> Profile:
    """The float weights of the typed nn IR, against the types nn-infer-precision gave them."""
    from nnhls.dialects import nn

    rows: Profile = []
    for op in module.walk():
        if not isinstance(op, nn.NNLayerOp):
            continue
        for name in ("weight", "scale"):
            attr = op.properties.get(name)
            if attr is None or name not in op.PRECISION_VARS:
                continue
            value = op.get_precision(name)
            t = getattr(value, "precision", None)
            rows.append((f"{op.layer_name} {name}", nn.to_numpy(attr), t))  # pyright: ignore[reportArgumentType]
    return rows


def activation_profiles(hls_model: Any, x: Any, emulated: bool) -> Profile | None:
    """Per layer: its outputs on x (emulated, or the float reference), against its result type."""
    from nnhls.dialects import hls

    types = {op.layer_name: hls.value_type(op.results[0]).element_type.precision for op in hls_model.hls_module.walk() if isinstance(op, hls.HLSKernelOp)}
    if emulated:
        traced = dict(hls_model.trace(x, emulator="numpy").items())
    else:
        traced = _float_trace(hls_model, x)
        if traced is None:
            return None
    return [(layer, values, types.get(layer)) for layer, values in traced.items() if layer in types]


def _float_trace(hls_model: Any, x: Any) -> dict[str, np.ndarray] | None:
    from nnhls.compiler.nn_calibrate_precision import check_inputs, trace_reference
    from nnhls.errors import PipelineError

    try:
        module = hls_model.module("typed")
    except PipelineError:
        return None  # reopened from its hls IR: no float model
    arrays = list(x) if isinstance(x, list | tuple) else [x]
    _, traced = trace_reference(module, check_inputs(module, arrays))
    return traced


def numerical(model: Any = None, hls_model: Any = None, X: Any = None, plot: str = "boxplot") -> tuple[Any, Any, Any, Any]:
    """hls4ml's four profiling figures (wp, wph, ap, aph); see the module docstring."""
    del model  # the float numbers come from hls_model's own IR
    if plot != "boxplot":
        raise UserError(f"numerical(plot={plot!r}): only 'boxplot' is supported")
    if hls_model is None:
        raise UserError("numerical() needs hls_model= (a converted model): nnhls profiles the types it chose")
    from nnhls.errors import PipelineError

    try:
        typed = hls_model.module("typed")
        wp = _figure("weights (float) against their types", float_weight_profiles(typed))
    except PipelineError:
        wp = None
    wph = _figure("weights (quantized) against their types", weight_profiles(hls_model.hls_module, quantized=True))
    ap = aph = None
    if X is not None:
        floats = activation_profiles(hls_model, X, emulated=False)
        ap = None if floats is None else _figure("activations (float reference) against the result types", floats)
        aph = _figure("activations (emulated) against the result types", activation_profiles(hls_model, X, emulated=True) or [])
    return wp, wph, ap, aph


def save_plots(hls_model: Any, x: Any, directory: str | Path) -> list[Path]:
    """Write weights.png, activations.png (emulated) and, when the float model is available,
    weights_float.png and activations_float.png into directory; returns the files."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    wp, wph, ap, aph = numerical(hls_model=hls_model, X=x)
    written: list[Path] = []
    plt = _pyplot()
    for name, fig in (("weights.png", wph), ("activations.png", aph), ("weights_float.png", wp), ("activations_float.png", ap)):
        if fig is None:
            continue
        path = out / name
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def plot_calibration(calibration: Any, path: str | Path) -> Path:
    """Accuracy (the calibration's metric) against total BOPs of every candidate the search
    measured, the chosen one marked, and the all-fixed<16,6> cost for scale."""
    plt = _pyplot()
    history: Sequence[Any] = calibration.history
    fig, axis = plt.subplots(figsize=(7, 4.5))
    axis.scatter([s.bops for s in history], [s.score for s in history], s=14, label="candidates")
    axis.scatter([calibration.bops], [calibration.score], s=60, marker="*", color="C3", label="chosen", zorder=3)
    axis.axvline(calibration.baseline_bops, color="0.5", linestyle="--", label="every type fixed<16,6>")
    axis.axhline(calibration.target, color="C2", linestyle=":", label=f"target {calibration.target:g}")
    axis.set_xscale("log")
    axis.set_xlabel("total BOPs (estimate)")
    axis.set_ylabel(calibration.metric)
    axis.set_title("calibration search")
    axis.legend(loc="lower right")
    fig.tight_layout()
    file = Path(path)
    fig.savefig(file, dpi=110)
    plt.close(fig)
    return file


__all__ = ["numerical", "plot_calibration", "save_plots"]
