"""Vitis HLS / Vivado HLS reports of a written project, in hls4ml's shapes (`nnhls.report`).

    report = nnhls.report.parse_vivado_report("my-hls-test")
    report["CSynthesisReport"]["BestLatency"], report["CSynthesisReport"]["LUT"]
    nnhls.report.read_vivado_report("my-hls-test")     # prints csim / csynth / cosim reports
    nnhls.report.print_vivado_report(report)           # a readable summary

The project is found from `project.tcl` (`set project_name "..."`, written by nnhls and by
hls4ml), the solution from `<project>_prj/hls.app` (Vitis) or `vivado_hls.app` (Vivado), else
the solution folders present. Sections, each present only when its file exists:

| key | file | fields |
|---|---|---|
| `CSimResults`, `CosimResults` | `tb_data/csim_results.log`, `tb_data/rtl_cosim_results.log` | one list of floats per sample |
| `CSynthesisReport` | `<solution>/syn/report/<project>_csynth.xml` | TargetClockPeriod, EstimatedClockPeriod, BestLatency, WorstLatency, IntervalMin, IntervalMax, BRAM_18K, DSP, FF, LUT, URAM and Available* |
| `VivadoSynthReport` | `vivado_synth.rpt` (report_utilization) | LUT, FF, BRAM_18K, URAM, DSP |
| `CosimReport` | `<solution>/sim/report/<project>_cosim.rpt` | RTL, Status, LatencyMin/Avg/Max, IntervalMin/Avg/Max |
| `TimingReport` | `vivado_timing.rpt` (report_timing_summary) | WNS, TNS, WHS, THS, WPWS, TPWS |

Unlike hls4ml, numbers are numbers (int or float, `int(...)` on them still works), and a
missing project is an error rather than a printed message and `None`. Malformed report files
are errors naming the file.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

MAX_REPORT_BYTES = 64 * 1024 * 1024
"""Reports are read whole; anything larger is not a report of ours."""


class ReportError(FileNotFoundError):
    """No project or report where one was expected, or a report that cannot be read."""


def _read(path: Path) -> str:
    if path.stat().st_size > MAX_REPORT_BYTES:
        raise ReportError(f"'{path}' is larger than {MAX_REPORT_BYTES >> 20} MB: not an HLS report")
    return path.read_text(errors="replace")


def _number(text: str | None) -> int | float | str | None:
    if text is None:
        return None
    text = text.strip()
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return text


# ----- locating the project ------------------------------------------------------------------------


def project_name(hls_dir: str | Path) -> str:
    """The top function name from project.tcl (or hls4ml_config.yml)."""
    root = Path(hls_dir)
    if not root.is_dir():
        raise ReportError(f"project folder '{root}' does not exist")
    tcl = root / "project.tcl"
    if tcl.is_file():
        match = re.search(r'^\s*set\s+project_name\s+"?([A-Za-z_][A-Za-z0-9_]*)"?\s*$', _read(tcl), re.MULTILINE)
        if match:
            return match.group(1)
    config = root / "hls4ml_config.yml"
    if config.is_file():
        match = re.search(r"^ProjectName:\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?\s*$", _read(config), re.MULTILINE)
        if match:
            return match.group(1)
    raise ReportError(f"'{root}' is not an HLS project: no project.tcl naming the project")


def find_solutions(project_dir: Path) -> list[str]:
    """Solution names of an HLS project folder, in the order the tool lists them."""
    for app in ("hls.app", "vivado_hls.app"):
        file = project_dir / app
        if file.is_file():
            text = re.sub(r'\sxmlns="[^"]+"', "", _read(file), count=1)
            try:
                root = ET.fromstring(text)
            except ET.ParseError as error:
                raise ReportError(f"cannot read '{file}': {error}") from None
            names = [s.get("name") for s in root.iter("solution")]
            return [n for n in names if n and (project_dir / n).is_dir()]
    if not project_dir.is_dir():
        return []
    return sorted(p.name for p in project_dir.iterdir() if p.is_dir() and any((p / d).is_dir() for d in ("syn", "csim", "sim")))


def _solution_dir(hls_dir: Path, project: str) -> Path | None:
    project_dir = hls_dir / f"{project}_prj"
    solutions = find_solutions(project_dir)
    return project_dir / solutions[0] if solutions else None


# ----- parsers ---------------------------------------------------------------------------------------


def parse_results_log(path: Path) -> list[list[float]]:
    """A testbench results log: one row of floats per sample."""
    rows: list[list[float]] = []
    for n, line in enumerate(_read(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append([float(v) for v in line.split()])
        except ValueError:
            raise ReportError(f"'{path}' line {n}: expected numbers, got {line.strip()[:60]!r}") from None
    return rows


def parse_csynth_xml(path: Path) -> dict[str, Any]:
    """The csynth XML summary with hls4ml's keys (DSP48E is reported as DSP, as hls4ml does)."""
    try:
        root = ET.fromstring(_read(path))
    except ET.ParseError as error:
        raise ReportError(f"cannot read '{path}': {error}") from None

    def text(where: str) -> int | float | str | None:
        node = root.find(where)
        return None if node is None else _number(node.text)

    latency = "PerformanceEstimates/SummaryOfOverallLatency"
    report: dict[str, Any] = {
        "TargetClockPeriod": text("UserAssignments/TargetClockPeriod"),
        "EstimatedClockPeriod": text("PerformanceEstimates/SummaryOfTimingAnalysis/EstimatedClockPeriod"),
        "BestLatency": text(f"{latency}/Best-caseLatency"),
        "WorstLatency": text(f"{latency}/Worst-caseLatency"),
        "IntervalMin": text(f"{latency}/Interval-min"),
        "IntervalMax": text(f"{latency}/Interval-max"),
    }
    for section, prefix in (("AreaEstimates/Resources", ""), ("AreaEstimates/AvailableResources", "Available")):
        for child in root.find(section) or []:
            tag = "DSP" if child.tag == "DSP48E" else child.tag
            report[prefix + tag] = _number(child.text)
    return {k: v for k, v in report.items() if v is not None}


