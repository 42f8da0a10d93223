"""WriterConfig: validated like every other key; WriteTar writes `<OutputDir>.tar.gz`."""

from __future__ import annotations

import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nnhls import converters
from nnhls.codegen.project import ProjectExistsError
from nnhls.config import ConfigError

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


def _link_two_models(tmp_path: Path, namespaces: tuple[str | None, str | None]) -> subprocess.CompletedProcess[str]:
    """Compile the firmware of two copies of one model (same ProjectName, same layer names) and link
    them into one program that calls both: what WriterConfig.Namespace is for."""
    objects: list[str] = []
    for i, namespace in enumerate(namespaces):
        root = tmp_path / f"m{i}"
        _model(root, **({"Namespace": namespace} if namespace else {})).write()
        q = f"{namespace}::" if namespace else ""
        caller = tmp_path / f"call{i}.cpp"
        caller.write_text(
            f'#include "jet_tagger.h"\n'
            f"void call{i}() {{ {q}input_t x[16] = {{}}; {q}output_softmax_result_t y[5]; {q}jet_tagger(x, y); }}\n"
        )
        for source in (root / "firmware" / "jet_tagger.cpp", caller):
            obj = tmp_path / f"{source.stem}{i}.o"
            includes = [f"-I{root / 'firmware' / 'ap_types'}", f"-I{root / 'firmware'}"]
            subprocess.run(["g++", "-std=c++17", "-c", *includes, str(source), "-o", str(obj)], check=True)
            objects.append(str(obj))
    main = tmp_path / "main.cpp"
    main.write_text("void call0();\nvoid call1();\nint main() { call0(); call1(); return 0; }\n")
    return subprocess.run(["g++", str(main), *objects, "-o", str(tmp_path / "both")], capture_output=True, text=True, check=False)


def test_namespace_lets_two_models_share_one_program(tmp_path: Path) -> None:
    root = tmp_path / "ns"
    hls_model = _model(root, Namespace="tagger")
    hls_model.compile()
    for rel in ("firmware/jet_tagger.h", "firmware/jet_tagger.cpp", "firmware/defines.h", "firmware/parameters.h", "firmware/weights/fc1_w.h"):
        assert "namespace tagger {" in (root / rel).read_text(), rel
    x = np.load(EXAMPLE / "inputs.npy")[:20]
    np.testing.assert_array_equal(hls_model.predict(x), hls_model.predict(x, emulator="numpy"))
    assert _link_two_models(tmp_path / "with", ("first", "second")).returncode == 0
    clash = _link_two_models(tmp_path / "without", (None, None))
    assert clash.returncode != 0 and "multiple definition" in clash.stderr


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


@pytest.mark.parametrize("stream", ["both", "file", "stdout"])
def test_testbench_output_stream(tmp_path: Path, stream: str) -> None:
    """TBOutputStream: results in tb_data/csim_results.log (both, file) or on stdout (stdout)."""
    root = tmp_path / "prj"
    hls_model = _model(root, TBOutputStream=stream)
    hls_model.write()
    # the top function's literal `#pragma HLS` lines are for the HLS tool
    flags = ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-Wno-unknown-pragmas", f"-I{root / 'firmware' / 'ap_types'}", f"-I{root / 'firmware'}", f"-I{root}"]
    exe = tmp_path / "tb"
    subprocess.run(["g++", *flags, str(root / "jet_tagger_test.cpp"), str(root / "firmware" / "jet_tagger.cpp"), "-o", str(exe)], check=True)
    run = subprocess.run([str(exe)], cwd=root, capture_output=True, text=True, check=True)
    x = np.load(EXAMPLE / "inputs.npy")
    expected = np.asarray(hls_model.predict(x, emulator="numpy"))
    log = root / "tb_data" / "csim_results.log"
    if stream == "stdout":
        assert not log.exists()
        printed = np.array([[float(v) for v in line.split()] for line in run.stdout.splitlines() if line[:1].isdigit() or line[:1] == "-"])
        np.testing.assert_array_equal(printed, expected)
    else:
        np.testing.assert_array_equal(np.loadtxt(log, ndmin=2), expected)
        assert ("sample 0:" in run.stdout) == (stream == "both")
