"""`nn.batchnorm` -> `hls.batchnorm` (nnet::normalize): y = x * scale + bias per channel.

Precision: scale, bias `fitted`; accum = result = grow(union(x * scale, bias), 2).
Canonicalization: a batchnorm reading a dense/conv with no other user folds into it
(W' = W * scale per output channel, b' = b * scale + bias) unless the user pinned that layer's
result type (hls4ml's rule: that intermediate value would vanish); the layer's weight, bias and
accum types, pinned or not, then type the folded layer (a pinned weight type that cannot hold the
folded weights saturates them with a PrecisionWarning naming the layer); two consecutive batchnorms fuse (scale = s1 * s2, bias = b1 * s2 +
b2) when the first has no other user and no pinned result type.
Estimates: one multiplier per channel whose scale is not zero or ± a power of two, per element
group; BOPs = those multiplications * W(x) * W(scale).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import numpy as np
from xdsl.ir import Attribute, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from nnhls.dialects import hls, nn
from nnhls.dialects.bitgrowth import fitted, grow, product, union
from nnhls.dialects.fixed import FixedPrecision
from nnhls.dialects.types import fixed_type
from nnhls.ops import exact as ex
from nnhls.ops.base import (
    Estimate,
    KernelRules,
    LayerTypes,
    Lowering,
    OpRules,
    ScheduleInfo,
    elementwise_estimate,
    operand_precision,
    pinned,
    product_bops,
    quantize,
    register,
    single_user,
)
from nnhls.ops.cpp import Layer
from nnhls.ops.dense import multiplier_free

# ----- canonicalization -------------------------------------------------------------------------------------


def _channel_scale(op: nn.DenseOp | nn.ConvBaseOp, scale: np.ndarray) -> np.ndarray:
    """scale per output channel, shaped to broadcast over the weight tensor."""
    w_shape = op.weight.get_shape()
    if isinstance(op, nn.ConvBaseOp) and op.DEPTHWISE:
        return scale.reshape(w_shape[-2], w_shape[-1])
    return scale


def _result_entry(op: nn.NNLayerOp) -> Attribute | None:
    if op.precision is None:
        return None
    return op.precision.data.get("result")


class FoldBatchNorm(RewritePattern):
    """batchnorm(dense/conv(x)) -> dense/conv(x) with scaled weights and bias (keeping the
    layer's name and its weight, bias and accum types, taking the batchnorm's result type).
    A pinned result type of the dense/conv keeps the batchnorm apart: the user typed a value
    that folding would remove."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.BatchNormOp, rewriter: PatternRewriter) -> None:
        layer = op.input.owner
        if not isinstance(layer, nn.DenseOp | nn.ConvBaseOp) or single_user(layer.output) is not op:
            return
        if pinned(layer, "result"):
            return
        if layer.weight_quantizer is not None or layer.bias_quantizer is not None:
            return  # quantized weights stay on their grid (binary, po2...): the scale stays apart
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
        layer.set_precision("result", _result_entry(op))
        if op.trace is not None:
            layer.trace = op.trace
        rewriter.notify_op_modified(layer)
        rewriter.replace(op, [], [layer.output])


