"""Fixtures of the integration tests: a stand-in for the vendor HLS tool.

No vendor tool is installed here, so `fake_vitis` puts a stand-in `vitis_hls` on PATH that runs
the project's own build_prj.tcl under tclsh with the HLS commands defined as recorders: the
script's option parsing, the files it adds (which must exist), its settings and the steps it runs
are all real; only what Vitis HLS would do inside each command is replaced (csim_design writes a
log, csynth_design a report, as the tool does).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

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
proc csim_design {args} {
  global project_name
  record csim_design
  set dir [file join "${project_name}_prj" solution1 csim report]
  file mkdir $dir
  set f [open [file join $dir "${project_name}_csim.log"] w]
  puts $f "INFO: \[SIM 1\] CSim done with 0 errors."
  close $f
}
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


