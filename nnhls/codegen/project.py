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

import fcntl
import hashlib
import json
import os
import tarfile
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from io import StringIO
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, Float32Type, Float64Type, IntegerType
from xdsl.ir import Attribute, Operation
from xdsl.printer import Printer

from nnhls import ops
from nnhls.codegen import files
from nnhls.codegen.firmware import Firmware
from nnhls.config import PATH_KEYS, RelativePath, config_to_yaml
from nnhls.errors import CodegenError, NnhlsWarning, ProjectError, ProjectExistsError
from nnhls.quoting import IdentifierError, check_cpp_identifier

MARKER = ".nnhls-project.json"
LIB_DIR = Path(__file__).resolve().parent.parent / "hls_lib"
CONFIG_YAML = "hls4ml_config.yml"


def check_project_name(name: object) -> str:
    try:
        return check_cpp_identifier(name, "ProjectName")
    except IdentifierError as error:
        raise CodegenError(str(error)) from None


def anchored_paths(config: Mapping[str, Any], root: Path) -> dict[str, Any]:
    """The config as the project's YAML stores it: every path (the model, the data, OutputDir
    itself) tagged `!relative` to the project folder, so the YAML works wherever the project is
    moved together with those files (plain relative paths would depend on the working
    directory)."""
    anchored = dict(config)
    for key in PATH_KEYS:
        value = anchored.get(key)
        if isinstance(value, str | Path):
            target = Path(value).resolve()
            anchored[key] = RelativePath(os.path.relpath(target, root.resolve()))
    return anchored


def hls_ir_file(project: str) -> str:
    return f"{project}.hls.mlir"


def nn_ir_file(project: str) -> str:
    """The imported `nn` IR (before configuration): reopening a project rebuilds its layer graph from it."""
    return f"{project}.nn.mlir"


def generate_files(fw: Firmware, config: Mapping[str, Any], hls_ir: str, nn_ir: str | None = None) -> dict[str, str | bytes]:
    """Relative path -> content of every generated file (the library copies excluded)."""
    p = fw.project
    out: dict[str, str | bytes] = {
        f"firmware/{p}.cpp": files.top_cpp(fw),
        f"firmware/{p}.h": files.top_h(fw),
        "firmware/defines.h": files.defines_h(fw),
        "firmware/parameters.h": files.parameters_h(fw),
        f"firmware/weights/{files.EMULATION_WEIGHTS_H}": files.emulation_weights_h(fw),
        "firmware/weights/emulation_weights.cpp": files.emulation_weights_cpp(fw),
        "firmware/weights/emulation_weights.S": files.EMULATION_WEIGHTS_S,
        f"firmware/weights/{files.EMULATION_BLOB}": files.emulation_weights_blob(fw),
        f"{p}_bridge.cpp": files.bridge_cpp(fw),
        f"{p}_test.cpp": files.testbench_cpp(fw),
        "build_prj.tcl": files.BUILD_PRJ_TCL,
        "vivado_synth.tcl": files.VIVADO_SYNTH_TCL,
        "project.tcl": _project_tcl(p, config),
        hls_ir_file(p): hls_ir,
        "README.md": _readme(fw),
    }
    write_txt = (config.get("WriterConfig") or {}).get("WriteWeightsTxt", True)
    for const in fw.constants:
        decimals = files.decimal_values(const)  # formatted once: millions of values take seconds
        out[f"firmware/weights/{const.name}.h"] = files.weight_header(const, fw.namespace, decimals)
        if write_txt:
            out[f"firmware/weights/{const.name}.txt"] = files.weight_txt(const, decimals)
    if nn_ir is not None:
        out[nn_ir_file(p)] = nn_ir
    out.update(_tb_data(fw, config))
    out[CONFIG_YAML] = config_to_yaml(config)
    return out


class _IRPrinter(Printer):
    """xDSL's printer, with large dense constants printed straight from their buffer (xDSL turns
    each into a tuple of Python numbers twice first: seconds for a multi-million-weight model).
    The text is exactly what xDSL prints: `dense<"0x...">` for more than 100 elements."""

    def print_attribute(self, attribute: Attribute) -> None:
        if isinstance(attribute, DenseIntOrFPElementsAttr):
            text = _dense_hex(attribute)
            if text is not None:
                self.print_string(text)
                self.print_string(" : ")
                self.print_attribute(attribute.get_type())
                return
        super().print_attribute(attribute)


