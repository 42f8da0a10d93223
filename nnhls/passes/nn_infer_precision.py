"""nn-infer-precision: resolve every `auto` precision with exact hardware bit-growth rules.

Every layer leaves with a complete `precision` dictionary (one fixed-point type per variable of
the op). Variables the configuration pins keep their type; a variable that is absent (the pass
ran without nn-apply-config) takes the model default (`nn.default_precision`, else
`fixed<16,6>`); `auto` is inferred from the layer's input types and constants, model-wide in
program order. Notation: a type is (W, I, F = W - I), `union(a, b)` holds every value of a and
b (signed if either is, F = max F, I = max I plus one when only the other one is signed) and
`grow(t, n)` adds ceil(log2 n) integer bits to t (the sum of n terms of type t never overflows).

Each op's rules are in its module under `nnhls/ops/` (the table of its variables in the module
docstring): dense.py and conv.py (accumulators), pool.py, batchnorm.py, activation.py (one rule per
kind), softmax.py, merge.py, concat.py, dot.py, shape.py, noop.py, io.py, constant.py. An op with
no rule is an error, and so is a rule that leaves a result untyped.

Unlike hls4ml, activations and softmax are inferred too (never truncated to the default). Exact
types use TRN/WRAP (they cannot overflow); range types keep the default's quantization and
overflow modes. `nn.max_precision` caps inferred widths and integer bits (each independently, as
hls4ml does), taking the maximum's modes; a capped type may overflow, which the report marks.
Quantization-aware layers (constants with quantizers) are never capped: exact growth from their
quantized inputs and constants is what the framework computes (nnhls/ops/base.py).
Types wider than 1024 bits are an error naming the layer.

Before (`accum` and `result` auto, inputs and weights fixed<16,6>, 8 inputs, with a bias):

    %1 = nn.dense %0 {layer = "fc1", precision = {weight = !hls.fixed<16, 6>,
                      bias = !hls.fixed<16, 6>, accum = "auto", result = "auto"}, ...}

After: product fixed<32,12>, nine terms -> 4 more bits:

    %1 = nn.dense %0 {layer = "fc1", precision = {weight = !hls.fixed<16, 6>,
                      bias = !hls.fixed<16, 6>, accum = !hls.fixed<36, 16>,
                      result = !hls.fixed<36, 16>}, ...}
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import DictionaryAttr, ModuleOp
from xdsl.passes import ModulePass

from nnhls import ops
from nnhls.dialects import nn
from nnhls.dialects.bitgrowth import precision_type
from nnhls.dialects.fixed import FixedPrecision
from nnhls.ops.base import Choice, LayerTypes


def infer_layer(op: nn.NNLayerOp, inputs: list[FixedPrecision], model: nn.ModelTypes) -> LayerTypes:
    """Resolve every precision variable of one op from its input types (the op's rule)."""
    lt = LayerTypes(op, inputs, model)
    ops.rules(op).infer_precision(op, lt)
    lt.finish()
    return lt


def infer_function(function: func.FuncOp) -> list[Choice]:
    """Resolve every layer of one model function in program order; returns the report."""
    model = nn.ModelTypes.of(function)
    report: list[Choice] = []
    for op in function.body.block.ops:
        if not isinstance(op, nn.NNLayerOp):
            continue
        inputs = [nn.result_precision(v, model.default) for v in op.operands]
        lt = infer_layer(op, inputs, model)
        op.precision = DictionaryAttr(
            {var: precision_type(lt.types[var]) for var in op.PRECISION_VARS}
        )
        report += lt.choices
    return report


def format_report(choices: Sequence[Choice]) -> str:
    """One line per layer: `fc1: weight fixed<16,6> (pinned), accum fixed<36,16> (auto), ...`."""
    lines: dict[str, list[str]] = {}
    for c in choices:
        lines.setdefault(c.layer, []).append(f"{c.var} {c.type} ({c.how})")
    return "\n".join(f"{layer}: {', '.join(parts)}" for layer, parts in lines.items())


@dataclass(frozen=True)
class InferPrecisionPass(ModulePass):
    """Resolve every `auto` precision model-wide with exact bit growth (see the module docstring)."""

    name = "nn-infer-precision"

    report: bool = False
    """Print the chosen type of every variable of every layer to stderr."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in op.ops:
            if not isinstance(function, func.FuncOp):
                continue
            choices = infer_function(function)
            if self.report:
                print(format_report(choices), file=sys.stderr)
