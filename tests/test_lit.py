"""Runs the whole lit + FileCheck suite as one pytest test, so one command runs every test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SUITE = Path(__file__).parent / "filecheck"


def test_lit_suite() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from lit.main import main; sys.exit(main())", "-v", str(SUITE)],
        capture_output=True,
        text=True,
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"lit failures:\n{report[-20000:]}"
    assert "Passed" in report, report[-2000:]