def _dense_hex(attr: DenseIntOrFPElementsAttr) -> str | None:
    element = attr.get_element_type()
    if isinstance(element, IntegerType) and element.width.data in (8, 16, 32, 64):
        dtype = np.dtype(f"<i{element.width.data // 8}")
    elif isinstance(element, Float32Type | Float64Type):
        dtype = np.dtype("<f4" if isinstance(element, Float32Type) else "<f8")
    else:
        return None
    data = attr.data.data
    values = np.frombuffer(data, dtype=dtype)
    if values.size <= 100 or bool((values == values[0]).all()):
        return None  # a list or a splat: xDSL's own form
    return f'dense<"0x{data.hex().upper()}">'


def module_text(module: Operation) -> str:
    """str(module), fast for modules with large constants (the .hls.mlir of a project)."""
    stream = StringIO()
    _IRPrinter(stream=stream).print_op(module)
    return stream.getvalue()


def _readme(fw: Firmware) -> str:
    p = fw.project
    return f"""# {p}: HLS project generated by nnhls

| file | what it is |
| --- | --- |
| `firmware/{p}.cpp`, `.h` | the top function `{p}`: one nnet kernel call per layer ({fw.io_type.value}) |
| `firmware/defines.h` | tensor sizes and every type (`typedef ap_fixed<...>`) |
| `firmware/parameters.h` | one config struct per layer: sizes, `reuse_factor`, `strategy`, `accum_t`, ... |
| `firmware/weights/` | weights, biases and lookup tables as exact values (`emulation_weights.*`: emulation only; `<name>.txt`: the same values as comma-separated text with WriteWeightsTxt, for scripts that read them) |
| `firmware/nnet_utils/` | the nnet kernel library (header only) |
| `firmware/ap_types/` | nnhls' emulation ap types; Vitis HLS / Vivado HLS use their own |
| `{p}_test.cpp`, `tb_data/` | C simulation test bench (reads `tb_data/tb_input_features.dat`) |
| `build_prj.tcl`, `project.tcl` | `vitis_hls -f build_prj.tcl -tclargs "csim=1 synth=1 cosim=0 export=0 vsynth=0"` |
| `vivado_synth.tcl` | logic synthesis of the exported RTL with Vivado |
| `{p}_bridge.cpp` | the C entry points nnhls' `HLSModel.predict()` / `trace()` call |
| `{CONFIG_YAML}`, `{hls_ir_file(p)}`, `{nn_ir_file(p)}` | the configuration, the hls IR and the imported nn IR (`nnhls.utils.link_existing_project` reopens the project from them) |

Edit `parameters.h` or `defines.h` and rebuild (`nnhls compile .`, or the Tcl script) to try other
settings: nnhls builds the files as they are on disk (derived fields such as `multiplier_limit`
are expressions of the fields they follow). Lookup tables are data in `weights/`: a different
table size or range needs a new conversion. Weight headers hold exact decimal values for
synthesis; nnhls' emulation build defines `NNHLS_FAST_WEIGHTS` and fills the same arrays from
the raw integer mantissas in `weights/emulation_weights.bin` (assembled into the library, never
compiled as C++), so editing a value in a weight header does not change `predict()`; editing a
weight typedef in `defines.h` does.
"""


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
        raise ProjectError(f"test bench data file '{path}' not found")
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


def _library_files(fw: Firmware) -> dict[str, Path]:
    """Relative project path -> source file of the copied kernel library and ap types (and the
    headers of kernels added outside nnhls that the model uses)."""
    out: dict[str, Path] = {}
    for sub, dest in (("nnet", "firmware/nnet_utils"), ("ap_types", "firmware/ap_types")):
        for src in sorted((LIB_DIR / sub).glob("*.h")):
            out[f"{dest}/{src.name}"] = src
    for layer in fw.layers:
        header = ops.kernel_rules(layer.op).header_file
        if header is not None:
            out[f"firmware/nnet_utils/{layer.header}"] = header
    return out


LOCK = ".nnhls-project.lock"
LOCK_WAIT_SECONDS = 60.0
BACKUP_SUFFIX = ".before-nnhls"


class UnsafePathError(ProjectExistsError):
    """A path inside the output directory is a symbolic link (nnhls never writes through one)."""


class ProjectBusyError(ProjectExistsError):
    """Another process is writing the same output directory."""


class UserFileMovedWarning(NnhlsWarning):
    """A file of the user's had a generated file's name: it was moved aside, not overwritten."""


class EditedProjectWarning(NnhlsWarning):
    """Generated files were edited after nnhls wrote them: compile() builds them as they are."""


