"""Shared pytest setup: Keras on the torch backend, and the third-party model corpus.

The corpus lives outside the project (`../shared/corpus` next to the checkout, or NNHLS_CORPUS);
tests that need it skip cleanly when it is absent. It is never copied into the project.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
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


@dataclass(frozen=True)
class VendorHeaders:
    """The vendor's ap types headers and the g++ flags to compile against them."""

    path: Path
    flags: tuple[str, ...] = (
        "-Wno-stringop-overflow", "-Wno-stringop-overread", "-Wno-free-nonheap-object",
        "-Wno-mismatched-dealloc", "-Wno-mismatched-new-delete", "-Wno-use-after-free",
        "-Wno-dangling-pointer", "-Wno-alloc-size-larger-than", "-Wno-array-bounds",
    )  # fmt: skip
    """Warnings whose analysis (g++ 12's "access analysis") takes most of the time of compiling
    large functions of the vendor's ap types (the static array initialisers of a firmware's
    weights: 60 s of CPU for 4,000 ap_fixed weights with them, 9 s without); nothing else changes."""


def vendor_ap_types_path() -> Path | None:
    """The vendor's (Xilinx's open-source, Apache-2.0) ap types headers: $NNHLS_VENDOR_AP_TYPES, else
    the copy that hls4ml's wheel ships (a test dependency used for nothing else: the package is
    located without importing it), else None."""
    env = os.environ.get("NNHLS_VENDOR_AP_TYPES")
    if env:
        return Path(env)  # a wrong path fails the tests that use it, never skips them
    spec = importlib.util.find_spec("hls4ml")
    for location in (spec.submodule_search_locations or []) if spec else []:
        headers = Path(location) / "templates" / "vivado" / "ap_types"
        if (headers / "ap_fixed.h").is_file():
            return headers
    return None


@pytest.fixture(scope="session")
def vendor_ap_types() -> VendorHeaders:
    """The vendor's ap types headers; skips the test when neither hls4ml's wheel nor
    NNHLS_VENDOR_AP_TYPES provides them."""
    path = vendor_ap_types_path()
    if path is None:
        pytest.skip("the vendor's ap types headers (hls4ml's wheel or NNHLS_VENDOR_AP_TYPES) not available")
    return VendorHeaders(path)


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
