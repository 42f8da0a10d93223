"""All nnhls passes, by pipeline name, imported lazily (as `xdsl.transforms.get_all_passes`).

Each pass lives in its own module whose file name is the pass name in snake_case
(`nn_infer_precision.py` <-> `nn-infer-precision`).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from xdsl.passes import ModulePass

PASS_MODULES: dict[str, tuple[str, str]] = {
    "nn-apply-config": ("nn_apply_config", "ApplyConfigPass"),
    "nn-canonicalize": ("nn_canonicalize", "CanonicalizePass"),
    "nn-infer-quantization": ("nn_infer_quantization", "InferQuantizationPass"),
    "nn-infer-precision": ("nn_infer_precision", "InferPrecisionPass"),
    "nn-schedule": ("nn_schedule", "SchedulePass"),
    "lower-nn-to-hls": ("lower_nn_to_hls", "LowerNNToHLSPass"),
}
"""Pass name -> (module under nnhls.passes, class name)."""


def _factory(module: str, cls: str) -> Callable[[], type[ModulePass]]:
    def load() -> type[ModulePass]:
        return getattr(import_module(f"nnhls.passes.{module}"), cls)

    return load


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Pass name -> factory returning the pass class (importing its module on first use)."""
    return {name: _factory(module, cls) for name, (module, cls) in PASS_MODULES.items()}
