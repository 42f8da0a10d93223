"""nnhls: trained neural networks (Keras, ONNX, PyTorch) to synthesizable HLS C++ for FPGAs.

A compiler in the MLIR tradition, built on xDSL: front ends produce the `nn` dialect, passes
configure, type and schedule it and lower it to the `hls` dialect, and codegen writes a C++ project
that builds with Vitis HLS, or with g++ against our own bit-accurate ap_types for emulation.
"""

__version__ = "0.1.0"

from importlib import import_module
from types import ModuleType

_SUBMODULES = ("converters", "utils", "backends", "model", "report", "templates")


def __getattr__(name: str) -> ModuleType:
    """`nnhls.converters`, `nnhls.utils`, `nnhls.backends`, `nnhls.model`, `nnhls.report`, `nnhls.templates` without
    importing them up front (the CLI starts faster), as `import hls4ml; hls4ml.utils...` scripts
    expect."""
    if name in _SUBMODULES:
        return import_module(f"nnhls.{name}")
    raise AttributeError(f"module 'nnhls' has no attribute '{name}'")
