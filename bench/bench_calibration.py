"""Calibration figures for README ("Precision that fits the chip"): per classifier, the calibrated
config's argmax agreement with the float model on held-out data and its total BOPs against the
same model with every type fixed<16,6> (hls4ml's default), and the time the search took.

    python bench/bench_calibration.py [--corpus ../shared/corpus] [--target 0.99] [--plot search.png]

Models: the corpus's trained classifiers KERAS_3layer, KERAS_3layer_batch_norm,
KERAS_conv2d_model (their generated inputs, split in halves: calibration / held out) and
jetTagger_Conv2D_Small (its 100 generated images are too few: 600 images are drawn the way
the corpus README describes its generator, sparse jet images near the centre summing to
600-1400 GeV); and four classifiers trained here on scikit-learn's digits (8x8 images, 10
classes): an MLP and a small CNN in Keras and in PyTorch (a few epochs; calibration on 600 of the
held-out images, agreement on the other 597). The float model is nnhls's float reference of the
imported model (checked against the frameworks by the test suite). Last, the calibration time of
the bundled jet tagger (examples/jet_tagger) on 10,000 generated samples (`--timing-only`: just that).

`--splits N` measures how much the figures depend on the split instead: per model, the two halves
both ways and N - 2 random halvings (seeded), with the numpy emulator (bit-exact with the C++).

`--fresh 300,600,...` calibrates the corpus models whose input distribution the corpus README
describes on fresh draws of each size (`--seeds` draws, default 8): KERAS_3layer and
KERAS_3layer_batch_norm on N(0, 1) features, held out on all 1,000 of the corpus's own inputs;
jetTagger_Conv2D_Small on jet images as above, held out on 1,000 more. Per size: how many draws
keep less than the target, the lowest held-out agreement, the mean and largest BOPs ratio.
`--safety S` measures with S instead of the code's headroom factor
(nn_calibrate_precision.SAFETY), a what-if: the product always uses its own.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")

from nnhls import converters, utils
from nnhls.compiler.hls_model import model_estimates
from nnhls.interpreters.reference import run_reference


def corpus_models(corpus: Path) -> list[tuple[str, Any, np.ndarray, str]]:
    shapes = {"KERAS_conv2d_model": (8, 8, 1), "jetTagger_Conv2D_Small": (25, 25, 1)}
    found: list[tuple[str, Any, np.ndarray, str]] = []
    for name in ("KERAS_3layer", "KERAS_3layer_batch_norm", "KERAS_conv2d_model", "jetTagger_Conv2D_Small"):
        model = (str(corpus / "keras" / f"{name}.json"), str(corpus / "keras" / f"{name}_weights.h5"))
        x = np.loadtxt(corpus / "generated" / f"{name}_input_features.dat", ndmin=2)
        if name in shapes:
            x = x.reshape(len(x), *shapes[name])
        if name == "jetTagger_Conv2D_Small":
            x = jet_images(600)
        found.append((name, model, x, "keras"))
    return found


def jet_images(n: int, seed: int = 7) -> np.ndarray:
    """Sparse 25x25 'jet images': ~25 hit pixels near the centre, heavy-tailed pT summing to
    600-1400 (the corpus README's description of its generator; not its code)."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 25, 25, 1))
    for k in range(n):
        hits = rng.poisson(25)
        rows = np.clip(np.rint(rng.normal(12, 3, hits)), 0, 24).astype(int)
        cols = np.clip(np.rint(rng.normal(12, 3, hits)), 0, 24).astype(int)
        pt = rng.pareto(1.5, hits) + 0.1
        np.add.at(images[k, :, :, 0], (rows, cols), pt / pt.sum() * rng.uniform(600, 1400))
    return images


def digits_models() -> list[tuple[str, Any, np.ndarray, str]]:
    import keras
    import torch
    from sklearn.datasets import load_digits

    features, target = load_digits(return_X_y=True)
    x = (np.asarray(features).reshape(-1, 8, 8) / 16.0).astype(np.float32)
    y = np.asarray(target)
    train, rest = slice(0, 600), slice(600, None)
    keras.utils.set_random_seed(1)
    torch.manual_seed(1)
    mlp = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    cnn = keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.Conv2D(8, 3, activation="relu"), keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax"),
    ])  # fmt: skip
    for model, data in ((mlp, x.reshape(-1, 64)), (cnn, x[..., None])):
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
        model.fit(data[train], y[train], epochs=30, batch_size=64, verbose=0)  # pyright: ignore[reportArgumentType]
    tmlp = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    tcnn = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(72, 10)
    )  # fmt: skip
    for model, data in ((tmlp, x.reshape(-1, 64)), (tcnn, x[:, None])):
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        inputs, labels = torch.tensor(data[train]), torch.tensor(y[train])
        for _ in range(150):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(inputs), labels).backward()
            optimizer.step()
        model.eval()
    return [
        ("digits MLP (Keras)", mlp, x.reshape(-1, 64)[rest], "keras"),
        ("digits CNN (Keras)", cnn, x[..., None][rest], "keras"),
        ("digits MLP (PyTorch)", tmlp, x.reshape(-1, 64)[rest], "pytorch"),
        ("digits CNN (PyTorch)", tcnn, x[:, None][rest], "pytorch"),
    ]


