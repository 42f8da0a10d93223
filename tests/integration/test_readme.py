"""The README's Python quick start runs as written (from the repository root, on the bundled example)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def python_blocks() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_readme_python_quick_start_runs(tmp_path: Path) -> None:
    blocks = python_blocks()
    assert blocks, "README.md has no python example"
    # Run from a copy of the paths the example uses, so the output dir lands in tmp_path.
    (tmp_path / "examples").symlink_to(REPO_ROOT / "examples")
    script = tmp_path / "quick_start.py"
    script.write_text(blocks[0])
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, env=env, check=False, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "func.func @jet_tagger" in result.stdout and "!hls.fixed" in result.stdout
    assert (tmp_path / "my-hls-test" / "firmware" / "jet_tagger.cpp").is_file()
