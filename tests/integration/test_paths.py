"""One rule for paths (README, "Paths"): a relative path is relative to the working directory, as
in hls4ml, wherever it is given (command line, YAML, Python); a YAML value tagged `!relative` is
relative to the YAML's folder, and nnhls writes the paths of the YAML files it writes itself that
way (absolute when it prints a YAML to stdout), so they work wherever they move with the model.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from nnhls import converters
from nnhls.config import RelativePath, load_yaml_text
from nnhls.utils import link_existing_project

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jet_tagger"


def nnhls(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "nnhls.tools.nnhls", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, check=False, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result


def test_example_output_goes_to_the_working_directory(tmp_path: Path) -> None:
    """`convert --example -o foreign` writes ./foreign, not into the installed example folder."""
    before = sorted(p.name for p in EXAMPLE.iterdir())
    nnhls("convert", "--example", "-o", "foreign", cwd=tmp_path)
    assert (tmp_path / "foreign" / "firmware" / "jet_tagger.cpp").is_file()
    assert sorted(p.name for p in EXAMPLE.iterdir()) == before


def test_config_on_stdout_then_convert_from_anywhere(tmp_path: Path) -> None:
    """`nnhls config model > sub/config.yml; nnhls convert sub/config.yml`: the model path it printed
    is absolute, OutputDir is relative to the working directory of `convert`."""
    shutil.copy(EXAMPLE / "jet_tagger.keras", tmp_path / "model.keras")
    (tmp_path / "sub").mkdir()
    printed = nnhls("config", "model.keras", cwd=tmp_path).stdout
    (tmp_path / "sub" / "config.yml").write_text(printed)
    config = load_yaml_text(printed)
    assert Path(config["KerasModel"]) == (tmp_path / "model.keras").resolve()
    assert config["OutputDir"] == "model_prj"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    nnhls("convert", tmp_path / "sub" / "config.yml", cwd=elsewhere)
    assert (elsewhere / "model_prj" / "firmware" / "model.cpp").is_file()
    assert not (tmp_path / "sub" / "model_prj").exists()


def test_config_file_moves_with_its_model(tmp_path: Path) -> None:
    """`nnhls config --output-file sub/config.yml` tags the model path `!relative`: moving the
    folder that holds both keeps the YAML working from any working directory."""
    here = tmp_path / "here"
    (here / "sub").mkdir(parents=True)
    shutil.copy(EXAMPLE / "jet_tagger.keras", here / "model.keras")
    nnhls("config", "model.keras", "--output-file", "sub/config.yml", cwd=here)
    text = (here / "sub" / "config.yml").read_text()
    assert "KerasModel: !relative" in text
    assert load_yaml_text(text)["KerasModel"] == RelativePath("../model.keras")
    moved = tmp_path / "moved"
    here.rename(moved)
    nnhls("convert", moved / "sub" / "config.yml", "-o", "prj", cwd=tmp_path)
    assert (tmp_path / "prj" / "firmware" / "model.cpp").is_file()


def test_yaml_paths_follow_the_working_directory_in_python_too(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """convert_from_config reads plain relative paths against the working directory (hls4ml)."""
    folder = tmp_path / "configs"
    folder.mkdir()
    shutil.copy(EXAMPLE / "jet_tagger.keras", tmp_path / "model.keras")
    (folder / "c.yml").write_text("KerasModel: model.keras\nOutputDir: out\nProjectName: p\n")
    monkeypatch.chdir(tmp_path)
    model = converters.convert_from_config(folder / "c.yml")
    assert Path(model.output_dir).resolve() == (tmp_path / "out").resolve()


def test_project_yaml_is_anchored_to_the_project(tmp_path: Path) -> None:
    """The project's hls4ml_config.yml tags its paths `!relative` to the project folder: it can be
    reopened and reconverted from another working directory after moving project and model."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(EXAMPLE / "jet_tagger.keras", work / "model.keras")
    np.save(work / "x.npy", np.load(EXAMPLE / "inputs.npy")[:4])
    nnhls("convert", "model.keras", "-o", "prj", cwd=work)
    written = load_yaml_text((work / "prj" / "hls4ml_config.yml").read_text())
    assert isinstance(written["KerasModel"], RelativePath) and written["KerasModel"] == "../model.keras"
    assert written["OutputDir"] == "."
    moved = tmp_path / "moved"
    work.rename(moved)
    reopened = link_existing_project(moved / "prj")
    assert Path(reopened.output_dir).resolve() == (moved / "prj").resolve()
    nnhls("convert", moved / "prj" / "hls4ml_config.yml", "--dump-ir", "nn", cwd=tmp_path)
