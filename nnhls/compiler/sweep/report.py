"""Sweep results: reading them back, the Pareto front, the table and the plot.

The front is taken over the points that finished ok: the quality column is maximised (default:
`accuracy` when labels were given, else `agreement` with the float model) and every cost column
minimised (default: `bops` when the estimates provide it, else `multipliers`; add `latency` for
a three-way front). A point is on the front when no other point is at least as good in every
objective and better in one. The plot has one panel per cost and one for the latency estimate,
each with its own two-way front drawn as a staircase and the points of the table's front marked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nnhls.compiler.sweep.errors import SweepError, require
from nnhls.compiler.sweep.results import (
    LEADING,
    RESULTS_CSV,
    RESULTS_PARQUET,
    RUN_COLUMNS,
    TRAILING,
    is_metric,
)

QUALITY_COLUMNS: tuple[str, ...] = ("accuracy", "agreement")
COST_COLUMNS: tuple[str, ...] = ("bops", "multipliers")
LATENCY_COLUMN = "latency"


def _has_values(table: Any, column: str) -> bool:
    return column in table.columns and bool(table[column].notna().any())


def default_objectives(table: Any) -> tuple[str | None, list[str]]:
    """(quality column, cost columns) of the front, from what the table holds: accuracy (or
    agreement) against the resource estimate (BOPs, or multipliers)."""
    quality = next((c for c in QUALITY_COLUMNS if _has_values(table, c)), None)
    costs = [c for c in COST_COLUMNS if _has_values(table, c)][:1]
    return quality, costs


def plot_panels(table: Any, costs: Sequence[str]) -> list[str]:
    """The plot's x axes: the front's costs, and the latency estimate."""
    return list(dict.fromkeys([*costs, *([LATENCY_COLUMN] if _has_values(table, LATENCY_COLUMN) else [])]))


def pareto_mask(quality: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """Which rows are on the front: maximise `quality` (n,), minimise every column of `costs` (n, k).

    Rows are visited from the best quality down; a row is dominated only by a front row found
    before it, so the work is n x (front size).
    """
    n = len(quality)
    order = np.lexsort((*[costs[:, j] for j in reversed(range(costs.shape[1]))], -quality))
    front: list[int] = []
    on_front = np.zeros(n, dtype=bool)
    for i in order:
        dominated = False
        for j in front:
            no_worse = quality[j] >= quality[i] and bool(np.all(costs[j] <= costs[i]))
            better = quality[j] > quality[i] or bool(np.any(costs[j] < costs[i]))
            if no_worse and better:
                dominated = True
                break
        if not dominated:
            front.append(int(i))
            on_front[i] = True
    return on_front


def with_pareto(table: Any, quality: str | None = None, costs: Sequence[str] | None = None) -> Any:
    """The table with a boolean `pareto` column (False everywhere when there is nothing to compare)."""
    default_quality, default_costs = default_objectives(table)
    quality = quality or default_quality
    costs = list(costs) if costs else default_costs
    for column in [quality, *costs]:
        if column is not None and column not in table.columns:
            raise SweepError(f"the results have no column '{column}'; columns: {', '.join(map(str, table.columns))}")
    result = table.copy()
    result["pareto"] = False
    if quality is None or not costs or table.empty:
        return result
    usable = (result["status"] == "ok") & result[[quality, *costs]].notna().all(axis=1)
    if usable.any():
        part = result[usable]
        mask = pareto_mask(part[quality].to_numpy(np.float64), part[list(costs)].to_numpy(np.float64))
        result.loc[part.index[mask], "pareto"] = True
    return result


def read_results(path: str | Path) -> Any:
    """The results table of a sweep directory (its results.csv) or of a .csv / .parquet file."""
    require("pandas", what="nnhls sweep report")
    import pandas as pd

    source = Path(path)
    if source.is_dir():
        csv_file, parquet_file = source / RESULTS_CSV, source / RESULTS_PARQUET
        source = csv_file if csv_file.is_file() else parquet_file
    if not source.is_file():
        raise SweepError(f"no sweep results at '{path}' (give the sweep output directory, or its {RESULTS_CSV} / {RESULTS_PARQUET})")
    try:
        if source.suffix == ".parquet":
            require("pyarrow", what="reading Parquet results")
            table = pd.read_parquet(source)
        else:
            table = pd.read_csv(source, dtype={"point": str})
    except (ValueError, OSError) as error:
        raise SweepError(f"cannot read sweep results '{source}': {' '.join(str(error).split())}") from None
    if not set(LEADING) <= set(table.columns):
        raise SweepError(f"'{source}' is not an nnhls sweep results table (columns {', '.join(LEADING)} missing)")
    return table.drop_duplicates("point", keep="last").sort_values("index").reset_index(drop=True)


def setting_columns(table: Any) -> list[str]:
    fixed = {*LEADING, *TRAILING, "pareto"}
    return [c for c in table.columns if c not in fixed and not is_metric(c)]


def design_columns(table: Any) -> list[str]:
    """Every column but those describing the run (timings, worker): equal for two equal sweeps."""
    return [c for c in table.columns if c not in RUN_COLUMNS]


# ----- table -------------------------------------------------------------------------------------------------


def _format(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1000 and not value.is_integer() else f"{value:.0f}"
    return str(value)


def summary_rows(table: Any, quality: str | None, costs: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of the report table: settings, status, objectives, II, front mark."""
    wanted = (quality, *QUALITY_COLUMNS, *costs, *COST_COLUMNS, LATENCY_COLUMN, "ii")
    metrics = list(dict.fromkeys(c for c in wanted if c is not None and _has_values(table, c)))
    columns = ["index", *setting_columns(table), "status", *metrics]
    rows = [[_format(record[c]) for c in columns] + (["*"] if record.get("pareto") else [""]) for record in table.to_dict("records")]
    return [*columns, "front"], rows


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def failures(table: Any) -> list[str]:
    """One line per distinct (status, error) of the points that did not finish ok, naming the
    points: `failed, point 13: <error>`, `error, 3 points 4-5, 9: <error>`."""
    bad = table[table["status"] != "ok"]
    groups: dict[tuple[str, str], list[int]] = {}
    for record in bad.to_dict("records"):
        groups.setdefault((str(record["status"]), _format(record.get("error"))), []).append(int(record["index"]))
    lines = []
    for (status, error), indices in groups.items():
        which = f"point {indices[0]}" if len(indices) == 1 else f"{len(indices)} points {index_ranges(indices)}"
        lines.append(f"{status}, {which}: {error}")
    return lines


