"""Building the emulation library of a written project with g++, through a content-hashed cache.

The project is built as it is on disk (a user's edits of parameters.h, defines.h or the firmware
take effect). Three units are compiled in parallel, each to an object file named by the SHA-256 of
what it reads (its text, the firmware headers - weights headers: their emulation part only - and,
for the bridge, the firmware .cpp it includes), the compiler version, the flags and the CPU that
-march=native means here:

    <Project>_bridge.cpp                  the network (firmware/<Project>.cpp after the emulation
                                          header nnet_emulation.h) and the extern "C" batch entry
                                          points used through ctypes
    firmware/weights/emulation_weights.cpp  the weight arrays, filled from the blob at load
    firmware/weights/emulation_weights.S    the blob emulation_weights.bin (raw mantissas), .incbin

and linked into lib<Project>-<hash>.so. No weight value is compiled as C++: new weight values
re-assemble the blob only. The cache lives in $NNHLS_CACHE_DIR, else ~/.cache/nnhls; an unchanged
project links nothing and compiles nothing. After a build, the oldest files beyond
$NNHLS_CACHE_MAX_MB (default 2048 MB) are deleted, never those of that build.

The emulation build alone uses -O3 -march=native (and -fvisibility=hidden, so that libraries of
several models loaded in one process never share a symbol); the synthesis sources and build
scripts never see these flags. On x86 it also passes -mno-avx512f: GCC 12.2's loop vectoriser,
given AVX-512 (VL/BW), computes a depthwise kernel's `spread` loop (nnet_emulation.h,
acc[j] += x[j / multiplier] * w[j]) wrongly - channels summed from the wrong inputs, some from
memory it never wrote - while AVX2, -O2 or no loop vectorisation give the right bits (found by
the differential test of tests/filecheck/dialects/hls/ops.mlir's conv1d example against the
numpy emulator on an AVX-512 machine). The kernels were validated with AVX2; AVX-512 stays off.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from nnhls.errors import ConfigError, ToolError, ToolNotFoundError

NO_AVX512 = ("-mno-avx512f",) if platform.machine().lower() in {"x86_64", "amd64", "i386", "i686"} else ()
"""x86 only (other targets do not know the flag): see the module docstring."""
CXX_FLAGS = (
    "-O3",
    "-march=native",
    *NO_AVX512,
    "-std=c++17",
    "-fPIC",
    "-fvisibility=hidden",
    "-fvisibility-inlines-hidden",
    "-Wno-unknown-pragmas",
    "-DNNHLS_FAST_WEIGHTS",
)
"""Flags of every emulation build (the weights TU and the bridge use the fast weight form)."""

WEIGHTS_ASM = "firmware/weights/emulation_weights.S"
WEIGHTS_BLOB = "firmware/weights/emulation_weights.bin"


class CompileError(ToolError):
    """g++ failed to build the project. The message names the first compiler error; `log` holds
    the compiler's whole output."""

    def __init__(self, what: str, log: str):
        self.log = log
        super().__init__(f"{what}: {first_error_line(log)} (`nnhls --debug compile` shows the whole compiler output)")
        self.add_note(log)  # shown with the traceback (nnhls --debug)


_DIAGNOSTIC_ERROR = re.compile(r"(^|: )(fatal )?error: ", re.IGNORECASE)


