"""`hls.clone` (nnet::clone_stream): io_stream fan-out, one copy of a stream per reader.

lower-nn-to-hls inserts clones (no nn op lowers to one); each output is cast<result> of the input
(all outputs share one type, so the kernel template takes one output type).
"""

from __future__ import annotations

from collections.abc import Sequence

from nnhls.dialects import hls
from nnhls.ops import exact as ex
from nnhls.ops.base import KernelRules, register
from nnhls.ops.cpp import Layer


@register
class CloneKernel(KernelRules):
    op = hls.CloneOp

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        return [ex.cast(args[0].exact, ex.result_t(op, i)) for i in range(len(op.results))]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        config = layer.struct("clone_config")
        config.const("n_pixels", layer.inputs[0].n_pixels).const("n_outputs", len(layer.outputs))
        layer.kernel, layer.header = "clone_stream", "nnet_stream.h"
        layer.template_outputs = 1
