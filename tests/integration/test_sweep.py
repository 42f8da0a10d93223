"""`nnhls sweep` on real Dask: a LocalCluster, and a `dask scheduler` with two `dask worker`
processes started here on localhost; killing a sweep half-way and resuming it.

The sweep: the bundled jet tagger, 12 grid points (reuse factor x strategy x fc1 weight type),
one io_stream point and one point with an illegal reuse factor. Every point converts, estimates
and measures the bit-exact emulation against the Keras float outputs of the example: on the
numpy emulator (the default) on the LocalCluster, on each point's g++ build (`--emulator cpp`;
the shared content-addressed cache makes repeated builds cheap) on the dask processes, and the
two tables must be identical.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dask.distributed")
pytest.importorskip("pandas")

import nnhls
from nnhls.compiler.sweep.report import design_columns, read_results, with_pareto

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "jet_tagger"
NNHLS = [sys.executable, "-m", "nnhls.tools.nnhls"]
TOTAL = 14
ILLEGAL_INDEX = 13

SWEEP_YAML = f"""
base: {EXAMPLE / "config.yml"}
axes:
  Model.ReuseFactor: [1, 2, 4]
  Model.Strategy: [Latency, Resource]
  LayerName.fc1.Precision.weight: {{width: [4, 8], integer: [1]}}
points:
  - {{IOType: io_stream, Model.ReuseFactor: 2}}
  - {{Model.ReuseFactor: 7, Model.Strategy: Resource}}   # fc1 is 16 x 64: 7 is not a legal resource reuse factor
