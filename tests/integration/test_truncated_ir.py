"""Truncated or corrupted IR fails fast with one parse error, never hangs (issue 12).

xDSL 0.74's string-literal regex backtracks exponentially on an unterminated string, so a file
cut inside a layer name or a `dense<"0x...">` literal used to hang nnhls-opt and `nnhls predict`
for minutes. Every cut below must give a clean error (or a valid module) quickly.
"""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from xdsl.utils.exceptions import DiagnosticException, ParseError, VerifyException

from nnhls import converters
from nnhls.compiler.context import make_context
from nnhls.compiler.hls_model import HLSModel
from nnhls.compiler.ir_text import IRTextError, parse_ir

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jet_tagger"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> HLSModel:
    out = tmp_path_factory.mktemp("ir") / "prj"
    model = converters.convert_from_keras_model(str(EXAMPLE / "jet_tagger.keras"), output_dir=str(out), project_name="jet")
    model.write()
    return model


def _cuts(text: str, rng: random.Random) -> list[int]:
    """Cut points: inside every kind of string (layer names, hex weights), and random ones."""
    inside = [i + k for i in range(len(text)) if text[i] == '"' for k in (1, 2, 9, 40)]
    return sorted(set(rng.sample(inside, min(60, len(inside))) + [rng.randrange(len(text)) for _ in range(60)]))


@pytest.mark.parametrize("stage", ["nn", "hls"])
def test_every_cut_fails_fast(project: HLSModel, stage: str) -> None:
    text = project.ir(stage) if stage == "nn" else (project.output_dir / "jet.hls.mlir").read_text()
    assert 'dense<"0x' in text or "dense<" in text
    rng = random.Random(12)
    ctx = make_context()
    slowest = 0.0
    for cut in _cuts(text, rng):
        start = time.perf_counter()
        with contextlib.suppress(IRTextError, ParseError, VerifyException, DiagnosticException):
            parse_ir(ctx, text[:cut], "cut.mlir").verify()
        slowest = max(slowest, time.perf_counter() - start)
    assert slowest < 5.0


def test_corrupted_bytes_fail_fast(project: HLSModel) -> None:
    text = (project.output_dir / "jet.hls.mlir").read_text()
    rng = random.Random(3)
    ctx = make_context()
    for _ in range(40):
        chars = list(text)
        for _ in range(3):
            chars[rng.randrange(len(chars))] = rng.choice('"\\{}<>()[]:,=%@#!x0\n')
        start = time.perf_counter()
        with contextlib.suppress(IRTextError, ParseError, VerifyException, DiagnosticException, ValueError):
            parse_ir(ctx, "".join(chars), "bad.mlir").verify()
        assert time.perf_counter() - start < 5.0


def test_deep_nesting_is_an_error() -> None:
    with pytest.raises((IRTextError, ParseError)):
        parse_ir(make_context(), "builtin.module attributes {a = " + "[" * 20000 + "]" * 20000 + "} {}", "deep.mlir")


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=env, check=False)


def test_tools_on_a_truncated_file(project: HLSModel, tmp_path: Path) -> None:
    """nnhls-opt and `nnhls predict` on IR cut inside a hex literal: one error line, no hang."""
    text = (project.output_dir / "jet.hls.mlir").read_text()
    cut = text.index('"', text.index("dense<")) + 30 if 'dense<"' in text else text.index("layer = ") + 12
    (tmp_path / "cut.mlir").write_text(text[:cut])
    result = _run(["nnhls.tools.nnhls_opt", "cut.mlir"], tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "cut.mlir:" in result.stderr
    copy = tmp_path / "prj"
    copy.mkdir()
    for name in ("hls4ml_config.yml", "jet.hls.mlir"):
        (copy / name).write_text((project.output_dir / name).read_text())
    (copy / "jet.hls.mlir").write_text(text[:cut])
    (tmp_path / "x.txt").write_text(" ".join(["0.5"] * 16) + "\n")
    result = _run(["nnhls.tools.nnhls", "predict", "prj", "-i", "x.txt", "-o", "y.npy", "--emulator", "numpy"], tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "unterminated" in result.stderr or "error" in result.stderr
