"""The benchmark suite: every speed figure of README and issue 18, side by side in one run.

    python bench/run_all.py                       # all models, 3 repeats, results in bench/results/
    python bench/run_all.py --repeat 5 --update-readme
    python bench/run_all.py --models jet conv --quick

Models: the jet-tagger MLP 16-64-32-32-5 (examples/jet_tagger) and the small Conv2D net (16x16x3,
conv8 3x3 relu, maxpool 2, conv16 3x3 relu, maxpool 2, dense10 softmax), both at fixed<16,6>, and
a 4.3M-weight MLP 64-5x1024-10 at fixed<24,12> for conversion, build time and memory.

Figures per model: convert (Keras model in memory -> hls IR), write (the project), cold build
(compile() with an empty build cache), warm build (compile() of an unchanged project in a new
directory: cache hits), batch `predict` throughput for 1 / 1,000 / 100,000 samples (the C++
emulation library, all cores), the numpy emulator (`predict(emulator="numpy")`), onnxruntime on
the float model (an ONNX graph built from the same Keras weights; the physical reference), and
hls4ml 1.3 side by side when it is importable (it is never a dependency). Every timing is
repeated; the table shows the best and the median. Peak memory of the 4.3M-weight run is the
child process's peak resident set size (VmHWM; imports included) and its growth over the imports.

The machine is shared: figures under load are noisy. The header of the report records the load
average before and after the run.

Writes bench/results/benchmarks.md (a Markdown table), bench/results/benchmarks.json and, when
matplotlib is installed (`pip install -e '.[bench,torch]'`), bench/results/benchmarks.png.
`--update-readme` replaces README's performance table with the Markdown table.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

RESULTS = REPO / "bench" / "results"
README_BEGIN = "<!-- benchmarks:begin (bench/run_all.py --update-readme) -->"
README_END = "<!-- benchmarks:end -->"
HLS4ML_BIG_COMPILE_S = 23.0
"""hls4ml's compile() of the 4.3M-weight MLP as quoted in issue 18, used only when hls4ml is not
importable (then the report says so); with hls4ml installed (`pip install -e '.[bench]'`) its
figures are measured in the same run."""
BATCHES = (1, 1000, 100_000)


# ----- models -----------------------------------------------------------------------------------------------


def jet_tagger() -> Any:
    import keras

    return keras.models.load_model(REPO / "examples" / "jet_tagger" / "jet_tagger.keras")


def conv2d_net() -> Any:
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3), name="image")
    x = layers.Conv2D(8, 3, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(16, 3, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(10, activation="softmax", name="dense")(x)
    return keras.Model(inputs, outputs, name="conv2d_net")


def big_mlp() -> Any:
    """64-5x1024-10, 4.3M weights (random: only conversion and build cost are measured)."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    inputs = keras.Input((64,), name="x")
    x = inputs
    for i in range(5):
        x = layers.Dense(1024, activation="relu", name=f"fc{i + 1}")(x)
    outputs = layers.Dense(10, name="out")(x)
    return keras.Model(inputs, outputs, name="big_mlp")


