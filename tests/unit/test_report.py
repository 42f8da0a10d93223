"""nnhls.report: hls4ml's report readers over the files Vitis HLS, Vivado HLS and Vivado write.

The report texts below follow the tools' published formats (csynth XML of Vitis HLS 2023.x and
of Vivado HLS 2020.1, the cosim table, report_utilization, report_timing_summary); they are laid
out in a project folder exactly where the tools put them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nnhls.report import ReportError, parse_vivado_report, print_vivado_report, read_vivado_report

VITIS_CSYNTH_XML = """<?xml version="1.0" encoding="UTF-8"?>
<profile>
  <ReportVersion><Version>2023.2</Version></ReportVersion>
  <UserAssignments>
    <unit>ns</unit><ProductFamily>virtexuplus</ProductFamily><Part>xcvu13p-flga2577-2-e</Part>
    <TopModelName>myproject</TopModelName><TargetClockPeriod>5.00</TargetClockPeriod>
    <ClockUncertainty>1.35</ClockUncertainty><FlowTarget>vivado</FlowTarget>
  </UserAssignments>
  <PerformanceEstimates>
    <PipelineType>yes</PipelineType>
    <SummaryOfTimingAnalysis><unit>ns</unit><EstimatedClockPeriod>3.634</EstimatedClockPeriod></SummaryOfTimingAnalysis>
    <SummaryOfOverallLatency>
      <unit>clock cycles</unit><Best-caseLatency>9</Best-caseLatency><Average-caseLatency>9</Average-caseLatency>
      <Worst-caseLatency>11</Worst-caseLatency><Best-caseRealTimeLatency>45.000 ns</Best-caseRealTimeLatency>
      <Interval-min>1</Interval-min><Interval-max>2</Interval-max>
    </SummaryOfOverallLatency>
  </PerformanceEstimates>
  <AreaEstimates>
    <Resources><BRAM_18K>4</BRAM_18K><DSP>63</DSP><FF>2921</FF><LUT>10432</LUT><URAM>0</URAM></Resources>
    <AvailableResources><BRAM_18K>5376</BRAM_18K><DSP>12288</DSP><FF>3456000</FF><LUT>1728000</LUT><URAM>1280</URAM></AvailableResources>
  </AreaEstimates>
</profile>
"""

VIVADO_CSYNTH_XML = """<?xml version="1.0" encoding="UTF-8"?>
<profile>
  <UserAssignments><Part>xcku115-flvb2104-2-i</Part><TopModelName>myproject</TopModelName>
    <TargetClockPeriod>5.00</TargetClockPeriod></UserAssignments>
  <PerformanceEstimates>
    <SummaryOfTimingAnalysis><EstimatedClockPeriod>4.352</EstimatedClockPeriod></SummaryOfTimingAnalysis>
    <SummaryOfOverallLatency><Best-caseLatency>7</Best-caseLatency><Worst-caseLatency>7</Worst-caseLatency>
      <Interval-min>1</Interval-min><Interval-max>1</Interval-max></SummaryOfOverallLatency>
  </PerformanceEstimates>
  <AreaEstimates>
    <Resources><BRAM_18K>0</BRAM_18K><DSP48E>21</DSP48E><FF>815</FF><LUT>3054</LUT></Resources>
    <AvailableResources><BRAM_18K>4320</BRAM_18K><DSP48E>5520</DSP48E><FF>1326720</FF><LUT>663360</LUT></AvailableResources>
  </AreaEstimates>
</profile>
"""

HLS_APP = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="com.autoesl.autopilot.project" name="myproject_prj" top="myproject">
  <files><file name="firmware/myproject.cpp" sc="0" tb="false" cflags=""/></files>
  <solutions xmlns=""><solution name="solution1" status="active"/></solutions>
</project>
"""

