"""Nonsense arguments and configs from issue 12, each refused with one line naming the key and the
value (never a traceback from our internals, never silent acceptance); the fuzz module
(test_fuzz.py) only checks that random mutations end cleanly, this one checks each named case is
refused and says why.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from nnhls import converters
from nnhls.compiler.context import make_context
from nnhls.compiler.hls_model import link_existing_project
from nnhls.compiler.ir_text import _raw_utf8, parse_ir  # pyright: ignore[reportPrivateUsage]
from nnhls.errors import UserError


@pytest.fixture(scope="module")
def onnx_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc1"),
            helper.make_node("Relu", ["h"], ["r"], name="relu1"),
            helper.make_node("Gemm", ["r", "w2"], ["z"], name="fc2"),
            helper.make_node("Softmax", ["z"], ["y"], name="softmax"),
        ],
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
        [
            numpy_helper.from_array(rng.normal(size=(8, 6)).astype(np.float32), "w1"),
            numpy_helper.from_array(rng.normal(size=6).astype(np.float32), "b1"),
            numpy_helper.from_array(rng.normal(size=(6, 3)).astype(np.float32), "w2"),
        ],
    )
    path = tmp_path_factory.mktemp("hostile") / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


MODEL = {"Precision": "fixed<16,6>", "ReuseFactor": 1}

CASES: dict[str, tuple[dict[str, Any], str]] = {
    "misspelt io_type": ({"io_typ": "io_stream"}, "unknown argument io_typ= (did you mean io_type=?)"),
    "misspelt clock_period": ({"clock_perod": 5}, "unknown argument clock_perod= (did you mean clock_period=?)"),
    "unknown argument": ({"foo": 1}, "unknown argument foo="),
    "part None": ({"part": None}, "Part must be an FPGA part name"),
    "part 123": ({"part": 123}, "got 123"),
    "part empty": ({"part": ""}, "got ''"),
    "part 3.7": ({"part": 3.7}, "got 3.7"),
    "clock_period nan": ({"clock_period": math.nan}, "ClockPeriod must be a positive number of ns, got nan"),
    "precision with an underscore": (
        {"hls_config": {"Model": {**MODEL, "Precision": "fixed<1_6,6>"}}},
        "HLSConfig.Model.Precision: cannot read precision 'fixed<1_6,6>'",
    ),
    "hls_config 5": ({"hls_config": 5}, "hls_config must be a mapping"),
    "output_dir int": ({"output_dir": 5}, "OutputDir must be a directory path (a non-empty string), got int 5"),
    "output_dir list": ({"output_dir": [1]}, "OutputDir must be a directory path (a non-empty string), got list [1]"),
    "output_dir None": ({"output_dir": None}, "OutputDir must be a directory path"),
    "numpy scalar precision": ({"hls_config": {"Model": {**MODEL, "Precision": np.int64(4)}}}, "HLSConfig.Model.Precision: expected a precision string"),
    "set precision": ({"hls_config": {"Model": {**MODEL, "Precision": {"fixed<16,6>"}}}}, "HLSConfig.Model.Precision cannot be a set"),
    "table too wide": (
        {"hls_config": {"Model": MODEL, "LayerName": {"softmax": {"Precision": {"exp_table": "fixed<1024,512>"}}}}},
        "nn.softmax 'softmax': a lookup table of type fixed<1024,512> is wider than the 63 bits",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_converter_arguments_are_refused_with_one_line(onnx_file: Path, tmp_path: Path, case: str) -> None:
    kwargs, expected = CASES[case]
    arguments: dict[str, Any] = {"output_dir": str(tmp_path / "prj"), "hls_config": {"Model": MODEL}, **kwargs}
    with pytest.raises(UserError) as caught:
        converters.convert_from_onnx_model(str(onnx_file), **arguments).write()
    message = str(caught.value)
    assert expected in message and "\n" not in message
    assert not (tmp_path / "prj").exists(), "a refused conversion wrote a project"


def test_numpy_scalars_where_numbers_go_are_accepted(onnx_file: Path, tmp_path: Path) -> None:
    model = converters.convert_from_onnx_model(
        str(onnx_file), output_dir=str(tmp_path / "prj"), hls_config={"Model": {**MODEL, "ReuseFactor": np.int64(2)}}
    )
    assert "reuse_factor = 2;" in (model.write() / "firmware" / "parameters.h").read_text()


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("HLSConfig: null\n", "HLSConfig must be a mapping (Model, LayerType, LayerName), got null"),
        ("OutputDir: a\nOutputDir: b\n", "line 3: duplicate key 'OutputDir'"),
        ("HLSConfig: !!python/object:os.system {}\n", "cannot read YAML"),
        ("HLSConfig: [unclosed\n", "cannot read YAML"),
    ],
)
def test_yaml_configs_are_refused_with_one_line(onnx_file: Path, tmp_path: Path, yaml_text: str, expected: str) -> None:
    config = tmp_path / "config.yml"
    config.write_text(f"OnnxModel: {onnx_file}\n{yaml_text}")
    with pytest.raises(UserError) as caught:
        converters.convert_from_config(config)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_cli_run_without_input_data_is_one_line(onnx_file: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text(f"OnnxModel: {onnx_file}\nOutputDir: prj\nHLSConfig:\n  Model: {{Precision: 'fixed<16,6>', ReuseFactor: 1}}\n")
    result = subprocess.run(
        [sys.executable, "-m", "nnhls.tools.nnhls", "convert", str(config), "--run"],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300,
    )
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("nnhls: error")]
    assert len(errors) == 1 and "InputData" in errors[0], result.stderr
    assert "Traceback" not in result.stderr


NAMES = ["dense_é", "relu☃", 'fc"2\\', "soft\\C3\\A9max"]


def test_non_ascii_and_escaped_names_round_trip(tmp_path: Path) -> None:
    """Layer names survive the project's IR file (xDSL alone reads escaped UTF-8 back as bytes)."""
    rng = np.random.default_rng(1)
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["x", "w1"], ["h"], name=NAMES[0]),
            helper.make_node("Relu", ["h"], ["r"], name=NAMES[1]),
            helper.make_node("Gemm", ["r", "w2"], ["z"], name=NAMES[2]),
            helper.make_node("Softmax", ["z"], ["y"], name=NAMES[3]),
        ],
        "names",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
        [
            numpy_helper.from_array(rng.normal(size=(4, 5)).astype(np.float32), "w1"),
            numpy_helper.from_array(rng.normal(size=(5, 3)).astype(np.float32), "w2"),
        ],
    )
    model = converters.convert_from_onnx_model(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
        output_dir=str(tmp_path / "prj"), hls_config={"Model": MODEL},
    )
    model.write()
    reopened = link_existing_project(tmp_path / "prj")
    assert [row["layer"] for row in reopened.layer_report()] == NAMES
    x = rng.normal(size=(5, 4))
    np.testing.assert_array_equal(reopened.predict(x, emulator="numpy"), model.predict(x, emulator="numpy"))
    # xDSL's own printing (escaped UTF-8 bytes) is read back as the same strings
    again = parse_ir(make_context(), str(model.hls_module), "printed.mlir")
    assert str(again) == str(model.hls_module)


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ('"dense_\\C3\\A9"', '"dense_é"'),
        ('"a\\\\C3\\A9"', '"a\\\\C3\\A9"'),  # an escaped backslash, then the text C3, then a lone byte
        ('"\\FF\\FE"', '"\\FF\\FE"'),  # not UTF-8: stays escaped (a bytes literal)
        ('"q\\22\\E2\\98\\83\\0A"', '"q\\22☃\\0A"'),
    ],
)
def test_escaped_utf8_is_read_as_characters(literal: str, expected: str) -> None:
    assert _raw_utf8(literal) == expected