def onnx_from_keras(model: Any) -> bytes:
    """The float model as an ONNX graph with the same weights (Dense, Conv2D, MaxPooling2D,
    Flatten; relu / softmax activations), channels last at the input and before Flatten."""
    from onnx import TensorProto, helper, numpy_helper

    shape = list(model.input_shape[1:])
    nodes: list[Any] = []
    inits: list[Any] = []
    spatial = len(shape) == 3
    prev = "x"
    if spatial:
        nodes.append(helper.make_node("Transpose", [prev], ["x_nchw"], perm=[0, 3, 1, 2]))
        prev = "x_nchw"
    for layer in model.layers:
        kind = type(layer).__name__
        name = layer.name
        if kind == "Conv2D":
            w, b = layer.get_weights()
            inits += [numpy_helper.from_array(w.transpose(3, 2, 0, 1).astype(np.float32), f"{name}_w"),
                      numpy_helper.from_array(b.astype(np.float32), f"{name}_b")]
            nodes.append(helper.make_node("Conv", [prev, f"{name}_w", f"{name}_b"], [name]))
            prev = name
        elif kind == "MaxPooling2D":
            size = list(layer.pool_size)
            nodes.append(helper.make_node("MaxPool", [prev], [name], kernel_shape=size, strides=list(layer.strides)))
            prev = name
            continue
        elif kind == "Flatten":
            nodes.append(helper.make_node("Transpose", [prev], [f"{name}_nhwc"], perm=[0, 2, 3, 1]))
            nodes.append(helper.make_node("Flatten", [f"{name}_nhwc"], [name]))
            prev = name
            continue
        elif kind == "Dense":
            w, b = layer.get_weights()
            inits += [numpy_helper.from_array(w.astype(np.float32), f"{name}_w"),
                      numpy_helper.from_array(b.astype(np.float32), f"{name}_b")]
            nodes.append(helper.make_node("Gemm", [prev, f"{name}_w", f"{name}_b"], [name]))
            prev = name
        else:
            continue
        activation = layer.get_config().get("activation", "linear")
        if activation in ("relu", "softmax"):
            op = "Relu" if activation == "relu" else "Softmax"
            nodes.append(helper.make_node(op, [prev], [f"{name}_{activation}"]))
            prev = f"{name}_{activation}"
    nodes.append(helper.make_node("Identity", [prev], ["y"]))
    graph = helper.make_graph(
        nodes, model.name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *shape])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", int(model.output_shape[-1])])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


# ----- measuring -----------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    times: list[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def rate(n: int, times: list[float]) -> list[float]:
    return [n / t for t in times]


def _config(model: Any, precision: str) -> dict[str, Any]:
    from nnhls import utils

    config = utils.config_from_keras_model(model, granularity="model")
    config["Model"]["Precision"] = precision
    return config


def measure_model(name: str, factory: Callable[[], Any], precision: str, x: np.ndarray, repeat: int,
                  work: Path, numpy_samples: int) -> dict[str, Any]:
    import onnxruntime as ort

    from nnhls import converters

    model = factory()
    config = _config(model, precision)
    out: dict[str, Any] = {"model": name, "precision": precision}
    hls_model: Any = None

    def convert() -> None:
        nonlocal hls_model
        hls_model = converters.convert_from_keras_model(model, hls_config=config, output_dir=str(work / "prj"), project_name=name)
        hls_model.hls_module  # noqa: B018 - the conversion runs on first use

    out["convert_s"] = timed(convert, repeat)
    out["write_s"] = timed(lambda: hls_model.write(force=True), repeat)
    cold: list[float] = []
    for i in range(repeat):
        os.environ["NNHLS_CACHE_DIR"] = str(work / f"cache{i}")
        cold += timed(hls_model.compile, 1)
    out["cold_build_s"] = cold
    warm: list[float] = []
    for i in range(repeat):
        copy = converters.convert_from_keras_model(model, hls_config=config, output_dir=str(work / f"warm{i}"), project_name=name)
        copy.write()
        warm += timed(copy.compile, 1)
    out["warm_build_s"] = warm

    for n in BATCHES:
        batch = x[:n]
        hls_model.predict(batch)
        out[f"predict_{n}"] = rate(n, timed(lambda b=batch: hls_model.predict(b), repeat))
    n_np = min(numpy_samples, len(x))
    reference = np.asarray(hls_model.predict(x[:n_np]))
    emulated = np.asarray(hls_model.predict(x[:n_np], emulator="numpy"))
    out["bit_exact"] = bool(np.array_equal(reference, emulated))
    out["numpy_samples"] = n_np
    out["numpy"] = rate(n_np, timed(lambda: hls_model.predict(x[:n_np], emulator="numpy"), repeat))

    session = ort.InferenceSession(onnx_from_keras(model), providers=["CPUExecutionProvider"])
    xf = x.astype(np.float32)
    ort_out = session.run(None, {"x": xf[:100]})[0]
    out["onnx_matches_keras"] = float(np.max(np.abs(ort_out - np.asarray(model.predict(xf[:100], verbose=0)))))
    for n in BATCHES:
        batch = xf[:n]
        session.run(None, {"x": batch})
        out[f"onnxruntime_{n}"] = rate(n, timed(lambda b=batch: session.run(None, {"x": b}), repeat))
    out["hls4ml"] = measure_hls4ml(model, precision, x, work)
    return out


