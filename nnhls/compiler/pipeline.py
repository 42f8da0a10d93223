"""Named compilation stages and the default pass pipeline (as the xDSL Toy tutorial's compiler).

    import -> configured -> nn -> typed -> scheduled -> hls -> cpp

`import` is the front end's `nn` IR; each later stage is the IR after one pass:
nn-apply-config (configured), nn-canonicalize then nn-infer-quantization (nn: canonical, the
quantizers folded into types), nn-infer-precision (typed), nn-schedule (scheduled),
lower-nn-to-hls (hls). `cpp` is code generation (not a pass). Configuration is
applied before canonicalization because folding a batchnorm into its dense/conv depends on
whether the user pinned that layer's types.

Users can run their own pipeline in the `-p` syntax of nnhls-opt.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass, PassPipeline

from nnhls.compiler.context import make_context
from nnhls.errors import PipelineError
from nnhls.passes import get_all_passes
from nnhls.passes.nn_apply_config import ApplyConfigPass, split_config

STAGES: tuple[str, ...] = ("import", "configured", "nn", "typed", "scheduled", "hls", "cpp")
"""Stages in order; the IR can be taken after any of them."""

STAGE_OF_PASS: dict[str, str] = {
    "nn-apply-config": "configured",
    "nn-infer-quantization": "nn",
    "nn-infer-precision": "typed",
    "nn-schedule": "scheduled",
    "lower-nn-to-hls": "hls",
}
"""The stage each pass of the default pipeline completes."""


def default_pipeline(io_type: str = "io_parallel") -> str:
    """The default pass pipeline in `-p` syntax (configuration is given to nn-apply-config apart)."""
    return (
        "nn-apply-config,nn-canonicalize,nn-infer-quantization,nn-infer-precision,nn-schedule,"
        f"lower-nn-to-hls{{io-type={io_type}}}"
    )


def all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Every nnhls pass by name: nnhls.passes, and the driver-level nn-calibrate-precision (it
    runs the later passes and the emulator on each candidate, so it lives in this layer)."""

    def calibrate() -> type[ModulePass]:
        from nnhls.compiler.nn_calibrate_precision import CalibratePrecisionPass

        return CalibratePrecisionPass

    return {**get_all_passes(), "nn-calibrate-precision": calibrate}


def parse_pipeline(spec: str) -> tuple[ModulePass, ...]:
    """Pass instances for a `-p` pipeline string."""
    try:
        pipeline = PassPipeline.parse_spec(all_passes(), spec)
    except Exception as error:  # xDSL raises ValueError or its own spec parse errors
        raise PipelineError(f"invalid pass pipeline '{spec}': {' '.join(str(error).split())}") from None
    return pipeline.passes


Callback = Callable[[ModulePass, ModuleOp], None]


def run_pipeline(
    ctx: Context,
    module: ModuleOp,
    passes: tuple[ModulePass, ...],
    stop_after: str | None = None,
    after_pass: Callback | None = None,
) -> ModuleOp:
    """Apply passes in order, verifying after each; stop once `stop_after` stage is reached."""
    if stop_after is not None and stop_after not in STAGES:
        raise PipelineError(f"unknown stage '{stop_after}'; stages are: {', '.join(STAGES)}")
    if stop_after == "import":
        return module
    for p in passes:
        p.apply(ctx, module)
        module.verify()
        if after_pass is not None:
            after_pass(p, module)
        if stop_after is not None and STAGE_OF_PASS.get(p.name) == stop_after:
            break
    return module


# ----- the configured stage ------------------------------------------------------------------------------


def configured_module(module: ModuleOp, config: Mapping[str, Any]) -> ModuleOp:
    """Validate the config against the module and apply it (the `configured` stage), in place."""
    ApplyConfigPass(config_json=json.dumps(_jsonable(config))).apply(make_context(), module)
    module.verify()
    return module


def _jsonable(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config without in-memory model objects (only what the pass reads)."""
    hls, io_type = split_config(config)
    return {"HLSConfig": {k: v for k, v in hls.items() if k != "InputShape"}, "IOType": io_type}