measure: [estimates, accuracy]
"""


@pytest.fixture
def sweep_file(tmp_path: Path) -> Path:
    path = tmp_path / "sweep.yml"
    path.write_text(SWEEP_YAML)
    return path


def run_cli(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*NNHLS, *map(str, args)], capture_output=True, text=True, check=False, timeout=timeout)


@contextmanager
def dask_processes(folder: Path, workers: int = 2) -> Iterator[str]:
    """A `dask scheduler` and `workers` `dask worker` processes on localhost; their address."""
    from distributed import Client

    scheduler_file = folder / "scheduler.json"
    dask = [sys.executable, "-m", "dask"]
    log = (folder / "dask.log").open("w")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
            stdout=log, stderr=subprocess.STDOUT,
        ))  # fmt: skip
        deadline = time.monotonic() + 120
        while not scheduler_file.is_file():
            assert time.monotonic() < deadline, (folder / "dask.log").read_text()
            assert processes[0].poll() is None, (folder / "dask.log").read_text()
            time.sleep(0.1)
        for i in range(workers):
            processes.append(subprocess.Popen(
                [*dask, "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1", "--nworkers", "1",
                 "--no-dashboard", "--name", f"w{i}", "--local-directory", str(folder / f"w{i}")],
                stdout=log, stderr=subprocess.STDOUT,
            ))  # fmt: skip
        address = json.loads(scheduler_file.read_text())["address"]
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def check_results(table: object) -> None:
    import pandas as pd

    assert isinstance(table, pd.DataFrame)
    assert len(table) == TOTAL and table["index"].tolist() == list(range(TOTAL))
    failed = table[table["status"] != "ok"]
    assert failed["index"].tolist() == [ILLEGAL_INDEX]
    assert failed["status"].tolist() == ["failed"]
    error = failed["error"].iloc[0]
    assert "nn.dense 'fc1': reuse factor 7 is not legal for the resource strategy with n_in = 16, n_out = 64" in error
    assert "nearest legal values: 4, 8" in error
    ok = table[table["status"] == "ok"]
    # the estimates follow the reuse factor: multipliers ~ 1/RF, II = RF
    assert (ok["ii"] == ok["Model.ReuseFactor"]).all()
    by_rf = ok[ok["LayerName.fc1.Precision.weight"] == "fixed<8,1>"].groupby("Model.ReuseFactor")["multipliers"].max()
    assert by_rf[1] > 1.8 * by_rf[2] > 3.4 * by_rf[4]
    # accuracy of the bit-exact emulation against Keras: a 4-bit fc1 loses agreement, 8 bits keep it
    narrow = ok[ok["LayerName.fc1.Precision.weight"] == "fixed<4,1>"]["agreement"]
    wide = ok[ok["LayerName.fc1.Precision.weight"] == "fixed<8,1>"]["agreement"]
    assert wide.min() >= 0.97 and narrow.max() < wide.min()
    assert (ok["max_abs_diff"] < 1).all()
    assert table["pareto"].any() and not table.loc[table["status"] != "ok", "pareto"].any()


def test_sweep_on_a_local_cluster_and_on_dask_processes(sweep_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nnhls.compiler.sweep import execute

    # two batches of 7 points, one per local worker: the illegal point fails inside the second
    # batch and the others of that batch still finish (the guided batch sizes: test below)
    monkeypatch.setattr(execute, "guided_batches", lambda tasks, workers: [list(tasks[:7]), list(tasks[7:])])
    local = nnhls.sweep(sweep_file, output=tmp_path / "local", workers=2, progress=False)
    check_results(local)
    assert local["worker"].nunique() == 2  # each batch on its own worker process
    assert local.attrs["startup_s"] > 0  # the cluster's start, part of the sweep's time
    # every point wrote its own project, none overwrote another's
    projects = sorted((tmp_path / "local" / "points").iterdir())
    assert {p.name for p in projects} >= set(local.loc[local["status"] == "ok", "point"])
    for point in local.loc[local["status"] == "ok", "point"]:
        assert (tmp_path / "local" / "points" / point / "firmware" / "jet_tagger.cpp").is_file()
    assert len({p.read_text() for p in (tmp_path / "local" / "points").glob("*/firmware/parameters.h")}) == TOTAL - 1
    assert (tmp_path / "local" / "results.parquet").is_file()

    with dask_processes(tmp_path) as address:
        result = run_cli("sweep", sweep_file, "--scheduler", address, "-o", tmp_path / "remote", "--no-progress", "--emulator", "cpp")
        assert result.returncode == 0, result.stderr
    assert f"{TOTAL} points (1 failed, {TOTAL - 1} ok)" in result.stderr
    remote = read_results(tmp_path / "remote")
    assert remote["worker"].nunique() == 2  # both dask worker processes ran points
    local_table = read_results(tmp_path / "local")
    # the same table on another cluster, and the numpy emulator's accuracy columns are the g++ build's
    assert {"agreement", "max_abs_diff", "mean_abs_diff"} <= set(design_columns(local_table))
    assert local_table[design_columns(local_table)].equals(remote[design_columns(remote)])
    manifests = [json.loads((tmp_path / run / "sweep.json").read_text()) for run in ("local", "remote")]
    assert [m["fingerprint"]["measurements"]["emulator"] for m in manifests] == ["numpy", "cpp"]

    report = run_cli("sweep", "report", tmp_path / "remote", "--plot", tmp_path / "front.png")
    assert report.returncode == 0, report.stderr
    assert f"failed, point {ILLEGAL_INDEX}: nn.dense 'fc1': reuse factor 7 is not legal" in report.stdout
    assert "front (*): max agreement, min bops" in report.stdout  # BOPs: the estimates provide them
    assert (tmp_path / "front.png").stat().st_size > 10_000
    assert (tmp_path / "front.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = run_cli("sweep", "report", tmp_path / "remote", "--markdown", "--no-plot").stdout
    assert markdown.startswith("| index | Model.ReuseFactor | Model.Strategy | LayerName.fc1.Precision.weight | IOType | status | agreement | bops | multipliers | latency | ii | front |")
    assert markdown.count("| * |") == int(with_pareto(remote)["pareto"].sum()) >= 1


def _csv_lines(path: Path) -> list[str]:
    if not path.is_file():
        return []
    text = path.read_text()
    return text[: text.rfind("\n") + 1].splitlines()[1:]


def _still_running(processes: list[Any]) -> list[Any]:
    """The processes that exist and have not ended (zombies have)."""
    import psutil

    running = []
    for process in processes:
        with suppress(psutil.NoSuchProcess):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                running.append(process)
    return running


def test_killed_sweep_resumes_with_only_the_missing_points(sweep_file: Path, tmp_path: Path) -> None:
    import psutil

    output = tmp_path / "out"
    process = subprocess.Popen(
        [*NNHLS, "sweep", str(sweep_file), "-o", str(output), "--workers", "2", "--no-progress"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    children: list[psutil.Process] = []
    deadline = time.monotonic() + 300
    while len(_csv_lines(output / "results.csv")) < 3:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        assert time.monotonic() < deadline
        children = psutil.Process(process.pid).children(recursive=True) or children
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.stderr is not None
    process.stderr.close()
    # the local cluster's worker processes end with their parent (a zombie has ended: only its
    # exit status waits for init, which reaps orphans when it gets to them)
    wait_until = time.monotonic() + 60
    while (alive := _still_running(children)) and time.monotonic() < wait_until:
        time.sleep(0.1)
    for orphan in alive:
        orphan.kill()
    assert not alive, f"worker processes outlived the killed sweep: {alive}"

    before = _csv_lines(output / "results.csv")
    assert 3 <= len(before) < TOTAL
    result = run_cli("sweep", sweep_file, "-o", output, "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert f"{len(before)} of {TOTAL} points already finished: running the other {TOTAL - len(before)}" in result.stderr
    after = _csv_lines(output / "results.csv")
    assert after[: len(before)] == before  # finished rows untouched
    points = [line.split(",")[1] for line in after]
    assert len(after) == TOTAL and len(set(points)) == TOTAL  # each point ran to completion once
    check_results(with_pareto(read_results(output)))
    # a third run has nothing to do
    again = run_cli("sweep", sweep_file, "-o", output, "--sequential", "--no-progress")
    assert again.returncode == 0 and _csv_lines(output / "results.csv") == after


FAKE_VITIS = """#!/bin/sh
# stands in for vitis_hls: writes the csynth report build() reads
dir="jet_tagger_prj/solution1/syn/report"
mkdir -p "$dir"
cat > "$dir/jet_tagger_csynth.xml" <<XML
<profile><UserAssignments><Part>xcvu13p</Part><TargetClockPeriod>5</TargetClockPeriod></UserAssignments>
<PerformanceEstimates><SummaryOfTimingAnalysis><EstimatedClockPeriod>4.2</EstimatedClockPeriod></SummaryOfTimingAnalysis>
<SummaryOfOverallLatency><Best-caseLatency>9</Best-caseLatency><Worst-caseLatency>11</Worst-caseLatency>
<Interval-min>2</Interval-min><Interval-max>2</Interval-max></SummaryOfOverallLatency></PerformanceEstimates>
<AreaEstimates><Resources><DSP>77</DSP><LUT>1234</LUT></Resources></AreaEstimates></profile>
XML
"""


def test_vendor_build_when_the_tool_is_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`build` runs build() on the worker; without the tool the point is an error a rerun retries."""
    sweep = {
        "base": str(EXAMPLE / "config.yml"),
        "axes": {"Model.ReuseFactor": [2]},
        "measure": ["estimates", "build"],
        "build": {"csim": False, "synth": True},
    }
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    missing = nnhls.sweep(sweep, output=tmp_path / "out", sequential=True, progress=False)
    assert missing["status"].tolist() == ["error"]
    assert "'vitis_hls' is not on PATH" in missing["error"].iloc[0]
    assert missing["multipliers"].iloc[0] > 0  # measured before the build failed
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "vitis_hls").write_text(FAKE_VITIS)
    (bin_dir / "vitis_hls").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin:/bin")
    built = nnhls.sweep(sweep, output=tmp_path / "out", sequential=True, progress=False)
    row = built.iloc[0]
    assert row["status"] == "ok"
    assert (row["synth_latency_max"], row["synth_ii_max"], row["synth_DSP"], row["synth_LUT"], row["synth_clock_ns"]) == (11, 2, 77, 1234, 4.2)


