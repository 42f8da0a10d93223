"""`nnhls sweep`: design-space sweeps on Dask, and `nnhls sweep report` on their results.

    nnhls sweep sweep.yml                          # LocalCluster sized to this machine
    nnhls sweep sweep.yml --scheduler tcp://head:8786   # an existing Dask cluster (or NNHLS_DASK_SCHEDULER)
    nnhls sweep report jet_tagger_sweep            # table, Pareto front, pareto.png

Rerunning the same command resumes: finished points are not run again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

REPORT_COMMAND = "sweep-report"
"""`nnhls sweep report ...` is parsed as this subcommand (see `rewrite_argv`)."""


def rewrite_argv(argv: list[str]) -> list[str]:
    """`sweep report ARGS` -> `sweep-report ARGS` (argparse cannot have a subcommand that is
    optional beside a positional file)."""
    for i, token in enumerate(argv):
        if token.startswith("-"):
            continue
        if token == "sweep" and argv[i + 1 : i + 2] == ["report"]:
            return [*argv[:i], REPORT_COMMAND, *argv[i + 2 :]]
        break
    return argv


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "sweep",
        help="run a design-space sweep on Dask (`nnhls sweep report RESULTS` shows the results)",
        description="Run every point of a sweep file (a base config and axes over its keys) as a Dask task, "
        "streaming results into OUTPUT/results.csv; rerun to resume. `nnhls sweep report RESULTS` prints the "
        "table, marks the Pareto front and saves a plot.",
        epilog="Examples: nnhls sweep examples/jet_tagger/sweep.yml | nnhls sweep sweep.yml --scheduler tcp://head:8786 | "
        "nnhls sweep report jet_tagger_sweep",
    )
    p.add_argument("spec", help="sweep YAML file (base, axes, points, measure, data, ...)")
    p.add_argument("-o", "--output", help="results directory (default: the file's `output`, else ./<name>_sweep)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="Dask scheduler of an existing cluster (default: NNHLS_DASK_SCHEDULER, else a local cluster)")
    p.add_argument("--workers", type=int, help="local cluster size (default: one worker per available core)")
    p.add_argument("--sequential", action="store_true", help="run the points one after another in this process (no Dask)")
    p.add_argument(
        "--emulator", choices=["numpy", "cpp"],
        help="what accuracy is measured on: the numpy emulator (the file's `emulator`, default numpy) or each point's g++ build (cpp); the same bits",
    )  # fmt: skip
    p.add_argument("--restart", action="store_true", help="discard the results already in the output directory")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sweep)

    r = sub.add_parser(
        REPORT_COMMAND,
        prog="nnhls sweep report",
        help=argparse.SUPPRESS,
        description="Print a sweep's results table with its Pareto front marked, list failed points, save a PNG plot.",
        epilog="Example: nnhls sweep report jet_tagger_sweep --plot pareto.png",
    )
    r.add_argument("results", help="sweep output directory, or its results.csv / results.parquet")
    r.add_argument("--quality", help="column to maximise (default: accuracy, else agreement)")
    r.add_argument("--cost", action="append", help="column to minimise, repeatable (default: bops, else multipliers)")
    r.add_argument("--plot", help="PNG to write (default: pareto.png in the results directory)")
    r.add_argument("--no-plot", action="store_true", help="no PNG")
    r.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    r.add_argument("--front", action="store_true", help="only the points on the Pareto front")
    r.set_defaults(func=cmd_sweep_report)


def cmd_sweep(args: argparse.Namespace) -> int:
    from nnhls.compiler.sweep import load_spec, run_sweep
    from nnhls.compiler.sweep.errors import SweepError
    from nnhls.converters import convert_from_config, load_yaml

    if args.workers is not None and (args.scheduler or args.sequential):
        raise SweepError("--workers sizes the local cluster: it does not apply with --scheduler or --sequential")
    spec = load_spec(args.spec, read_config=load_yaml, output=args.output, emulator=args.emulator)
    table = run_sweep(
        spec,
        convert=convert_from_config,
        scheduler=args.scheduler,
        workers=args.workers,
        sequential=args.sequential,
        restart=args.restart,
        progress=not args.no_progress,
    )
    counts = table["status"].value_counts().to_dict() if len(table) else {}
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(f"{len(table)} points ({summary}); results: {spec.output / 'results.csv'}", file=sys.stderr)
    print(f"see them with: nnhls sweep report {spec.output}", file=sys.stderr)
    return 0


def cmd_sweep_report(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from nnhls.compiler.sweep.report import (
        default_objectives,
        failures,
        markdown_table,
        plot_pareto,
        read_results,
        summary_rows,
        with_pareto,
    )

    table = read_results(args.results)
    quality, costs = default_objectives(table)
    quality = args.quality or quality
    costs = args.cost or costs
    table = with_pareto(table, quality, costs)
    headers, rows = summary_rows(table[table["pareto"]] if args.front else table, quality, costs)
    if args.markdown:
        sys.stdout.write(markdown_table(headers, rows))
    else:
        console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
        view = Table(title=f"sweep results: {len(table)} points" + (f"; front (*): max {quality}, min {', '.join(costs)}" if quality and costs else ""))
        for header in headers:
            view.add_column(header, overflow="fold")
        for row in rows:
            view.add_row(*row, style="bold" if row[-1] == "*" else None)
        console.print(view)
    for line in failures(table):
        print(line)
    if args.no_plot or quality is None or not costs:
        return 0
    results = Path(args.results)
    path = Path(args.plot) if args.plot else (results if results.is_dir() else results.parent) / "pareto.png"
    if (table["status"] == "ok").any():
        print(f"plot: {plot_pareto(table, quality, costs, path)}", file=sys.stderr)
    return 0
