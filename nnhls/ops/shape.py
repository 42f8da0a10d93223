"""Shape ops: `nn.reshape`, `nn.flatten` -> `hls.reshape` (nnet::copy); `nn.transpose` ->
`hls.transpose`; `nn.pad` / `nn.crop` / `nn.upsample` -> `hls.pad` / `hls.crop` / `hls.upsample`
(nnet::zeropad2d, cropping2d, resize_nearest); and `hls.cast` (nnet::copy to another type).

Precision: result = the input type. Canonicalization: an identity transpose and a reshape /
flatten to the input's own shape go; a reshape of a reshape reads the original tensor; two
transposes that cancel go. Estimates: reshapes are free; the others take one cycle per element
group.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import ClassVar

import numpy as np
from xdsl.ir import Attribute, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from nnhls.dialects import hls, nn
from nnhls.dialects.types import int_array
from nnhls.ops import exact as ex
from nnhls.ops.base import (
    FREE,
    Estimate,
    KernelRules,
    LayerTypes,
    Lowering,
    OpRules,
    ScheduleInfo,
    elementwise_estimate,
    register,
)
from nnhls.ops.cpp import ConfigStruct, Layer

# ----- canonicalization -------------------------------------------------------------------------------------


class RemoveIdentityShape(RewritePattern):
    """An identity transpose, or a reshape / flatten to the input's own shape, reads its input."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.TransposeOp | nn.ReshapeOp | nn.FlattenOp, rewriter: PatternRewriter) -> None:
        if isinstance(op, nn.TransposeOp):
            perm = list(nn.ints(op.perm))
            if perm == sorted(perm):
                rewriter.replace(op, [], [op.input])
        elif nn.shape_of(op.input) == nn.shape_of(op.output):
            rewriter.replace(op, [], [op.input])


