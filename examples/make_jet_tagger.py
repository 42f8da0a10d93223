"""Make the bundled example: a small jet-tagger-like MLP trained on synthetic data.

    KERAS_BACKEND=torch python examples/make_jet_tagger.py

Writes, next to this script in `jet_tagger/`:
  jet_tagger.keras     the trained Keras 3 model (16 -> 64 -> 32 -> 32 -> 5, relu, softmax)
  inputs.npy           200 standardised test samples (float32)
  float_outputs.npy    Keras' float predictions for them (the reference the summary compares to)
  config.yml           the nnhls / hls4ml-style YAML that `nnhls convert --example` runs

The data imitates the hls4ml jet-tagging task: 16 standardised high-level features, 5 classes
(g, q, W, Z, t) whose feature means differ, with class-dependent correlations. Everything is
seeded, so rerunning the script reproduces the model up to the backend's float determinism.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")

HERE = Path(__file__).resolve().parent / "jet_tagger"
N_FEATURES, N_CLASSES = 16, 5
SEED = 20261123


def synthetic_jets(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Samples and one-hot labels: class means on a simplex, per-class mixing of features."""
    labels = rng.integers(0, N_CLASSES, size=n)
    means = rng.normal(0.0, 0.3, size=(N_CLASSES, N_FEATURES))
    mixing = rng.normal(0.0, 0.12, size=(N_CLASSES, N_FEATURES, N_FEATURES))
    noise = rng.normal(size=(n, N_FEATURES))
    x = means[labels] + noise + np.einsum("nf,nfg->ng", noise, mixing[labels])
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    return x.astype(np.float32), np.eye(N_CLASSES, dtype=np.float32)[labels]


CONFIG_YML = """\
# The bundled example: run it with `nnhls convert --example`, or `nnhls convert examples/jet_tagger/config.yml`;
# both write OutputDir into the working directory (plain relative paths are relative to it, as in
# hls4ml), and read the files tagged !relative from this folder, wherever you run them.
OutputDir: jet_tagger_prj
ProjectName: jet_tagger
KerasModel: !relative jet_tagger.keras
InputData: !relative inputs.npy
OutputPredictions: !relative float_outputs.npy
Backend: Vitis
Part: xcvu13p-flga2577-2-e
ClockPeriod: 5
IOType: io_parallel
HLSConfig:
  Model:
    Precision: fixed<16,6>
    ReuseFactor: 1
    Strategy: Latency
  LayerName:
    fc1:
      Precision:
        weight: auto
        bias: auto
        result: auto
"""


def main() -> None:
    import keras

    keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    x_train, y_train = synthetic_jets(20000, rng)
    x_test, _ = synthetic_jets(200, rng)

    inputs = keras.Input(shape=(N_FEATURES,), name="input_1")
    h = keras.layers.Dense(64, activation="relu", name="fc1")(inputs)
    h = keras.layers.Dense(32, activation="relu", name="fc2")(h)
    h = keras.layers.Dense(32, activation="relu", name="fc3")(h)
    outputs = keras.layers.Dense(N_CLASSES, activation="softmax", name="output")(h)
    model = keras.Model(inputs, outputs, name="jet_tagger")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=8, batch_size=256, validation_split=0.1, verbose=2)

    HERE.mkdir(exist_ok=True)
    model.save(HERE / "jet_tagger.keras")
    np.save(HERE / "inputs.npy", x_test)
    np.save(HERE / "float_outputs.npy", model.predict(x_test, verbose=0).astype(np.float32))
    (HERE / "config.yml").write_text(CONFIG_YML)
    print(f"wrote {HERE}")


if __name__ == "__main__":
    main()
