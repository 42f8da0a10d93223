"""HLSModel.build() and the generated build_prj.tcl, run by real Tcl (tclsh) in place of Vitis HLS.

No vendor tool is installed here, so a stand-in `vitis_hls` on PATH runs the project's own
build_prj.tcl under tclsh with the HLS commands defined as recorders: the script's option
parsing, the files it adds (which must exist), its settings and the steps it runs are all real;
only what Vitis HLS would do inside each command is replaced (csynth_design writes a report).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nnhls import converters

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jet_tagger"

STUB_TCL = r"""
set log [open [file join $::env(STUB_LOG_DIR) calls.log] a]
proc record {args} { puts $::log [join $args " "] }
proc open_project {args} { record open_project {*}$args }
proc set_top {name} { record set_top $name }
proc add_files {args} {
  set path [lindex [lsearch -inline -all -not -glob $args -*] 0]
  if {![file exists $path]} { record MISSING $path }
  record add_files {*}$args
}
proc open_solution {args} { record open_solution {*}$args }
proc set_part {part} { record set_part $part }
proc create_clock {args} { record create_clock {*}$args }
proc set_clock_uncertainty {args} { record set_clock_uncertainty {*}$args }
proc csim_design {args} { record csim_design }
proc cosim_design {args} { record cosim_design {*}$args }
proc export_design {args} { record export_design {*}$args }
proc csynth_design {args} {
  global project_name
  record csynth_design
  set dir [file join "${project_name}_prj" solution1 syn report]
  file mkdir $dir
  set f [open [file join $dir "${project_name}_csynth.xml"] w]
  puts $f "<profile><UserAssignments><Part>$::part</Part><TargetClockPeriod>$::clock_period</TargetClockPeriod></UserAssignments><PerformanceEstimates><SummaryOfOverallLatency><Best-caseLatency>7</Best-caseLatency><Worst-caseLatency>7</Worst-caseLatency><Interval-min>1</Interval-min><Interval-max>1</Interval-max></SummaryOfOverallLatency></PerformanceEstimates><AreaEstimates><Resources><DSP>42</DSP></Resources></AreaEstimates></profile>"
  close $f
}
rename exit tcl_exit
proc exit {args} { close $::log; tcl_exit 0 }
# vitis_hls -f build_prj.tcl -tclargs "csim=1 ..."
set script [lindex $argv 1]
set ::argv [lrange $argv 3 end]
source $script
"""


@pytest.fixture
def fake_vitis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if shutil.which("tclsh") is None:
        pytest.skip("tclsh is not installed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "stub.tcl").write_text(STUB_TCL)
    tool = bin_dir / "vitis_hls"
    tool.write_text(f'#!/bin/sh\nexec tclsh "{bin_dir / "stub.tcl"}" "$@"\n')
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STUB_LOG_DIR", str(tmp_path))
    return tmp_path / "calls.log"


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