def hls4ml_importable() -> bool:
    import importlib.util

    return importlib.util.find_spec("hls4ml") is not None


def _hls4ml_convert_write(model: Any, precision: str, work: Path) -> tuple[Any, float]:
    """hls4ml's own config for the model (its defaults, our precision, Vitis like ours), then
    convert + write, timed together as a user runs them."""
    import hls4ml  # pyright: ignore[reportMissingImports]

    config = hls4ml.utils.config_from_keras_model(model, granularity="model", backend="Vitis")
    config["Model"]["Precision"] = precision
    start = time.perf_counter()  # like ours: the config is made before the clock starts
    theirs = hls4ml.converters.convert_from_keras_model(
        model, hls_config=config, output_dir=str(work / "hls4ml"), backend="Vitis")
    theirs.write()
    return theirs, time.perf_counter() - start


def measure_hls4ml(model: Any, precision: str, x: np.ndarray, work: Path) -> dict[str, float] | None:
    if not hls4ml_importable():
        return None
    theirs, convert_write = _hls4ml_convert_write(model, precision, work)
    start = time.perf_counter()
    theirs.compile()
    build = time.perf_counter() - start
    batch = np.ascontiguousarray(x[:2000], dtype=np.float32)
    theirs.predict(batch[:16])
    start = time.perf_counter()
    theirs.predict(batch)
    return {"convert_write_s": convert_write, "build_s": build, "predict": len(batch) / (time.perf_counter() - start)}