def config_for(kind: str, model: Any, x: np.ndarray, **kwargs: Any) -> dict[str, Any]:
    if kind == "keras":
        return utils.config_from_keras_model(model, granularity="name", **kwargs)
    return utils.config_from_pytorch_model(model, x.shape[1:], granularity="name", **kwargs)


def convert(kind: str, model: Any, x: np.ndarray, config: dict[str, Any], out: Path) -> Any:
    if kind == "keras":
        return converters.convert_from_keras_model(model, hls_config=config, output_dir=str(out), project_name="cal")
    return converters.convert_from_pytorch_model(model, x.shape[1:], hls_config=config, output_dir=str(out), project_name="cal")


def measure(name: str, model: Any, x: np.ndarray, kind: str, target: float, margin: int, work: Path, plot: str | None) -> dict[str, Any]:
    half = len(x) // 2
    calibration, held_out = x[:half], x[half:]
    t = time.perf_counter()
    config = config_for(kind, model, x, calibration_data=calibration, target=target, margin=margin, calibration_plot=plot)
    seconds = time.perf_counter() - t
    hls_model = convert(kind, model, x, config, work / "calibrated")
    hls_model.compile()
    agreement = agreement_on(hls_model, held_out, emulator="cpp")
    bops, base = model_estimates(hls_model.hls_module)["bops"], baseline_bops(kind, model, x, work)
    return {"model": name, "calibration samples": half, "held-out samples": len(held_out), "agreement": agreement,
            "bops": bops, "baseline_bops": base, "ratio": bops / base, "seconds": seconds}  # fmt: skip


def baseline_bops(kind: str, model: Any, x: np.ndarray, work: Path) -> int:
    """Total BOPs of the model with every type fixed<16,6> (hls4ml's default)."""
    baseline = convert(kind, model, x, {"Model": {"Precision": "fixed<16,6>"}}, work / "baseline")
    return model_estimates(baseline.hls_module)["bops"]


def agreement_on(hls_model: Any, held_out: np.ndarray, emulator: str = "numpy") -> float:
    """Argmax agreement of the converted model (that emulator) with its float reference."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        predicted = np.asarray(hls_model.predict(held_out, emulator=emulator)).reshape(len(held_out), -1)
    reference = np.asarray(run_reference(hls_model.module("import"), [held_out])[0]).reshape(len(held_out), -1)
    return float(np.mean(predicted.argmax(axis=1) == reference.argmax(axis=1)))


def measure_splits(name: str, model: Any, x: np.ndarray, kind: str, target: float, splits: int, work: Path) -> str:
    """Held-out agreement / BOPs ratio on `splits` halvings: first/second, second/first, then random."""
    n, half = len(x), len(x) // 2
    orders = [np.arange(n), np.r_[np.arange(half, n), np.arange(half)]]
    rng = np.random.default_rng(0)
    orders += [rng.permutation(n) for _ in range(splits - 2)]
    base = baseline_bops(kind, model, x, work)
    cells: list[str] = []
    for k, order in enumerate(orders[:splits]):
        calibration, held_out = x[order[:half]], x[order[half:]]
        config = config_for(kind, model, x, calibration_data=calibration, target=target)
        hls_model = convert(kind, model, x, config, work / f"split{k}")
        agreement = agreement_on(hls_model, held_out)
        cells.append(f"{agreement:.1%} / {model_estimates(hls_model.hls_module)['bops'] / base:.1%}")
    return f"| {name} | " + " | ".join(cells) + " |"


FRESH = ("KERAS_3layer", "KERAS_3layer_batch_norm", "jetTagger_Conv2D_Small")
"""The corpus models whose input distribution is known (the corpus README): fresh data can be drawn."""


def fresh_data(name: str, x: np.ndarray) -> tuple[np.ndarray, Callable[[int, int], np.ndarray]]:
    """(held-out data, draw(n, seed) -> n fresh calibration samples): N(0, 1) features held out on
    the corpus's own 1,000 inputs; jet images held out on 1,000 fresh images (seed 999)."""
    if name == "jetTagger_Conv2D_Small":
        return jet_images(1000, seed=999), lambda n, seed: jet_images(n, seed=1000 + seed)
    return x, lambda n, seed: np.random.default_rng(100 + seed).standard_normal((n, *x.shape[1:]))


