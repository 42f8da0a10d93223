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
  types: a weight, bias or result type other than "auto" and the model default counts as pinned
  (nn-apply-config writes the default into every unset variable, so the default itself cannot be
  told apart from a deliberate choice). The folded layer keeps the dense/conv's name and weights'
  configuration and takes the batchnorm's result type.
- Two consecutive batchnorms fuse (scale = s1 * s2, bias = b1 * s2 + b2) when the first has no
  other user and no pinned result type.

Front ends emit activations as separate `nn.activation` ops, so there are no fused activations to
split here.

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

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import DictionaryAttr, ModuleOp
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.passes import ModulePass

from nnhls.dialects import nn
from nnhls.dialects.kinds import ActivationKind
from nnhls.dialects.types import FixedPointType


def replace(op: Operation, value: SSAValue) -> None:
    """Replace op's single result by value and erase op."""
    op.results[0].replace_all_uses_with(value)
    op.detach()
    op.erase()


def single_user(value: SSAValue) -> Operation | None:
    """The only operation reading value (once), or None."""
    uses = list(value.uses)
    return uses[0].operation if len(uses) == 1 else None


def pinned(op: nn.NNLayerOp, var: str, model: nn.ModelTypes) -> bool:
    """Whether the user chose var's type: a type other than the model default."""
    value = op.get_precision(var)
    return isinstance(value, FixedPointType) and value.precision != model.default


def set_precision(op: nn.NNLayerOp, var: str, value: Attribute | None) -> None:
    """Set (or with None, remove) one precision entry of op."""
    entries = dict(op.precision.data) if op.precision is not None else {}
    if value is None:
        entries.pop(var, None)
    else:
        entries[var] = value
    op.precision = DictionaryAttr(entries) if entries else None


# ----- rewrites (each returns True when it changed the IR) ------------------------------------------------------


def remove_noop(op: nn.NNLayerOp) -> bool:
    """dropout, identity, identity transposes and shape-preserving reshapes."""
    if isinstance(op, nn.DropoutOp | nn.IdentityOp):
        replace(op, op.input)
        return True
    if isinstance(op, nn.SoftmaxOp) and nn.SKIP_ATTR in op.attributes:
        replace(op, op.input)
        return True
    if isinstance(op, nn.TransposeOp) and list(nn.ints(op.perm)) == sorted(nn.ints(op.perm)):
        replace(op, op.input)
        return True
    if isinstance(op, nn.ReshapeOp | nn.FlattenOp) and nn.shape_of(op.input) == nn.shape_of(
        op.output
    ):
        replace(op, op.input)
        return True
    return False


def fold_shape_chains(op: nn.NNLayerOp) -> bool:
    """reshape(reshape(x)) reads x; transpose(transpose(x)) cancelling is removed."""
    if isinstance(op, nn.ReshapeOp | nn.FlattenOp):
        inner = op.input.owner
        if isinstance(inner, nn.ReshapeOp | nn.FlattenOp):
            op.operands[0] = inner.input
            if not inner.output.uses:
                inner.detach()
                inner.erase()
            return True
    if isinstance(op, nn.TransposeOp):
        inner = op.input.owner
        if isinstance(inner, nn.TransposeOp):
            outer_perm, inner_perm = nn.ints(op.perm), nn.ints(inner.perm)
            composed = [inner_perm[p] for p in outer_perm]
            if composed == sorted(composed):
                replace(op, inner.input)
                if not inner.output.uses:
                    inner.detach()
                    inner.erase()
                return True
    return False