COSIM_RPT = """\
================================================================
== Vitis HLS Report : 'myproject'
================================================================
+----------+----------+-----------------------------------------------+-----------------------------------------------+----------------------+
|          |          |             Latency(Clock Cycles)             |              Interval(Clock Cycles)           | Total Execution Time |
+   RTL    +  Status  +-----------------------------------------------+-----------------------------------------------+    (Clock Cycles)    +
|          |          |      min      |      avg      |      max      |      min      |      avg      |      max      |                      |
+----------+----------+-----------------------------------------------+-----------------------------------------------+----------------------+
|      VHDL|        NA|             NA|             NA|             NA|             NA|             NA|             NA|                    NA|
|   Verilog|      Pass|              9|             10|             11|              1|            1.5|              2|                    38|
+----------+----------+-----------------------------------------------+-----------------------------------------------+----------------------+
"""

UTILIZATION_RPT = """\
Copyright 1986-2022 Xilinx, Inc. All Rights Reserved.
| Command      : report_utilization -file vivado_synth.rpt
| Device       : xcvu13pflga2577-2

Utilization Design Information

Table of Contents
-----------------
1. CLB Logic
2. BLOCKRAM
3. ARITHMETIC

1. CLB Logic
------------

+----------------------------+------+-------+-----------+-------+
|          Site Type         | Used | Fixed | Available | Util% |
+----------------------------+------+-------+-----------+-------+
| CLB LUTs*                  | 3054 |     0 |   1728000 |  0.18 |
|   LUT as Logic             | 3001 |     0 |   1728000 |  0.17 |
| CLB Registers              |  815 |     0 |   3456000 |  0.02 |
+----------------------------+------+-------+-----------+-------+

2. BLOCKRAM
-----------

+----------------+------+-------+-----------+-------+
|    Site Type   | Used | Fixed | Available | Util% |
+----------------+------+-------+-----------+-------+
| Block RAM Tile |    2 |     0 |      2688 |  0.07 |
| URAM           |    0 |     0 |      1280 |  0.00 |
+----------------+------+-------+-----------+-------+

3. ARITHMETIC
-------------

+-----------+------+-------+-----------+-------+
| Site Type | Used | Fixed | Available | Util% |
+-----------+------+-------+-----------+-------+
| DSPs      |   21 |     0 |     12288 |  0.17 |
+-----------+------+-------+-----------+-------+
"""

TIMING_RPT = """\
------------------------------------------------------------------------------------------------
| Design Timing Summary
| ---------------------
------------------------------------------------------------------------------------------------

    WNS(ns)      TNS(ns)  TNS Failing Endpoints  TNS Total Endpoints      WHS(ns)      THS(ns)  THS Failing Endpoints  THS Total Endpoints     WPWS(ns)     TPWS(ns)  TPWS Failing Endpoints  TPWS Total Endpoints
    -------      -------  ---------------------  -------------------      -------      -------  ---------------------  -------------------     --------     --------  ----------------------  --------------------
      1.234        0.000                      0                 1234        0.052        0.000                      0                 1234        2.225        0.000                       0                   900
"""

CSYNTH_RPT = """\
================================================================
== Vitis HLS Report for 'myproject'
================================================================
== Performance Estimates
================================================================
+ Latency:
    * Summary:
    |  Latency (cycles) |
    |    9    |   11    |
================================================================
== Utilization Estimates
================================================================
* Summary:
+---------------------+---------+-------+---------+---------+-----+
|        Name         | BRAM_18K|  DSP  |    FF   |   LUT   | URAM|
+---------------------+---------+-------+---------+---------+-----+
|Total                |        4|     63|     2921|    10432|    0|
+---------------------+---------+-------+---------+---------+-----+

+ Detail:
    * Instance:
    |dense_latency_U0   |        0|     63|     2000|     9000|    0|
"""


def _project(root: Path, csynth_xml: str = VITIS_CSYNTH_XML, app: str | None = HLS_APP) -> Path:
    (root / "project.tcl").parent.mkdir(parents=True, exist_ok=True)
    (root / "project.tcl").write_text('set project_name "myproject"\nset backend "Vitis"\n')
    prj = root / "myproject_prj"
    solution = prj / "solution1"
    for sub in ("syn/report", "sim/report", "csim/report"):
        (solution / sub).mkdir(parents=True)
    if app is not None:
        (prj / "hls.app").write_text(app)
    (solution / "syn" / "report" / "myproject_csynth.xml").write_text(csynth_xml)
    return root


