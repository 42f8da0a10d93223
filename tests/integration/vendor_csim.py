"""The vendor's C simulation of a written project, as far as it can run here: the project's test
bench and firmware (the synthesis sources, weights as the exact constants of their synthesis
form, no emulation header) compiled with g++ against the vendor's ap types headers instead of
nnhls' own, the way Vitis HLS's csim_design builds them (-std=c++14, assertions on), then run on
tb_data/tb_input_features.dat. Its outputs are the exact values (printed with 17 digits).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    from conftest import VendorHeaders

WRAPPER = """\
// One translation unit: the vendor's headers are parsed once.
#include "{project}_test.cpp"
#include "firmware/{project}.cpp"
#ifdef NNHLS_AP_COMMON_H
#error "nnhls' own ap types were included: this build must see only the vendor's"
#endif
"""


def vendor_csim(root: Path, x: np.ndarray | list[np.ndarray], headers: VendorHeaders) -> np.ndarray:
    """Outputs (samples x all outputs flattened) of the project at `root` on inputs `x` (one array
    per model input, samples first), built against the vendor's headers in `headers`."""
    compiler = shutil.which("g++")
    if compiler is None:
        pytest.skip("g++ not installed")
    project = next(p.stem for p in (root / "firmware").glob("*.cpp"))
    arrays = x if isinstance(x, list) else [x]
    samples = np.concatenate([a.reshape(len(a), -1) for a in arrays], axis=1)
    (root / "tb_data").mkdir(exist_ok=True)
    np.savetxt(root / "tb_data" / "tb_input_features.dat", samples, fmt="%.17g")
    (root / "tb_data" / "tb_output_predictions.dat").unlink(missing_ok=True)
    (root / "vendor_csim.cpp").write_text(WRAPPER.format(project=project))
    # firmware/ap_types (ours) is not on the include path: firmware/*.h find the vendor's first
    includes = [f"-I{headers.path}", f"-I{root / 'firmware'}", f"-I{root}"]
    cmd = [compiler, "-std=c++14", "-O0", "-w", *headers.flags, *includes, "vendor_csim.cpp", "-o", "vendor_csim"]
    built = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr[-4000:]
    ran = subprocess.run([str(root / "vendor_csim")], cwd=root, capture_output=True, text=True, check=False, timeout=300)
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
    return np.loadtxt(root / "tb_data" / "csim_results.log", ndmin=2)