def measure_fresh(name: str, model: Any, x: np.ndarray, kind: str, target: float, sizes: list[int], seeds: int, work: Path) -> list[str]:
    """Per calibration size, `seeds` fresh draws: how many keep less than the target on the
    held-out data, the lowest agreement, the mean and largest BOPs ratio, the mean search time."""
    from nnhls.compiler.nn_calibrate_precision import SAFETY

    held_out, draw = fresh_data(name, x)
    base = baseline_bops(kind, model, held_out, work)
    rows: list[str] = []
    for n in sizes:
        agreements: list[float] = []
        ratios: list[float] = []
        seconds: list[float] = []
        for seed in range(seeds):
            t = time.perf_counter()
            config = config_for(kind, model, held_out, calibration_data=draw(n, seed), target=target)
            seconds.append(time.perf_counter() - t)
            hls_model = convert(kind, model, held_out, config, work / "fresh")
            agreements.append(agreement_on(hls_model, held_out))
            ratios.append(model_estimates(hls_model.hls_module)["bops"] / base)
        below = sum(a < target for a in agreements)
        rows.append(f"| {name} | {n:,} | {SAFETY:g}x | {below} of {seeds} | {min(agreements):.1%} | "
                    f"{np.mean(ratios):.1%} | {max(ratios):.1%} | {np.mean(seconds):.1f} s |")  # fmt: skip
    return rows


def jet_tagger_timing(n: int = 10_000) -> str:
    """Calibration time of the bundled jet tagger (examples/jet_tagger, a 16-64-32-32-5 MLP) on n
    samples drawn by examples/make_jet_tagger.py's generator (a fresh seed)."""
    examples = Path(__file__).resolve().parents[1] / "examples"
    sys.path.insert(0, str(examples))
    from make_jet_tagger import synthetic_jets

    x, _ = synthetic_jets(n, np.random.default_rng(1))
    t = time.perf_counter()
    config = utils.config_from_keras_model(str(examples / "jet_tagger" / "jet_tagger.keras"), granularity="name", calibration_data=x, target=0.99)
    seconds = time.perf_counter() - t
    fc1 = config["LayerName"]["fc1"]["Precision"]
    return f"jet tagger (examples/jet_tagger) calibrated on {n:,} samples in {seconds:.1f} s (fc1 weight {fc1['weight']}, result {fc1['result']})"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--corpus", default=os.environ.get("NNHLS_CORPUS", str(Path(__file__).resolve().parents[2] / "shared" / "corpus")))
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--margin", type=int, default=0)
    parser.add_argument("--plot", help="save the search plot of the first model here")
    parser.add_argument("--only", help="run only models whose name contains this")
    parser.add_argument("--work", default="calibration_bench")
    parser.add_argument("--timing-only", action="store_true", help="only time the jet tagger on 10,000 samples")
    parser.add_argument("--splits", type=int, default=0, help="agreement / BOPs ratio on this many halvings of each model's data (at least 2)")
    parser.add_argument("--fresh", help="calibration sizes, e.g. 300,600,1200: the corpus models with a known input distribution on fresh draws")
    parser.add_argument("--seeds", type=int, default=8, help="--fresh: draws per size")
    parser.add_argument("--safety", type=float, help="what-if: this headroom factor instead of the code's SAFETY")
    args = parser.parse_args()
    if args.safety is not None:
        from nnhls.compiler import nn_calibrate_precision

        nn_calibrate_precision.SAFETY = args.safety
    if args.timing_only:
        print(jet_tagger_timing())
        return
    models = corpus_models(Path(args.corpus)) if Path(args.corpus).is_dir() else []
    if args.fresh:
        sizes = [int(size) for size in args.fresh.split(",")]
        print("| model | calibration samples | headroom | draws below target | lowest held-out agreement | mean BOPs ratio | largest | search time |")
        print("|---|---|---|---|---|---|---|---|")
        for i, (name, model, x, kind) in enumerate(models):
            if name in FRESH and (not args.only or args.only in name):
                for row in measure_fresh(name, model, x, kind, args.target, sizes, args.seeds, Path(args.work) / f"f{i}"):
                    print(row, flush=True)
        return
    models += digits_models()
    if args.splits:
        splits = max(args.splits, 2)
        print("| model | first / second | second / first | " + " | ".join(f"random {k}" for k in range(1, splits - 1)) + " |")
        print("|---" * (splits + 1) + "|")
        for i, (name, model, x, kind) in enumerate(models):
            if not args.only or args.only in name:
                print(measure_splits(name, model, x, kind, args.target, splits, Path(args.work) / f"s{i}"), flush=True)
        return
    print("| model | calibration / held-out samples | held-out argmax agreement | total BOPs | BOPs with every type fixed<16,6> | ratio | search time |")
    print("|---|---|---|---|---|---|---|")
    for i, (name, model, x, kind) in enumerate(models):
        if args.only and args.only not in name:
            continue
        row = measure(name, model, x, kind, args.target, args.margin, Path(args.work) / f"m{i}", args.plot if i == 0 else None)
        print(f"| {row['model']} | {row['calibration samples']} / {row['held-out samples']} | {row['agreement']:.2%} | "
              f"{row['bops']:,} | {row['baseline_bops']:,} | {row['ratio']:.1%} | {row['seconds']:.1f} s |", flush=True)  # fmt: skip
    print()
    print(jet_tagger_timing())
    sys.stdout.flush()


if __name__ == "__main__":
    main()
