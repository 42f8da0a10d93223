"""One sweep point, run on a worker: convert, estimate, emulate, optionally synthesise.

`run_point(task, data)` never raises for a problem of the point itself: it returns the results
row with `status` ok, failed (an nnhls error such as an illegal reuse factor: the message is
recorded and a rerun does not retry it) or error (anything else, e.g. a missing HLS tool or an
internal error: a rerun retries it). Whatever was measured before a failure stays in the row.

Measurements (columns):
  convert    convert_s: import, configuration, passes down to the hls IR
  estimates  multipliers (and bops when the per-layer estimates provide them): summed over layers;
             latency, ii: the model's estimates in clock cycles (nn-schedule)
  accuracy   agreement: fraction of samples whose argmax (one-value outputs: side of 0.5) equals
             the float model's; max_abs_diff, mean_abs_diff against the float outputs; accuracy:
             against the labels, when given. Bit-exact emulation: the g++ build or the numpy emulator
  build      synth_*: the vendor report (latency, interval, clock, resources) of build()
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ESTIMATE_TOTALS: tuple[str, ...] = ("multipliers", "bops")
"""Per-layer estimates summed into one column each, when the layer report provides them."""
MODEL_ESTIMATES: tuple[str, ...] = ("latency", "ii")
MAX_WARNINGS_CHARS = 1000

OK, FAILED, ERROR = "ok", "failed", "error"
FINAL_STATUSES = (OK, FAILED)
"""A point with one of these is finished: a rerun skips it."""


Converter = Callable[[dict[str, Any]], Any]
"""A full config -> HLSModel (the API layer's `nnhls.converters.convert_from_config`: the driver
is given the front-end entry point instead of importing the layer above it)."""


@dataclass(frozen=True)
class PointTask:
    point_id: str
    index: int
    config: dict[str, Any]
    """The point's full config; OutputDir is its own project directory."""
    measure: tuple[str, ...]
    build: dict[str, bool]
    convert: Converter
    """Sent to the workers by reference (a module-level function)."""
    emulator: str = "cpp"
    hooks: tuple[tuple[str, Any], ...] = ()
    """(key, value) settings applied by hooks on the worker, before conversion."""
    hook_table: dict[str, str] = field(default_factory=dict[str, str])
    """The client's hooks.HOOKS (key -> "module:function")."""


@dataclass(frozen=True)
class SweepData:
    """What accuracy is measured on (loaded once by the client, sent to every worker)."""

    inputs: list[np.ndarray]
    reference: list[np.ndarray]
    labels: np.ndarray | None = None


