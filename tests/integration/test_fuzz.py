"""Seeded fuzzing of everything a user hands to nnhls (issue 12): ONNX and .keras files with flipped
bytes and truncations, hostile layer names, mutated configs and converter arguments.

Every case must end in success or in one of nnhls' own exceptions with a one-line message, within a
time bound, and touch nothing outside its output directory. The number of cases per family is
NNHLS_FUZZ_CASES (default: a modest number for CI); the seed NNHLS_FUZZ_SEED (default 2026).
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from xdsl.utils.exceptions import DiagnosticException, ParseError

from nnhls import converters

CASES = int(os.environ.get("NNHLS_FUZZ_CASES", "12"))
SEED = int(os.environ.get("NNHLS_FUZZ_SEED", "2026"))
TIME_LIMIT = 60.0
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jet_tagger"
HOSTILE = ['x"; system("touch PWNED"); "', "a\\", "new\nline", "??/", "", " ", "/0/Gemm", "_x", "class", "INFINITY",
           "é☃", "\x00", "a" * 5000, "{x}", "$(touch PWNED)", "[exec touch PWNED]", "../../etc", "fc1_w"]


def _snapshot(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _expect_clean(run: Callable[[], Any], workdir: Path, label: str) -> str:
    """Run one case in `workdir`; returns 'ok' or the error class. Fails the test on a foreign
    exception, a multi-line message, a slow case, a marker file, or a file outside prj/."""
    before = _snapshot(workdir)
    cwd = os.getcwd()
    os.chdir(workdir)
    start = time.perf_counter()
    try:
        run()
        outcome = "ok"
    except (ParseError, DiagnosticException) as error:  # xDSL's parse / verify errors of our IR
        outcome = type(error).__name__
    except Exception as error:
        module = type(error).__module__
        assert module.startswith("nnhls."), f"{label}: foreign {type(error).__module__}.{type(error).__name__}: {error!s:.300}"
        assert "\n" not in str(error).strip(), f"{label}: multi-line message {error!s:.300}"
        outcome = type(error).__name__
    finally:
        os.chdir(cwd)
    assert time.perf_counter() - start < TIME_LIMIT, f"{label}: took {time.perf_counter() - start:.1f} s"
    assert not (workdir / "PWNED").exists(), label
    outside = {p for p in _snapshot(workdir) - before if not p.startswith("prj")}
    assert not outside, f"{label}: wrote outside the output directory: {sorted(outside)[:5]}"
    return outcome


def _onnx_mlp(names: list[str] | None = None) -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    n = names or ["fc1", "relu1", "fc2", "softmax"]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"], name=n[0]),
        helper.make_node("Relu", ["h1"], ["h2"], name=n[1]),
        helper.make_node("Gemm", ["h2", "w2", "b2"], ["h3"], name=n[2]),
        helper.make_node("Softmax", ["h3"], ["y"], name=n[3]),
    ]
    inits = [numpy_helper.from_array(a.astype(np.float32), k) for k, a in
             {"w1": rng.normal(size=(8, 6)), "b1": rng.normal(size=6), "w2": rng.normal(size=(6, 3)), "b2": rng.normal(size=3)}.items()]
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    kind = rng.choice(["flip", "truncate", "splice", "zero"])
    buf = bytearray(data)
    if kind == "truncate":
        return bytes(buf[: rng.randrange(len(buf))])
    if kind == "splice":
        i = rng.randrange(len(buf))
        return bytes(buf[:i] + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))) + buf[i:])
    for _ in range(rng.randrange(1, 8)):
        i = rng.randrange(len(buf))
        buf[i] = 0 if kind == "zero" else buf[i] ^ (1 << rng.randrange(8))
    return bytes(buf)


def _convert_and_write(path: Path, kind: str) -> Callable[[], Any]:
    def run() -> Any:
        convert = converters.convert_from_onnx_model if kind == "onnx" else converters.convert_from_keras_model
        model = convert(str(path), output_dir="prj", project_name="fuzz")
        model.write(force=True)
        return model.predict(np.zeros((2, *model.firmware.inputs[0].shape)), emulator="numpy")

    return run


def test_fuzz_onnx_files(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    data = _onnx_mlp().SerializeToString()
    outcomes = []
    for case in range(CASES):
        (tmp_path / "m.onnx").write_bytes(_mutate_bytes(data, rng))
        outcomes.append(_expect_clean(_convert_and_write(tmp_path / "m.onnx", "onnx"), tmp_path, f"onnx case {case}"))
    assert "ok" in outcomes or len(set(outcomes)) >= 1


def test_fuzz_keras_files(tmp_path: Path) -> None:
    rng = random.Random(SEED + 1)
    data = (EXAMPLE / "jet_tagger.keras").read_bytes()
    for case in range(CASES):
        (tmp_path / "m.keras").write_bytes(_mutate_bytes(data, rng))
        _expect_clean(_convert_and_write(tmp_path / "m.keras", "keras"), tmp_path, f"keras case {case}")


def test_fuzz_hostile_onnx_names(tmp_path: Path) -> None:
    rng = random.Random(SEED + 2)
    for case in range(CASES):
        names = [rng.choice(HOSTILE) + rng.choice(["", str(case)]) for _ in range(4)]
        model = _onnx_mlp(names)
        (tmp_path / "m.onnx").write_bytes(model.SerializeToString())
        assert _expect_clean(_convert_and_write(tmp_path / "m.onnx", "onnx"), tmp_path, f"names {names!r:.200}") == "ok"


VALUES: list[Any] = [None, 0, -1, 1, 3, 2**70, 1.5, math.nan, math.inf, "", " ", "fixed<16,6>", "fixed<1_6,6>", "auto",
                     "ufixed<1024,512>", "int<0>", True, [], [1, 2], {}, {"a": 1}, *HOSTILE[:6], np.int64(4), np.float32(2.5)]
MODEL_KEYS = ["Precision", "ReuseFactor", "Strategy", "PipelineStyle", "Compression", "TraceOutput", "BramFactor"]
TOP_KEYS = ["ProjectName", "Part", "ClockPeriod", "ClockUncertainty", "IOType", "Backend", "OutputDir", "WriterConfig"]


def test_fuzz_configs(tmp_path: Path) -> None:
    rng = random.Random(SEED + 3)
    for _ in range(CASES * 3):
        config: dict[str, Any] = {"OnnxModel": str(tmp_path / "m.onnx"), "OutputDir": "prj", "ProjectName": "fuzz",
                                  "HLSConfig": {"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1}}}
        for _ in range(rng.randrange(1, 4)):
            if rng.random() < 0.5:
                config["HLSConfig"]["Model"][rng.choice(MODEL_KEYS)] = rng.choice(VALUES)
            elif rng.random() < 0.5:
                config["HLSConfig"].setdefault("LayerName", {})[rng.choice(["fc1", "relu1", "nope", *HOSTILE[:3]])] = {
                    rng.choice([*MODEL_KEYS, "TableSize", "Implementation"]): rng.choice(VALUES)}
            else:
                config[rng.choice(TOP_KEYS)] = rng.choice(VALUES)
        if config.get("OutputDir") not in ("prj", None) and not isinstance(config.get("OutputDir"), str | int | list | float | dict):
            config["OutputDir"] = "prj"
        if isinstance(config.get("OutputDir"), str) and config["OutputDir"].strip() not in ("", "prj"):
            config["OutputDir"] = "prj"  # other paths would legitimately write elsewhere
        (tmp_path / "m.onnx").write_bytes(_onnx_mlp().SerializeToString())

        def run(config: dict[str, Any] = config) -> Any:
            converters.convert_from_config(config).write(force=True)

        _expect_clean(run, tmp_path, f"config {config!r:.300}")


def test_fuzz_converter_arguments(tmp_path: Path) -> None:
    rng = random.Random(SEED + 4)
    args = ["io_type", "part", "clock_period", "clock_uncertainty", "namespace", "project_name", "hls_config", "io_typ", "clock_perod", "foo"]
    (tmp_path / "m.onnx").write_bytes(_onnx_mlp().SerializeToString())
    for _ in range(CASES * 2):
        kwargs = {rng.choice(args): rng.choice(VALUES) for _ in range(rng.randrange(1, 3))}

        def run(kwargs: dict[str, Any] = kwargs) -> Any:
            converters.convert_from_onnx_model(str(tmp_path / "m.onnx"), output_dir="prj", **kwargs).write(force=True)

        _expect_clean(run, tmp_path, f"kwargs {kwargs!r:.300}")


@pytest.mark.parametrize("corpus_file", ["keras/KERAS_3layer_full_model.h5"])
def test_fuzz_h5_files(corpus: Path, tmp_path: Path, corpus_file: str) -> None:
    source = corpus / corpus_file
    if not source.is_file():
        pytest.skip(f"{corpus_file} not in the corpus")
    rng = random.Random(SEED + 5)
    data = source.read_bytes()
    for case in range(CASES):
        (tmp_path / "m.h5").write_bytes(_mutate_bytes(data, rng))
        _expect_clean(_convert_and_write(tmp_path / "m.h5", "keras"), tmp_path, f"h5 case {case}")
