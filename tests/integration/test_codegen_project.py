"""The generated project with real g++ builds: the jet-tagger MLP written, compiled and run.

Checks the promises of nnhls.codegen and HLSModel that hold for any model: predictions close to
Keras with wide types, bit-exact with the numpy emulator, trace, the build cache, warning-free
C++, the test bench on tb_data (header weights instead of the fast emulation weights),
parameters.h edits taking effect, write safety, and reopening a written project.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from nnhls import converters  # noqa: E402
from nnhls.codegen.build import translation_units  # noqa: E402
from nnhls.codegen.firmware import CodegenError  # noqa: E402
from nnhls.codegen.project import MARKER, EditedProjectWarning, ProjectExistsError  # noqa: E402
from nnhls.compiler.hls_model import HLSModel, ReportError, link_existing_project  # noqa: E402

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "jet_tagger"
WIDE = {"Model": {"Precision": "fixed<32,12>", "ReuseFactor": 1}}


@pytest.fixture(scope="session", autouse=True)
def build_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("nnhls-cache")
    os.environ["NNHLS_CACHE_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def jet() -> tuple[Any, np.ndarray, np.ndarray]:
    model = keras.models.load_model(EXAMPLE / "jet_tagger.keras")
    x = np.load(EXAMPLE / "inputs.npy")[:200].astype(np.float64)
    return model, x, np.asarray(model.predict(x, verbose=0), dtype=np.float64)


@pytest.fixture(scope="session")
def wide_model(jet: tuple[Any, np.ndarray, np.ndarray], tmp_path_factory: pytest.TempPathFactory) -> HLSModel:
    model, x, _ = jet
    out = tmp_path_factory.mktemp("jet") / "prj"
    np.save(out.parent / "x.npy", x[:20])
    hls_model = converters.convert_from_keras_model(
        model, hls_config=WIDE, output_dir=str(out), project_name="jet_wide", input_data_tb=str(out.parent / "x.npy")
    )
    hls_model.compile()
    return hls_model


def test_predict_close_to_keras_and_bit_exact_with_numpy(wide_model: HLSModel, jet: tuple[Any, np.ndarray, np.ndarray]) -> None:
    _, x, reference = jet
    y = wide_model.predict(x)
    assert isinstance(y, np.ndarray) and y.shape == reference.shape
    assert np.max(np.abs(y - reference)) < 1e-2  # the softmax lookup tables bound the error here
    assert np.mean(y.argmax(1) == reference.argmax(1)) >= 0.98  # near-ties may flip
    np.testing.assert_array_equal(y, wide_model.predict(x, emulator="numpy"))


@pytest.mark.parametrize("threads", ["1", "2"])
def test_numpy_emulator_in_chunks_matches_cpp(wide_model: HLSModel, jet: tuple[Any, np.ndarray, np.ndarray],
                                              monkeypatch: pytest.MonkeyPatch, threads: str) -> None:
    """The numpy emulator runs big batches in chunks of samples (in parallel threads): results and
    traces are those of the C++ build, in sample order, whichever chunk computed them."""
    from nnhls.interpreters import emulator

    _, x, _ = jet
    monkeypatch.setattr(emulator, "CHUNK_ROWS", 23)  # 200 samples: 9 chunks, the last one short
    monkeypatch.setenv("NNHLS_THREADS", threads)
    np.testing.assert_array_equal(wide_model.predict(x, emulator="numpy"), wide_model.predict(x))
    cpp, numpy = wide_model.trace(x), wide_model.trace(x, emulator="numpy")
    assert list(numpy.keys()) == list(cpp.keys())
    for name, value in cpp.items():
        np.testing.assert_array_equal(numpy[name], value, err_msg=name)


def test_linear_layers_within_1e3_of_keras(wide_model: HLSModel, jet: tuple[Any, np.ndarray, np.ndarray]) -> None:
    model, x, _ = jet
    traced = wide_model.trace(x)
    dense_names = [
        layer.name
        for layer in model.layers
        if isinstance(layer, keras.layers.Dense) and layer.activation.__name__ in ("relu", "linear")
    ]
    assert dense_names and set(dense_names) <= set(traced.keys())
    for name in dense_names:
        probe = keras.Model(model.inputs, model.get_layer(name).output)
        expected = np.asarray(probe.predict(x, verbose=0), dtype=np.float64)
        traced_value = traced[name]
        # a dense layer fused with its activation reports the activation's input here
        if traced_value.shape == expected.shape and np.max(np.abs(traced_value - expected)) < 1e-3:
            continue
        activated = [k for k, _ in traced.items() if k.startswith(name) and k != name]
        assert any(np.max(np.abs(traced[k] - expected)) < 1e-3 for k in activated), name


def test_trace_matches_predict_and_numpy_trace(wide_model: HLSModel, jet: tuple[Any, np.ndarray, np.ndarray]) -> None:
    _, x, _ = jet
    traced = wide_model.trace(x[:10])
    last = list(traced.keys())[-1]
    np.testing.assert_array_equal(traced[last], wide_model.predict(x[:10]))
    numpy_trace = wide_model.trace(x[:10], emulator="numpy")
    for name, value in numpy_trace.items():
        np.testing.assert_array_equal(traced[name], value)
    assert wide_model.trace(x[:3], layers=[last]).keys() == {last}
    with pytest.raises(ValueError, match="no such layer"):
        wide_model.trace(x[:3], layers=["nope"])


def test_build_cache_reuses_objects(wide_model: HLSModel, build_cache: Path) -> None:
    library = wide_model.compile()
    objects = sorted((build_cache / "objects").glob("*.o"))
    stamps = [p.stat().st_mtime_ns for p in objects]
    assert wide_model.compile() == library
    assert [p.stat().st_mtime_ns for p in sorted((build_cache / "objects").glob("*.o"))] == stamps


def test_emulation_build_never_opens_the_weight_headers(wide_model: HLSModel) -> None:
    """Skipping a header's decimals still costs the preprocessor a scan of every byte (most of a
    multi-million-weight model's build): the emulation units include emulation_weights.h only."""
    root = wide_model.output_dir
    flags = ["-std=c++17", "-E", "-H", f"-I{root / 'firmware' / 'ap_types'}", f"-I{root / 'firmware'}", f"-I{root}"]

    def opened(tu: str, *defines: str) -> set[str]:
        result = subprocess.run(["g++", *flags, *defines, str(root / tu), "-o", os.devnull], capture_output=True, text=True, check=True)
        return {Path(line.lstrip(". ")).name for line in result.stderr.splitlines() if line.startswith(".")}

    headers = {p.name for p in (root / "firmware" / "weights").glob("*.h")} - {"emulation_weights.h"}
    assert headers
    for tu in translation_units(wide_model.project_name):
        seen = opened(tu, "-DNNHLS_FAST_WEIGHTS")
        assert "emulation_weights.h" in seen and not seen & headers, tu
    assert headers <= opened(f"firmware/{wide_model.project_name}.cpp")  # synthesis: the exact values


