"""Compiler and emulator speed (benchmarks, not tests: timings depend on the machine's load).

    python bench/bench_compiler.py

- pipeline: the default pass pipeline on a deep chain of 200 dense + relu layers, per op;
- emulator: numpy emulation (`run_hls`) of the bundled jet tagger on a batch of 10,000, with the
  example's config and with the all-`auto` config `config_from_keras_model(granularity="name")`
  writes (its exact, wide inferred types take the emulator's wide path).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from xdsl.parser import Parser  # noqa: E402

from nnhls import converters, utils  # noqa: E402
from nnhls.compiler.context import make_context  # noqa: E402
from nnhls.compiler.pipeline import default_pipeline, parse_pipeline, run_pipeline  # noqa: E402
from nnhls.interpreters.emulator import run_hls  # noqa: E402

EXAMPLE = REPO / "examples" / "jet_tagger"


def deep_chain(layers: int) -> str:
    lines = [
        "func.func @deep(%a: tensor<8xf32>) -> tensor<8xf32> {",
        '  %v0 = nn.input %a {layer = "in"} : (tensor<8xf32>) -> tensor<8xf32>',
    ]
    for i in range(layers):
        lines.append(
            f'  %d{i} = nn.dense %v{i} {{layer = "fc{i}", weight = dense<0.1> : tensor<8x8xf32>, '
            f"bias = dense<0.0> : tensor<8xf32>}} : (tensor<8xf32>) -> tensor<8xf32>"
        )
        lines.append(
            f'  %v{i + 1} = nn.activation %d{i} {{layer = "relu{i}", kind = #hls<activation relu>}} '
            ": (tensor<8xf32>) -> tensor<8xf32>"
        )
    lines += [f"  func.return %v{layers} : tensor<8xf32>", "}"]
    return "\n".join(lines)


def bench_pipeline(layers: int = 200) -> None:
    text = deep_chain(layers)
    best = float("inf")
    for _ in range(3):
        ctx = make_context()
        module = Parser(ctx, text).parse_module()
        start = time.perf_counter()
        run_pipeline(ctx, module, parse_pipeline(default_pipeline()))
        best = min(best, time.perf_counter() - start)
    print(f"pipeline: {2 * layers + 1} ops in {best * 1e3:.1f} ms ({best / (2 * layers + 1) * 1e6:.0f} us/op)")


def bench_emulator(batch: int = 10_000) -> None:
    x = np.random.default_rng(0).normal(size=(batch, 16))
    model_file = str(EXAMPLE / "jet_tagger.keras")
    configs = {
        "example config": converters.load_yaml(EXAMPLE / "config.yml")["HLSConfig"],
        "as-generated auto config": utils.config_from_keras_model(model_file, granularity="name"),
    }
    for label, hls_config in configs.items():
        hls_model = converters.convert_from_keras_model(model_file, hls_config=hls_config, project_name="jet_tagger")
        module = hls_model.hls_module
        run_hls(module, x[:10])
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            run_hls(module, x)
            best = min(best, time.perf_counter() - start)
        print(f"emulator ({label}): {batch} samples in {best:.3f} s ({batch / best:,.0f} samples/s)")


if __name__ == "__main__":
    bench_pipeline()
    bench_emulator()
