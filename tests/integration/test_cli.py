"""The `nnhls` command line, driven through subprocesses exactly as a user runs it.

Every subcommand and every user-error path: exit code 0 on success, 2 with one `nnhls: error:`
line (and no traceback) on a mistake.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from nnhls.config import load_yaml_text

REPO_ROOT = Path(__file__).resolve().parents[2]

EXAMPLE = REPO_ROOT / "examples" / "jet_tagger"
NNHLS = [sys.executable, "-m", "nnhls.tools.nnhls"]


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NNHLS, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
        timeout=600,
    )


def assert_user_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit code 2, a single `nnhls: error:` line containing every fragment, no traceback."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("nnhls: error:")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="session")
def cli_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's YAML with absolute paths and an output dir in a temporary folder."""
    folder = tmp_path_factory.mktemp("cli")
    config = load_yaml_text((EXAMPLE / "config.yml").read_text())
    for key in ("KerasModel", "InputData", "OutputPredictions"):
        config[key] = str(EXAMPLE / config[key])
    config["OutputDir"] = str(folder / "prj")
    path = folder / "config.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="session")
def project(cli_config: Path) -> Path:
    """`nnhls convert config.yml`, then `nnhls compile`: the project the later commands use."""
    result = run("convert", cli_config)
    assert result.returncode == 0, result.stderr
    out = Path(load_yaml_text(cli_config.read_text())["OutputDir"])
    assert (out / "firmware" / "jet_tagger.cpp").is_file()
    result = run("compile", out)
    assert result.returncode == 0, result.stderr
    return out


# ----- help and version -----------------------------------------------------------------------------------


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("nnhls ")


@pytest.mark.parametrize("command", ["config", "convert", "compile", "predict", "build", "report"])
def test_every_subcommand_has_help_with_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Example" in result.stdout
    assert f"nnhls {command}" in result.stdout


def test_no_subcommand_is_a_usage_error() -> None:
    result = run()
    assert result.returncode == 2
    assert "usage:" in result.stderr


# ----- config -----------------------------------------------------------------------------------------------


def test_config_prints_a_yaml_that_converts(tmp_path: Path) -> None:
    result = run("config", EXAMPLE / "jet_tagger.keras", "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    assert config["KerasModel"].endswith("jet_tagger.keras")
    assert config["ProjectName"] == "jet_tagger"
    assert config["HLSConfig"]["LayerName"]["fc1"]["Precision"]["weight"] == "auto"
    path = tmp_path / "config.yml"
    path.write_text(result.stdout)
    converted = run("convert", path)
    assert converted.returncode == 0, converted.stderr
    assert (tmp_path / "out" / "firmware" / "jet_tagger.cpp").is_file()


def test_config_max_precision(tmp_path: Path) -> None:
    result = run("config", EXAMPLE / "jet_tagger.keras", "--max-precision", "fixed<20,8,RND,SAT>")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["HLSConfig"]["Model"]["Precision"]["maximum"] == "fixed<20,8,RND,SAT>"
    assert_user_error(run("config", EXAMPLE / "jet_tagger.keras", "--max-precision", "fixd<20,8>"), "max_precision", "fixd<20,8>")


def test_config_missing_model_file() -> None:
    assert_user_error(run("config", "no_such_model.onnx"), "no such file", "no_such_model.onnx")


def test_config_unknown_model_format(tmp_path: Path) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"\0\1")
    assert_user_error(run("config", model), "cannot tell the framework", ".onnx")


def test_config_keras_json_needs_weights(tmp_path: Path) -> None:
    model = tmp_path / "model.json"
    model.write_text("{}")
    assert_user_error(run("config", model), "--weights")


# ----- convert errors ------------------------------------------------------------------------------------------


def test_convert_bad_yaml(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text("OutputDir: [unclosed\n")
    assert_user_error(run("convert", path), "cannot read YAML", "bad.yml")


def test_convert_misspelt_key_suggests_the_right_one(tmp_path: Path, cli_config: Path) -> None:
    config = load_yaml_text(cli_config.read_text())
    config["HLSConfig"]["Model"]["ReuseFactr"] = 2
    config["OutputDir"] = str(tmp_path / "prj")
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config))
    assert_user_error(run("convert", path), "ReuseFactr", "ReuseFactor")
    assert not (tmp_path / "prj").exists()