class _CorruptMarker(Exception):
    pass


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def edited_files(root: Path, suffixes: tuple[str, ...] | None = None) -> list[str]:
    """The files of the last write whose content changed since nnhls wrote them (a user's edit
    of parameters.h, say), optionally only those ending in one of `suffixes`; [] without a
    marker or when the marker records no digests."""
    marker = root / MARKER
    if not marker.is_file() or marker.is_symlink():
        return []
    try:
        digests = json.loads(marker.read_bytes()).get("digests", {})
    except (ValueError, UnicodeDecodeError, AttributeError, OSError):
        return []
    if not isinstance(digests, dict):
        return []
    edited: list[str] = []
    for rel, digest in sorted(digests.items()):  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
        if suffixes is not None and not str(rel).endswith(suffixes):  # pyright: ignore[reportUnknownArgumentType]
            continue
        try:
            path = _safe_path(root, _marker_entry(rel))
            if path.is_file() and _digest(path.read_bytes()) != digest:
                edited.append(str(rel))  # pyright: ignore[reportUnknownArgumentType]
        except (_CorruptMarker, UnsafePathError, OSError):
            continue
    return edited


def _marker_entry(entry: object) -> str:
    """A relative path of the marker, refused unless it stays inside the project."""
    if not isinstance(entry, str) or not entry or "\0" in entry:
        raise _CorruptMarker(repr(entry))
    path = PurePosixPath(entry)
    if path.is_absolute() or ".." in path.parts or str(path) != entry:
        raise _CorruptMarker(entry)
    return entry


def _previous_files(root: Path) -> list[str] | None:
    """Files listed by the marker of an earlier write; None without a marker."""
    marker = root / MARKER
    if not marker.exists() and not marker.is_symlink():
        return None
    _refuse_link(marker)
    try:
        data = json.loads(marker.read_bytes())
        if not isinstance(data, dict) or data.get("generator") != "nnhls" or not isinstance(data.get("files"), list):
            raise _CorruptMarker("not an nnhls marker")
        return [_marker_entry(f) for f in data["files"]]
    except (ValueError, UnicodeDecodeError, _CorruptMarker, OSError):
        raise ProjectExistsError(
            f"'{marker}' is corrupt, so nnhls cannot tell its files from yours; remove it and write "
            "again with force=True (--force): files of yours with generated names are then moved aside"
        ) from None


def _refuse_link(path: Path) -> None:
    if path.is_symlink():
        raise UnsafePathError(
            f"'{path}' is a symbolic link: nnhls never writes or deletes through links; remove the link and write again"
        )


def _safe_path(root: Path, rel: str) -> Path:
    """root/rel after checking that no part of it below root is a symbolic link."""
    path = root
    for part in PurePosixPath(rel).parts:
        path = path / part
        _refuse_link(path)
    return path


def check_project_links(root: Path) -> None:
    """Refuse a project whose generated files (or folders) were replaced by symbolic links: a
    build reads them, and the next write would refuse them anyway."""
    _refuse_link(root / LOCK)
    for rel in _previous_files(root) or []:
        _safe_path(root, rel)


def prepare_directory(root: Path, force: bool) -> list[str]:
    """Check the output directory may be written; returns the files of the previous write."""
    if root.exists() and not root.is_dir():
        raise ProjectExistsError(f"output path '{root}' exists and is not a directory")
    previous = _previous_files(root) if root.is_dir() else []
    if previous is None:
        if any(p.name != LOCK for p in root.iterdir()) and not force:
            raise ProjectExistsError(
                f"output directory '{root}' is not empty and was not written by nnhls; "
                "choose another OutputDir, or write into it anyway with force=True (nnhls convert --force): "
                "files of yours with generated names are then moved aside, never overwritten"
            )
        previous = []
    return previous


def _marker(root: Path) -> dict[str, Any]:
    """The marker's content; {} when it is missing, a link or unreadable (writes refuse those)."""
    marker = root / MARKER
    if marker.is_symlink():
        return {}
    try:
        data = json.loads(marker.read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}  # pyright: ignore[reportUnknownVariableType]


def write_id(root: Path) -> str | None:
    """The identifier of the last write into root (a new one per write), if nnhls wrote it."""
    value = _marker(root).get("write_id")
    return value if isinstance(value, str) else None