_UTILISATION_ROWS = (
    (1, ("CLB LUTs", "Slice LUTs"), "LUT"),
    (1, ("CLB Registers", "Slice Registers"), "FF"),
    (2, ("Block RAM Tile",), "BRAM_18K"),
    (2, ("URAM",), "URAM"),
    (3, ("DSPs",), "DSP"),
)


def parse_utilization(path: Path) -> dict[str, Any]:
    """Vivado `report_utilization`: the used count of LUTs, FFs, BRAM tiles, URAM and DSPs.

    The report is numbered sections (1. CLB/Slice Logic, 2. Memory, 3. DSP) of `|`-tables; the
    first row whose label matches wins (later rows are breakdowns).
    """
    report: dict[str, Any] = {}
    section = 0
    for line in _read(path).splitlines():
        heading = re.match(r"^(\d+)\.\s", line)
        if heading:
            section = int(heading.group(1))
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 3:
            continue
        for wanted_section, labels, key in _UTILISATION_ROWS:
            if section == wanted_section and key not in report and any(cells[1].startswith(label) for label in labels):
                report[key] = _number(cells[2])
    return report


def parse_cosim_rpt(path: Path) -> dict[str, Any]:
    """The cosim report table row of the RTL that ran (Verilog or VHDL, status not NA)."""
    names = ("RTL", "Status", "LatencyMin", "LatencyAvg", "LatencyMax", "IntervalMin", "IntervalAvg", "IntervalMax")
    for line in _read(path).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= len(names) and cells[0] in ("Verilog", "VHDL") and cells[1] != "NA":
            return {name: _number(cell) for name, cell in zip(names, cells, strict=False)}
    return {}


