"""A 48-point sweep of the bundled jet tagger: Dask LocalCluster vs the points one after another.

    python bench/bench_sweep.py                   # 2 workers (one per core here), cold g++ cache each run
    python bench/bench_sweep.py --workers 4 --repeat 2
    python bench/bench_sweep.py --plot docs/sweep_pareto.png --markdown docs/sweep_table.md

The sweep is examples/jet_tagger/sweep.yml (reuse factor 1-8 x strategy x fc1 weight width 4-8 x
io type = 48 points; each converts, estimates, builds the g++ emulation library and measures
the agreement with the Keras float outputs on the example's 200 inputs). Both modes run the same
`run_sweep` code into fresh output directories with an empty build cache (a fresh
NNHLS_CACHE_DIR), so both do 48 cold builds; the Dask time includes starting the cluster. The
machine's load average is printed before and after: other processes on the machine slow both
modes, and the ratio only means something on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SPEC = REPO / "examples" / "jet_tagger" / "sweep.yml"


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def timed_sweep(sequential: bool, workers: int, folder: Path) -> float:
    from nnhls.compiler.sweep import load_spec, run_sweep
    from nnhls.converters import convert_from_config, load_yaml

    os.environ["NNHLS_CACHE_DIR"] = str(folder / "cache")  # cold builds; inherited by the workers
    spec = load_spec(SPEC, read_config=load_yaml, output=folder / "out")
    start = time.perf_counter()
    table = run_sweep(spec, convert=convert_from_config, sequential=sequential, workers=None if sequential else workers, progress=False)
    elapsed = time.perf_counter() - start
    assert len(table) == 48 and (table["status"] == "ok").all(), table[["index", "status", "error"]]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--plot", help="also write the Pareto plot of the sweep here (PNG)")
    parser.add_argument("--markdown", help="also write the report table here (Markdown)")
    args = parser.parse_args()
    print(f"before: {load()}")
    for run in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            sequential = timed_sweep(True, args.workers, Path(tmp) / "sequential")
            parallel = timed_sweep(False, args.workers, Path(tmp) / "dask")
            print(
                f"run {run + 1}: 48 points one after another {sequential:.1f} s; Dask LocalCluster "
                f"({args.workers} workers) {parallel:.1f} s; speed-up {sequential / parallel:.2f}x ({load()})"
            )
            if run == 0 and (args.plot or args.markdown):
                write_report(Path(tmp) / "dask" / "out", args.plot, args.markdown)
    print(f"after: {load()}")


def write_report(results: Path, plot: str | None, markdown: str | None) -> None:
    from nnhls.compiler.sweep.report import (
        default_objectives,
        markdown_table,
        plot_pareto,
        read_results,
        summary_rows,
        with_pareto,
    )

    table = read_results(results)
    quality, costs = default_objectives(table)
    assert quality is not None
    table = with_pareto(table, quality, costs)
    if plot:
        plot_pareto(table, quality, costs, plot, title="jet tagger, 48 points: bit-exact agreement with Keras vs estimates")
        print(f"plot: {plot}")
    if markdown:
        headers, rows = summary_rows(table[table["pareto"]], quality, costs)
        Path(markdown).write_text(markdown_table(headers, rows))
        print(f"table: {markdown}")


if __name__ == "__main__":
    main()
