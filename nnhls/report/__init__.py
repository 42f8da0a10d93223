"""HLS tool reports in hls4ml's shapes: `nnhls.report.parse_vivado_report(dir)` and friends.

See nnhls.report.vivado_report for the sections and files read.
"""

from nnhls.report.vivado_report import (
    ReportError,
    parse_vivado_report,
    print_vivado_report,
    read_vivado_report,
)

__all__ = ["ReportError", "parse_vivado_report", "print_vivado_report", "read_vivado_report"]