def test_cluster_mistakes_are_one_line(sweep_file: Path, tmp_path: Path) -> None:
    for args, message in (
        (("--scheduler", "nonsense"), "nnhls: error: cannot reach the Dask scheduler at nonsense: missing port number in address 'nonsense'"),
        (("--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"), "nnhls: error: --workers sizes the local cluster: it does not apply with --scheduler or --sequential"),
        (("--workers", "0"), "nnhls: error: workers must be at least 1, got 0"),
    ):
        result = run_cli("sweep", sweep_file, "-o", tmp_path / "out", *args)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.strip().splitlines()[-1] == message
    result = run_cli("sweep", "report", tmp_path / "nowhere")
    assert result.returncode == 2
    assert "nnhls: error: no sweep results at" in result.stderr


def test_labels_numpy_emulator_and_the_reference_interpreter(tmp_path: Path) -> None:
    """Without a reference file the float outputs come from nnhls' reference interpreter of the
    imported model; with labels the `accuracy` column is the emulation's accuracy on them."""
    import numpy as np

    keras_outputs = np.load(EXAMPLE / "float_outputs.npy")
    labels = keras_outputs.argmax(axis=1)
    labels[:5] = (labels[:5] + 1) % 5  # five wrong labels: accuracy differs from agreement
    np.save(tmp_path / "labels.npy", labels)
    sweep = {
        "base": str(EXAMPLE / "config.yml"),
        "axes": {"LayerName.fc1.Precision.weight": ["fixed<8,1>"]},
        "measure": ["accuracy"],
        "emulator": "numpy",
        "data": {"inputs": str(EXAMPLE / "inputs.npy"), "labels": str(tmp_path / "labels.npy"), "samples": 50},
    }
    row = nnhls.sweep(sweep, output=tmp_path / "out", sequential=True, progress=False).iloc[0]
    assert row["status"] == "ok", row["error"]
    reference = nnhls.sweep({**sweep, "data": {**sweep["data"], "reference": str(EXAMPLE / "float_outputs.npy")}}, output=tmp_path / "keras", sequential=True, progress=False).iloc[0]
    # the reference interpreter and Keras agree to float32 rounding: the same decisions, tiny differences
    assert row["agreement"] == reference["agreement"] >= 0.96
    assert abs(row["max_abs_diff"] - reference["max_abs_diff"]) < 1e-5
    assert row["accuracy"] == pytest.approx(row["agreement"] - 5 / 50, abs=1 / 50)
    assert "multipliers" not in row.index  # estimates not measured


