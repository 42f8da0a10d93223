"""Temporary names of the shared build cache (nnhls/codegen/build.py): unpredictable, yet
recognisable as orphans once their process is gone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nnhls.codegen import build


def test_temporary_names_are_unpredictable_and_per_call(tmp_path: Path) -> None:
    obj = tmp_path / "0123abcd.o"
    names = {build.temporary_name(obj) for _ in range(50)}
    assert len(names) == 50, "two builds in one process would share a temporary"
    for name in names:
        assert name.parent == tmp_path and name.suffix == ".o"
        assert name.name.startswith(f"0123abcd.{os.getpid()}.")
        assert build._TMP_PID.search(name.name)  # pyright: ignore[reportPrivateUsage]


def test_orphans_of_dead_processes_are_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NNHLS_CACHE_DIR", str(tmp_path))
    for folder in ("objects", "lib"):
        (tmp_path / folder).mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    orphan = tmp_path / "objects" / f"k.{dead_pid}.{'a' * 16}.tmp.o"
    live = build.temporary_name(tmp_path / "objects" / "k.o")
    for path in (orphan, live):
        path.write_bytes(b"partial")
    build.prune_cache(keep=set())
    assert not orphan.exists()
    assert live.exists(), "a temporary of a live build was deleted"
