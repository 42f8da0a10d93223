"""Emulation build time and batch predict throughput of nnhls (and hls4ml, when importable).

    python bench/bench_build.py            # both models, cold build cache
    python bench/bench_build.py --repeat 3

Models (issue 7): the jet-tagger MLP 16-64-32-32-5 (examples/jet_tagger) and a small Conv2D net
(16x16x3, conv 8 3x3 relu, maxpool 2, conv 16 3x3 relu, maxpool 2, dense 10 softmax). Both use
the config `config_from_keras_model(model, granularity="name")` generates. The build is timed from
`compile()` on a written project with an empty build cache (a fresh NNHLS_CACHE_DIR), i.e. a cold
g++ build of every translation unit; predict throughput is measured on one large batch after a
warm-up call. hls4ml is never a dependency: when it is importable it is measured side by side,
otherwise its figures on this machine (issue 7) are printed for reference.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

HLS4ML_REFERENCE = {"jet_tagger": (11.6, 3100.0), "conv2d": (25.0, 320.0)}
"""hls4ml 1.3 on this 2-core machine (issue 7): compile() seconds, predict samples/s."""
TARGET_BUILD_RATIO = 0.2
TARGET_PREDICT_RATIO = 20.0


def jet_tagger() -> Any:
    import keras

    return keras.models.load_model(REPO / "examples" / "jet_tagger" / "jet_tagger.keras")


def conv2d_net() -> Any:
    import keras
    from keras import layers

    inputs = keras.Input((16, 16, 3), name="image")
    x = layers.Conv2D(8, 3, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(16, 3, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(10, activation="softmax", name="dense")(x)
    return keras.Model(inputs, outputs, name="conv2d_net")


def measure_nnhls(model: Any, x: np.ndarray, work: Path, io_type: str) -> tuple[float, float]:
    from nnhls import converters, utils

    os.environ["NNHLS_CACHE_DIR"] = str(work / "cache")
    config = utils.config_from_keras_model(model, granularity="name")
    hls_model = converters.convert_from_keras_model(model, hls_config=config, output_dir=str(work / "prj"), io_type=io_type)
    hls_model.write()
    start = time.perf_counter()
    hls_model.compile()
    build = time.perf_counter() - start
    hls_model.predict(x[:16])
    start = time.perf_counter()
    hls_model.predict(x)
    return build, len(x) / (time.perf_counter() - start)


def measure_hls4ml(model: Any, x: np.ndarray, work: Path, io_type: str) -> tuple[float, float] | None:
    try:
        import hls4ml  # pyright: ignore[reportMissingImports]
    except ImportError:
        return None
    config = hls4ml.utils.config_from_keras_model(model, granularity="name")
    hls_model = hls4ml.converters.convert_from_keras_model(model, hls_config=config, output_dir=str(work / "hls4ml"), io_type=io_type)
    start = time.perf_counter()
    hls_model.compile()
    build = time.perf_counter() - start
    hls_model.predict(np.ascontiguousarray(x[:16], dtype=np.float32))
    start = time.perf_counter()
    hls_model.predict(np.ascontiguousarray(x, dtype=np.float32))
    return build, len(x) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description="nnhls emulation build time and predict throughput")
    parser.add_argument("--repeat", type=int, default=1, help="cold builds per model (the best is reported)")
    parser.add_argument("--io-type", default="io_parallel", choices=["io_parallel", "io_stream"])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    cases = {
        "jet_tagger": (jet_tagger, rng.normal(size=(100_000, 16))),
        "conv2d": (conv2d_net, rng.normal(size=(10_000, 16, 16, 3))),
    }
    print(f"{'model':<11} {'build s':>8} {'target s':>9} {'predict/s':>11} {'target/s':>9}  hls4ml (build s, predict/s)")
    ok = True
    for name, (factory, x) in cases.items():
        model = factory()
        builds, rates = [], []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                build, rate = measure_nnhls(model, x, Path(tmp), args.io_type)
            builds.append(build)
            rates.append(rate)
        with tempfile.TemporaryDirectory() as tmp:
            theirs = measure_hls4ml(model, x[:2000], Path(tmp), args.io_type)
        ref_build, ref_rate = theirs if theirs is not None else HLS4ML_REFERENCE[name]
        target_build, target_rate = TARGET_BUILD_RATIO * ref_build, TARGET_PREDICT_RATIO * ref_rate
        build, rate = min(builds), max(rates)
        ok &= build <= target_build and rate >= target_rate
        source = "measured" if theirs is not None else "issue 7 figures"
        print(f"{name:<11} {build:8.2f} {target_build:9.2f} {rate:11.0f} {target_rate:9.0f}  {ref_build:.1f}, {ref_rate:.0f} ({source})")
    print("all targets met" if ok else "some targets missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