def test_cli_compiler_error_is_one_line(onnx_file: Path, tmp_path: Path) -> None:
    """A g++ failure (here an edited top function that does not compile) is one line naming the
    first compiler error, not a traceback."""
    model = converters.convert_from_onnx_model(str(onnx_file), output_dir=str(tmp_path / "prj"), hls_config={"Model": MODEL})
    top = model.write() / "firmware" / f"{model.project_name}.cpp"
    top.write_text(top.read_text() + "\n#error edited into something that does not compile\n")
    result = subprocess.run(
        [sys.executable, "-m", "nnhls.tools.nnhls", "compile", str(tmp_path / "prj")],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300,
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("nnhls: error")]
    assert len(errors) == 1, result.stderr
    assert "g++ failed to compile" in errors[0] and "edited into something that does not compile" in errors[0]


def test_onnx_names_that_are_not_utf8(onnx_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(onnx_file.read_bytes().replace(b"relu1", b"rel\xff1"))
    with pytest.raises(UserError) as caught:
        converters.convert_from_onnx_model(str(bad), output_dir=str(tmp_path / "prj"))
    assert "holds the name b'rel\\xff1', which is not UTF-8 text" in str(caught.value)


@pytest.mark.parametrize("text", ["OutputDir: [unclosed\n", "ProjectName: !!python/object/apply:os.system ['touch PWNED']\n"])
def test_cli_on_a_project_with_a_broken_config(onnx_file: Path, tmp_path: Path, text: str) -> None:
    converters.convert_from_onnx_model(str(onnx_file), output_dir=str(tmp_path / "prj"), hls_config={"Model": MODEL}).write()
    (tmp_path / "prj" / "hls4ml_config.yml").write_text(text)
    for command in ("report", "compile"):
        result = subprocess.run(
            [sys.executable, "-m", "nnhls.tools.nnhls", command, "prj"],
            cwd=tmp_path, capture_output=True, text=True, check=False, timeout=300,
        )
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.startswith("nnhls: error: cannot read YAML") and result.stderr.count("\n") == 1
    assert not (tmp_path / "PWNED").exists()
