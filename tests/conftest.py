"""Shared pytest setup: Keras on the torch backend, and the third-party model corpus.

The corpus lives outside the project (`../shared/corpus` next to the checkout, or NNHLS_CORPUS);
tests that need it skip cleanly when it is absent. It is never copied into the project.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

REPO_ROOT = Path(__file__).resolve().parent.parent


def corpus_path() -> Path | None:
    """The model corpus folder, or None when it is not on this machine."""
    candidates = [os.environ.get("NNHLS_CORPUS"), REPO_ROOT.parent / "shared" / "corpus"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "README.md").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def corpus() -> Path:
    """Path of the corpus; skips the test when the corpus is absent."""
    path = corpus_path()
    if path is None:
        pytest.skip("model corpus (../shared/corpus) not available")
    return path


@pytest.fixture(scope="session")
def seed_yaml() -> str:
    """The example YAML of the configuration document (paths relative to the corpus folder)."""
    return """
# Project section
OutputDir: my-hls-test
ProjectName: myproject

# Model section (Keras model)
KerasJson: keras/KERAS_3layer.json
KerasH5:   keras/KERAS_3layer_weights.h5 #You can also use h5 file from Keras's without supplying json file.
InputData: generated/KERAS_3layer_input_features.dat
OutputPredictions: generated/KERAS_3layer_predictions_keras3.dat

# Backend section (Vivado backend)
Part: xcvu13p-flga2577-2-e
ClockPeriod: 5
IOType: io_parallel # options: io_parallel/io_stream

HLSConfig:
  Model:
    Precision: fixed<16,6>
    ReuseFactor: 1
    Strategy: Latency
  LayerName:
    fc1_relu:
      ReuseFactor: 2
      Strategy: Resource
      Compression: True
"""