def parse_timing_summary(path: Path) -> dict[str, Any]:
    """Vivado `report_timing_summary`: the Design Timing Summary row (WNS ... TPWS)."""
    lines = _read(path).splitlines()
    for i, line in enumerate(lines):
        if "WNS(ns)" in line and "TNS(ns)" in line:
            for candidate in lines[i + 1 : i + 4]:
                fields = candidate.split()
                if len(fields) >= 10 and not set(candidate.strip()) <= {"-", " "}:
                    try:
                        values = [float(f) for f in fields[:10]]
                    except ValueError:
                        break
                    return {"WNS": values[0], "TNS": values[1], "WHS": values[4], "THS": values[5], "WPWS": values[8], "TPWS": values[9]}
            break
    return {}


# ----- hls4ml's entry points -------------------------------------------------------------------------


def parse_vivado_report(hls_dir: str | Path) -> dict[str, Any]:
    """Every report of a built project as a dict of sections (see the module docstring)."""
    root = Path(hls_dir)
    project = project_name(root)
    solution = _solution_dir(root, project)
    report: dict[str, Any] = {}
    for key, file in (("CSimResults", "csim_results.log"), ("CosimResults", "rtl_cosim_results.log")):
        if (root / "tb_data" / file).is_file():
            report[key] = parse_results_log(root / "tb_data" / file)
    if solution is not None:
        csynth = solution / "syn" / "report" / f"{project}_csynth.xml"
        if csynth.is_file():
            report["CSynthesisReport"] = parse_csynth_xml(csynth)
        cosim = solution / "sim" / "report" / f"{project}_cosim.rpt"
        if cosim.is_file():
            report["CosimReport"] = parse_cosim_rpt(cosim)
    if (root / "vivado_synth.rpt").is_file():
        report["VivadoSynthReport"] = parse_utilization(root / "vivado_synth.rpt")
    if (root / "vivado_timing.rpt").is_file():
        report["TimingReport"] = parse_timing_summary(root / "vivado_timing.rpt")
    return report


def read_vivado_report(hls_dir: str | Path, full_report: bool = False) -> None:
    """Print the csim log, the csynth report (its summary, or all with full_report) and the
    cosim report of every solution, saying which are missing."""
    root = Path(hls_dir)
    project = project_name(root)
    project_dir = root / f"{project}_prj"
    solutions = find_solutions(project_dir)
    if not solutions:
        print(f"No HLS solution in '{project_dir}': run build() (or vitis_hls -f build_prj.tcl) first.")
        return
    for solution in solutions:
        sdir = project_dir / solution
        print(f'Reports for solution "{solution}":\n')
        for title, file in (
            ("C SIMULATION RESULT", sdir / "csim" / "report" / f"{project}_csim.log"),
            ("SYNTHESIS REPORT", sdir / "syn" / "report" / f"{project}_csynth.rpt"),
            ("CO-SIMULATION RESULT", sdir / "sim" / "report" / f"{project}_cosim.rpt"),
        ):
            if not file.is_file():
                print(f"{title.capitalize()}: not found ({file}).")
                continue
            text = _read(file)
            if title == "SYNTHESIS REPORT" and not full_report:
                text = _synthesis_summary(text)
            print(f"{title}:\n{text}")


def _synthesis_summary(text: str) -> str:
    """The csynth report up to the per-instance details of its utilization section."""
    start = text.find("Utilization Estimates")
    cut = re.compile(r"^\s*\+ Detail:", re.MULTILINE).search(text, max(start, 0))
    return text if start < 0 or cut is None else text[: cut.start()]


def print_vivado_report(report: dict[str, Any]) -> None:
    """A readable listing of the sections parse_vivado_report returns."""
    for section in ("CSynthesisReport", "VivadoSynthReport", "CosimReport", "TimingReport"):
        fields = report.get(section)
        if not fields:
            continue
        print(f"{section}:")
        width = max(len(k) for k in fields)
        for key, value in fields.items():
            print(f"  {key:<{width}}  {value}")
    for section in ("CSimResults", "CosimResults"):
        if section in report:
            print(f"{section}: {len(report[section])} samples")
