"""Writing a project never goes through a symbolic link, never loses a file of the user's, and
never lets two writers interleave (issue 12). No g++ here: only the writer."""

from __future__ import annotations

import fcntl
import json
import os
import warnings
from pathlib import Path

import pytest

from nnhls import converters
from nnhls.codegen.project import (
    BACKUP_SUFFIX,
    LOCK,
    MARKER,
    ProjectBusyError,
    ProjectExistsError,
    UnsafePathError,
    UserFileMovedWarning,
    project_lock,
)
from nnhls.compiler.hls_model import HLSModel

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jet_tagger"


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> HLSModel:
    out = tmp_path_factory.mktemp("safety") / "prj"
    return converters.convert_from_keras_model(
        str(EXAMPLE / "jet_tagger.keras"), output_dir=str(out), project_name="jet", input_data_tb=str(EXAMPLE / "inputs.npy"),
    )


def _at(model: HLSModel, root: Path) -> HLSModel:
    return HLSModel(None, {**model.config, "OutputDir": str(root)}, hls_module=model.hls_module)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.mark.parametrize(
    "victim", ["README.md", "hls4ml_config.yml", MARKER, "firmware", "firmware/weights", "firmware/defines.h", "jet.hls.mlir", LOCK]
)
def test_no_write_through_symlinks(model: HLSModel, tmp_path: Path, victim: str) -> None:
    """A generated file or folder replaced by a link to a place outside: refused, outside untouched."""
    root = tmp_path / "prj"
    project = _at(model, root)
    project.write()
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "target"
    path = root / victim
    if path.is_dir():
        os.rename(path, target)  # the link points at a real copy of the folder
    else:
        target.write_text("precious")
        path.unlink()
    path.symlink_to(target, target_is_directory=target.is_dir())
    before = _tree(outside)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        project.write()
    with pytest.raises(UnsafePathError, match="symbolic link"):
        project.compile()
    assert _tree(outside) == before


def test_tarball_never_written_through_a_link(model: HLSModel, tmp_path: Path) -> None:
    root = tmp_path / "prj"
    project = HLSModel(None, {**model.config, "OutputDir": str(root), "WriterConfig": {"WriteTar": True}}, hls_module=model.hls_module)
    (tmp_path / "precious").write_text("precious")
    (tmp_path / "prj.tar.gz").symlink_to(tmp_path / "precious")
    with pytest.raises(UnsafePathError):
        project.write()
    assert (tmp_path / "precious").read_text() == "precious"


def test_force_moves_user_files_aside(model: HLSModel, tmp_path: Path) -> None:
    root = tmp_path / "prj"
    mine = {
        "README.md": "my notes",
        "build_prj.tcl": "my script",
        "firmware/parameters.h": "// my parameters",
        "hls4ml_config.yml": "mine: 1",
        "tb_data/tb_input_features.dat": "1 2 3",
        "notes.txt": "untouched",
    }
    for rel, text in mine.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    project = _at(model, root)
    with pytest.raises(ProjectExistsError, match="force=True"):
        project.write()
    with pytest.warns(UserFileMovedWarning, match="README.md"):
        project.write(force=True)
    for rel, text in mine.items():
        kept = root / rel if rel == "notes.txt" else root / (rel + BACKUP_SUFFIX)
        assert kept.read_text() == text, rel
    # a second write: the generated files are ours now, nothing more is moved
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserFileMovedWarning)
        project.write()
    assert (root / "notes.txt").read_text() == "untouched"


@pytest.mark.parametrize(
    "marker",
    ["{not json", "[]", '{"generator": "nnhls", "files": "x"}', '{"generator": "nnhls", "files": ["../outside.txt"]}',
     '{"generator": "nnhls", "files": ["/etc/passwd"]}', b"\xff\xfe"],
)
def test_corrupt_marker_is_refused_and_force_keeps_user_files(model: HLSModel, tmp_path: Path, marker: str | bytes) -> None:
    root = tmp_path / "prj"
    project = _at(model, root)
    project.write()
    (tmp_path / "outside.txt").write_text("precious")
    (root / "README.md").write_text("edited by me")
    (root / MARKER).write_bytes(marker if isinstance(marker, bytes) else marker.encode())
    with pytest.raises(ProjectExistsError, match="corrupt"):
        project.write()
    with pytest.raises(ProjectExistsError, match="corrupt"):
        project.write(force=True)
    (root / MARKER).unlink()
    with pytest.warns(UserFileMovedWarning):
        project.write(force=True)
    assert (root / ("README.md" + BACKUP_SUFFIX)).read_text() == "edited by me"
    assert (tmp_path / "outside.txt").read_text() == "precious"
    assert json.loads((root / MARKER).read_text())["generator"] == "nnhls"


def test_second_writer_waits_then_is_refused(model: HLSModel, tmp_path: Path) -> None:
    root = tmp_path / "prj"
    with project_lock(root):
        fd = os.open(root / LOCK, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        with pytest.raises(ProjectBusyError, match="another process"), project_lock(root, wait=0.2):
            pass
    with project_lock(root, wait=0.2):
        pass


def test_no_temporary_files_left(model: HLSModel, tmp_path: Path) -> None:
    root = tmp_path / "prj"
    _at(model, root).write()
    assert not [p for p in root.rglob("*.tmp")]