def first_error_line(log: str) -> str:
    """The compiler's first `error:` diagnostic (else its first line), made one line. Only the
    diagnostic form counts: a path may contain the word (an `In file included from .../error_x/`)."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    chosen = next((line for line in lines if _DIAGNOSTIC_ERROR.search(line)), lines[0] if lines else "no output")
    return chosen[:400]


class CompilerNotFoundError(ToolNotFoundError):
    """No C++ compiler on PATH."""


DEFAULT_CACHE_MB = 2048


def cache_dir() -> Path:
    env = os.environ.get("NNHLS_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "nnhls"


def compiler() -> str:
    cxx = os.environ.get("CXX") or "g++"
    if shutil.which(cxx) is None:
        raise CompilerNotFoundError(f"the C++ compiler '{cxx}' is not on PATH (install g++ or set CXX)")
    return cxx


@cache
def _compiler_identity(cxx: str) -> str:
    """The compiler's version and what -march=native selects on this machine (part of every key)."""
    version = subprocess.run([cxx, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    target = subprocess.run([cxx, "-march=native", "-Q", "--help=target"], capture_output=True, text=True, check=False)
    native = [line.strip() for line in target.stdout.splitlines() if line.strip().startswith(("-march=", "-mtune="))]
    return version + "\n" + "\n".join(native)


def translation_units(project: str) -> list[str]:
    """The C++ units of the emulation library (the weights blob is assembled beside them)."""
    return [f"{project}_bridge.cpp", "firmware/weights/emulation_weights.cpp"]


def _include_flags(root: Path) -> list[str]:
    return [f"-I{root / 'firmware' / 'ap_types'}", f"-I{root / 'firmware'}", f"-I{root}"]


def _emulation_part(path: Path, root: Path) -> bytes:
    """What an emulation build reads of a header: a weights header only up to its `#else` (the
    values after it are the synthesis form), so new weight values only re-assemble the blob."""
    data = path.read_bytes()
    if path.parent == root / "firmware" / "weights":
        cut = data.find(b"\n#else\n")
        if cut >= 0:
            return data[:cut]
    return data


def _headers_digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted((root / "firmware").rglob("*.h")):
        h.update(str(path.relative_to(root)).encode())
        h.update(_emulation_part(path, root))
    return h.hexdigest()


@dataclass(frozen=True)
class _Unit:
    source: str
    """Path relative to the project root."""
    reads: tuple[str, ...]
    """Other files the unit reads besides the firmware headers."""
    cwd: str | None = None
    """Directory the compiler runs in (the assembler finds .incbin files there)."""


def _units(root: Path, project: str) -> list[_Unit]:
    return [
        _Unit(f"{project}_bridge.cpp", (f"firmware/{project}.cpp",)),
        _Unit("firmware/weights/emulation_weights.cpp", ()),
        _Unit(WEIGHTS_ASM, (WEIGHTS_BLOB,), cwd="firmware/weights"),
    ]


def _object_key(cxx: str, root: Path, unit: _Unit, headers: str, extra: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for part in (_compiler_identity(cxx), " ".join(CXX_FLAGS + extra), unit.source, headers):
        h.update(part.encode())
        h.update(b"\0")
    for rel in (unit.source, *unit.reads):
        h.update((root / rel).read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:32]


def build_library(root: Path, project: str, extra_flags: tuple[str, ...] = ()) -> Path:
    """Compile (or reuse) the project's emulation library; returns the shared library path."""
    cxx = compiler()
    objects_dir = cache_dir() / "objects"
    libs_dir = cache_dir() / "lib"
    objects_dir.mkdir(parents=True, exist_ok=True)
    libs_dir.mkdir(parents=True, exist_ok=True)
    headers = _headers_digest(root)
    units = _units(root, project)
    for unit in units:
        for rel in (unit.source, *unit.reads):
            if not (root / rel).is_file():
                raise CompileError(f"'{root / rel}' is missing", "write() the project first")
    keys = [_object_key(cxx, root, unit, headers, extra_flags) for unit in units]
    lib_key = hashlib.sha256("".join(keys).encode()).hexdigest()[:32]
    library = libs_dir / f"lib{project}-{lib_key}.so"
    if library.is_file():
        return library
    jobs: list[tuple[str, Path, Path, subprocess.Popen[str]]] = []
    for unit, key in zip(units, keys, strict=True):
        obj = objects_dir / f"{key}.o"
        if obj.is_file():
            continue
        tmp = temporary_name(obj)
        cmd = [cxx, *CXX_FLAGS, *extra_flags, *_include_flags(root), "-c", str(root / unit.source), "-o", str(tmp)]
        cwd = root / unit.cwd if unit.cwd else None
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        jobs.append((unit.source, obj, tmp, proc))
    failures: list[str] = []
    for source, obj, tmp, proc in jobs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            failures.append(f"{source}:\n{err.strip()}")
            tmp.unlink(missing_ok=True)
        else:
            os.replace(tmp, obj)
    if failures:
        raise CompileError(f"g++ failed to compile {failures[0].split(':', 1)[0]}", "\n".join(failures))
    tmp_lib = temporary_name(library)
    objects = [str(objects_dir / f"{key}.o") for key in keys]
    result = subprocess.run([cxx, "-shared", "-pthread", "-o", str(tmp_lib), *objects], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise CompileError("g++ failed to link the project", result.stderr.strip())
    os.replace(tmp_lib, library)
    prune_cache(keep={library, *(objects_dir / f"{key}.o" for key in keys)})
    return library


def cache_limit_bytes() -> int:
    value = os.environ.get("NNHLS_CACHE_MAX_MB", str(DEFAULT_CACHE_MB))
    try:
        megabytes = float(value)
    except ValueError:
        raise ConfigError(f"NNHLS_CACHE_MAX_MB must be a number of megabytes, got '{value}'") from None
    return int(megabytes * 2**20)


_TMP_PID = re.compile(r"\.(\d+)\.[0-9a-f]{16}\.tmp")


def temporary_name(path: Path) -> Path:
    """Where a build writes `path` before renaming it into place: beside it, named after this
    process (so a later build can tell an orphan from a build in progress) and a random token (so
    nobody sharing the cache can plant a link at the name g++ will write through, and two
    threads of one process never share a temporary)."""
    return path.with_name(f"{path.stem}.{os.getpid()}.{secrets.token_hex(8)}.tmp{path.suffix}")


def _remove_if_orphaned(path: Path) -> None:
    """Delete a temporary file of a build whose process is gone (killed mid-compile)."""
    match = _TMP_PID.search(path.name)
    if match is None:
        return
    pid = int(match.group(1))
    if pid == os.getpid():
        return
    try:
        os.kill(pid, 0)
        return  # still running
    except ProcessLookupError:
        path.unlink(missing_ok=True)
    except PermissionError:
        return  # another user's live process


def prune_cache(keep: set[Path]) -> None:
    """Delete the oldest cached objects and libraries until the cache fits its limit."""
    limit = cache_limit_bytes()
    entries: list[tuple[int, int, Path]] = []
    for folder in ("objects", "lib"):
        for path in (cache_dir() / folder).iterdir():
            if ".tmp" in path.name:
                _remove_if_orphaned(path)  # else another build's file in progress
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # pruned by a concurrent build
            entries.append((stat.st_mtime_ns, stat.st_size, path))
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries):
        if total <= limit:
            return
        if path in keep:
            continue
        path.unlink(missing_ok=True)  # a loaded library stays usable by the process holding it
        total -= size
