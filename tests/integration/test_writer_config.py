"""WriterConfig: validated like every other key; WriteTar writes `<OutputDir>.tar.gz`."""

from __future__ import annotations

import re
import tarfile
from pathlib import Path
from typing import Any

import pytest

from nnhls import converters
from nnhls.codegen.project import ProjectExistsError
from nnhls.compiler.config import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jet_tagger"


def _model(out: Path, **writer: Any) -> Any:
    config = converters.load_yaml(EXAMPLE / "config.yml")
    config["OutputDir"] = str(out)
    config["WriterConfig"] = writer
    return converters.convert_from_config(config)


def test_write_tar(tmp_path: Path) -> None:
    hls_model = _model(tmp_path / "prj", WriteTar=True)
    hls_model.write()
    archive = tmp_path / "prj.tar.gz"
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "prj/firmware/jet_tagger.cpp" in names and "prj/build_prj.tcl" in names
    hls_model.write()  # our own archive is replaced without force
    assert archive.is_file()


def test_write_tar_never_replaces_a_foreign_file(tmp_path: Path) -> None:
    (tmp_path / "prj.tar.gz").write_text("mine")
    hls_model = _model(tmp_path / "prj", WriteTar=True)
    with pytest.raises(ProjectExistsError, match=r"prj\.tar\.gz' exists and was not written by nnhls"):
        hls_model.write()
    assert (tmp_path / "prj.tar.gz").read_text() == "mine"


def test_namespace_is_reported_as_unsupported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _model(tmp_path / "prj", Namespace="tagger").write()
    assert "warning: WriterConfig.Namespace 'tagger' is not supported yet" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("writer", "message"),
    [
        ({"WriteTar": "yes"}, "WriterConfig.WriteTar must be true or false, got 'yes'"),
        ({"TBOutputStream": "screen"}, "WriterConfig.TBOutputStream: invalid value 'screen'; valid values: both, stdout, file"),
        ({"Namespace": "my-ns"}, "WriterConfig.Namespace must be a valid C identifier"),
        ({"WriteTarr": True}, "did you mean 'WriteTar'"),
    ],
)
def test_writer_config_is_validated(tmp_path: Path, writer: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        _model(tmp_path / "prj", **writer)
