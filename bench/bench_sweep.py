"""A 48-point sweep of the bundled jet tagger: Dask LocalCluster vs the points one after another.

    python bench/bench_sweep.py                   # both emulators, 2 workers (one per core here)
    python bench/bench_sweep.py --emulator numpy --workers 4 --repeat 2
    python bench/bench_sweep.py --plot docs/sweep_pareto.png --markdown docs/sweep_table.md
    python bench/bench_sweep.py --emulator numpy --repeat 3 --per-point   # also one point per task

The sweep is examples/jet_tagger/sweep.yml (reuse factor x default precision x fc1 weight width
= 48 points; each converts, estimates, writes its project and measures the agreement with the
Keras float outputs on the example's 200 inputs), run twice per emulator with the same
`run_sweep` code into fresh output directories:

  numpy  the sweep's default: accuracy on the numpy emulator (same bits as the g++ build)
  cpp    accuracy on each point's g++ build, from an empty build cache (a fresh NNHLS_CACHE_DIR)

"one after another" is `run_sweep(sequential=True)`: one process whose emulator uses every core
(and whose g++ builds compile a project's translation units side by side), the best way to run
the same points without Dask. "Dask" starts a LocalCluster (one single-threaded worker per core,
the emulator of each limited to its share of the cores; on Linux the workers fork from this
process; the points in guided batches, or with --per-point also one point per Dask task) and its
time includes starting and stopping the cluster (also shown on their own). Both
modes start from the same warmed-up process (nnhls imported, one conversion and emulation run
untimed). `cpu` is the CPU time of the whole process tree (this process, the workers, g++);
"the points' own time" sums each point's time from start to end wherever it ran (what is left of
the cluster's time is Dask's and the wait for the last point).

Before the sweeps, `ceiling` measures what this machine gives two independent CPU-bound
processes at that moment: 2 x (time of one alone) / (time of two side by side), for a Python loop
and (with cpp) for g++ compiling the example's bridge. No sweep can beat them; on an idle machine
with two real cores they are close to 2. The load average is printed
with every figure: other processes slow both modes and the ratios only mean something on an
otherwise idle machine.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SPEC = REPO / "examples" / "jet_tagger" / "sweep.yml"
POINTS = 48
SPIN = 3_000_000
"""Iterations of the ceiling's CPU-bound loop (about a second on this machine)."""


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (workers, g++)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def spin(iterations: int = SPIN) -> float:
    start = time.perf_counter()
    total = 0
    for i in range(iterations):
        total += i * i % 7
    return time.perf_counter() - start


def ceiling() -> float:
    """2 x (one CPU-bound process alone) / (two side by side): the speed-up two processes get here now."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        pool.map(spin, [SPIN // 10] * 2)  # start both interpreters first
        alone = pool.apply(spin)
        start = time.perf_counter()
        pool.map(spin, [SPIN, SPIN], chunksize=1)
        both = time.perf_counter() - start
    return 2 * alone / both


def gxx_ceiling(folder: Path) -> float:
    """The ceiling for g++: the example's bridge compiled alone, then twice side by side."""
    import subprocess

    from nnhls.codegen.build import CXX_FLAGS, _include_flags, compiler  # pyright: ignore[reportPrivateUsage]
    from nnhls.converters import convert_from_config, load_yaml

    root = folder / "gxx"
    config = {**load_yaml(REPO / "examples" / "jet_tagger" / "config.yml"), "OutputDir": str(root)}
    convert_from_config(config).write()
    source = next(root.glob("*_bridge.cpp"))

    def compile_side_by_side(count: int) -> float:
        start = time.perf_counter()
        jobs = [subprocess.Popen([compiler(), *CXX_FLAGS, *_include_flags(root), "-c", str(source), "-o", str(root / f"{i}.o")]) for i in range(count)]
        assert all(job.wait() == 0 for job in jobs)
        return time.perf_counter() - start

    compile_side_by_side(1)  # headers into the page cache
    return 2 * compile_side_by_side(1) / compile_side_by_side(2)


def warm_up() -> None:
    """Import nnhls and run one conversion and emulation untimed, so that both modes start from the
    same state: the sequential run does not pay the lazy imports of a first point, and the Dask
    workers, forked from this process, inherit no more than the sequential run starts with."""
    import numpy as np

    from nnhls.converters import convert_from_config, load_yaml

    with tempfile.TemporaryDirectory() as tmp:
        config = {**load_yaml(REPO / "examples" / "jet_tagger" / "config.yml"), "OutputDir": tmp}
        model = convert_from_config(config)
        model.write()
        model.predict(np.load(REPO / "examples" / "jet_tagger" / "inputs.npy")[:10], emulator="numpy")


