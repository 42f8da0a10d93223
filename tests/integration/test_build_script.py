"""HLSModel.build() and the generated build_prj.tcl, run by real Tcl (tclsh) in place of Vitis HLS.

No vendor tool is installed here, so a stand-in `vitis_hls` on PATH runs the project's own
build_prj.tcl under tclsh with the HLS commands defined as recorders: the script's option
parsing, the files it adds (which must exist), its settings and the steps it runs are all real;
only what Vitis HLS would do inside each command is replaced (csynth_design writes a report).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nnhls import converters

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jet_tagger"

def _model(output_dir: Path) -> Any:
    config = converters.load_yaml(EXAMPLE / "config.yml")
    return converters.convert_from_keras_model(
        str(EXAMPLE / "jet_tagger.keras"),
        hls_config=config["HLSConfig"],
        output_dir=str(output_dir),
        project_name="jet_tagger",
        input_data_tb=str(EXAMPLE / "inputs.npy"),
        output_data_tb=str(EXAMPLE / "float_outputs.npy"),
        part="xcku115-flvb2104-2-i",
        clock_period=4,
    )


def test_build_runs_the_requested_steps_with_the_project_settings(fake_vitis: Path, tmp_path: Path) -> None:
    # a path with a space: every path in the scripts must be quoted
    hls_model = _model(tmp_path / "my project")
    report = hls_model.build(csim=True, synth=True, cosim=False, export=True)
    calls = fake_vitis.read_text().splitlines()
    assert not [c for c in calls if c.startswith("MISSING")], calls
    steps = [c.split()[0] for c in calls]
    assert steps.count("csim_design") == 1 and steps.count("csynth_design") == 1
    assert "export_design" in steps and "cosim_design" not in steps
    assert steps.index("csim_design") < steps.index("csynth_design") < steps.index("export_design")
    assert "set_top jet_tagger" in calls and "set_part xcku115-flvb2104-2-i" in calls
    assert any(c.startswith("create_clock -period 4") for c in calls)
    assert any(c.startswith("add_files firmware/jet_tagger.cpp") for c in calls)
    assert any(c.startswith("add_files -tb tb_data") for c in calls)
    assert report["latency_min"] == 7 and report["resources"] == {"DSP": 42}
    assert report["part"] == "xcku115-flvb2104-2-i"
    # the same dict carries hls4ml's sections (parse_vivado_report of the project)
    assert report["CSynthesisReport"]["BestLatency"] == 7 and report["CSynthesisReport"]["DSP"] == 42


def test_build_without_synthesis_returns_no_report(fake_vitis: Path, tmp_path: Path) -> None:
    hls_model = _model(tmp_path / "prj")
    assert hls_model.build(csim=True, synth=False) == {}
    steps = [c.split()[0] for c in fake_vitis.read_text().splitlines()]
    assert "csim_design" in steps and "csynth_design" not in steps


def test_testbench_data_is_in_the_project(tmp_path: Path) -> None:
    hls_model = _model(tmp_path / "prj")
    hls_model.write()
    tb = tmp_path / "prj" / "tb_data"
    inputs = np.loadtxt(tb / "tb_input_features.dat", ndmin=2)
    assert inputs.shape == np.load(EXAMPLE / "inputs.npy").shape
