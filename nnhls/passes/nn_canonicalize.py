"""nn-canonicalize: remove inference no-ops and fold batchnorms, keeping the float semantics.

Rewrites, applied until none matches:

- `nn.dropout` and `nn.identity` are removed (their result is their input), and so is a softmax
  marked `nn.skip` (the config's `Skip`: the model then returns the scores).
- A `linear` activation is removed when it has no type effect: its result precision is unset or
  "auto" (it would be the input type), or equals the producer's result type. A linear activation
  with a pinned type whose producer has no other user and an "auto" result moves its type onto
  the producer (hls4ml's merge_linear_activation) and disappears.
- A `nn.transpose` with the identity permutation, a `nn.reshape` / `nn.flatten` to the input's
  own shape, and two transposes that cancel are removed; a reshape of a reshape reads the
  original tensor.
- A `nn.batchnorm` whose input is a dense or convolution with no other user is folded into it
  (W' = W * scale per output channel, b' = b * scale + bias) unless the user pinned that layer's
  result type (hls4ml's rule): a type other than "auto" and the model default counts as pinned
  (nn-apply-config writes the default into every unset variable, so the default itself cannot be
  told apart from a deliberate choice). The folded layer keeps the dense/conv's name and its
  weight, bias and accum types (which then type the folded constants: data calibration chooses
  them for the folded layer) and takes the batchnorm's result type.
- Two consecutive batchnorms fuse (scale = s1 * s2, bias = b1 * s2 + b2) when the first has no
  other user and no pinned result type.

Front ends emit activations as separate `nn.activation` ops, so there are no fused activations to
split here.

The rewrites are xDSL RewritePatterns, each in the module of the op it matches (noop.py,
shape.py, activation.py, batchnorm.py under nnhls/ops/; `OpRules.canonicalization_patterns`),
applied by the greedy walker until none matches. Dead-code elimination is off: an unused layer
stays (removing layers is not this pass's business).

Before:

    %1 = nn.dense %0 {layer = "fc1", weight = dense<[[1.0, 2.0]]> : tensor<1x2xf32>,
                      bias = dense<[0.0, 1.0]> : tensor<2xf32>} ...
    %2 = nn.batchnorm %1 {layer = "bn", scale = dense<[2.0, 0.5]> : tensor<2xf32>,
                          bias = dense<[1.0, 0.0]> : tensor<2xf32>} ...
    %3 = nn.dropout %2 {layer = "drop"} ...

After:

    %1 = nn.dense %0 {layer = "fc1", weight = dense<[[2.0, 1.0]]> : tensor<1x2xf32>,
                      bias = dense<[1.0, 0.5]> : tensor<2xf32>} ...
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriteWalker,
    RewritePattern,
)

from nnhls import ops


def canonicalization_patterns() -> list[RewritePattern]:
    """Every registered op's patterns, once each (in registration order)."""
    patterns: dict[type[RewritePattern], RewritePattern] = {}
    for cls in ops.nn_op_classes():
        for pattern in ops.rules(cls).canonicalization_patterns():
            patterns.setdefault(type(pattern), pattern)
    return list(patterns.values())


def canonicalize_module(module: ModuleOp) -> None:
    """Apply every op's canonicalization patterns to a fixpoint (without DCE)."""
    applier = GreedyRewritePatternApplier(canonicalization_patterns(), dce_enabled=False)
    PatternRewriteWalker(applier).rewrite_module(module)


@dataclass(frozen=True)
class CanonicalizePass(ModulePass):
    """Remove inference no-ops and fold batchnorms (see the module docstring)."""

    name = "nn-canonicalize"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        canonicalize_module(op)