def test_full_report_has_hls4ml_sections_with_numbers(tmp_path: Path) -> None:
    root = _project(tmp_path / "prj")
    solution = root / "myproject_prj" / "solution1"
    (solution / "sim" / "report" / "myproject_cosim.rpt").write_text(COSIM_RPT)
    (root / "vivado_synth.rpt").write_text(UTILIZATION_RPT)
    (root / "vivado_timing.rpt").write_text(TIMING_RPT)
    (root / "tb_data").mkdir()
    (root / "tb_data" / "csim_results.log").write_text("0.25 0.75\n0.5 0.5\n")
    report = parse_vivado_report(root)
    assert report["CSynthesisReport"] == {
        "TargetClockPeriod": 5.0, "EstimatedClockPeriod": 3.634, "BestLatency": 9, "WorstLatency": 11,
        "IntervalMin": 1, "IntervalMax": 2, "BRAM_18K": 4, "DSP": 63, "FF": 2921, "LUT": 10432, "URAM": 0,
        "AvailableBRAM_18K": 5376, "AvailableDSP": 12288, "AvailableFF": 3456000, "AvailableLUT": 1728000,
        "AvailableURAM": 1280,
    }  # fmt: skip
    assert report["CosimReport"] == {
        "RTL": "Verilog", "Status": "Pass", "LatencyMin": 9, "LatencyAvg": 10, "LatencyMax": 11,
        "IntervalMin": 1, "IntervalAvg": 1.5, "IntervalMax": 2,
    }  # fmt: skip
    assert report["VivadoSynthReport"] == {"LUT": 3054, "FF": 815, "BRAM_18K": 2, "URAM": 0, "DSP": 21}
    assert report["TimingReport"] == {"WNS": 1.234, "TNS": 0.0, "WHS": 0.052, "THS": 0.0, "WPWS": 2.225, "TPWS": 0.0}
    assert report["CSimResults"] == [[0.25, 0.75], [0.5, 0.5]]
    assert int(report["CSynthesisReport"]["BestLatency"]) == 9  # what hls4ml scripts do with it


def test_vivado_hls_dsp48e_is_reported_as_dsp_and_missing_sections_are_absent(tmp_path: Path) -> None:
    # no hls.app (the solution folder is found on disk), no cosim, no logic synthesis
    root = _project(tmp_path / "prj", VIVADO_CSYNTH_XML, app=None)
    report = parse_vivado_report(root)
    assert set(report) == {"CSynthesisReport"}
    assert report["CSynthesisReport"]["DSP"] == 21 and report["CSynthesisReport"]["AvailableDSP"] == 5520
    assert "DSP48E" not in report["CSynthesisReport"]


def test_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="does not exist"):
        parse_vivado_report(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportError, match=r"no project\.tcl"):
        parse_vivado_report(tmp_path / "empty")
    root = _project(tmp_path / "bad", "<profile><unclosed></profile>")
    with pytest.raises(ReportError, match=r"myproject_csynth\.xml"):
        parse_vivado_report(root)
    root = _project(tmp_path / "badlog")
    (root / "tb_data").mkdir()
    (root / "tb_data" / "csim_results.log").write_text("0.5 nan\n0.5 garbage\n")
    with pytest.raises(ReportError, match="line 2"):
        parse_vivado_report(root)


def test_read_and_print(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path / "prj")
    solution = root / "myproject_prj" / "solution1"
    (solution / "syn" / "report" / "myproject_csynth.rpt").write_text(CSYNTH_RPT)
    (solution / "csim" / "report" / "myproject_csim.log").write_text("INFO: [SIM 1] CSim done with 0 errors.\n")
    read_vivado_report(root)
    out = capsys.readouterr().out
    assert 'Reports for solution "solution1"' in out and "CSim done with 0 errors" in out
    assert "|Total" in out and "dense_latency_U0" not in out  # the summary stops before the details
    assert "Co-simulation result: not found" in out
    read_vivado_report(root, full_report=True)
    assert "dense_latency_U0" in capsys.readouterr().out
    print_vivado_report(parse_vivado_report(root))
    assert "BestLatency" in capsys.readouterr().out
