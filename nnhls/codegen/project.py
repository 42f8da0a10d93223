"""The project writer: every file of ARCHITECTURE.md section 4 from a `Firmware` and the config.

    <OutputDir>/
      firmware/<Project>.cpp|.h  defines.h  parameters.h  weights/  nnet_utils/  ap_types/
      <Project>_test.cpp  tb_data/  build_prj.tcl  project.tcl  vivado_synth.tcl
      <Project>_bridge.cpp  hls4ml_config.yml  <Project>.hls.mlir  .nnhls-project.json

`.nnhls-project.json` records the files nnhls wrote. Writing into a directory replaces only those
files (files of an earlier write that are no longer generated are removed, anything else is kept);
a non-empty directory without that marker is refused unless `force=True`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nnhls.codegen import files
from nnhls.codegen.firmware import CodegenError, Firmware, is_c_identifier

MARKER = ".nnhls-project.json"
LIB_DIR = Path(__file__).resolve().parent.parent / "hls_lib"
CONFIG_YAML = "hls4ml_config.yml"


class ProjectExistsError(FileExistsError):
    """The output directory holds files nnhls did not write."""


def check_project_name(name: object) -> str:
    if not isinstance(name, str) or not is_c_identifier(name):
        raise CodegenError(
            f"ProjectName {name!r} is not a valid C identifier (letters, digits and '_', not starting with a digit)"
        )
    return name


def hls_ir_file(project: str) -> str:
    return f"{project}.hls.mlir"


def generate_files(fw: Firmware, config: Mapping[str, Any], hls_ir: str) -> dict[str, str | bytes]:
    """Relative path -> content of every generated file (the library copies excluded)."""
    p = fw.project
    out: dict[str, str | bytes] = {
        f"firmware/{p}.cpp": files.top_cpp(fw),
        f"firmware/{p}.h": files.top_h(fw),
        "firmware/defines.h": files.defines_h(fw),
        "firmware/parameters.h": files.parameters_h(fw),
        "firmware/weights/fast_weights.cpp": files.fast_weights_cpp(fw),
        f"{p}_bridge.cpp": files.bridge_cpp(fw),
        f"{p}_test.cpp": files.testbench_cpp(fw),
        "build_prj.tcl": files.BUILD_PRJ_TCL,
        "vivado_synth.tcl": files.VIVADO_SYNTH_TCL,
        "project.tcl": _project_tcl(p, config),
        hls_ir_file(p): hls_ir,
    }
    for const in fw.constants:
        out[f"firmware/weights/{const.name}.h"] = files.weight_header(const)
    out.update(_tb_data(fw, config))
    from nnhls.converters import config_to_yaml

    out[CONFIG_YAML] = config_to_yaml(config)
    return out


def _project_tcl(project: str, config: Mapping[str, Any]) -> str:
    backend = str(config.get("Backend", "Vitis"))
    default_uncertainty = "27%" if backend.lower().startswith("vitis") else "12.5%"
    uncertainty = config.get("ClockUncertainty") or default_uncertainty
    return files.project_tcl(
        project,
        "Vitis" if backend.lower().startswith("vitis") else "Vivado",
        str(config.get("Part", "xcvu13p-flga2577-2-e")),
        float(config.get("ClockPeriod", 5)),
        str(uncertainty),
    )


def _read_data(path: str) -> np.ndarray:
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"test bench data file '{path}' not found")
    if file.suffix == ".npy":
        data = np.load(file, allow_pickle=False)
    else:
        data = np.loadtxt(file, dtype=np.float64, ndmin=2)
    return np.asarray(data, dtype=np.float64).reshape(len(data), -1)


def _tb_data(fw: Firmware, config: Mapping[str, Any]) -> dict[str, str | bytes]:
    """tb_data/ from InputData / OutputPredictions (one sample per line, inputs concatenated)."""
    out: dict[str, str | bytes] = {}
    for key, name, size in (
        ("InputData", "tb_input_features.dat", sum(v.size for v in fw.inputs)),
        ("OutputPredictions", "tb_output_predictions.dat", sum(v.size for v in fw.outputs)),
    ):
        path = config.get(key)
        if not path:
            continue
        data = _read_data(str(path))
        if data.shape[1] != size:
            raise CodegenError(f"{key} '{path}' has {data.shape[1]} values per sample, the model needs {size}")
        lines = [" ".join(repr(float(v)) for v in row) for row in data]
        out[f"tb_data/{name}"] = "\n".join(lines) + "\n"
    return out


def _library_files() -> dict[str, Path]:
    """Relative project path -> source file of the copied kernel library and ap types."""
    out: dict[str, Path] = {}
    for sub, dest in (("nnet", "firmware/nnet_utils"), ("ap_types", "firmware/ap_types")):
        for src in sorted((LIB_DIR / sub).glob("*.h")):
            out[f"{dest}/{src.name}"] = src
    return out


def _previous_files(root: Path) -> list[str] | None:
    marker = root / MARKER
    if not marker.is_file():
        return None
    try:
        data = json.loads(marker.read_text())
        return [str(f) for f in data.get("files", [])]
    except (json.JSONDecodeError, AttributeError):
        return []


def prepare_directory(root: Path, force: bool) -> list[str]:
    """Check the output directory may be written; returns the files of the previous write."""
    if root.exists() and not root.is_dir():
        raise ProjectExistsError(f"output path '{root}' exists and is not a directory")
    previous = _previous_files(root) if root.is_dir() else []
    if previous is None:
        if any(root.iterdir()) and not force:
            raise ProjectExistsError(
                f"output directory '{root}' is not empty and was not written by nnhls; "
                "choose another OutputDir, or write into it anyway with force=True (nnhls convert --force)"
            )
        previous = []
    return previous


def write_project(root: Path, fw: Firmware, config: Mapping[str, Any], hls_ir: str, force: bool = False) -> list[str]:
    """Write the whole project; returns the relative paths written."""
    check_project_name(fw.project)
    previous = prepare_directory(root, force)
    generated = generate_files(fw, config, hls_ir)
    library = _library_files()
    written = sorted([*generated, *library])
    for rel in set(previous) - set(written):
        stale = root / rel
        if stale.is_file() and stale.resolve().is_relative_to(root.resolve()):
            stale.unlink()
    for rel, content in generated.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            _write_if_changed(path, content)
    for rel, src in library.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_bytes() != src.read_bytes():
            shutil.copyfile(src, path)
    marker = {"generator": "nnhls", "project": fw.project, "files": written}
    (root / MARKER).write_text(json.dumps(marker, indent=1) + "\n")
    return written


def _write_if_changed(path: Path, content: str) -> None:
    """Keep the modification time of unchanged files (friendlier to editors and make)."""
    if path.is_file() and path.read_text() == content:
        return
    path.write_text(content)