@contextmanager
def project_lock(root: Path, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Exclusive right to write `root` among processes (an flock on root/.nnhls-project.lock);
    a second writer waits up to `wait` seconds, then gets a ProjectBusyError."""
    root.mkdir(parents=True, exist_ok=True)
    lock = root / LOCK
    _refuse_link(lock)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ProjectBusyError(
                        f"another process is writing '{root}' (it holds {LOCK}); wait for it to finish or choose another OutputDir"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


def write_project(
    root: Path, fw: Firmware, config: Mapping[str, Any], hls_ir: str, force: bool = False, nn_ir: str | None = None
) -> list[str]:
    """Write the whole project; returns the relative paths written.

    Every file is written to a temporary file beside it and renamed into place (a reader never
    sees half a file, an interrupted write leaves the old file), nothing is written or deleted
    through a symbolic link, and a file of the user's that has a generated file's name is moved
    aside (`<name>.before-nnhls`, with a UserFileMovedWarning), never overwritten; so is a
    generated file the user edited since the last write (the marker keeps each file's digest).
    """
    check_project_name(fw.project)
    generated = generate_files(fw, config, hls_ir, nn_ir)
    generated[CONFIG_YAML] = config_to_yaml(anchored_paths(config, root))
    library = _library_files(fw)
    written = sorted([*generated, *library])
    prepare_directory(root, force)  # a refusal leaves the directory as it was (no lock file)
    try:
        with project_lock(root):
            previous = prepare_directory(root, force)
            ours = set(previous) - set(edited_files(root))
            moved: list[str] = []
            for rel in sorted(ours - set(written)):  # edited ones stay
                stale = _safe_path(root, rel)
                if stale.is_file():
                    stale.unlink()
            digests: dict[str, str] = {}
            for rel, content in generated.items():
                data = content.encode() if isinstance(content, str) else content
                _write_file(root, rel, data, rel in ours, moved)
                digests[rel] = _digest(data)
            for rel, src in library.items():
                data = src.read_bytes()
                _write_file(root, rel, data, rel in ours, moved)
                digests[rel] = _digest(data)
            marker = {"generator": "nnhls", "project": fw.project, "files": written, "write_id": uuid.uuid4().hex, "digests": digests}
            _write_file(root, MARKER, (json.dumps(marker, indent=1) + "\n").encode(), True, moved)
    except OSError as error:
        if isinstance(error, ProjectExistsError):
            raise
        raise ProjectWriteError(f"cannot write the project to '{root}': {error.strerror or error}") from None
    if moved:
        warnings.warn(
            f"moved {len(moved)} file(s) of yours that had generated names aside: {', '.join(moved)}",
            UserFileMovedWarning,
            stacklevel=3,
        )
    return written


class ProjectWriteError(ProjectExistsError):
    """The file system refused a write (permissions, a name too long, no space)."""


def _write_file(root: Path, rel: str, data: bytes, ours: bool, moved: list[str]) -> None:
    """root/rel := data, atomically, without following links; an existing file that is not ours
    and differs is renamed to `<name>.before-nnhls` first. Unchanged files keep their mtime."""
    path = _safe_path(root, rel)
    for parent in reversed(path.relative_to(root).parents[:-1]):
        folder = root / parent
        if not folder.is_dir():
            if folder.exists():
                raise ProjectExistsError(f"'{folder}' is in the way of a generated folder (it is not a directory)")
            folder.mkdir()
    if path.exists():
        if not path.is_file():
            raise ProjectExistsError(f"'{path}' is in the way of a generated file (it is not a regular file)")
        old = path.read_bytes()
        if old == data:
            return
        if not ours:
            backup = _backup_name(path)
            os.replace(path, backup)
            moved.append(f"{rel} -> {backup.name}")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _backup_name(path: Path) -> Path:
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    n = 1
    while backup.exists() or backup.is_symlink():
        n += 1
        backup = path.with_name(f"{path.name}{BACKUP_SUFFIX}.{n}")
    return backup


def write_tarball(root: Path, force: bool = False) -> Path:
    """`<root>.tar.gz` of the written project (WriterConfig.WriteTar). An existing archive is only
    replaced when it is one of ours (it holds the project's marker file) or with force."""
    archive = root.with_name(root.name + ".tar.gz")
    _refuse_link(archive)
    if archive.exists() and not force and not _is_our_archive(archive, root.name):
        raise ProjectExistsError(f"'{archive}' exists and was not written by nnhls; remove it or pass force=True (--force)")
    fd, tmp = tempfile.mkstemp(prefix=f".{archive.name}.", suffix=".tmp", dir=archive.parent)
    try:
        with os.fdopen(fd, "wb") as out, tarfile.open(fileobj=out, mode="w:gz") as tar:
            tar.add(root, arcname=root.name, filter=_without_lock)
        os.chmod(tmp, 0o644)
        os.replace(tmp, archive)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return archive


def _without_lock(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return None if info.name.endswith("/" + LOCK) else info


def _is_our_archive(archive: Path, name: str) -> bool:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            return f"{name}/{MARKER}" in tar.getnames()
    except (tarfile.TarError, OSError):
        return False