class FuseBatchNorms(RewritePattern):
    """bn2(bn1(x)) -> one batchnorm (bn2's configuration, bn1's name)."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.BatchNormOp, rewriter: PatternRewriter) -> None:
        first = op.input.owner
        if not isinstance(first, nn.BatchNormOp) or single_user(first.output) is not op:
            return
        if pinned(first, "result"):
            return
        s1, b1 = nn.to_numpy(first.scale).astype(np.float64), nn.to_numpy(first.bias).astype(np.float64)
        s2, b2 = nn.to_numpy(op.scale).astype(np.float64), nn.to_numpy(op.bias).astype(np.float64)
        op.scale = nn.dense_attr(s1 * s2)
        op.bias = nn.dense_attr(b1 * s2 + b2)
        op.operands[0] = first.input
        op.layer = first.layer
        rewriter.notify_op_modified(op)
        rewriter.erase(first)


# ----- rules ------------------------------------------------------------------------------------------------


def emit_affine(
    lw: Lowering,
    op: nn.NNLayerOp,
    x: SSAValue,
    scale: np.ndarray,
    bias: np.ndarray,
    scale_t: FixedPrecision,
    bias_t: FixedPrecision,
) -> SSAValue:
    """An hls.batchnorm computing x * scale + bias for `op` (merges with constants, averages)."""
    where = f"{op.name} '{op.layer_name}'"
    props = lw.common(op) | {
        "scale": quantize(scale, scale_t, f"{where} constant"),
        "scale_t": fixed_type(scale_t),
        "bias": quantize(bias, bias_t, f"{where} constant"),
        "bias_t": fixed_type(bias_t),
    }
    return lw.emit(hls.BatchNormOp, [x], lw.out_type(op), props)


@register
class BatchNormRules(OpRules):
    op = nn.BatchNormOp
    type_names = ("BatchNormalization", "BatchNorm1d", "BatchNorm2d")
    calibrated_vars = ("scale", "bias", "accum", "result")

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        assert isinstance(op, nn.BatchNormOp)
        scale, bias = nn.to_numpy(op.scale), nn.to_numpy(op.bias)
        s = lt.get("scale", lambda: fitted(scale, lt.default))
        b = lt.get("bias", lambda: fitted(bias, lt.default))
        acc = lt.get("accum", lambda: grow(union(product(lt.x, s), b), 2))
        lt.get("result", lambda: acc)

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        assert isinstance(op, nn.BatchNormOp)
        size = prod(nn.shape_of(op.output))
        s_t = nn.resolved_precision(op, "scale", s.default)
        per_channel = ~multiplier_free(nn.to_numpy(op.scale), s_t)
        needed = int(np.count_nonzero(per_channel)) * (size // max(per_channel.size, 1))
        bops = product_bops(needed, operand_precision(op, 0, s), s_t)
        return elementwise_estimate(op, s, needed, 2, bops)

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, nn.BatchNormOp)
        s_t, b_t = lw.precision(op, "scale"), lw.precision(op, "bias")
        props = lw.common(op) | {
            "scale": quantize(nn.to_numpy(op.scale), s_t, f"{op.name} '{op.layer_name}' scale"),
            "scale_t": fixed_type(s_t),
            "bias": quantize(nn.to_numpy(op.bias), b_t, f"{op.name} '{op.layer_name}' bias"),
            "bias_t": fixed_type(b_t),
            "accum_t": lw.type_attr(op, "accum"),
        }
        return [lw.emit(hls.BatchNormOp, [lw.operand(op.input)], lw.out_type(op), props)]

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        assert isinstance(op, nn.BatchNormOp)
        scale = nn.to_numpy(op.scale).astype(np.float64)
        return [args[0] * scale + nn.to_numpy(op.bias).astype(np.float64)]

    def canonicalization_patterns(self) -> Sequence[RewritePattern]:
        return (FoldBatchNorm(), FuseBatchNorms())


@register
class BatchNormKernel(KernelRules):
    op = hls.BatchNormOp

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, hls.BatchNormOp)
        scale = ex.Exact(ex.mantissas_of(op.scale), op.scale_t.precision.fractional)
        bias = ex.Exact(ex.mantissas_of(op.bias), op.bias_t.precision.fractional)
        return [ex.cast(ex.e_add(ex.e_mul(args[0].exact, scale), bias), ex.result_t(op))]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, hls.BatchNormOp)
        layer.constant("scale", op.scale, op.scale_t, "per-channel scale")
        layer.constant("bias", op.bias, op.bias_t, "per-channel bias")
        value = layer.inputs[0]
        config = layer.struct("batchnorm_config")
        config.const("n_in", value.size).const("n_filt", value.pack)
        layer.io(config)
        rf = layer.reuse_factor
        config.const("reuse_factor", rf).ceil_div("multiplier_limit", "n_in", "reuse_factor")
        config.const("store_weights_in_bram", False)
        config.typedef("scale_t", f"{layer.name}_scale_t").typedef("bias_t", f"{layer.name}_bias_t")
        layer.kernel, layer.header = "normalize", "nnet_batchnorm.h"
        layer.args = [f"{layer.name}_scale", f"{layer.name}_bias"]