def test_a_script_without_the_main_guard(tmp_path: Path) -> None:
    """Forked local workers (the default on Linux) do not import the calling script again: a
    script without `if __name__ == "__main__":` runs its sweep. Spawned workers (macOS, Windows,
    after `import torch`, or NNHLS_SWEEP_START_METHOD=spawn) import it again, where each would
    start the sweep anew: the user gets one clear message instead."""
    script = tmp_path / "script.py"
    script.write_text(
        "import nnhls\n"
        f"table = nnhls.sweep(base={str(EXAMPLE / 'config.yml')!r}, axes={{'Model.ReuseFactor': [1]}}, measure=['estimates'], output='out', workers=1, progress=False)\n"
        "print(list(table['status']))\n"
    )
    for method in ("fork", "spawn"):
        (tmp_path / method).mkdir()
    runs = {
        method: subprocess.Popen(
            [sys.executable, str(script)], cwd=tmp_path / method, env={**os.environ, "NNHLS_SWEEP_START_METHOD": method},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for method in ("fork", "spawn")
    }
    (forked, forked_err), (spawned, spawned_err) = (run.communicate(timeout=300) for run in runs.values())
    assert runs["fork"].returncode == 0, forked_err
    assert forked.strip() == "['ok']"
    assert runs["spawn"].returncode != 0, spawned
    assert spawned_err.strip().splitlines()[-1] == (
        "nnhls.compiler.sweep.errors.SweepError: the local Dask workers did not start (Nanny failed to start.); "
        'a script that runs a sweep must call it under `if __name__ == "__main__":` (the worker processes import the script again)'
    )


def test_forked_workers_unless_fork_is_unsafe(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local workers fork on Linux, are spawned once a library whose thread pools do not survive
    a fork is loaded (checked by name: nothing is imported), and NNHLS_SWEEP_START_METHOD wins."""
    import types

    from nnhls.compiler.sweep.errors import SweepError
    from nnhls.compiler.sweep.execute import FORK_UNSAFE_MODULES, worker_start_method

    monkeypatch.delenv("NNHLS_SWEEP_START_METHOD", raising=False)
    for name in FORK_UNSAFE_MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    assert worker_start_method() == ("fork" if sys.platform.startswith("linux") else "spawn")
    monkeypatch.setitem(sys.modules, "jax", types.ModuleType("jax"))
    assert worker_start_method() == "spawn"
    monkeypatch.setenv("NNHLS_SWEEP_START_METHOD", "forkserver")
    assert worker_start_method() == "forkserver"
    monkeypatch.setenv("NNHLS_SWEEP_START_METHOD", "clone")
    with pytest.raises(SweepError, match="NNHLS_SWEEP_START_METHOD='clone' is not a start method of this platform: use one of fork, spawn, forkserver"):
        worker_start_method()


def blas_threads() -> int:
    """The most threads any BLAS / OpenMP library loaded in this process would use."""
    from threadpoolctl import threadpool_info

    return max((int(pool["num_threads"]) for pool in threadpool_info()), default=1)


def test_local_workers_share_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each local worker's emulators get its share of the cores and one BLAS thread (workers side
    by side would otherwise each start a thread per core; a forked worker inherits this process's
    BLAS, loaded with one thread per core); a user's NNHLS_THREADS wins."""
    from nnhls.compiler.sweep.execute import _connect, available_cores  # pyright: ignore[reportPrivateUsage]
    from nnhls.ops.exact import threads

    monkeypatch.delenv("NNHLS_THREADS", raising=False)
    client, cluster = _connect(None, 2)
    try:
        seen = client.run(lambda: (threads(), os.environ.get("OPENBLAS_NUM_THREADS"), blas_threads()))
    finally:
        client.close()
        cluster.close()
    assert list(seen.values()) == [(max(1, available_cores() // 2), "1", 1)] * 2
    monkeypatch.setenv("NNHLS_THREADS", "3")
    from nnhls.compiler.sweep.execute import worker_environment

    assert worker_environment(2)["NNHLS_THREADS"] == "3"


def test_guided_batches() -> None:
    """On a local cluster the points go in batches of 1/(2 x workers) of those left, shrinking to
    one point at the end; on an existing cluster (workers unknown: 0) one point per task."""
    from nnhls.compiler.sweep.execute import guided_batches

    tasks = [object() for _ in range(48)]
    sizes = [len(batch) for batch in guided_batches(tasks, 2)]  # pyright: ignore[reportArgumentType]
    assert sizes == [12, 9, 7, 5, 4, 3, 2, 2, 1, 1, 1, 1]
    assert [t for batch in guided_batches(tasks, 2) for t in batch] == tasks  # pyright: ignore[reportArgumentType]
    assert [len(b) for b in guided_batches(tasks[:14], 2)] == [4, 3, 2, 2, 1, 1, 1]  # pyright: ignore[reportArgumentType]
    assert [len(b) for b in guided_batches(tasks[:3], 8)] == [1, 1, 1]  # pyright: ignore[reportArgumentType]
    assert guided_batches(tasks[:3], 0) == [[t] for t in tasks[:3]]  # pyright: ignore[reportArgumentType]
