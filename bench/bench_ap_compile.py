"""Compile-time benchmark of the nnhls ap headers (a script, not a test).

Builds a translation unit with a 16x64 dense layer in ap_fixed<16,6> (products accumulated in a
wider ap_fixed) with `g++ -O2 -c`, several times, and prints the best and median wall times. With
--vendor DIR it also times the same TU against the vendor's headers for comparison.

    /work/venv/bin/python bench/bench_ap_compile.py [--vendor /tmp/hls4ml_src/hls4ml/templates/vivado/ap_types]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

AP_TYPES = Path(__file__).resolve().parents[1] / "nnhls" / "hls_lib" / "ap_types"

DENSE_TU = r"""
#include <ap_fixed.h>
typedef ap_fixed<16, 6> data_t;
typedef ap_fixed<16, 6> weight_t;
typedef ap_fixed<40, 16> accum_t;
typedef ap_fixed<16, 6, AP_RND, AP_SAT> result_t;
enum { N_IN = 16, N_OUT = 64 };

void dense(const data_t x[N_IN], result_t y[N_OUT], const weight_t w[N_IN * N_OUT], const weight_t b[N_OUT]) {
  for (int j = 0; j < N_OUT; ++j) {
    accum_t acc = b[j];
    for (int i = 0; i < N_IN; ++i) acc += x[i] * w[i * N_OUT + j];
    y[j] = acc;
  }
}
"""


def time_compile(include: Path, repeats: int, warnings: bool = True) -> list[float]:
    """Wall times of `g++ -std=c++17 -O2 -c` on the dense TU."""
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "dense.cpp"
        src.write_text(DENSE_TU)
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run(
                [
                    "g++",
                    "-std=c++17",
                    "-O2",
                    "-Wall",
                    "-Wextra",
                    f"-I{include}",
                    "-c",
                    str(src),
                    "-o",
                    str(Path(tmp) / "dense.o"),
                ],
                check=True,
            )
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--vendor", type=Path, help="vendor ap_types directory to compare against")
    args = parser.parse_args()
    runs = [("nnhls", AP_TYPES)] + ([("vendor", args.vendor)] if args.vendor else [])
    for name, include in runs:
        times = time_compile(include, args.repeats, warnings=name == "nnhls")
        print(
            f"{name:7s} 16x64 dense ap_fixed<16,6>, g++ -O2: best {min(times):.3f} s, median {statistics.median(times):.3f} s"
        )


if __name__ == "__main__":
    main()
