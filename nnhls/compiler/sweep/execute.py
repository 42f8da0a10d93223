"""Running a sweep: the points as independent Dask tasks, results streamed as they finish.

    spec = load_spec("sweep.yml", read_config=converters.load_yaml)
    table = run_sweep(spec, convert=converters.convert_from_config)  # LocalCluster sized to the machine
    table = run_sweep(spec, convert=..., scheduler="tcp://head:8786")  # an existing cluster
    table = run_sweep(spec, convert=..., sequential=True)            # one after another, no Dask

The API layer (`nnhls.sweep`, `nnhls sweep`) passes its config reader and converter: the driver
does not import the layer above it.

Without `scheduler`, NNHLS_DASK_SCHEDULER names the scheduler; without both, a LocalCluster with
one single-threaded worker process per available core runs the points, each point's emulator
limited to its worker's share of the cores (NNHLS_THREADS, and one BLAS / OpenMP thread), so
that points side by side do not oversubscribe the machine; points one after another
(`sequential`) let the emulator use every core. Starting the workers (and importing nnhls in
them) and stopping them are part of the sweep's time; the table's `attrs["startup_s"]` and
`attrs["shutdown_s"]` say how long they took. On a cluster the workers need nnhls installed and the model, data and output paths reachable under the same names (a
shared file system, as on a batch system); the data arrays themselves are sent to the workers.
A point that fails is recorded with its error and the others go on; a point whose worker died
is recorded as an error (a rerun retries it). A local cluster's points go in guided batches (see
`guided_batches`), an existing cluster's one per task; either way each row is recorded as soon
as its point is measured.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nnhls.compiler.sweep.errors import SweepError, _missing, require  # pyright: ignore[reportPrivateUsage]
from nnhls.compiler.sweep.hooks import HOOKS
from nnhls.compiler.sweep.point import Converter, PointTask, SweepData, error_row, run_point
from nnhls.compiler.sweep.results import RESULTS_CSV, ResultsStore, file_digest, write_parquet
from nnhls.compiler.sweep.spec import Point, SweepSpec

SCHEDULER_ENV = "NNHLS_DASK_SCHEDULER"
CONNECT_TIMEOUT_S = 20
"""How long to try reaching an existing scheduler."""
WORKER_TIMEOUT_S = 60
"""How long to wait for a first worker on an existing cluster before giving up."""
_MODEL_FILE_KEYS = ("KerasJson", "KerasH5", "KerasModel", "OnnxModel", "PytorchModel", "InputData", "OutputPredictions")

PARQUET_INTERVAL_S = 30.0
"""During a long sweep results.parquet is rewritten at most this often (the CSV gets every row at once)."""

RowCallback = Callable[[dict[str, Any]], None]


# ----- the sweep ------------------------------------------------------------------------------------------


def run_sweep(
    spec: SweepSpec,
    *,
    convert: Converter,
    scheduler: str | None = None,
    workers: int | None = None,
    sequential: bool = False,
    restart: bool = False,
    progress: bool = True,
) -> Any:
    """Run the points of `spec` not finished yet; return every point's row as a pandas DataFrame.

    `convert` turns a point's full config into an HLSModel (`nnhls.converters.convert_from_config`,
    which `nnhls.sweep` and the CLI pass); on Dask it must be a module-level function."""
    require("pandas", *(() if sequential else ("dask", "distributed")))
    check_not_reimported()
    if workers is not None and workers < 1:
        raise SweepError(f"workers must be at least 1, got {workers}")
    with ResultsStore(spec.output, spec.keys, fingerprint(spec), restart=restart) as store:
        finished = store.finished()
        pending = [p for p in spec.points if p.id not in finished]
        reporter = _Progress(len(spec.points), len(spec.points) - len(pending), enabled=progress)
        startup_s = shutdown_s = 0.0
        if pending:
            wants_data = "accuracy" in spec.measure or any(spec.hook_settings(p) for p in pending)
            data = load_data(spec, convert) if wants_data and spec.data.inputs is not None else None
            tasks = [point_task(spec, p, store.points_dir, convert) for p in pending]
            points = {p.id: p for p in pending}
            parquet_written = [time.monotonic()]

            def record(row: dict[str, Any]) -> None:
                point = points[row["point"]]
                store.append({**row, "index": point.index, **dict(point.settings)})
                reporter.advance(row.get("status") != "ok")
                if time.monotonic() - parquet_written[0] > PARQUET_INTERVAL_S:
                    _write_parquet(spec.output)
                    parquet_written[0] = time.monotonic()

            runner = _SequentialRunner() if sequential else _DaskRunner(scheduler, workers, (convert.__module__,))
            with runner, reporter:  # connected (or the cluster started) before the progress bar shows
                reporter.note(runner.description)
                startup_s = runner.startup_s
                runner.run(tasks, data, record)
            shutdown_s = runner.shutdown_s
        table = results_table(spec, store.csv_path)
        _write_parquet(spec.output)
    table.attrs.update(startup_s=startup_s, shutdown_s=shutdown_s)
    return table


def point_task(spec: SweepSpec, point: Point, points_dir: Path, convert: Converter) -> PointTask:
    return PointTask(
        point_id=point.id,
        index=point.index,
        config=spec.point_config(point, points_dir / point.id),
        measure=spec.measure,
        build=spec.build,
        convert=convert,
        emulator=spec.emulator,
        hooks=spec.hook_settings(point),
        hook_table=dict(HOOKS),
    )


def fingerprint(spec: SweepSpec) -> dict[str, Any]:
    """What makes results comparable: base config, model/data file contents, measurements."""
    base = {k: v for k, v in spec.base.items() if k != "OutputDir"}
    files = {key: _digest(spec.base.get(key)) for key in _MODEL_FILE_KEYS if spec.base.get(key)}
    data = {name: _digest(getattr(spec.data, name)) for name in ("inputs", "reference", "labels") if getattr(spec.data, name)}
    return {
        "base_config": hashlib.sha256(json.dumps(base, sort_keys=True).encode()).hexdigest(),
        "model_files": files,
        "data": {**data, "samples": spec.data.samples},
        "measurements": {"measure": list(spec.measure), "emulator": spec.emulator, **({"build": spec.build} if "build" in spec.measure else {})},
    }


def _digest(path: Any) -> str:
    file = Path(str(path))
    return file_digest(file) if file.is_file() else "missing"


# ----- data ------------------------------------------------------------------------------------------------


def load_array(path: Path, what: str) -> list[np.ndarray]:
    """The arrays of a .npy (one), .npz (one per model input/output, in file order) or text file."""
    if not path.is_file():
        raise SweepError(f"{what} file '{path}' not found")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                return [np.asarray(archive[name]) for name in archive.files]
        if path.suffix == ".npy":
            return [np.load(path, allow_pickle=False)]
        return [np.loadtxt(path, dtype=np.float64, ndmin=2)]
    except (ValueError, OSError) as error:
        raise SweepError(f"cannot read {what} file '{path}': {' '.join(str(error).split())}") from None


def load_data(spec: SweepSpec, convert: Converter) -> SweepData:
    """Inputs, float reference outputs (from the file, or the nn reference interpreter) and labels."""
    d = spec.data
    assert d.inputs is not None  # load_spec checks it
    inputs = [a[: d.samples] for a in load_array(d.inputs, "data.inputs")]
    count = len(inputs[0])
    if d.reference is not None:
        reference = [a[: d.samples] for a in load_array(d.reference, "data.reference")]
    else:
        reference = float_reference(spec.base, inputs, convert)
    labels = load_array(d.labels, "data.labels")[0][: d.samples] if d.labels is not None else None
    for name, arrays in (("data.inputs", inputs), ("data.reference", reference), ("data.labels", [] if labels is None else [labels])):
        for a in arrays:
            if len(a) != count:
                raise SweepError(f"{name} has {len(a)} samples, data.inputs {count}: they must match")
    if count == 0:
        raise SweepError("data.inputs holds no samples")
    return SweepData(inputs, [np.asarray(r, np.float64) for r in reference], labels)


def float_reference(base: dict[str, Any], inputs: Sequence[np.ndarray], convert: Converter) -> list[np.ndarray]:
    """The float model's outputs from nnhls' reference interpreter of the imported model."""
    from nnhls.interpreters.reference import run_reference

    model = convert({**base, "OutputDir": "unused"})
    module = model.module("import")
    return [np.asarray(r, np.float64) for r in run_reference(module, list(inputs))]


# ----- execution ---------------------------------------------------------------------------------------------


class _SequentialRunner:
    """The points one after another in this process."""

    description = "running the points one after another in this process"
    startup_s = shutdown_s = 0.0

    def __enter__(self) -> _SequentialRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, tasks: Iterable[PointTask], data: SweepData | None, record: RowCallback) -> None:
        for task in tasks:
            record(run_point(task, data))


class _DaskRunner:
    """The points as Dask tasks on an existing scheduler or on a LocalCluster started here."""

    def __init__(self, scheduler: str | None, workers: int | None, modules: Sequence[str] = ()) -> None:
        self.address = scheduler or os.environ.get(SCHEDULER_ENV) or None
        self.modules = tuple(modules)
        """Imported on every worker before the points start (the converter's module)."""
        self.workers = workers
        self.client: Any = None
        self.cluster: Any = None
        self.description = ""
        self.startup_s = 0.0
        """Seconds to start (or reach) the cluster and import nnhls in its workers."""
        self.shutdown_s = 0.0
        """Seconds to disconnect (and stop a local cluster)."""

    def __enter__(self) -> _DaskRunner:
        start = time.perf_counter()
        try:
            self.client, self.cluster = _connect(self.address, self.workers)
            _check_workers(self.client, self.address, self.modules)
        except BaseException:
            self.__exit__()
            raise
        self.startup_s = time.perf_counter() - start
        link = dashboard_link(self.client, local=self.address is None)
        workers = self.client.scheduler_info().get("workers", {})
        count = len(workers)
        threads = max((int(w.get("nthreads", 1)) for w in workers.values()), default=1)
        where = f"the Dask scheduler at {self.address} ({count} workers now)" if self.address else f"a local Dask cluster of {count} workers"
        self.description = f"running on {where}" + (f"; dashboard: {link}" if link else "")
        if threads > 1:  # a point captures the process's warnings and stderr while it runs
            self.description += f"; note: workers with {threads} threads run points side by side, whose warnings may mix (start workers with --nthreads 1)"
        return self

    def __exit__(self, *exc: object) -> None:
        start = time.perf_counter()
        if self.client is not None and self.cluster is not None:
            _quiet_closing_workers(self.client)
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.shutdown_s = time.perf_counter() - start

    def run(self, tasks: Sequence[PointTask], data: SweepData | None, record: RowCallback) -> None:
        """Each batch of points one Dask task; each point's row reaches `record` as soon as it is
        measured (a Dask event from the worker), and again with its batch's result: a row the
        event missed is not lost, a row seen twice is recorded once."""
        client = self.client
        shared = client.scatter(data, broadcast=True) if data is not None else None
        run = uuid.uuid4().hex[:8]
        topic = f"nnhls-sweep-{run}"
        arrived: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        recorded: set[str] = set()

        def record_once(row: dict[str, Any]) -> None:
            if row["point"] not in recorded:
                recorded.add(row["point"])
                record(row)

        client.subscribe_topic(topic, lambda event: arrived.put(("row", event[1]["row"])))  # before any task runs
        local = self.cluster is not None
        batches = guided_batches(tasks, len(client.scheduler_info().get("workers", {})) if local else 0)
        futures: dict[Any, list[PointTask]] = {}
        for batch in batches:
            future = client.submit(run_batch, batch, shared, topic, key=f"nnhls-points-{batch[0].point_id}-{len(batch)}-{run}", pure=False)
            future.add_done_callback(lambda f: arrived.put(("done", f)))
            futures[future] = batch
        try:
            unfinished = set(futures)
            while unfinished:
                what, item = arrived.get()
                if what == "row":
                    record_once(item)
                    continue
                unfinished.discard(item)
                for row in self._batch_rows(item, futures[item], recorded):
                    record_once(row)
        except BaseException:
            client.cancel(list(futures))
            raise
        finally:
            with contextlib.suppress(Exception):
                client.unsubscribe_topic(topic)

    @staticmethod
    def _batch_rows(future: Any, batch: Sequence[PointTask], recorded: set[str]) -> list[dict[str, Any]]:
        """The rows of a finished batch that no event brought (a gather only when one is missing);
        an error row for each point of a batch whose worker died (retried by a rerun)."""
        if all(task.point_id in recorded for task in batch):
            return []
        try:
            return list(future.result())
        except Exception as error:  # the worker died or the task could not run: retried by a rerun
            return [error_row(task, error) for task in batch]


GUIDED_SHARE = 2
"""A local cluster's batches: at most 1/(GUIDED_SHARE x workers) of the points still to submit
(0: one point per task, as on an existing cluster; bench/bench_sweep.py --per-point compares)."""


def guided_batches(tasks: Sequence[PointTask], workers: int) -> list[list[PointTask]]:
    """The points cut into Dask tasks. On a local cluster (`workers` > 0: its size known and
    fixed) guided self-scheduling: each batch takes 1/(GUIDED_SHARE x workers) of the points left,
    so the batches shrink to one point at the end (48 points on 2 workers: 12 tasks, 12, 9, 7, 5,
    4, 3, 2, 2, 1, 1, 1, 1 points), and the workers, taking the next batch when they are free,
    finish together. Dask's cost per task (about 15 ms of CPU on a 2-core machine, in the
    scheduler, the client and the worker) then falls on a quarter of the tasks. On an existing
    cluster (`workers` = 0) one point per task: its workers may join later (dask-jobqueue
    scales), and its points are usually long."""
    if workers <= 0 or GUIDED_SHARE <= 0:
        return [[task] for task in tasks]
    batches: list[list[PointTask]] = []
    start = 0
    while start < len(tasks):
        size = max(1, -(-(len(tasks) - start) // (GUIDED_SHARE * workers)))
        batches.append(list(tasks[start : start + size]))
        start += size
    return batches


def run_batch(tasks: Sequence[PointTask], data: SweepData | None, topic: str) -> list[dict[str, Any]]:
    """On a worker: the points one after another; each row is sent to the client as soon as it is
    measured (a Dask event) and all of them are returned. A point's problem is its row (run_point
    does not raise for it); anything else raised is that point's error row, the others go on."""
    from distributed import get_worker

    worker = get_worker()
    rows: list[dict[str, Any]] = []
    for task in tasks:
        try:
            row = run_point(task, data)
        except Exception as error:
            row = error_row(task, error)
        row = {key: value.item() if isinstance(value, np.generic) else value for key, value in row.items()}
        rows.append(row)
        with contextlib.suppress(TypeError):  # a value msgpack cannot carry: the batch's result brings the row
            worker.log_event(topic, {"row": row})  # the scheduler adds a `worker` key to the message
    return rows


def _connect(address: str | None, workers: int | None) -> tuple[Any, Any]:
    import dask.config
    from distributed import Client, LocalCluster

    if address:
        try:
            return Client(address, timeout=f"{CONNECT_TIMEOUT_S}s"), None
        except (OSError, TimeoutError, ValueError) as error:
            raise SweepError(f"cannot reach the Dask scheduler at {address}: {' '.join(str(error).split())}") from None
    count = workers or available_cores()
    try:
        with dask.config.set({"distributed.worker.multiprocessing-method": worker_start_method(), **LOCAL_CLUSTER_CONFIG}):
            cluster = LocalCluster(
                n_workers=count,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # any free port: sweeps side by side never clash
                env=worker_environment(count),
            )
    except RuntimeError as error:  # "Nanny failed to start": a worker process died while starting
        raise SweepError(f"the local Dask workers did not start ({error}); {MAIN_GUARD_HINT}") from None
    client = Client(cluster)
    client.run(single_blas_thread)
    client.run(end_with_parent, os.getpid())
    return client, cluster


LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,  # a thread sampling every worker's stack each 10 ms
    "distributed.admin.tick.interval": "1s",  # event-loop health checks, 20 ms by default
    "distributed.admin.system-monitor.interval": "2s",  # psutil readings for the dashboard, 0.5 s
    "distributed.worker.memory.monitor-interval": "1s",  # each nanny's memory check, 0.1 s
}
"""Dask bookkeeping that a sweep's local cluster runs less often or not at all: together it cost
the workers and this process about a third of the CPU time of the points of a small sweep."""

FORK_UNSAFE_MODULES = ("torch", "tensorflow", "jax")
"""Libraries whose thread pools (OpenMP) may hang in a process forked after they ran."""


START_METHOD_ENV = "NNHLS_SWEEP_START_METHOD"
START_METHODS = ("fork", "spawn", "forkserver")


def worker_start_method() -> str:
    """How a local worker process starts: $NNHLS_SWEEP_START_METHOD, else forked from this process
    on Linux (it inherits the imported nnhls, numpy and Dask instead of importing them again, a
    second or more per worker, and does not import the calling script again), spawned when this
    process has loaded a library that is not safe to fork, and elsewhere (macOS and Windows)."""
    import multiprocessing

    chosen = os.environ.get(START_METHOD_ENV, "")
    if chosen:
        if chosen not in START_METHODS or chosen not in multiprocessing.get_all_start_methods():
            available = [m for m in START_METHODS if m in multiprocessing.get_all_start_methods()]
            raise SweepError(f"{START_METHOD_ENV}='{chosen}' is not a start method of this platform: use one of {', '.join(available)}")
        return chosen
    loaded = any(name in sys.modules for name in FORK_UNSAFE_MODULES)
    forkable = sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
    return "fork" if forkable and not loaded else "spawn"


def _quiet_closing_workers(client: Any) -> None:
    """Before a local cluster stops (every result is in): its workers' Dask logs go quiet. A
    worker whose heartbeat is in flight when the scheduler closes would otherwise print a
    traceback ("Failed to communicate with scheduler during heartbeat") in the user's terminal."""
    with contextlib.suppress(Exception):  # a worker already gone: nothing left to silence
        client.run(_silence_dask_logs)


def _silence_dask_logs() -> None:
    import logging

    logging.getLogger("distributed").setLevel(logging.CRITICAL + 1)


def single_blas_thread() -> None:
    """On a local worker: one BLAS / OpenMP thread. A spawned worker gets it from its environment
    (OPENBLAS_NUM_THREADS...), a forked one inherits the libraries this process loaded with one
    thread per core: threadpoolctl (when installed) limits them."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=1)


PARENT_POLL_S = 0.2
"""How often a local worker checks that the sweep's process is still there."""


def end_with_parent(parent: int) -> None:
    """On a local worker: exit as soon as the sweep's process (`parent`) is gone, e.g. killed.
    Dask ends a worker when the pipe its parent holds closes, but a forked worker can inherit the
    other workers' ends of those pipes, and then they keep each other alive until Dask notices
    that the scheduler is gone (seen: a worker still running 60 s after its sweep was killed, at
    load 5). This check does not depend on who holds which pipe."""
    import threading

    if os.getppid() != parent:  # not a child of the sweep's process: nothing to watch
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(1)  # pyright: ignore[reportPrivateUsage]

    threading.Thread(target=watch, name="nnhls-end-with-parent", daemon=True).start()


def worker_environment(workers: int) -> dict[str, str]:
    """Threads of a local worker's points: its share of the cores for nnhls' emulators (numpy and
    C++), one for BLAS / OpenMP (workers side by side would otherwise each start one thread per
    core). A user's NNHLS_THREADS wins."""
    share = max(1, available_cores() // workers)
    single = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    return {**single, "NNHLS_THREADS": os.environ.get("NNHLS_THREADS") or str(share)}


MAIN_GUARD_HINT = (
    "a script that runs a sweep must call it under `if __name__ == \"__main__\":` "
    "(the worker processes import the script again)"
)


def check_not_reimported() -> None:
    """Refuse to start a sweep from a script that a starting worker process imports again
    (multiprocessing runs it as `__mp_main__`): the sweep would start inside each worker."""
    frame = sys._getframe(1)  # pyright: ignore[reportPrivateUsage]
    while frame is not None:
        if frame.f_globals.get("__name__") == "__mp_main__":
            raise SweepError(f"a sweep was started while a worker process imported the script: {MAIN_GUARD_HINT}")
        frame = frame.f_back


def available_cores() -> int:
    """The cores this process may run on (a batch job's allocation, not the whole node)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _check_workers(client: Any, address: str | None, modules: Sequence[str]) -> None:
    """Workers present and running the same nnhls (a worker without nnhls cannot run a point)."""
    if address:
        try:
            client.wait_for_workers(1, timeout=WORKER_TIMEOUT_S)
        except (TimeoutError, OSError):
            raise SweepError(f"no Dask worker joined the scheduler at {address} within {WORKER_TIMEOUT_S} s") from None
    try:  # also imports what a point runs, once per worker before the points start
        versions = client.run(worker_ready, list(modules))
    except Exception as error:
        raise SweepError(f"the Dask workers cannot run nnhls ({type(error).__name__}: {error}): install nnhls on them") from None
    mine = nnhls_version()
    other = {worker: v for worker, v in versions.items() if v != mine}
    if other:
        raise SweepError(f"workers run another nnhls version than this client ({mine}): {other}")


def worker_ready(modules: Sequence[str]) -> str:
    """On a worker: import the modules a point runs (the converter's among them), so that the
    workers import nnhls while the cluster starts, not in their first points; the installed
    nnhls version."""
    from importlib import import_module

    for module in ("nnhls.compiler.sweep.point", "nnhls.compiler.sweep.execute", *modules):
        import_module(module)
    return nnhls_version()


def nnhls_version() -> str:
    """The installed nnhls distribution's version (what a cluster's workers have installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nnhls")
    except PackageNotFoundError:
        return "not installed"


def dashboard_link(client: Any, local: bool) -> str | None:
    """The Dask dashboard's address, when the scheduler serves one (a local one needs bokeh)."""
    if local and _missing("bokeh"):
        return None
    services = client.scheduler_info().get("services", {})
    return str(client.dashboard_link) if "dashboard" in services else None


# ----- results ---------------------------------------------------------------------------------------------


def results_table(spec: SweepSpec, csv_path: Path) -> Any:
    """The rows of the spec's points (index order) as a DataFrame, with a `pareto` column."""
    import pandas as pd

    from nnhls.compiler.sweep.report import with_pareto

    if not csv_path.is_file():
        return pd.DataFrame()
    table: Any = pd.read_csv(csv_path, dtype={"point": str}, keep_default_na=True)
    table = table.drop_duplicates("point", keep="last")
    order = {p.id: p.index for p in spec.points}
    table = table[table["point"].isin(list(order))].copy()
    table["index"] = table["point"].map(order)
    table = table.sort_values("index").reset_index(drop=True)
    return with_pareto(table)


def _write_parquet(directory: Path) -> None:
    import pandas as pd

    csv_path = directory / RESULTS_CSV
    if csv_path.is_file():
        write_parquet(directory, pd.read_csv(csv_path, dtype={"point": str}))


# ----- progress ----------------------------------------------------------------------------------------------


class _Progress:
    """A rich progress bar on stderr (points done / total, failures), or nothing."""

    def __init__(self, total: int, done: int, enabled: bool) -> None:
        self.total, self.done, self.failed, self.enabled = total, done, 0, enabled
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if not self.enabled:
            return self
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = Console(stderr=True, highlight=False)
        if self.done:
            console.print(f"{self.done} of {self.total} points already finished: running the other {self.total - self.done}")
        self._bar = Progress(
            TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TextColumn("[red]{task.fields[failed]} failed"),
            TimeElapsedColumn(), TimeRemainingColumn(), console=console,
        )  # fmt: skip
        self._bar.start()
        self._task = self._bar.add_task("sweep", total=self.total, completed=self.done, failed=0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, failed: bool) -> None:
        self.failed += int(failed)
        if self._bar is not None:
            self._bar.update(self._task, advance=1, failed=self.failed)

    def note(self, message: str) -> None:
        if self._bar is not None:
            self._bar.console.print(message)