@pytest.mark.parametrize("cxx", ["g++", "clang++"])
def test_generated_code_has_no_warnings(wide_model: HLSModel, cxx: str) -> None:
    if shutil.which(cxx) is None:
        pytest.skip(f"{cxx} is not installed")
    root = wide_model.output_dir
    # the top function's literal `#pragma HLS` lines are for the HLS tool, as in hls4ml's projects
    flags = ["-std=c++17", "-Wall", "-Wextra", "-Wno-unknown-pragmas", "-fsyntax-only", f"-I{root / 'firmware' / 'ap_types'}", f"-I{root / 'firmware'}", f"-I{root}"]
    for tu in translation_units(wide_model.project_name):
        result = subprocess.run([cxx, *flags, "-DNNHLS_FAST_WEIGHTS", str(root / tu)], capture_output=True, text=True, check=False)
        assert result.returncode == 0 and result.stderr == "", result.stderr
    for tu in (f"firmware/{wide_model.project_name}.cpp", f"{wide_model.project_name}_test.cpp"):
        result = subprocess.run([cxx, *flags, str(root / tu)], capture_output=True, text=True, check=False)
        assert result.returncode == 0 and result.stderr == "", result.stderr


def test_testbench_with_header_weights_matches_predict(wide_model: HLSModel, jet: tuple[Any, np.ndarray, np.ndarray], tmp_path: Path) -> None:
    _, x, _ = jet
    root = wide_model.output_dir
    p = wide_model.project_name
    exe = tmp_path / "tb"
    cmd = ["g++", "-O1", "-std=c++17", f"-I{root / 'firmware' / 'ap_types'}", f"-I{root / 'firmware'}", f"-I{root}",
           str(root / f"{p}_test.cpp"), str(root / "firmware" / f"{p}.cpp"), "-o", str(exe)]
    subprocess.run(cmd, check=True)
    assert (root / "tb_data" / "tb_input_features.dat").is_file()
    subprocess.run([str(exe)], cwd=root, check=True, capture_output=True)
    csim = np.loadtxt(root / "tb_data" / "csim_results.log", ndmin=2)
    np.testing.assert_array_equal(csim, wide_model.predict(x[:20]))


