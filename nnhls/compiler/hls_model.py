"""`HLSModel`: a converted model, its IR at every stage, its C++ project and emulation library.

    hls_model = nnhls.converters.convert_from_keras_model(model, hls_config=config, output_dir="prj")
    hls_model.write()                  # the project of ARCHITECTURE.md section 4
    hls_model.compile()                # g++ emulation library (content-hashed cache)
    y = hls_model.predict(x)           # the whole batch in one native call
    outputs = hls_model.trace(x)       # {layer name: output}
    hls_model.build(csim=True, synth=True)   # Vitis HLS / Vivado HLS, when installed
    hls_model.read_report()            # latency, II, resources from the csynth XML

predict(): each input value (a float64, any numpy dtype is converted first) is assigned to the
input's ap type (C++ assignment: the type's quantization then overflow mode); each output is
returned as the exact value of its ap type as a float64 (exact up to 53 significant bits).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from nnhls.codegen import files
from nnhls.codegen.build import build_library
from nnhls.codegen.firmware import Firmware, Value, build_firmware, find_func
from nnhls.codegen.project import (
    CONFIG_YAML,
    MARKER,
    EditedProjectWarning,
    check_project_links,
    check_project_name,
    edited_files,
    hls_ir_file,
    module_text,
    nn_ir_file,
    write_id,
    write_project,
    write_tarball,
)
from nnhls.compiler.context import make_context
from nnhls.compiler.ir_text import parse_ir, read_ir_file
from nnhls.compiler.pipeline import (
    STAGES,
    configured_module,
    default_pipeline,
    parse_pipeline,
    run_pipeline,
)
from nnhls.config import load_yaml_text, resolve_paths
from nnhls.dialects import hls
from nnhls.errors import (
    ConfigError,
    InputDataError,
    InputRangeWarning,
    InternalError,
    OverflowWarning,
    PipelineError,
    ProjectError,
    ProjectWarning,
    ToolError,
    ToolNotFoundError,
    UserError,
    warn,
)
from nnhls.ops.cpp import stored_shift_code

ArrayLike = Any


class ReportError(ProjectError):
    """No synthesis report to read."""


class HLSModel:
    """A model on its way to HLS C++ (see the module docstring)."""

    def __init__(
        self,
        module: ModuleOp | None,
        config: Mapping[str, Any],
        pipeline: str | None = None,
        *,
        hls_module: ModuleOp | None = None,
    ) -> None:
        if module is None and hls_module is None:
            raise InternalError("HLSModel needs the imported module or an hls module")
        self._imported = module
        self._config: dict[str, Any] = dict(config)
        self._config.setdefault("ProjectName", "myproject")
        self._config.setdefault("OutputDir", "my-hls-test")
        check_project_name(self._config["ProjectName"])
        self._pipeline = pipeline
        self._hls = hls_module
        self._firmware: Firmware | None = None
        self._lib: ctypes.CDLL | None = None
        self._write_id: str | None = None
        """The project write this object made (HLSModel.compile keeps the user's edits after it)."""
        self._on_disk = False
        """Reopened from its project directory: compile() builds the files found there."""
        self._overflow_checked = False
        self._quantized_input_indices: set[int] | None = None

    # ----- properties ---------------------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        return self._config

    @property
    def project_name(self) -> str:
        return str(self._config["ProjectName"])

    @property
    def output_dir(self) -> Path:
        return Path(self._config["OutputDir"])

    @property
    def io_type(self) -> str:
        return str(self._config.get("IOType", "io_parallel"))

    @property
    def hls_module(self) -> ModuleOp:
        """The module after the `hls` stage (computed once)."""
        if self._hls is None:
            self._hls = self._run_to("hls")
        return self._hls

    @property
    def firmware(self) -> Firmware:
        if self._firmware is None:
            self._firmware = build_firmware(self.hls_module)
            writer = self._config.get("WriterConfig") or {}
            self._firmware.namespace = writer.get("Namespace") or None
            self._firmware.tb_output = str(writer.get("TBOutputStream") or "both").lower()
            self._firmware.backend = str(self._config.get("Backend") or "Vitis")
            if self._firmware.project != self.project_name:
                raise ProjectError(
                    f"the hls.func is named '{self._firmware.project}' but ProjectName is '{self.project_name}'"
                )
        return self._firmware

    # ----- IR -----------------------------------------------------------------------------------------
    def _passes(self) -> tuple[Any, ...]:
        spec = self._pipeline or default_pipeline(self.io_type)
        return tuple(p for p in parse_pipeline(spec) if p.name != "nn-apply-config")

    def _run_to(self, stage: str) -> ModuleOp:
        if self._imported is None:
            raise PipelineError(f"this model was reopened from its hls IR: the '{stage}' stage is not available")
        if stage == "import":
            return self._imported.clone()
        module = configured_module(self._imported.clone(), self._config)
        if stage == "configured":
            return module
        return run_pipeline(make_context(), module, self._passes(), stop_after=stage)

    def ir(self, stage: str = "hls") -> str:
        """The module text after a stage of nnhls.compiler.pipeline.STAGES ('cpp': the firmware .cpp)."""
        if stage not in STAGES:
            raise PipelineError(f"unknown stage '{stage}'; stages are: {', '.join(STAGES)}")
        if stage == "cpp":
            return files.top_cpp(self.firmware)
        if stage == "hls":
            return str(self.hls_module)
        return str(self._run_to(stage))

    def module(self, stage: str = "hls") -> ModuleOp:
        """A copy of the module after a stage of STAGES ('cpp' is text: see ir())."""
        if stage not in STAGES or stage == "cpp":
            raise PipelineError(f"no module after stage '{stage}'; stages are: {', '.join(s for s in STAGES if s != 'cpp')}")
        return self.hls_module.clone() if stage == "hls" else self._run_to(stage)

    # ----- project ------------------------------------------------------------------------------------
    def write(self, force: bool = False) -> Path:
        """Write the project into OutputDir (see nnhls.codegen.project for the write rules), and
        `<OutputDir>.tar.gz` beside it with WriterConfig.WriteTar. Generated files edited since the
        last write are moved aside (`<name>.before-nnhls`) before they are regenerated."""
        nn_ir = None if self._imported is None else module_text(self._imported) + "\n"
        write_project(self.output_dir, self.firmware, self._config, module_text(self.hls_module) + "\n", force=force, nn_ir=nn_ir)
        self._write_id = write_id(self.output_dir)
        writer = self._config.get("WriterConfig") or {}
        if writer.get("WriteTar"):
            write_tarball(self.output_dir, force)
        return self.output_dir

    def compile(self) -> Path:
        """Build (or reuse from the cache) the emulation library of the project as it is on disk.

        A model reopened from its directory (link_existing_project, `nnhls compile|predict DIR`)
        is built as found there. A model converted in this session writes its project first,
        unless this object wrote it already and nobody rewrote it since. When files nnhls wrote
        were edited since (a precision or reuse_factor changed in firmware/parameters.h, say),
        nothing is rewritten: the project is built as it is on disk (an EditedProjectWarning names
        the files; write() regenerates them, moving the edited ones aside). The numpy emulator
        reads the IR, not the C++, so it does not see such edits.
        """
        edited = edited_files(self.output_dir) if self._written_by_us() else []
        if edited:
            warn(
                f"building '{self.output_dir}' as it is on disk: {', '.join(edited)} changed since nnhls wrote "
                "it; predict(emulator='numpy') does not see such edits (it runs the IR); write() regenerates",
                EditedProjectWarning,
            )
            check_project_links(self.output_dir)
        elif not self._on_disk and (self._write_id is None or self._write_id != write_id(self.output_dir)):
            self.write(force=self._written_by_us())
        else:
            check_project_links(self.output_dir)
        library = build_library(self.output_dir.resolve(), self.project_name)
        self._lib = ctypes.CDLL(str(library))
        return library

    def _written_by_us(self) -> bool:
        return (self.output_dir / MARKER).is_file()

    def _library(self) -> ctypes.CDLL:
        if self._lib is None:
            raise UserError("the model is not compiled: call compile() first")
        return self._lib

    # ----- running ------------------------------------------------------------------------------------
    def _batch(self, x: ArrayLike | Sequence[ArrayLike], warn_inputs: bool = True) -> tuple[list[np.ndarray], int]:
        """The inputs as float64 (n, size) arrays: each exactly (n, *input shape), or one unbatched
        sample of the input shape; real numbers only (bool, int, float), all finite."""
        fw = self.firmware
        if len(fw.inputs) > 1 or (isinstance(x, list | tuple) and len(x) == 1 and _is_array_like(x[0]) and np.ndim(x[0]) >= 1):
            if not isinstance(x, list | tuple):
                raise InputDataError(f"the model has {len(fw.inputs)} inputs: give a list of {len(fw.inputs)} arrays, got {_kind(x)}")
            xs = list(x)
        else:
            xs = [x]
        if len(xs) != len(fw.inputs):
            raise InputDataError(f"the model has {len(fw.inputs)} inputs, got {len(xs)} arrays")
        batch = [_input_array(value, arr, self._input_name(k)) for k, (value, arr) in enumerate(zip(fw.inputs, xs, strict=True))]
        if len({len(a) for a in batch}) > 1:
            raise InputDataError(f"all inputs need the same number of samples, got {[len(a) for a in batch]}")
        quantized = self._quantized_inputs() if warn_inputs else set[int]()
        for k, (value, a) in enumerate(zip(fw.inputs, batch, strict=True)):
            if warn_inputs and k not in quantized:
                _warn_out_of_range(value, a)
        return batch, len(batch[0])

    def _quantized_inputs(self) -> set[int]:
        """Inputs whose type a quantizer of the model set (hls.func `quantized_inputs`): beyond
        it they saturate as the model was trained, which is no reason to warn."""
        from nnhls.interpreters.emulator import hls_function

        if self._quantized_input_indices is None:
            marked = hls_function(self.hls_module).quantized_inputs
            self._quantized_input_indices = {k.value.data for k in marked.data} if marked is not None else set[int]()
        return self._quantized_input_indices

    def _input_name(self, k: int) -> str:
        return self.firmware.inputs[k].var

    @staticmethod
    def _pointers(arrays: Sequence[np.ndarray]) -> Any:
        ptrs = (ctypes.c_void_p * len(arrays))()
        for i, a in enumerate(arrays):
            ptrs[i] = a.ctypes.data
        return ptrs

    def _shape_outputs(self, outs: list[np.ndarray], n: int) -> np.ndarray | list[np.ndarray]:
        shaped = [o.reshape(n, *v.shape) for o, v in zip(outs, self.firmware.outputs, strict=True)]
        return shaped[0] if len(shaped) == 1 else shaped

    def predict(
        self, x: ArrayLike | Sequence[ArrayLike], emulator: str = "cpp", *, n_threads: int | None = None
    ) -> np.ndarray | list[np.ndarray]:
        """Run a batch: one array per model input (samples first); one array per output.

        The native library spreads the samples over `n_threads` threads (default: $NNHLS_THREADS,
        else every core this process may use); the results do not depend on the thread count.
        The first call warns (an OverflowWarning naming the layers) when values inside the
        model saturated or wrapped, checked exactly with the numpy emulator on up to
        OVERFLOW_CHECK_SAMPLES samples spread over the batch (overflow_report(x) checks them all
        on any data)."""
        if emulator == "numpy":
            result = self._predict_numpy(x)
            self._check_overflow(x)
            return result
        if emulator != "cpp":
            raise InputDataError(f"unknown emulator '{emulator}': use 'cpp' or 'numpy'")
        outputs = self._predict_cpp(x, n_threads)
        self._check_overflow(x)
        return outputs

    OVERFLOW_CHECK_SAMPLES = 32
    """Samples of the first predict() call whose internal values are checked for overflow (the
    numpy emulator runs the check: ~3 runs of those samples)."""

    def _check_overflow(self, x: ArrayLike | Sequence[ArrayLike]) -> None:
        from nnhls.interpreters.overflow import overflow_scan, overflowing, summary

        if self._overflow_checked:
            return
        batch, n = self._batch(x, warn_inputs=False)
        if n == 0 or self.OVERFLOW_CHECK_SAMPLES <= 0:
            return
        self._overflow_checked = True
        rows = np.unique(np.linspace(0, n - 1, min(n, self.OVERFLOW_CHECK_SAMPLES)).astype(np.int64))
        inputs = [a[rows].reshape(len(rows), *v.shape) for a, v in zip(batch, self.firmware.inputs, strict=True)]
        bad = [r for r in overflowing(overflow_scan(self.hls_module, inputs)) if r.var != "input"]
        if bad:
            warn(
                f"values inside the model overflowed on {len(rows)} checked samples: {summary(bad)}; "
                "see overflow_report(x) (or `nnhls report DIR --data x.npy`) for the integer bits that would hold them",
                OverflowWarning,
                stacklevel=3,
            )

    def overflow_report(self, x: ArrayLike | Sequence[ArrayLike]) -> list[dict[str, Any]]:
        """Per model input and per layer variable (input, accum, result): how many values on x
        saturated or wrapped, by how much, their observed range next to the type's, and the
        integer bits that would hold them (nnhls.interpreters.overflow)."""
        from nnhls.interpreters.overflow import overflow_scan

        batch, n = self._batch(x, warn_inputs=False)
        inputs = [a.reshape(n, *v.shape) for a, v in zip(batch, self.firmware.inputs, strict=True)]
        return [r.as_row() for r in overflow_scan(self.hls_module, inputs)]

    def _predict_cpp(self, x: ArrayLike | Sequence[ArrayLike], n_threads: int | None) -> np.ndarray | list[np.ndarray]:
        batch, n = self._batch(x)
        lib = self._library()
        outs = [np.empty((n, v.size), dtype=np.float64) for v in self.firmware.outputs]
        threads = default_threads() if n_threads is None else int(n_threads)
        if threads < 1:
            raise ConfigError(f"n_threads must be at least 1, got {n_threads}")
        fn = getattr(lib, f"{self.project_name}_predict")
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long, ctypes.c_int]
        if fn(self._pointers(batch), self._pointers(outs), n, threads) != 0:
            raise ToolError("the emulation library could not start its worker threads")
        return self._shape_outputs(outs, n)

    def _warn_edits_ignored(self) -> None:
        """The numpy emulator runs the hls IR: say so when the C++ on disk was edited since."""
        if not (self.output_dir / MARKER).is_file():
            return
        edited = edited_files(self.output_dir, (".h", ".cpp"))
        if edited:
            warn(
                f"the numpy emulator runs the model's hls IR, not the C++ in '{self.output_dir}': your edits of "
                f"{', '.join(edited)} are not in its results (predict with emulator='cpp' to run them)",
                ProjectWarning,
                stacklevel=3,
            )

    def _predict_numpy(self, x: ArrayLike | Sequence[ArrayLike]) -> np.ndarray | list[np.ndarray]:
        from nnhls.interpreters.emulator import run_hls  # pyright: ignore[reportMissingImports]

        self._warn_edits_ignored()
        batch, n = self._batch(x)
        inputs = [a.reshape(n, *v.shape) for a, v in zip(batch, self.firmware.inputs, strict=True)]
        result = [np.asarray(r).reshape(n, *v.shape) for r, v in zip(run_hls(self.hls_module, inputs), self.firmware.outputs, strict=True)]
        return result[0] if len(result) == 1 else result

    def trace(
        self, x: ArrayLike | Sequence[ArrayLike], layers: Sequence[str] | None = None, emulator: str = "cpp"
    ) -> dict[str, np.ndarray]:
        """Every layer's output (or those named), as {layer name: array of shape (n, *shape)}."""
        batch, n = self._batch(x)
        # one entry per name: a repeated layer name reports its last layer's output
        available = list(dict(files.traced_layers(self.firmware)).items())
        if emulator == "numpy":
            from nnhls.interpreters.emulator import trace_hls  # pyright: ignore[reportMissingImports]

            self._warn_edits_ignored()
            inputs = [a.reshape(n, *v.shape) for a, v in zip(batch, self.firmware.inputs, strict=True)]
            traced = trace_hls(self.hls_module, inputs)
            return {k: np.asarray(v).reshape(n, *shape) for k, shape in available if (v := traced.get(k)) is not None and (layers is None or k in layers)}
        lib = self._library()
        wanted = [(name, shape) for name, shape in available if layers is None or name in layers]
        if layers is not None:
            missing = set(layers) - {name for name, _ in available}
            if missing:
                raise InputDataError(f"no such layer(s): {', '.join(sorted(missing))}")
        outs = [np.zeros((n, v.size), dtype=np.float64) for v in self.firmware.outputs]
        buffers = [np.zeros((n, int(np.prod(shape))), dtype=np.float64) for _, shape in wanted]
        keys = files.trace_keys(self.firmware)
        names = (ctypes.c_char_p * max(len(wanted), 1))(*[keys[name].encode() for name, _ in wanted])
        sizes = (ctypes.c_uint * max(len(wanted), 1))(*[int(np.prod(shape)) for _, shape in wanted])
        fn = getattr(lib, f"{self.project_name}_trace")
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint]
        if fn(self._pointers(batch), self._pointers(outs), n, names, self._pointers(buffers), sizes, len(wanted)) != 0:
            raise ToolError("the emulation library could not start its worker thread")
        return {name: buf.reshape(n, *shape) for (name, shape), buf in zip(wanted, buffers, strict=True)}

    # ----- vendor tools ----------------------------------------------------------------------------------
    def _tool(self) -> str:
        backend = str(self._config.get("Backend", "Vitis")).lower()
        return "vivado_hls" if backend.startswith("vivado") else "vitis_hls"

    def build(self, csim: bool = True, synth: bool = True, cosim: bool = False, export: bool = False, vsynth: bool = False) -> dict[str, Any]:
        """Run build_prj.tcl with Vitis HLS (or Vivado HLS for the Vivado backend)."""
        tool = self._tool()
        if shutil.which(tool) is None:
            raise ToolNotFoundError(
                f"'{tool}' is not on PATH: install {'Vivado HLS' if tool == 'vivado_hls' else 'Vitis HLS'} "
                "and source its settings64.sh, or run build_prj.tcl where it is installed"
            )
        self.write(force=self._written_by_us())
        flags = {"csim": csim, "synth": synth, "cosim": cosim, "export": export, "vsynth": vsynth}
        args = " ".join(f"{k}={int(v)}" for k, v in flags.items())
        result = subprocess.run([tool, "-f", "build_prj.tcl", "-tclargs", args], cwd=self.output_dir, check=False)
        if result.returncode != 0:
            raise ToolError(f"{tool} failed with exit code {result.returncode} (see {self.output_dir}/vitis_hls.log)")
        return self.read_report() if synth else {}

    def report_path(self) -> Path:
        p = self.project_name
        return self.output_dir / f"{p}_prj" / "solution1" / "syn" / "report" / f"{p}_csynth.xml"

    def read_report(self, missing_ok: bool = False) -> dict[str, Any]:
        """The csynth XML report as a dict: clock, latency, interval and resources.

        Without a report, raises ReportError (a FileNotFoundError), or returns {} with missing_ok.
        """
        path = self.report_path()
        if not path.is_file():
            if missing_ok:
                return {}
            raise ReportError(f"no synthesis report at '{path}': run build(synth=True) with Vitis HLS or Vivado HLS first")
        return parse_csynth_report(path)

    def layer_report(self) -> list[dict[str, Any]]:
        """One dict per layer: name, op, shapes, precisions, reuse factor, strategy, estimates
        (multipliers, latency, ii, bops)."""
        return layer_report(self.hls_module)

    def estimates(self) -> dict[str, int]:
        """The model totals: multipliers and BOPs summed over the layers, latency and II of the
        whole model (nn-schedule's estimates, not synthesis results)."""
        return model_estimates(self.hls_module)