def run_point(task: PointTask, data: SweepData | None) -> dict[str, Any]:
    """The results row of one point (see the module docstring)."""
    start = time.perf_counter()
    row: dict[str, Any] = {"index": task.index, "point": task.point_id, "status": OK, "error": ""}
    captured = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(captured):
        warnings.simplefilter("always")
        try:
            _measure(task, data, row)
        except Exception as error:
            row["status"] = _status(error)
            row["error"] = _one_line(error, with_type=row["status"] == ERROR)
    notes = [line.strip() for line in captured.getvalue().splitlines() if line.strip()]
    notes += [_one_line(w.message) for w in caught]
    row["warnings"] = "; ".join(dict.fromkeys(notes))[:MAX_WARNINGS_CHARS]
    row["time_s"] = round(time.perf_counter() - start, 3)
    row["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return row


def _measure(task: PointTask, data: SweepData | None, row: dict[str, Any]) -> None:
    project = Path(task.config["OutputDir"])
    _fresh_directory(project)
    t = time.perf_counter()
    config = dict(task.config)
    if task.hooks:
        from nnhls.compiler.sweep.hooks import apply_hooks

        config = apply_hooks(config, task.hooks, data, task.hook_table)
    model = task.convert(config)
    hls_module = model.hls_module  # runs the passes: illegal settings fail here
    row["convert_s"] = round(time.perf_counter() - t, 3)
    if "estimates" in task.measure:
        row.update(estimates(model.layer_report(), hls_module))
    if "accuracy" in task.measure and data is not None:
        if task.emulator == "cpp":
            model.compile()
        else:
            model.write()
        outputs = model.predict(data.inputs[0] if len(data.inputs) == 1 else data.inputs, emulator=task.emulator)
        row.update(accuracy(outputs if isinstance(outputs, list) else [outputs], data))
    else:
        model.write()
    if "build" in task.measure:
        row.update(synthesis_columns(model.build(**task.build)))


def _fresh_directory(project: Path) -> None:
    """Remove what an interrupted run left in this point's own directory."""
    if project.is_symlink():
        from nnhls.compiler.sweep.errors import SweepError

        raise SweepError(f"the point directory '{project}' is a symbolic link: refusing to write through it")
    if project.is_dir():
        shutil.rmtree(project)


def estimates(layers: Sequence[dict[str, Any]], hls_module: Any) -> dict[str, Any]:
    """Totals of the per-layer estimates and the model's latency and II."""
    from nnhls.codegen.firmware import find_func

    result: dict[str, Any] = {}
    for key in ESTIMATE_TOTALS:
        values = [row.get(key) for row in layers]
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        if numbers:
            result[key] = sum(numbers)
    attributes = find_func(hls_module).attributes
    for key in MODEL_ESTIMATES:
        attr = attributes.get(key)
        value = getattr(getattr(attr, "value", None), "data", None)
        if isinstance(value, int):
            result[key] = value
    return result


def _decisions(values: np.ndarray) -> np.ndarray:
    """Class decisions: argmax over the last axis, or the side of 0.5 for one-value outputs."""
    flat = values.reshape(len(values), -1)
    return flat.argmax(axis=1) if flat.shape[1] > 1 else (flat[:, 0] > 0.5).astype(np.int64)


def accuracy(outputs: Sequence[np.ndarray], data: SweepData) -> dict[str, float]:
    """Agreement and differences with the float outputs (all model outputs), and accuracy on
    the labels (the first output)."""
    pairs = list(zip(outputs, data.reference, strict=True))
    diffs = np.concatenate([np.abs(np.asarray(o, np.float64).reshape(len(o), -1) - r.reshape(len(r), -1)).ravel() for o, r in pairs])
    result = {
        "agreement": float(np.mean([np.mean(_decisions(np.asarray(o)) == _decisions(r)) for o, r in pairs])),
        "max_abs_diff": float(diffs.max()) if diffs.size else 0.0,
        "mean_abs_diff": float(diffs.mean()) if diffs.size else 0.0,
    }
    if data.labels is not None:
        result["accuracy"] = float(np.mean(_decisions(np.asarray(outputs[0])) == label_classes(data.labels)))
    return result


def label_classes(labels: np.ndarray) -> np.ndarray:
    """Class indices from labels given as indices (one value per sample) or one-hot rows."""
    flat = labels.reshape(len(labels), -1)
    return flat.argmax(axis=1) if flat.shape[1] > 1 else flat[:, 0].astype(np.int64)


def synthesis_columns(report: dict[str, Any]) -> dict[str, Any]:
    """The csynth report flattened into synth_* columns."""
    columns = {
        "synth_latency_min": report.get("latency_min"),
        "synth_latency_max": report.get("latency_max"),
        "synth_ii_min": report.get("interval_min"),
        "synth_ii_max": report.get("interval_max"),
        "synth_clock_ns": report.get("estimated_clock_ns"),
    }
    for name, value in (report.get("resources") or {}).items():
        columns[f"synth_{name}"] = value
    return {k: v for k, v in columns.items() if v is not None}


def _status(error: BaseException) -> str:
    """failed: the point itself is wrong (a UserError: a rerun would fail the same way);
    error: anything else, a missing or failing tool included (a rerun retries it)."""
    from nnhls.errors import ToolError, ToolNotFoundError, UserError

    if isinstance(error, ToolError | ToolNotFoundError):
        return ERROR  # the tool may be installed on another worker, or work later
    return FAILED if isinstance(error, UserError) else ERROR


def error_row(task: PointTask, error: BaseException) -> dict[str, Any]:
    """The row of a point that raised outside `run_point`'s own handling, or whose worker died: an
    error (a rerun retries it)."""
    return {"index": task.index, "point": task.point_id, "status": ERROR, "error": _one_line(error, with_type=True)}


def _one_line(error: BaseException | Warning | str, with_type: bool = False) -> str:
    """One line of text; unexpected errors keep their type name (the message alone may not say what happened)."""
    text = " ".join(str(error).split())
    if with_type:
        return f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text or type(error).__name__
