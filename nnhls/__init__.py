"""nnhls: trained neural networks (Keras, ONNX, PyTorch) to synthesizable HLS C++ for FPGAs.

A compiler in the MLIR tradition, built on xDSL: front ends produce the `nn` dialect, passes
configure, type and schedule it and lower it to the `hls` dialect, and codegen writes a C++ project
that builds with Vitis HLS, or with g++ against our own bit-accurate ap_types for emulation.
"""

__version__ = "0.1.0"

from collections.abc import Mapping
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any

_SUBMODULES = ("converters", "utils", "backends", "model", "report", "templates")


def sweep(
    spec: str | Path | Mapping[str, Any] | None = None,
    *,
    output: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    sequential: bool = False,
    restart: bool = False,
    progress: bool = True,
    **keys: Any,
) -> Any:
    """Run a design-space sweep and return its results as a pandas DataFrame (one row per point).

        table = nnhls.sweep("sweep.yml")
        table = nnhls.sweep(base="config.yml", axes={"Model.ReuseFactor": [1, 2, 4]}, output="rf_sweep")

    `spec` is a sweep YAML file or mapping (see nnhls.compiler.sweep.spec), or give its keys
    (base, axes, points, measure, data, build, emulator, name) as arguments. Points run on a Dask
    LocalCluster sized to the machine, on `scheduler` (or NNHLS_DASK_SCHEDULER) when given, or one
    after another with sequential=True. Finished points in `output` are not run again
    (restart=True discards them). Needs the extra: pip install 'nnhls[sweep]'.
    """
    from nnhls.compiler.sweep import load_spec, run_sweep
    from nnhls.converters import convert_from_config, load_yaml

    if spec is not None and keys:
        raise TypeError(f"give a sweep file or mapping, or its keys as arguments, not both (got {', '.join(keys)})")
    loaded = load_spec(spec if spec is not None else keys, read_config=load_yaml, output=output)
    return run_sweep(
        loaded, convert=convert_from_config, scheduler=scheduler, workers=workers,
        sequential=sequential, restart=restart, progress=progress,
    )  # fmt: skip


def __getattr__(name: str) -> ModuleType:
    """`nnhls.converters`, `nnhls.utils`, `nnhls.backends`, `nnhls.model`, `nnhls.report`, `nnhls.templates` without
    importing them up front (the CLI starts faster), as `import hls4ml; hls4ml.utils...` scripts
    expect."""
    if name in _SUBMODULES:
        return import_module(f"nnhls.{name}")
    raise AttributeError(f"module 'nnhls' has no attribute '{name}'")