def default_threads() -> int:
    """$NNHLS_THREADS, else the cores this process may run on."""
    env = os.environ.get("NNHLS_THREADS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ConfigError(f"NNHLS_THREADS must be a whole number of threads, got '{env}'") from None
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _is_array_like(x: object) -> bool:
    return isinstance(x, np.ndarray | list | tuple | int | float | np.number | bool) or hasattr(x, "__array__")


def _kind(x: object) -> str:
    return f"a {type(x).__name__}"


def _input_array(value: Value, arr: object, name: str) -> np.ndarray:
    """One input as a contiguous float64 (n, size) array, or an InputDataError naming the input."""
    if isinstance(arr, Mapping | str | bytes) or not _is_array_like(arr):
        raise InputDataError(f"input '{name}' must be an array of numbers, got {_kind(arr)}")
    try:
        a = np.asarray(arr)
    except (ValueError, TypeError) as error:
        raise InputDataError(f"input '{name}' is not a regular array of numbers ({error})") from None
    if a.dtype.kind not in "biuf":
        raise InputDataError(f"input '{name}' must hold real numbers (bool, int or float), got dtype {a.dtype}")
    shape = tuple(value.shape)
    if a.ndim == 0:
        raise InputDataError(f"input '{name}' needs samples of shape {shape}, got a scalar")
    if a.shape == shape:
        a = a.reshape(1, *shape)
    elif shape == (1,) and a.ndim == 1:
        a = a.reshape(len(a), 1)  # one value per sample (a per-sample scalar, ONNX shape (n,))
    elif a.shape[1:] != shape:
        raise InputDataError(
            f"input '{name}' needs an array of shape (n, {', '.join(map(str, shape))}) or one sample {shape}, got shape {a.shape}"
        )
    a = np.ascontiguousarray(a.reshape(len(a), value.size), dtype=np.float64)
    if not np.isfinite(a).all():
        raise InputDataError(f"input '{name}' holds NaN or infinite values")
    return a


def _warn_out_of_range(value: Value, a: np.ndarray) -> None:
    """Inputs beyond the input type wrap or saturate exactly as on the FPGA; say so once per call,
    since a too-narrow input type is the commonest cause of garbage outputs."""
    if a.size == 0:
        return
    p = value.precision
    low, high = float(a.min()), float(a.max())
    if low >= p.min_value and high < p.max_value + p.step:
        return
    mode = "saturate" if p.overflow.value.startswith("SAT") else "wrap around"
    warn(
        f"input '{value.var}' holds values in [{low:g}, {high:g}] outside its type {p} "
        f"[{p.min_value:g}, {p.max_value:g}]: they {mode}; widen the input layer's Precision "
        "(LayerName.<input>.Precision.result)",
        InputRangeWarning,
        stacklevel=4,
    )


# ----- reports ---------------------------------------------------------------------------------------------


def _text(root: ET.Element, path: str) -> str | None:
    node = root.find(path)
    return None if node is None or node.text is None else node.text.strip()


def _number(text: str | None) -> int | float | str | None:
    if text is None:
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return text


def parse_csynth_report(path: Path) -> dict[str, Any]:
    root = ET.parse(path).getroot()
    perf = "PerformanceEstimates"
    latency = f"{perf}/SummaryOfOverallLatency"
    report: dict[str, Any] = {
        "top": _text(root, "RTLDesignHierarchy/TopModule/ModuleName"),
        "part": _text(root, "UserAssignments/Part"),
        "target_clock_ns": _number(_text(root, "UserAssignments/TargetClockPeriod")),
        "estimated_clock_ns": _number(_text(root, f"{perf}/SummaryOfTimingAnalysis/EstimatedClockPeriod")),
        "latency_min": _number(_text(root, f"{latency}/Best-caseLatency")),
        "latency_max": _number(_text(root, f"{latency}/Worst-caseLatency")),
        "interval_min": _number(_text(root, f"{latency}/Interval-min")),
        "interval_max": _number(_text(root, f"{latency}/Interval-max")),
    }
    resources = root.find("AreaEstimates/Resources")
    available = root.find("AreaEstimates/AvailableResources")
    report["resources"] = {child.tag: _number(child.text) for child in resources} if resources is not None else {}
    report["available"] = {child.tag: _number(child.text) for child in available} if available is not None else {}
    return report


ESTIMATE_KEYS: tuple[str, ...] = ("multipliers", "latency", "ii", "bops")
"""nn-schedule's per-layer estimates, as layer_report() keys."""


def model_estimates(module: ModuleOp) -> dict[str, int]:
    """Multipliers and BOPs summed over the kernels; latency and II of the model function."""
    rows = layer_report(module)
    totals = {key: sum(r[key] for r in rows if isinstance(r[key], int)) for key in ("multipliers", "bops")}
    attributes = find_func(module).attributes
    for key in ("latency", "ii"):
        value = getattr(getattr(attributes.get(key), "value", None), "data", None)
        if isinstance(value, int):
            totals[key] = value
    return totals


def layer_report(module: ModuleOp) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for op in find_func(module).body.block.ops:
        if not isinstance(op, hls.HLSKernelOp):
            continue
        row: dict[str, Any] = {
            "layer": op.layer_name,
            "name": op.layer_name,
            "op": op.name,
            "input": ", ".join("x".join(map(str, hls.shape_of(v))) for v in op.operands),
            "output": ", ".join("x".join(map(str, hls.shape_of(v))) for v in op.results),
            "result": str(hls.value_type(op.results[0]).element_type.precision),
            "reuse_factor": 1 if op.reuse_factor is None else op.reuse_factor.value.data,
        }
        types = [f"{name.removesuffix('_t')}={getattr(op, name).precision}" for name in ("weight_t", "accum_t", "table_t") if getattr(op, name, None) is not None]
        if isinstance(op, hls.DenseOp | hls.ConvBaseOp) and (coded := _weight_codes(op)):
            types[0] += f" ({coded})"
        row["types"] = " ".join(types)
        strategy = getattr(op, "strategy", None)
        row["strategy"] = "" if strategy is None else strategy.data.value
        for key in ESTIMATE_KEYS:
            attr = op.properties.get(key)
            row[key] = "" if attr is None else getattr(getattr(attr, "value", attr), "data", str(attr))
        rows.append(row)
    return rows


def _weight_codes(op: hls.DenseOp | hls.ConvBaseOp) -> str:
    """How shift-coded weights are stored and multiplied, e.g. `binary: 1-bit codes, shift-add`."""
    if op.weight_encoding is None:
        return ""
    compressed = isinstance(op, hls.DenseOp) and op.compression is not None
    code = stored_shift_code(hls.mantissas(op.weight), op.weight_t.precision, compressed)
    bits = "?" if code is None else code.bits  # an edited IR: codegen says what is wrong
    return f"{op.weight_encoding.data}: {bits}-bit codes, shift-add" + (", compressed" if compressed else "")


# ----- reopening a written project --------------------------------------------------------------------------


def link_existing_project(path: str | Path) -> HLSModel:
    """Reopen a project written by HLSModel.write(): its YAML config, its saved hls IR and, when
    present, its imported nn IR (which gives the reopened model its layer graph and stages)."""
    root = Path(path)
    config_file = root / CONFIG_YAML
    if not config_file.is_file():
        raise ProjectError(f"'{root}' is not an nnhls project: {CONFIG_YAML} is missing")
    try:
        text = config_file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"cannot read '{config_file}': {error}") from None
    config = load_yaml_text(text, f"'{config_file}'") or {}
    if not isinstance(config, dict):
        raise ProjectError(f"'{config_file}' does not hold a configuration mapping")
    config = {str(k): v for k, v in config.items()}  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    config = resolve_paths(config, root)
    project = check_project_name(config.get("ProjectName", "myproject"))
    ir_file = root / hls_ir_file(project)
    if not ir_file.is_file():
        raise ProjectError(f"'{ir_file}' is missing: the project was not written by nnhls")
    module = _read_module(ir_file)
    nn_file = root / nn_ir_file(project)
    imported = _read_module(nn_file) if nn_file.is_file() else None
    config["OutputDir"] = str(root)
    model = HLSModel(imported, config, hls_module=module)
    model._on_disk = True  # pyright: ignore[reportPrivateUsage]
    return model


def _read_module(ir_file: Path) -> ModuleOp:
    module = parse_ir(make_context(), read_ir_file(ir_file), str(ir_file))
    module.verify()
    return module