def remove_linear(op: nn.NNLayerOp, model: nn.ModelTypes) -> bool:
    """A linear activation without type effect, or whose type moves onto its producer."""
    if not isinstance(op, nn.ActivationOp) or op.activation != ActivationKind.LINEAR:
        return False
    result = op.get_precision("result")
    producer = op.input.owner
    if not isinstance(result, FixedPointType):
        replace(op, op.input)
        return True
    if not isinstance(producer, nn.NNLayerOp):
        return False
    before = producer.get_precision("result")
    if isinstance(before, FixedPointType) and before == result:
        replace(op, op.input)
        return True
    if before == nn.AUTO and single_user(op.input) is op:
        set_precision(producer, "result", result)
        replace(op, op.input)
        return True
    return False


def _channel_scale(op: nn.DenseOp | nn.ConvBaseOp, scale: np.ndarray) -> np.ndarray:
    """scale per output channel, shaped to broadcast over the weight tensor."""
    w_shape = op.weight.get_shape()
    if isinstance(op, nn.ConvBaseOp) and op.DEPTHWISE:
        return scale.reshape(w_shape[-2], w_shape[-1])
    return scale


def fold_batchnorm(op: nn.NNLayerOp, model: nn.ModelTypes) -> bool:
    """Fold a batchnorm into the dense/conv producing its only input."""
    if not isinstance(op, nn.BatchNormOp):
        return False
    layer = op.input.owner
    if not isinstance(layer, nn.DenseOp | nn.ConvBaseOp) or single_user(layer.output) is not op:
        return False
    if any(pinned(layer, var, model) for var in ("weight", "bias", "result")):
        return False
    scale = nn.to_numpy(op.scale).astype(np.float64)
    shift = nn.to_numpy(op.bias).astype(np.float64)
    weight = nn.to_numpy(layer.weight).astype(np.float64) * _channel_scale(layer, scale)
    bias = (
        nn.to_numpy(layer.bias).astype(np.float64)
        if layer.bias is not None
        else np.zeros_like(scale)
    )
    layer.weight = nn.dense_attr(weight)
    layer.bias = nn.dense_attr(bias * scale + shift)
    set_precision(layer, "result", _result_entry(op))
    if op.trace is not None:
        layer.trace = op.trace
    replace(op, layer.output)
    return True


def _result_entry(op: nn.NNLayerOp) -> Attribute | None:
    if op.precision is None:
        return None
    return op.precision.data.get("result")


def fuse_batchnorms(op: nn.NNLayerOp, model: nn.ModelTypes) -> bool:
    """bn2(bn1(x)) -> one batchnorm (bn2's configuration, bn1's name)."""
    if not isinstance(op, nn.BatchNormOp):
        return False
    first = op.input.owner
    if not isinstance(first, nn.BatchNormOp) or single_user(first.output) is not op:
        return False
    if pinned(first, "result", model):
        return False
    s1, b1 = nn.to_numpy(first.scale).astype(np.float64), nn.to_numpy(first.bias).astype(np.float64)
    s2, b2 = nn.to_numpy(op.scale).astype(np.float64), nn.to_numpy(op.bias).astype(np.float64)
    op.scale = nn.dense_attr(s1 * s2)
    op.bias = nn.dense_attr(b1 * s2 + b2)
    op.operands[0] = first.input
    op.layer = first.layer
    first.detach()
    first.erase()
    return True


def canonicalize_function(function: func.FuncOp) -> None:
    """Apply the rewrites to a fixpoint (every rewrite removes an op, so this terminates)."""
    model = nn.ModelTypes.of(function)
    changed = True
    while changed:
        changed = False
        for op in list(function.body.block.ops):
            if op.parent is None or not isinstance(op, nn.NNLayerOp):
                continue
            if (
                remove_noop(op)
                or fold_shape_chains(op)
                or remove_linear(op, model)
                or fold_batchnorm(op, model)
                or fuse_batchnorms(op, model)
            ):
                changed = True


@dataclass(frozen=True)
class CanonicalizePass(ModulePass):
    """Remove inference no-ops and fold batchnorms (see the module docstring)."""

    name = "nn-canonicalize"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in op.ops:
            if isinstance(function, func.FuncOp):
                canonicalize_function(function)