def timed_sweep(emulator: str, sequential: bool, workers: int, folder: Path, per_point: bool = False) -> dict[str, Any]:
    from nnhls.compiler.sweep import execute, load_spec, run_sweep
    from nnhls.converters import convert_from_config, load_yaml

    os.environ["NNHLS_CACHE_DIR"] = str(folder / "cache")  # cold builds; inherited by the workers
    spec = load_spec(SPEC, read_config=load_yaml, output=folder / "out", emulator=emulator)
    guided = execute.GUIDED_SHARE
    execute.GUIDED_SHARE = 0 if per_point else guided  # 0: one point per Dask task
    try:
        cpu, start = cpu_seconds(), time.perf_counter()
        table = run_sweep(spec, convert=convert_from_config, sequential=sequential, workers=None if sequential else workers, progress=False)
        elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    finally:
        execute.GUIDED_SHARE = guided
    assert len(table) == POINTS and (table["status"] == "ok").all(), table[["index", "status", "error"]]
    overhead = float(table.attrs.get("startup_s", 0.0)) + float(table.attrs.get("shutdown_s", 0.0))
    return {"wall": elapsed, "startup": float(table.attrs.get("startup_s", 0.0)), "overhead": overhead, "cpu": cpu, "table": table}


def points_time(run: dict[str, Any]) -> float:
    """The sum of the points' own times (the table's time_s: run_point from start to end, on
    whichever process ran it): more on the cluster than one after another means the points
    themselves ran slower side by side (shared caches, memory, file system, other jobs)."""
    return float(run["table"]["time_s"].sum())


def tasks_of(workers: int, per_point: bool) -> int:
    """How many Dask tasks the local cluster runs the 48 points as."""
    from nnhls.compiler.sweep.execute import guided_batches

    return POINTS if per_point else len(guided_batches(list(range(POINTS)), workers))  # pyright: ignore[reportArgumentType]


def compare(emulator: str, workers: int, folder: Path, per_point: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    before = load()
    sequential = timed_sweep(emulator, True, workers, folder / f"{emulator}-sequential")
    print(
        f"  {emulator:5}  {POINTS} points one after another {sequential['wall']:.1f} s (cpu {sequential['cpu']:.1f} s; "
        f"the points' own time {points_time(sequential):.1f} s)  [{before}]",
        flush=True,
    )
    modes = [False, True] if per_point else [False]
    runs = {}
    for one_per_task in modes:
        before = load()
        name = "dask-per-point" if one_per_task else "dask"
        parallel = runs[name] = timed_sweep(emulator, False, workers, folder / f"{emulator}-{name}", per_point=one_per_task)
        points = parallel["wall"] - parallel["overhead"]
        print(
            f"  {emulator:5}  Dask LocalCluster ({workers} workers, {tasks_of(workers, one_per_task)} tasks"
            f"{': one point per task' if one_per_task else ': guided batches'}) {parallel['wall']:.1f} s including "
            f"{parallel['startup']:.1f} s startup and {parallel['overhead'] - parallel['startup']:.1f} s shutdown "
            f"(cpu {parallel['cpu']:.1f} s; the points' own time {points_time(parallel):.1f} s): speed-up {sequential['wall'] / parallel['wall']:.2f}x, "
            f"{sequential['wall'] / points:.2f}x without starting and stopping the cluster  [{before}; after: {load()}]",
            flush=True,
        )
    for name, run in runs.items():
        assert sequential["table"]["agreement"].tolist() == run["table"]["agreement"].tolist(), f"{name} and sequential measured different agreements"
    return sequential, runs["dask"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--emulator", choices=["numpy", "cpp", "both"], default="both")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--per-point", action="store_true", help="also time the cluster with one point per Dask task (the batching's gain)")
    parser.add_argument("--plot", help="also write the Pareto plot of the sweep here (PNG)")
    parser.add_argument("--markdown", help="also write the report table here (Markdown)")
    args = parser.parse_args()
    emulators = ["numpy", "cpp"] if args.emulator == "both" else [args.emulator]
    warm_up()

    print(f"before: {load()}")
    for run in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            gxx = f", {gxx_ceiling(Path(tmp)):.2f}x for two g++" if "cpp" in emulators else ""
            print(f"run {run + 1}: ceiling {ceiling():.2f}x for two CPU-bound Python processes{gxx} ({load()})")
            tables: dict[str, Any] = {}
            for emulator in emulators:
                _, parallel = compare(emulator, args.workers, Path(tmp), args.per_point)
                tables[emulator] = parallel["table"]
            if len(tables) == 2:
                columns = ["agreement", "max_abs_diff", "mean_abs_diff"]
                assert tables["numpy"][columns].equals(tables["cpp"][columns]), "numpy and g++ emulation differ"
                print("  numpy and cpp sweeps: identical accuracy columns")
            if run == 0 and (args.plot or args.markdown):
                write_report(Path(tmp) / f"{emulators[0]}-dask" / "out", args.plot, args.markdown)
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
