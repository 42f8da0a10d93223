"""Design-space sweeps: many configurations of one model, run as independent Dask tasks.

    spec = load_spec("sweep.yml", read_config=converters.load_yaml)   # spec.py: base, axes, points
    table = run_sweep(spec, convert=converters.convert_from_config)   # execute.py: Dask or sequential
    table = read_results("jet_sweep")             # report.py: the table back, the Pareto front, the plot

Modules: spec (the description and its points), point (what a worker runs for one point),
results (the output directory: streamed CSV, manifest, lock, Parquet), execute (Dask or
sequential execution, progress), report (Pareto front, table, PNG), errors. Dask, pandas and
matplotlib are the optional extra `nnhls[sweep]`; nothing here imports them at module level.
"""

from nnhls.compiler.sweep.errors import MissingExtraError, SweepError
from nnhls.compiler.sweep.execute import run_sweep
from nnhls.compiler.sweep.report import plot_pareto, read_results, with_pareto
from nnhls.compiler.sweep.spec import SweepSpec, load_spec

__all__ = ["MissingExtraError", "SweepError", "SweepSpec", "load_spec", "plot_pareto", "read_results", "run_sweep", "with_pareto"]