def index_ranges(indices: Sequence[int]) -> str:
    """[0, 1, 2, 5, 7, 8] -> '0-2, 5, 7-8'."""
    parts: list[str] = []
    ordered = sorted(indices)
    start = previous = ordered[0]
    for index in [*ordered[1:], None]:
        if index is not None and index == previous + 1:
            previous = index
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if index is not None:
            start = previous = index
    return ", ".join(parts)


# ----- plot --------------------------------------------------------------------------------------------------


def plot_pareto(table: Any, quality: str, costs: Sequence[str], path: str | Path, title: str = "") -> Path:
    """A PNG with one panel per cost column (`plot_panels`): every ok point, the table's front
    (`pareto` column) marked, each panel's own two-way front joined."""
    require("matplotlib", what="the sweep plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = plot_panels(table, costs)
    ok = table[(table["status"] == "ok") & table[[quality, *panels]].notna().all(axis=1)]
    if ok.empty:
        raise SweepError("no point finished ok: nothing to plot")
    figure, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), squeeze=False)
    for axis, cost in zip(axes[0], panels, strict=True):
        front = ok[ok["pareto"]]
        axis.scatter(ok[cost], ok[quality], s=22, color="#9aa5b1", label="points")
        axis.scatter(front[cost], front[quality], s=40, color="#d62728", zorder=3, label="Pareto front")
        own = ok.iloc[np.flatnonzero(pareto_mask(ok[quality].to_numpy(np.float64), ok[[cost]].to_numpy(np.float64)))].sort_values(cost)
        axis.step(own[cost], own[quality], where="post", color="#d62728", linewidth=1, alpha=0.7)
        axis.scatter(own[cost], own[quality], s=90, facecolors="none", edgecolors="#d62728", linewidths=1, label=f"front in {cost} alone")
        values = ok[cost].to_numpy(np.float64)
        if values.min() > 0 and values.max() / values.min() > 30:
            axis.set_xscale("log")
        axis.set_xlabel(f"{cost} (estimate)" if cost in ("multipliers", "bops", "latency") else cost)
        axis.set_ylabel(quality)
        axis.grid(alpha=0.3)
    axes[0][0].legend(loc="lower right")
    failed = int((table["status"] != "ok").sum())
    figure.suptitle(title or f"{len(ok)} points ok, {failed} failed; front: maximise {quality}, minimise {', '.join(costs)}")
    figure.tight_layout()
    output = Path(path)
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=90)
    plt.close(figure)
    return output
