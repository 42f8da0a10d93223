"""The sweep output directory: results streamed to CSV, the manifest, the lock, Parquet.

    <output>/
      sweep.json        what the results were measured for (base config and file hashes, measurements)
      results.csv       one row per finished point, appended and flushed as each point finishes
      results.parquet   the same table, rewritten every 30 s and when a run ends (when pyarrow is installed)
      points/<id>/      the project of each point (id: 12 hex digits of the point's settings)

The CSV is the record a rerun resumes from: a line cut short by a kill is dropped, points whose
status is ok or failed are skipped, the others run again. A rerun with a different base config,
model or data file, or measurement set is refused (its results would not be comparable) unless
restarted. A lock file keeps two sweeps from writing into one directory at the same time.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nnhls.compiler.sweep.errors import SweepError
from nnhls.compiler.sweep.point import FINAL_STATUSES

RESULTS_CSV = "results.csv"
RESULTS_PARQUET = "results.parquet"
MANIFEST = "sweep.json"
LOCK = ".sweep.lock"
POINTS_DIR = "points"
FORMAT = 1

LEADING: tuple[str, ...] = ("index", "point", "status")
METRICS: tuple[str, ...] = (
    "convert_s", "multipliers", "bops", "latency", "ii", "agreement", "accuracy", "max_abs_diff",
    "mean_abs_diff", "synth_latency_min", "synth_latency_max", "synth_ii_min", "synth_ii_max", "synth_clock_ns",
)  # fmt: skip
TRAILING: tuple[str, ...] = ("error", "warnings", "time_s", "worker")
RUN_COLUMNS: tuple[str, ...] = ("time_s", "worker", "convert_s")
"""Columns that describe the run rather than the design (they differ between two identical sweeps)."""


def column_order(keys: Sequence[str], metrics: Sequence[str]) -> list[str]:
    """Leading columns, swept keys, metrics (known ones first, in a fixed order), trailing columns."""
    known = [m for m in METRICS if m in metrics]
    other = sorted(m for m in metrics if m not in METRICS)
    return [*LEADING, *keys, *known, *other, *TRAILING]


def is_metric(column: str) -> bool:
    return column in METRICS or column.startswith("synth_")


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class ResultsStore:
    """The results of one sweep directory (see the module docstring); use as a context manager."""

    def __init__(self, directory: Path, keys: Sequence[str], fingerprint: Mapping[str, Any], restart: bool = False) -> None:
        self.directory = directory
        self.keys = tuple(keys)
        self.fingerprint = dict(fingerprint)
        self.restart = restart
        self.header: list[str] = []
        self.rows: dict[str, dict[str, str]] = {}
        self._lock: Any = None

    @property
    def csv_path(self) -> Path:
        return self.directory / RESULTS_CSV

    @property
    def points_dir(self) -> Path:
        return self.directory / POINTS_DIR

    # ----- opening ------------------------------------------------------------------------------------------
    def __enter__(self) -> ResultsStore:
        self._prepare_directory()
        self._lock = _acquire_lock(self.directory / LOCK)
        try:
            self._check_manifest()
            self._read_existing()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _prepare_directory(self) -> None:
        d = self.directory
        if d.is_symlink():
            raise SweepError(f"the sweep output '{d}' is a symbolic link: give a real directory")
        if d.exists() and not d.is_dir():
            raise SweepError(f"the sweep output '{d}' exists and is not a directory")
        if d.is_dir() and any(d.iterdir()) and not (d / MANIFEST).is_file():
            raise SweepError(f"'{d}' is not empty and holds no nnhls sweep ({MANIFEST}): choose another output directory")
        d.mkdir(parents=True, exist_ok=True)
        for name in (MANIFEST, RESULTS_CSV, RESULTS_PARQUET, POINTS_DIR, LOCK):
            if (d / name).is_symlink():
                raise SweepError(f"'{d / name}' is a symbolic link: refusing to write through it")

    def _check_manifest(self) -> None:
        manifest = self.directory / MANIFEST
        if manifest.is_file() and not self.restart:
            try:
                saved = json.loads(manifest.read_text())
            except ValueError:
                raise SweepError(f"'{manifest}' is not readable JSON: rerun with --restart to start the sweep again") from None
            previous = saved.get("fingerprint") if isinstance(saved, dict) else None
            if previous != self.fingerprint:
                changed = _changed_parts(previous, self.fingerprint)
                raise SweepError(
                    f"'{self.directory}' holds results of a different sweep ({changed} changed): "
                    "use another output directory, or --restart (restart=True) to discard them"
                )
            return
        if self.restart:
            for name in (RESULTS_CSV, RESULTS_PARQUET):
                (self.directory / name).unlink(missing_ok=True)
            if self.points_dir.is_dir():
                shutil.rmtree(self.points_dir)
        _atomic_write(manifest, json.dumps({"format": FORMAT, "fingerprint": self.fingerprint}, indent=2, sort_keys=True) + "\n")

    def _read_existing(self) -> None:
        path = self.csv_path
        if not path.is_file():
            return
        text = _complete_lines(path)
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if not header or header[: len(LEADING)] != list(LEADING):
            raise SweepError(f"'{path}' is not an nnhls sweep results file: rerun with --restart to start again")
        self.header = header
        for fields in reader:
            if len(fields) != len(header):
                continue  # a row cut short: that point runs again
            row = dict(zip(header, fields, strict=True))
            self.rows[row["point"]] = row

    # ----- queries -------------------------------------------------------------------------------------------
    def finished(self) -> set[str]:
        """Points whose row says ok or failed (a rerun skips them)."""
        return {p for p, row in self.rows.items() if row.get("status") in FINAL_STATUSES}

    # ----- writing -------------------------------------------------------------------------------------------
    def append(self, row: Mapping[str, Any]) -> None:
        """Add one finished point's row and flush it to disk."""
        text_row = {k: _cell(v) for k, v in row.items()}
        fixed = (*LEADING, *TRAILING)
        # settings of earlier sweeps into this directory keep their columns
        keys = [*self.keys, *(c for c in self.header if c not in fixed and c not in self.keys and not is_metric(c))]
        metrics = dict.fromkeys(c for c in [*self.header, *text_row] if c not in fixed and c not in keys)
        wanted = column_order(keys, list(metrics))
        if wanted != self.header:
            self._rewrite(wanted)
        self.rows[text_row["point"]] = text_row
        with self.csv_path.open("a", newline="") as stream:
            csv.writer(stream).writerow([text_row.get(c, "") for c in self.header])
            stream.flush()
            os.fsync(stream.fileno())

    def _rewrite(self, header: list[str]) -> None:
        """Rewrite the CSV with a new header (new metric columns), atomically."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        for row in self.rows.values():
            writer.writerow([row.get(c, "") for c in header])
        _atomic_write(self.csv_path, buffer.getvalue())
        self.header = header


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _complete_lines(path: Path) -> str:
    """The file's text up to its last newline; a line cut short by a kill is cut off the file too."""
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end != len(data):
        with path.open("r+b") as stream:
            stream.truncate(end)
    return data[:end].decode("utf-8", errors="replace")


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def _changed_parts(previous: Any, current: Mapping[str, Any]) -> str:
    if not isinstance(previous, dict):
        return "the format"
    names = sorted(k for k in set(previous) | set(current) if previous.get(k) != current.get(k))  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType, reportUnknownArgumentType]
    return ", ".join(names) or "nothing"  # pyright: ignore[reportUnknownArgumentType]


class _Lock:
    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def close(self) -> None:
        self.stream.close()  # closing the file releases the lock (also when the process is killed)


def _acquire_lock(path: Path) -> _Lock:
    stream = path.open("a")
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        return _Lock(stream)
    try:
        fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        stream.close()
        raise SweepError(f"another sweep is writing into '{path.parent}': wait for it or use another output directory") from None
    return _Lock(stream)


@contextmanager
def opened(directory: Path, keys: Sequence[str], fingerprint: Mapping[str, Any], restart: bool = False) -> Iterator[ResultsStore]:
    with ResultsStore(directory, keys, fingerprint, restart) as store:
        yield store


def write_parquet(directory: Path, table: Any) -> Path | None:
    """Rewrite results.parquet from a DataFrame when pyarrow is installed (else None)."""
    from nnhls.compiler.sweep.errors import _missing  # pyright: ignore[reportPrivateUsage]

    if _missing("pyarrow"):
        return None
    path = directory / RESULTS_PARQUET
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    table.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path