def test_convert_unsupported_layer(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    node = helper.make_node("Einsum", ["a", "b"], ["y"], name="fancy", equation="i,i->i")
    graph = helper.make_graph(
        [node],
        "bad",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 4]) for n in ("a", "b")],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    path = tmp_path / "bad.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    assert_user_error(run("convert", path, "-o", tmp_path / "prj"), "fancy", "Einsum", "Gemm")


def test_convert_invalid_reuse_factor_lists_valid_ones(tmp_path: Path, cli_config: Path) -> None:
    config = load_yaml_text(cli_config.read_text())
    config["HLSConfig"]["Model"]["Strategy"] = "Resource"
    config["HLSConfig"]["Model"]["ReuseFactor"] = 7
    config["OutputDir"] = str(tmp_path / "prj")
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config))
    result = run("convert", path)
    assert_user_error(result, "fc1", "7")


def test_convert_nothing_to_convert() -> None:
    assert_user_error(run("convert"), "--example")


def test_convert_unknown_stage() -> None:
    assert_user_error(run("convert", EXAMPLE / "config.yml", "--dump-ir", "bogus"), "bogus", "typed")


def test_convert_bad_pipeline() -> None:
    result = run("convert", EXAMPLE / "config.yml", "--pipeline", "nn-apply-config,no-such-pass")
    assert_user_error(result, "no-such-pass")


@pytest.mark.parametrize(("stage", "expected"), [("import", "nn.dense"), ("typed", "!hls.fixed"), ("hls", "hls.func @jet_tagger")])
def test_convert_dump_ir(stage: str, expected: str) -> None:
    result = run("convert", EXAMPLE / "config.yml", "--dump-ir", stage)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    assert '"auto"' not in result.stdout or stage == "import"