def _peak_rss() -> int:
    """This process's peak resident set size in bytes: VmHWM (Linux), which starts afresh in a
    spawned process (ru_maxrss keeps the high-water mark of the parent it was forked from)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _big_child(queue: Any, work: str) -> None:
    """The 4.3M-weight MLP in a fresh process: conversion, write, cold build, peak memory."""
    from nnhls import converters

    work_dir = Path(work)
    os.environ["NNHLS_CACHE_DIR"] = str(work_dir / "cache")
    import keras  # noqa: F401 - imported before the baseline so that it is not counted

    model = big_mlp()
    baseline = _peak_rss()
    config = _config(model, "fixed<24,12>")
    start = time.perf_counter()
    hls_model = converters.convert_from_keras_model(model, hls_config=config, output_dir=str(work_dir / "prj"), project_name="big_mlp")
    hls_model.hls_module  # noqa: B018
    convert = time.perf_counter() - start
    start = time.perf_counter()
    hls_model.write()
    write = time.perf_counter() - start
    start = time.perf_counter()
    hls_model.compile()
    build = time.perf_counter() - start
    x = np.random.default_rng(0).normal(size=(200, 64))
    exact = bool(np.array_equal(np.asarray(hls_model.predict(x)), np.asarray(hls_model.predict(x, emulator="numpy"))))
    peak = _peak_rss()
    weights = sum(int(np.prod(w.shape)) for w in model.weights)
    queue.put({"convert_s": convert, "write_s": write, "cold_build_s": build, "peak_rss": peak,
               "baseline_rss": baseline, "weights": weights, "bit_exact": exact})


def _big_hls4ml_child(queue: Any, work: str) -> None:
    """hls4ml 1.3 on the same 4.3M-weight MLP in a fresh process: convert + write, compile(), peak memory."""
    import keras  # noqa: F401 - imported before the baseline, as in _big_child

    model = big_mlp()
    baseline = _peak_rss()
    theirs, convert_write = _hls4ml_convert_write(model, "fixed<24,12>", Path(work))
    start = time.perf_counter()
    theirs.compile()
    build = time.perf_counter() - start
    queue.put({"convert_write_s": convert_write, "build_s": build, "peak_rss": _peak_rss(), "baseline_rss": baseline})


def _in_child(target: Callable[[Any, str], None]) -> dict[str, Any]:
    context = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as work:
        queue = context.Queue()
        child = context.Process(target=target, args=(queue, work))
        child.start()
        result = queue.get()
        child.join()
    return result


def measure_big(repeat: int) -> dict[str, Any]:
    runs = [_in_child(_big_child) for _ in range(repeat)]
    out: dict[str, Any] = {"model": "big_mlp", "precision": "fixed<24,12>", "weights": runs[0]["weights"]}
    for key in ("convert_s", "write_s", "cold_build_s", "peak_rss", "baseline_rss"):
        out[key] = [r[key] for r in runs]
    out["convert_write_s"] = [r["convert_s"] + r["write_s"] for r in runs]
    out["bit_exact"] = all(r["bit_exact"] for r in runs)
    if hls4ml_importable():
        # once: its compile() of 4.3M constants as C++ source takes minutes
        out["hls4ml"] = _in_child(_big_hls4ml_child)
    return out


# ----- reporting ---------------------------------------------------------------------------------------------


def best_median(values: list[float], higher_is_better: bool) -> tuple[float, float]:
    best = max(values) if higher_is_better else min(values)
    return best, statistics.median(values)


def _seconds(values: list[float]) -> str:
    best, median = best_median(values, False)
    return f"{best:.2f} s ({median:.2f})"


def _rate(values: list[float]) -> str:
    best, median = best_median(values, True)
    return f"{best:,.0f}/s ({median:,.0f})"


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"Measured by `{results['command']}` on {results['machine']}, {results['date']}; "
        f"load average {results['load_before']} before, {results['load_after']} after (a shared machine: "
        f"best of {results['repeat']} runs, median in parentheses).",
        "",
        "| Model | convert | write | cold build | warm build | predict 1 | predict 1,000 | predict 100,000 | numpy emulator | onnxruntime float, 100,000 | C++ / onnxruntime |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["models"]:
        ratio = best_median(r["predict_100000"], True)[0] / best_median(r["onnxruntime_100000"], True)[0]
        numpy_cell = f"{_rate(r['numpy'])} ({r['numpy_samples']:,} samples, {r['numpy_samples'] / best_median(r['numpy'], True)[0]:.2f} s)"
        lines.append(
            f"| {r['model']} ({r['precision']}) | {_seconds(r['convert_s'])} | {_seconds(r['write_s'])} | "
            f"{_seconds(r['cold_build_s'])} | {_seconds(r['warm_build_s'])} | {_rate(r['predict_1'])} | "
            f"{_rate(r['predict_1000'])} | {_rate(r['predict_100000'])} | {numpy_cell} | "
            f"{_rate(r['onnxruntime_100000'])} | {ratio:.2f}x |"
        )
    big = results.get("big")
    if big:
        peak = max(big["peak_rss"]) / 2**20
        growth = max(p - b for p, b in zip(big["peak_rss"], big["baseline_rss"], strict=True)) / 2**20
        build = best_median(big["cold_build_s"], False)[0]
        convert_write = best_median(big["convert_write_s"], False)[0]
        theirs = big.get("hls4ml")
        if theirs:
            versus = (
                f" (hls4ml 1.3 in the same run: convert + write {theirs['convert_write_s']:.2f} s, "
                f"{convert_write / theirs['convert_write_s']:.2f}x; compile() {theirs['build_s']:.1f} s, "
                f"{build / theirs['build_s']:.3f}x; its peak memory {theirs['peak_rss'] / 2**20:,.0f} MB)"
            )
        else:
            versus = (
                f" (hls4ml 1.3 not importable in this run; its compile() took {HLS4ML_BIG_COMPILE_S:.0f} s per "
                f"issue 18: {build / HLS4ML_BIG_COMPILE_S:.2f}x)"
            )
        lines += [
            "",
            f"4.3M-weight MLP 64-5x1024-10 ({big['weights']:,} weights, {big['precision']}): convert "
            f"{_seconds(big['convert_s'])}, write {_seconds(big['write_s'])}, convert + write "
            f"{_seconds(big['convert_write_s'])}, cold emulation build {_seconds(big['cold_build_s'])}{versus}; "
            f"peak memory {peak:,.0f} MB resident ({growth:,.0f} MB over the imports of Python, Keras and torch); "
            f"C++ and numpy emulator {'bit-identical' if big['bit_exact'] else 'DIFFERENT'}.",
        ]
    hls4ml_rows = [r for r in results["models"] if r.get("hls4ml")]
    if hls4ml_rows:
        lines += ["", "| Model | hls4ml convert + write | hls4ml compile | hls4ml predict |", "|---|---|---|---|"]
        for r in hls4ml_rows:
            h = r["hls4ml"]
            lines.append(f"| {r['model']} | {h['convert_write_s']:.2f} s | {h['build_s']:.2f} s | {h['predict']:,.0f}/s |")
    elif not (big and big.get("hls4ml")):
        lines += ["", "hls4ml is not importable here: no side-by-side hls4ml figures in this run."]
    exact = all(r["bit_exact"] for r in results["models"])
    lines += ["", f"C++ build and numpy emulator bit-identical on every model: {'yes' if exact else 'NO'}."]
    return "\n".join(lines) + "\n"


def chart(results: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    models = results["models"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    labels = ["nnhls C++", "numpy emulator", "onnxruntime float"]
    width = 0.8 / len(labels)
    for i, key in enumerate(("predict_100000", "numpy", "onnxruntime_100000")):
        values = [best_median(m[key], True)[0] for m in models]
        left.bar([j + i * width for j in range(len(models))], values, width, label=labels[i])
    left.set_xticks([j + width for j in range(len(models))], [m["model"] for m in models])
    left.set_yscale("log")
    left.set_ylabel("samples / s (best)")
    left.set_title("Batch predict throughput")
    left.legend()
    stages = ("convert_s", "write_s", "cold_build_s", "warm_build_s")
    rows = [*models, *([results["big"]] if results.get("big") else [])]
    for i, key in enumerate(stages):
        values = [best_median(m[key], False)[0] if key in m else 0.0 for m in rows]
        right.bar([j + i * 0.2 for j in range(len(rows))], values, 0.2, label=key.removesuffix("_s").replace("_", " "))
    right.set_xticks([j + 0.3 for j in range(len(rows))], [m["model"] for m in rows])
    right.set_ylabel("seconds (best)")
    right.set_title("Convert, write and build")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def update_readme(table: str) -> None:
    readme = REPO / "README.md"
    text = readme.read_text()
    start, end = text.find(README_BEGIN), text.find(README_END)
    if start < 0 or end < start:
        raise SystemExit(f"README.md has no {README_BEGIN} ... {README_END} block")
    readme.write_text(text[: start + len(README_BEGIN)] + "\n" + table + text[end:])


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description="nnhls benchmark suite (issue 18)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of every timing (best and median are reported)")
    parser.add_argument("--models", nargs="*", default=["jet", "conv", "big"], choices=["jet", "conv", "big"])
    parser.add_argument("--update-readme", action="store_true", help="replace README's performance table")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory of the report files")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    results: dict[str, Any] = {
        "command": " ".join(["python bench/run_all.py", *sys.argv[1:]]),
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "repeat": args.repeat,
        "load_before": _load(),
        "models": [],
    }
    cases = {
        "jet": ("jet_tagger", jet_tagger, rng.normal(size=(100_000, 16)), 100_000),
        "conv": ("conv2d_net", conv2d_net, rng.normal(size=(100_000, 16, 16, 3)), 10_000),
    }
    for key in args.models:
        if key == "big":
            print("measuring big_mlp (4.3M weights)...", flush=True)
            results["big"] = measure_big(args.repeat)
            continue
        name, factory, x, numpy_samples = cases[key]
        print(f"measuring {name}...", flush=True)
        with tempfile.TemporaryDirectory() as work:
            results["models"].append(measure_model(name, factory, "fixed<16,6>", x, args.repeat, Path(work), numpy_samples))
    results["load_after"] = _load()
    args.out.mkdir(parents=True, exist_ok=True)
    table = markdown(results)
    (args.out / "benchmarks.md").write_text(table)
    (args.out / "benchmarks.json").write_text(json.dumps(results, indent=1) + "\n")
    print(table)
    if chart(results, args.out / "benchmarks.png"):
        print(f"chart: {args.out / 'benchmarks.png'}")
    else:
        print("matplotlib is not installed (pip install -e '.[bench,torch]'): no chart")
    if args.update_readme:
        update_readme(table)
        print("README.md performance table updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