def test_project_layout_and_tcl(wide_model: HLSModel) -> None:
    root = wide_model.output_dir
    p = wide_model.project_name
    for rel in (f"firmware/{p}.cpp", f"firmware/{p}.h", "firmware/defines.h", "firmware/parameters.h",
                "firmware/nnet_utils/nnet_dense.h", "firmware/ap_types/ap_fixed.h", f"{p}_test.cpp",
                "build_prj.tcl", "vivado_synth.tcl", "project.tcl", f"{p}_bridge.cpp", "hls4ml_config.yml",
                f"{p}.hls.mlir", "README.md", MARKER):
        assert (root / rel).is_file(), rel
    assert list((root / "firmware" / "weights").glob("*_w.h"))
    tcl = (root / "project.tcl").read_text()
    assert 'set part "xcvu13p-flga2577-2-e"' in tcl and 'set clock_period "5.0"' in tcl
    build = (root / "build_prj.tcl").read_text()
    for step in ("csim_design", "csynth_design", "cosim_design", "export_design"):
        assert step in build
    parameters = (root / "firmware" / "parameters.h").read_text()
    for field in ("n_in", "n_out", "io_type", "reuse_factor", "n_zeros", "n_nonzeros", "store_weights_in_bram",
                  "accum_t", "bias_t", "weight_t", "index_t"):
        assert re.search(rf"\b{field}\b", parameters), field


def test_parameters_edit_takes_effect(wide_model: HLSModel, jet: tuple[Any, np.ndarray, np.ndarray], tmp_path: Path) -> None:
    _, x, _ = jet
    root = tmp_path / "edited"
    shutil.copytree(wide_model.output_dir, root)
    parameters = root / "firmware" / "parameters.h"
    text = parameters.read_text()
    edited, count = re.subn(r"typedef ap_fixed<\d+,\d+[^>]*> accum_t;", "typedef ap_fixed<6,2> accum_t;", text, count=1)
    assert count == 1
    parameters.write_text(edited)
    edited_model = link_existing_project(root)
    with pytest.warns(EditedProjectWarning, match="firmware/parameters.h"):
        edited_model.compile()  # builds the edited file, does not regenerate it
    assert parameters.read_text() == edited
    assert not np.array_equal(edited_model.predict(x[:50]), wide_model.predict(x[:50]))