def test_convert_model_file_with_overrides(tmp_path: Path) -> None:
    out = tmp_path / "prj"
    result = run(
        "convert", EXAMPLE / "jet_tagger.keras", "--io-type", "io_stream", "--precision", "fixed<18,8>",
        "--reuse-factor", "2", "-o", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = load_yaml_text(next(out.glob("*.yml")).read_text())
    assert written["IOType"] == "io_stream"
    assert written["HLSConfig"]["Model"]["ReuseFactor"] == 2
    assert "hls::stream" in (out / "firmware" / "jet_tagger.cpp").read_text()


# ----- write safety -----------------------------------------------------------------------------------------


def test_convert_refuses_a_foreign_directory_without_force(tmp_path: Path, cli_config: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    (out / "firmware").mkdir()
    (out / "firmware" / "keep.cpp").write_text("// mine")
    assert_user_error(run("convert", cli_config, "-o", out), "--force")
    assert sorted(p.name for p in out.rglob("*")) == ["firmware", "keep.cpp", "notes.txt"]
    forced = run("convert", cli_config, "-o", out, "--force")
    assert forced.returncode == 0, forced.stderr
    assert (out / "notes.txt").read_text() == "my notes"
    assert (out / "firmware" / "keep.cpp").read_text() == "// mine"
    assert (out / "firmware" / "jet_tagger.cpp").is_file()


def test_rewriting_our_own_project_needs_no_force(tmp_path: Path, cli_config: Path) -> None:
    out = tmp_path / "again"
    assert run("convert", cli_config, "-o", out).returncode == 0
    (out / "mine.txt").write_text("keep")
    result = run("convert", cli_config, "-o", out)
    assert result.returncode == 0, result.stderr
    assert (out / "mine.txt").read_text() == "keep"


# ----- compile / predict / report / build -------------------------------------------------------------------


def test_predict_cpp_and_numpy_emulators_agree_bit_for_bit(project: Path, tmp_path: Path) -> None:
    x = np.load(EXAMPLE / "inputs.npy")[:50]
    np.save(tmp_path / "x.npy", x)
    for emulator in ("cpp", "numpy"):
        result = run("predict", project, "-i", tmp_path / "x.npy", "-o", tmp_path / f"{emulator}.npy", "--emulator", emulator)
        assert result.returncode == 0, result.stderr
    cpp, emulated = np.load(tmp_path / "cpp.npy"), np.load(tmp_path / "numpy.npy")
    assert cpp.shape == (50, 5)
    np.testing.assert_array_equal(cpp, emulated)
    reference = np.load(EXAMPLE / "float_outputs.npy")[:50]
    assert np.mean(cpp.argmax(1) == reference.argmax(1)) >= 0.9


def test_predict_dat_text_files(project: Path, tmp_path: Path) -> None:
    x = np.load(EXAMPLE / "inputs.npy")[:5]
    np.savetxt(tmp_path / "x.dat", x)
    result = run("predict", project, "-i", tmp_path / "x.dat", "-o", tmp_path / "y.dat")
    assert result.returncode == 0, result.stderr
    assert np.loadtxt(tmp_path / "y.dat").shape == (5, 5)


def test_predict_missing_input(project: Path, tmp_path: Path) -> None:
    assert_user_error(run("predict", project, "-i", tmp_path / "none.npy", "-o", tmp_path / "y.npy"), "no such file")


def test_predict_wrong_input_shape(project: Path, tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros((3, 7)))
    assert_user_error(run("predict", project, "-i", tmp_path / "x.npy", "-o", tmp_path / "y.npy"), "16")


def test_commands_on_a_missing_project(tmp_path: Path) -> None:
    for command in ("compile", "report", "build"):
        assert_user_error(run(command, tmp_path / "nope"), "nope")


def test_compile_without_gxx_says_so(project: Path, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty), "NNHLS_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("CXX", None)
    assert_user_error(run("compile", project, env=env), "g++")


def test_report_lists_every_layer(project: Path) -> None:
    result = run("report", project)
    assert result.returncode == 0, result.stderr
    for layer in ("fc1", "fc1_relu", "fc2", "output", "output_softmax"):
        assert layer in result.stdout + result.stderr
    assert "BOPs" in result.stdout and "model total" in result.stdout
    assert "no synthesis report" in result.stdout + result.stderr


CSYNTH_XML = """<profile>
  <UserAssignments><Part>xcvu13p-flga2577-2-e</Part><TargetClockPeriod>5.00</TargetClockPeriod></UserAssignments>
  <PerformanceEstimates>
    <SummaryOfTimingAnalysis><EstimatedClockPeriod>4.212</EstimatedClockPeriod></SummaryOfTimingAnalysis>
    <SummaryOfOverallLatency><Best-caseLatency>9</Best-caseLatency><Worst-caseLatency>11</Worst-caseLatency>
      <Interval-min>1</Interval-min><Interval-max>1</Interval-max></SummaryOfOverallLatency>
  </PerformanceEstimates>
  <AreaEstimates><Resources><DSP>4321</DSP><LUT>98765</LUT></Resources></AreaEstimates>
</profile>
"""


def test_report_shows_synthesis_results_when_they_exist(project: Path, tmp_path: Path) -> None:
    copy = tmp_path / "prj"
    shutil.copytree(project, copy)
    report = copy / "jet_tagger_prj" / "solution1" / "syn" / "report" / "jet_tagger_csynth.xml"
    report.parent.mkdir(parents=True)
    report.write_text(CSYNTH_XML)
    result = run("report", copy)
    assert result.returncode == 0, result.stderr
    assert "synthesis report:" in result.stdout
    for fragment in ("latency_max: 11", "estimated_clock_ns: 4.212", "'DSP': 4321"):
        assert fragment in result.stdout, result.stdout


@pytest.mark.skipif(shutil.which("vitis_hls") is not None or shutil.which("vivado_hls") is not None, reason="an HLS tool is installed")
def test_build_without_vendor_tool_names_it(project: Path) -> None:
    assert_user_error(run("build", project, "--csim"), "vitis_hls")


def test_debug_shows_the_traceback() -> None:
    result = run("--debug", "config", "no_such_model.onnx")
    assert result.returncode != 0
    assert "Traceback" in result.stderr


# ----- the bundled example --------------------------------------------------------------------------------


def test_example_runs_the_whole_job(tmp_path: Path) -> None:
    result = run("convert", "--example", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout + result.stderr
    assert "argmax agreement with the float model" in text
    assert (tmp_path / "jet_tagger_prj" / "firmware" / "jet_tagger.cpp").is_file()


def test_seed_yaml_runs_as_written(corpus: Path, tmp_path: Path, seed_yaml: str) -> None:
    """The configuration document's example YAML, next to the corpus files it names."""
    for folder in ("keras", "generated"):
        (tmp_path / folder).symlink_to(corpus / folder)
    (tmp_path / "config.yml").write_text(seed_yaml)
    result = run("convert", "config.yml", "--run", cwd=tmp_path)  # its paths: relative to the cwd
    assert result.returncode == 0, result.stderr
    text = result.stdout + result.stderr
    agreement = float(text.split("argmax agreement with the float model: ")[1].split("%")[0])
    assert agreement >= 95.0, text
    project = tmp_path / "my-hls-test"
    # Compression: True stores fc1_relu's non-zero weights as (row, column, value) triplets
    assert "nnet::compressed_weight<" in (project / "firmware" / "weights" / "fc1_relu_w.h").read_text()
    assert (project / "tb_data").is_dir() and any((project / "tb_data").iterdir())


def test_pytorch_files(tmp_path: Path) -> None:
    """A TorchScript archive converts with --input-shape; a pickled module is refused, never loaded."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).eval()
    torch.jit.trace(module, torch.zeros(1, 16)).save(str(tmp_path / "net.pt"))
    torch.save(module, str(tmp_path / "pickled.pt"))
    assert_user_error(run("convert", tmp_path / "net.pt", "-o", tmp_path / "a"), "--input-shape")
    assert_user_error(run("convert", tmp_path / "pickled.pt", "--input-shape", "16", "-o", tmp_path / "b"), "pickled", "torch.jit")
    assert not (tmp_path / "b").exists()
    result = run("convert", tmp_path / "net.pt", "--input-shape", "16", "--precision", "fixed<24,10>", "-o", tmp_path / "prj")
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
    x = np.random.default_rng(0).uniform(-1, 1, (20, 16))
    np.save(tmp_path / "x.npy", x)
    assert run("predict", tmp_path / "prj", "-i", tmp_path / "x.npy", "-o", tmp_path / "y.npy").returncode == 0
    expected = module(torch.from_numpy(x).float()).detach().numpy()
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, atol=0.02)


def test_predict_several_inputs_and_outputs(tmp_path: Path) -> None:
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(2)
    a, b = keras.Input((6,), name="a"), keras.Input((4,), name="b")
    joined = keras.layers.Concatenate(name="join")([keras.layers.Dense(3, name="fa")(a), keras.layers.Dense(3, name="fb")(b)])
    model = keras.Model([a, b], [keras.layers.Dense(2, name="h1")(joined), keras.layers.Dense(1, name="h2")(joined)])
    model.save(tmp_path / "two.keras")
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(10, 6)), rng.normal(size=(10, 4))
    np.save(tmp_path / "a.npy", xa)
    np.savetxt(tmp_path / "b.dat", xb)
    assert run("convert", tmp_path / "two.keras", "--precision", "fixed<24,10>", "-o", tmp_path / "prj").returncode == 0
    predict = ("predict", tmp_path / "prj", "-i", tmp_path / "a.npy", "-i", tmp_path / "b.dat")
    assert_user_error(run(*predict, "-o", tmp_path / "y.npy"), "2 outputs", ".npz")
    result = run(*predict, "-o", tmp_path / "y.npz")
    assert result.returncode == 0, result.stderr
    saved = np.load(tmp_path / "y.npz")
    expected = model.predict([xa, xb], verbose=0)
    np.testing.assert_allclose(saved["output_0"], expected[0], atol=0.01)
    np.testing.assert_allclose(saved["output_1"], expected[1], atol=0.01)
    assert_user_error(run("predict", tmp_path / "prj", "-i", tmp_path / "a.npy", "-o", tmp_path / "z.npz"), "2 inputs")
