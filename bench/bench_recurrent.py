"""Accuracy and estimates of the recurrent layers (a script, not a test): README's figures.

For one Keras layer of each cell (T = 6 steps of 3 features, random weights, biases in +-0.3,
inputs uniform in [-1, 1]) it prints the largest |numpy emulator - Keras| over 1000 sequences with
`fixed<16,6>` and 1024-entry tables, and with `fixed<40,14>` and 2^14-entry tables, and the
scheduling estimates (latency and II grow with the sequence length).

    KERAS_BACKEND=torch python bench/bench_recurrent.py
"""

from __future__ import annotations

import os
import tempfile
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np

from nnhls import converters

T, F = 6, 3
LAYERS = {
    "LSTM(8)": lambda: keras.layers.LSTM(8, return_sequences=True),
    "GRU(8)": lambda: keras.layers.GRU(8, return_sequences=True),
    "GRU(8, reset_after=False)": lambda: keras.layers.GRU(8, reset_after=False, return_sequences=True),
    "SimpleRNN(8)": lambda: keras.layers.SimpleRNN(8, return_sequences=True),
}
CONFIGS = {
    "fixed<16,6>, tables 1024": {"Model": {"Precision": "fixed<16,6>"}},
    "fixed<40,14>, tables 2^14": {"Model": {"Precision": "fixed<40,14>"}, "LayerType": {"RNN": {"TableSize": 1 << 14}}},
}


def main() -> None:
    warnings.simplefilter("ignore")
    x = np.random.default_rng(1).uniform(-1, 1, (1000, T, F)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        for label, make in LAYERS.items():
            keras.utils.set_random_seed(0)
            model = keras.Sequential([keras.Input((T, F)), make()])
            layer = model.layers[-1]
            rng = np.random.default_rng(0)
            layer.set_weights([w if i < 2 else w + rng.uniform(-0.3, 0.3, w.shape).astype(np.float32) for i, w in enumerate(layer.get_weights())])
            want = np.asarray(keras.ops.convert_to_numpy(model(x)), dtype=np.float64)
            row = [label]
            ir = ""
            for config in CONFIGS.values():
                hls_model = converters.convert_from_keras_model(model, output_dir=f"{tmp}/prj", hls_config=config)
                got = np.asarray(hls_model.predict(x, emulator="numpy"))
                row.append(f"{np.max(np.abs(got - want)):.2g}")
                ir = hls_model.ir("hls")
            line = next(line for line in ir.splitlines() if "hls.recurrent" in line)
            latency = line.split("latency = ")[1].split(" ")[0]
            multipliers = line.split("multipliers = ")[1].split(" ")[0]
            row += [latency, multipliers]
            print(" | ".join(row))
    print("columns: layer | max |error| " + " | ".join(CONFIGS) + " | latency = II (cycles, T = 6, RF 1) | multipliers")
    print()
    schedules()


SCHEDULES = {
    "T=6, RF 1": (6, {}),
    "T=12, RF 1": (12, {}),
    "T=6, RF 1, RecurrentReuseFactor 8": (6, {"RecurrentReuseFactor": 8}),
    "T=6, RF 4, RecurrentReuseFactor 16": (6, {"ReuseFactor": 4, "RecurrentReuseFactor": 16}),
    "T=6, RF 1, Static false": (6, {"Static": False}),
}


def schedules() -> None:
    """Estimates of an LSTM(8) over 3 features with the schedule keys (fixed<16,6>)."""
    with tempfile.TemporaryDirectory() as tmp:
        for label, (steps, keys) in SCHEDULES.items():
            keras.utils.set_random_seed(0)
            model = keras.Sequential([keras.Input((steps, F)), keras.layers.LSTM(8, name="lstm")])
            config = {"Model": {"Precision": "fixed<16,6>"}, "LayerName": {"lstm": keys}}
            hls_model = converters.convert_from_keras_model(model, output_dir=f"{tmp}/prj", hls_config=config)
            line = next(line for line in hls_model.ir("hls").splitlines() if "hls.recurrent" in line)
            values = [line.split(f"{key} = ")[1].split(" ")[0] for key in ("multipliers", "latency", "ii", "bops")]
            print(" | ".join([label, *values]))
    print("columns: LSTM(8) schedule | multipliers | latency | II | BOPs")


if __name__ == "__main__":
    main()