def test_write_safety(wide_model: HLSModel, tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    model = HLSModel(None, {**wide_model.config, "OutputDir": str(foreign)}, hls_module=wide_model.hls_module)
    with pytest.raises(ProjectExistsError, match="force=True"):
        model.write()
    model.write(force=True)
    assert (foreign / "notes.txt").read_text() == "mine"
    stale = foreign / "firmware" / "weights" / "old_w.h"
    stale.write_text("// from an older model")
    marker = foreign / MARKER
    marker.write_text(marker.read_text().replace('"files": [', '"files": [\n  "firmware/weights/old_w.h",'))
    model.write()
    assert not stale.exists() and (foreign / "notes.txt").is_file()


def test_invalid_project_name(wide_model: HLSModel) -> None:
    with pytest.raises(CodegenError, match="must be a valid C identifier"):
        HLSModel(None, {**wide_model.config, "ProjectName": "my-project"}, hls_module=wide_model.hls_module)


def test_link_existing_project(wide_model: HLSModel, jet: tuple[Any, np.ndarray, np.ndarray]) -> None:
    _, x, _ = jet
    reopened = link_existing_project(wide_model.output_dir)
    assert reopened.project_name == wide_model.project_name
    reopened.compile()
    np.testing.assert_array_equal(reopened.predict(x[:30]), wide_model.predict(x[:30]))
    rows = reopened.layer_report()
    assert next(r["op"] for r in rows) == "hls.dense" and all(r["layer"] for r in rows)
    with pytest.raises(ReportError, match="no synthesis report"):
        reopened.read_report()


def test_build_without_tool_is_a_clear_error(wide_model: HLSModel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(FileNotFoundError, match="vitis_hls"):
        wide_model.build()


def test_ir_stages(wide_model: HLSModel) -> None:
    assert "hls.func @jet_wide" in wide_model.ir("hls")
    assert "nn.dense" in wide_model.ir("typed")
    assert "nnet::dense<" in wide_model.ir("cpp")


CSYNTH_XML = """<?xml version="1.0" encoding="UTF-8"?>
<profile>
  <UserAssignments><Part>xcvu13p-flga2577-2-e</Part><TargetClockPeriod>5.00</TargetClockPeriod></UserAssignments>
  <PerformanceEstimates>
    <SummaryOfTimingAnalysis><EstimatedClockPeriod>4.350</EstimatedClockPeriod></SummaryOfTimingAnalysis>
    <SummaryOfOverallLatency>
      <Best-caseLatency>9</Best-caseLatency><Worst-caseLatency>11</Worst-caseLatency>
      <Interval-min>1</Interval-min><Interval-max>2</Interval-max>
    </SummaryOfOverallLatency>
  </PerformanceEstimates>
  <AreaEstimates>
    <Resources><BRAM_18K>4</BRAM_18K><DSP>1017</DSP><FF>23456</FF><LUT>54321</LUT><URAM>0</URAM></Resources>
    <AvailableResources><BRAM_18K>5376</BRAM_18K><DSP>12288</DSP><FF>3456000</FF><LUT>1728000</LUT><URAM>1280</URAM></AvailableResources>
  </AreaEstimates>
  <RTLDesignHierarchy><TopModule><ModuleName>jet_wide</ModuleName></TopModule></RTLDesignHierarchy>
</profile>
"""


def test_read_report_parses_csynth_xml(wide_model: HLSModel, tmp_path: Path) -> None:
    model = HLSModel(None, {**wide_model.config, "OutputDir": str(tmp_path)}, hls_module=wide_model.hls_module)
    assert model.read_report(missing_ok=True) == {}
    model.report_path().parent.mkdir(parents=True)
    model.report_path().write_text(CSYNTH_XML)
    report = model.read_report()
    assert report["latency_min"] == 9 and report["latency_max"] == 11
    assert report["interval_min"] == 1 and report["interval_max"] == 2
    assert report["estimated_clock_ns"] == 4.35 and report["target_clock_ns"] == 5.0
    assert report["resources"] == {"BRAM_18K": 4, "DSP": 1017, "FF": 23456, "LUT": 54321, "URAM": 0}
    assert report["available"]["DSP"] == 12288 and report["top"] == "jet_wide"


def test_layer_report_carries_schedule_estimates(wide_model: HLSModel) -> None:
    rows = wide_model.layer_report()
    dense = [r for r in rows if r["op"] == "hls.dense"]
    assert dense and all(isinstance(r["multipliers"], int) and r["multipliers"] > 0 for r in dense)
    assert all(r["strategy"] == "latency" and r["reuse_factor"] == 1 for r in dense)
    assert all("accum=" in r["types"] for r in dense)
    # BOPs: every multiplication (RF 1: one per multiplier, one row) of a fixed<32,12> input
    # by a fixed<32,12> weight costs 32 * 32 bit operations; the model total sums the layers.
    assert all(r["bops"] == r["multipliers"] * 32 * 32 for r in dense)
    totals = wide_model.estimates()
    assert totals["bops"] == sum(r["bops"] for r in rows) > 0
    assert totals["multipliers"] == sum(r["multipliers"] for r in rows)
    assert totals["latency"] >= max(r["latency"] for r in rows) and totals["ii"] >= 1


def test_new_weight_values_rebuild_only_the_weights(wide_model: HLSModel, jet: tuple[Any, np.ndarray, np.ndarray], tmp_path: Path, build_cache: Path) -> None:
    model, x, _ = jet
    clone = keras.models.clone_model(model)
    clone.set_weights([w * 0.5 for w in model.get_weights()])
    other = converters.convert_from_keras_model(clone, hls_config=WIDE, output_dir=str(tmp_path / "prj"), project_name="jet_wide")
    wide_model.compile()
    before = set((build_cache / "objects").glob("*.o"))
    other.compile()
    new = set((build_cache / "objects").glob("*.o")) - before
    assert len(new) == 1  # fast_weights.cpp only
    assert not np.array_equal(other.predict(x[:20]), wide_model.predict(x[:20]))