class FoldShapeChain(RewritePattern):
    """reshape(reshape(x)) reads x; transpose(transpose(x)) that cancel is x."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.TransposeOp | nn.ReshapeOp | nn.FlattenOp, rewriter: PatternRewriter) -> None:
        inner = op.input.owner
        if isinstance(op, nn.ReshapeOp | nn.FlattenOp):
            if not isinstance(inner, nn.ReshapeOp | nn.FlattenOp):
                return
            op.operands[0] = inner.input
            rewriter.notify_op_modified(op)
            if not inner.output.uses:
                rewriter.erase(inner)
            return
        if not isinstance(inner, nn.TransposeOp):
            return
        outer_perm, inner_perm = nn.ints(op.perm), nn.ints(inner.perm)
        composed = [inner_perm[p] for p in outer_perm]
        if composed != sorted(composed):
            return
        rewriter.replace(op, [], [inner.input])
        if not inner.output.uses:
            rewriter.erase(inner)


_PATTERNS: tuple[RewritePattern, ...] = (RemoveIdentityShape(), FoldShapeChain())


class ShapeRules(OpRules):
    """Result type = input type; one kernel, built by `kernel_props`."""

    hls_op: ClassVar[type[hls.HLSKernelOp]]

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        lt.get("result", lambda: lt.x)

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        return elementwise_estimate(op, s, 0, 1)

    def kernel_props(self, op: nn.NNLayerOp) -> dict[str, Attribute | None]:
        return {}

    def exact_before_cast(self, op: nn.NNLayerOp) -> bool:
        return True  # moves values

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        x = lw.operand(op.operands[0])
        props = lw.common(op) | self.kernel_props(op)
        return [lw.emit(self.hls_op, [x], lw.out_type(op), props)]


@register
class ReshapeRules(ShapeRules):
    op = nn.ReshapeOp
    hls_op = hls.ReshapeOp
    type_names = ("Reshape",)

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        return FREE

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        return [args[0].reshape(args[0].shape[0], *nn.shape_of(op.results[0]))]

    def canonicalization_patterns(self) -> Sequence[RewritePattern]:
        return _PATTERNS


@register
class FlattenRules(ReshapeRules):
    op = nn.FlattenOp
    type_names = ("Flatten", "Reshape")


@register
class TransposeRules(ShapeRules):
    op = nn.TransposeOp
    hls_op = hls.TransposeOp
    type_names = ("Permute", "Transpose")

    def kernel_props(self, op: nn.NNLayerOp) -> dict[str, Attribute | None]:
        assert isinstance(op, nn.TransposeOp)
        return {"perm": int_array(nn.ints(op.perm))}

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        assert isinstance(op, nn.TransposeOp)
        return [args[0].transpose(0, *(p + 1 for p in nn.ints(op.perm)))]

    def canonicalization_patterns(self) -> Sequence[RewritePattern]:
        return _PATTERNS


@register
class PadRules(ShapeRules):
    op = nn.PadOp
    hls_op = hls.PadOp
    type_names = ("ZeroPadding1D", "ZeroPadding2D", "Pad")

    def kernel_props(self, op: nn.NNLayerOp) -> dict[str, Attribute | None]:
        assert isinstance(op, nn.PadOp)
        return {"pads": int_array(nn.ints(op.pads))}

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        assert isinstance(op, nn.PadOp)
        return [ex.pad_spatial(args[0], nn.ints(op.pads))]


@register
class CropRules(ShapeRules):
    op = nn.CropOp
    hls_op = hls.CropOp
    type_names = ("Cropping1D", "Cropping2D")

    def kernel_props(self, op: nn.NNLayerOp) -> dict[str, Attribute | None]:
        assert isinstance(op, nn.CropOp)
        return {"crops": int_array(nn.ints(op.crops))}

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        assert isinstance(op, nn.CropOp)
        x, crops = args[0], nn.ints(op.crops)
        sel = [slice(crops[2 * a], x.shape[a + 1] - crops[2 * a + 1]) for a in range(x.ndim - 2)]
        return [x[(slice(None), *sel, slice(None))]]


@register
class UpsampleRules(ShapeRules):
    op = nn.UpsampleOp
    hls_op = hls.UpsampleOp
    type_names = ("UpSampling1D", "UpSampling2D", "Resize", "Upsample")

    def kernel_props(self, op: nn.NNLayerOp) -> dict[str, Attribute | None]:
        assert isinstance(op, nn.UpsampleOp)
        return {"factors": int_array(nn.ints(op.factors))}

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        assert isinstance(op, nn.UpsampleOp)
        y = args[0]
        for axis, factor in enumerate(nn.ints(op.factors), start=1):
            y = np.repeat(y, factor, axis=axis)
        return [y]


# ----- kernels ------------------------------------------------------------------------------------------------


class CopyKernel(KernelRules):
    """hls.reshape and hls.cast: element-wise cast<result>, repacked in io_stream (nnet::copy)."""

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        y = ex.cast_to(op, args[0])
        return [ex.FixedArray(y.m.reshape(y.m.shape[0], *ex.out_shape(op)), y.t)]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        config = layer.struct("copy_config")
        config.const("n_elem", layer.outputs[0].size)
        config.const("in_pack", layer.inputs[0].pack).const("out_pack", layer.outputs[0].pack)
        layer.io(config)
        layer.kernel, layer.header = "copy", "nnet_shape.h"


@register
class ReshapeKernel(CopyKernel):
    op = hls.ReshapeOp


@register
class CastKernel(CopyKernel):
    op = hls.CastOp


@register
class TransposeKernel(KernelRules):
    op = hls.TransposeOp

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, hls.TransposeOp)
        y = ex.cast_to(op, args[0])
        perm = hls.ints(op.perm)
        return [ex.FixedArray(np.ascontiguousarray(y.m.transpose(0, *(p + 1 for p in perm))), y.t)]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, hls.TransposeOp)
        shape = layer.inputs[0].shape
        config = layer.struct("transpose_config")
        config.const("dims", len(shape)).const("n_elem", prod(shape))
        layer.io(config)
        config.array("shape", list(shape)).array("perm", list(hls.ints(op.perm)))
        layer.kernel, layer.header = "transpose", "nnet_shape.h"


def _spatial(layer: Layer, begin: tuple[int, int], factors: tuple[int, int] = (1, 1)) -> ConfigStruct:
    in_shape, out_shape = layer.inputs[0].shape, layer.outputs[0].shape
    if len(in_shape) == 2:
        in_shape, out_shape = (1, *in_shape), (1, *out_shape)
    config = layer.struct("spatial_config")
    config.const("in_height", in_shape[0]).const("in_width", in_shape[1]).const("n_chan", in_shape[2])
    config.const("out_height", out_shape[0]).const("out_width", out_shape[1])
    config.const("top", begin[0]).const("left", begin[1])
    config.const("factor_height", factors[0]).const("factor_width", factors[1])
    layer.io(config)
    layer.header = "nnet_shape.h"
    return config


def _begins(amounts: tuple[int, ...]) -> tuple[int, int]:
    return (0, amounts[0]) if len(amounts) == 2 else (amounts[0], amounts[2])


@register
class PadKernel(KernelRules):
    op = hls.PadOp

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, hls.PadOp)
        y = ex.cast_to(op, args[0])
        return [ex.FixedArray(ex.pad_spatial(y.m, hls.ints(op.pads)), y.t)]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, hls.PadOp)
        _spatial(layer, _begins(hls.ints(op.pads)))
        layer.kernel = "zeropad2d"


@register
class CropKernel(KernelRules):
    op = hls.CropOp

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, hls.CropOp)
        y = ex.cast_to(op, args[0])
        crops = hls.ints(op.crops)
        sel = [slice(crops[2 * a], y.m.shape[a + 1] - crops[2 * a + 1]) for a in range(y.m.ndim - 2)]
        return [ex.FixedArray(np.ascontiguousarray(y.m[(slice(None), *sel, slice(None))]), y.t)]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, hls.CropOp)
        _spatial(layer, _begins(hls.ints(op.crops)))
        layer.kernel = "cropping2d"


@register
class UpsampleKernel(KernelRules):
    op = hls.UpsampleOp

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, hls.UpsampleOp)
        y = ex.cast_to(op, args[0])
        m = y.m
        for axis, factor in enumerate(hls.ints(op.factors), start=1):
            m = np.repeat(m, factor, axis=axis)
        return [ex.FixedArray(m, y.t)]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, hls.UpsampleOp)
        f = hls.ints(op.factors)
        _spatial(layer, (0, 0), (1, f[0]) if len(f) == 1 else (f[0], f[1]))
        layer.kernel = "resize_nearest"
