"""Concurrent and interrupted runs (issue 12): two processes compiling one model into one cache,
a compile killed at random moments and rerun, two processes writing one OutputDir. Every result
must equal a clean run's, and nothing half-written may be trusted."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys, numpy as np
from nnhls import converters
out, model = sys.argv[1], sys.argv[2]
hls = converters.convert_from_onnx_model(model, output_dir=out, project_name="conc")
hls.write(force=True)
hls.compile()
np.save(out + ".y.npy", hls.predict(np.linspace(-2, 2, 40).reshape(5, 8)))
"""


@pytest.fixture(scope="module")
def onnx_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(1)
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc1"), helper.make_node("Relu", ["h"], ["y"], name="relu")]
    inits = [numpy_helper.from_array(rng.normal(size=(8, 6)).astype(np.float32), "w1"),
             numpy_helper.from_array(rng.normal(size=6).astype(np.float32), "b1")]
    graph = helper.make_graph(nodes, "conc", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])], inits)
    path = tmp_path_factory.mktemp("conc") / "m.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return path


def _start(out: Path, model: Path, cache: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NNHLS_CACHE_DIR": str(cache)}
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(out), str(model)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _finish(proc: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    out, err = proc.communicate(timeout=600)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture(scope="module")
def clean_run(onnx_file: Path, tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    folder = tmp_path_factory.mktemp("clean")
    result = _finish(_start(folder / "prj", onnx_file, folder / "cache"))
    assert result.returncode == 0, result.stderr
    return np.load(folder / "prj.y.npy")


def test_two_processes_compile_into_one_cache(onnx_file: Path, clean_run: np.ndarray, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    procs = [_start(tmp_path / f"prj{i}", onnx_file, cache) for i in range(2)]
    for proc in procs:
        result = _finish(proc)
        assert result.returncode == 0, result.stderr
    for i in range(2):
        np.testing.assert_array_equal(np.load(tmp_path / f"prj{i}.y.npy"), clean_run)
    assert not list(cache.rglob("*.tmp*"))


def test_killed_compiles_then_rerun(onnx_file: Path, clean_run: np.ndarray, tmp_path: Path) -> None:
    """SIGKILL the whole process group at random moments; the rerun matches the clean run and
    leaves no orphaned temporary of the killed builds in the cache."""
    cache = tmp_path / "cache"
    rng = random.Random(7)
    for _ in range(3):
        proc = _start(tmp_path / "prj", onnx_file, cache)
        time.sleep(rng.uniform(0.5, 6.0))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    time.sleep(1.0)  # compilers of a killed driver may still finish writing their temporaries
    result = _finish(_start(tmp_path / "prj", onnx_file, cache))
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "prj.y.npy"), clean_run)
    assert not [p for p in cache.rglob("*.tmp*")], "orphaned temporaries were not cleaned up"
    assert not list((tmp_path / "prj").rglob("*.tmp"))


def test_two_writers_of_one_output_dir(onnx_file: Path, clean_run: np.ndarray, tmp_path: Path) -> None:
    """Both succeed one after the other (the lock serialises them) or one is refused; the
    project left behind is whole: its marker lists every file and it predicts as a clean run."""
    cache = tmp_path / "cache"
    procs = [_start(tmp_path / "prj", onnx_file, cache) for _ in range(2)]
    results = [_finish(p) for p in procs]
    assert any(r.returncode == 0 for r in results), [r.stderr for r in results]
    for r in results:
        assert r.returncode == 0 or "another process is writing" in r.stderr, r.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "prj.y.npy"), clean_run)
    import json

    listed = json.loads((tmp_path / "prj" / ".nnhls-project.json").read_text())["files"]
    assert all((tmp_path / "prj" / f).is_file() for f in listed)
