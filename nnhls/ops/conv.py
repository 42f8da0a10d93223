"""`nn.conv1d/2d`, `nn.depthwise_conv1d/2d` -> `hls.conv*` (nnet::conv_1d/2d, depthwise_conv_*).

Precision and reuse factor as dense (see dense.py), with n = kernel * C_in products per output
(kernel for a depthwise convolution). A ParallelizationFactor must divide the output pixels;
io_stream computes one pixel at a time (it is reset to 1 there, with a warning). io_stream
convolutions get an explicit `hls.pad` for their padding.
Estimates: a convolution runs out_pixels / PF partitions of RF cycles each in io_parallel (one
pixel per RF cycles in io_stream).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import ClassVar, cast

import numpy as np
from xdsl.ir import SSAValue

from nnhls.dialects import hls, nn
from nnhls.dialects.types import int_array
from nnhls.ops import exact as ex
from nnhls.ops.base import KernelRules, Lowering, register
from nnhls.ops.cpp import Layer
from nnhls.ops.dense import WeightedRules, encoded_weights

_KERNEL_LETTERS = "ijkl"
_SPATIAL_LETTERS = "hwd"


class ConvRules(WeightedRules):
    hls_op: ClassVar[type[hls.ConvBaseOp]]
    config_keys = ("ParallelizationFactor", "ConvImplementation")
    parallelizable = True

    def layer_type_names(self, op: nn.NNLayerOp) -> tuple[str, ...]:
        """The two ops of a Keras SeparableConv (recorded in `layer_type`) also match
        SeparableConv<r>D, and the pointwise one PointwiseConv<r>D."""
        assert isinstance(op, nn.ConvBaseOp)
        if op.layer_type is None or not op.layer_type.data.startswith("SeparableConv"):
            return self.type_names
        separable = f"SeparableConv{op.RANK}D"
        if op.DEPTHWISE:
            return (separable, *self.type_names)
        return (separable, f"PointwiseConv{op.RANK}D", *self.type_names)

    def all_type_names(self) -> tuple[str, ...]:
        op_class = cast(type[nn.ConvBaseOp], self.op)
        rank, depthwise = op_class.RANK, op_class.DEPTHWISE
        separable = (f"SeparableConv{rank}D",) if depthwise else (f"SeparableConv{rank}D", f"PointwiseConv{rank}D")
        return (*self.type_names, *separable)

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, nn.ConvBaseOp)
        x = lw.operand(op.input)
        pads = nn.ints(op.pads)
        if lw.stream and any(pads):
            x = lw.pad(x, pads, f"{op.layer_name}_pad")
            pads = (0,) * len(pads)
        props = (
            lw.common(op)
            | self.weight_props(op, lw)
            | {
                "strides": int_array(nn.ints(op.strides)),
                "dilations": int_array(nn.ints(op.dilations)),
                "pads": int_array(pads),
                "parallelization_factor": op.parallelization_factor,
            }
        )
        return [lw.emit(self.hls_op, [x], lw.out_type(op), props)]

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        assert isinstance(op, nn.ConvBaseOp)
        x = ex.pad_spatial(args[0], nn.ints(op.pads))
        weight = nn.to_numpy(op.weight).astype(np.float64)
        rank = op.RANK
        win = ex.windows(x, weight.shape[:rank], nn.ints(op.strides), nn.ints(op.dilations))
        sp, kl = _SPATIAL_LETTERS[:rank], _KERNEL_LETTERS[:rank]
        if op.DEPTHWISE:
            y = np.einsum(f"b{sp}c{kl},{kl}cm->b{sp}cm", win, weight)
            y = y.reshape(*y.shape[:-2], -1)  # channel index c * mult + m, as Keras orders it
        else:
            y = np.einsum(f"b{sp}c{kl},{kl}co->b{sp}o", win, weight)
        if op.bias is not None:
            y = y + nn.to_numpy(op.bias).astype(np.float64)
        return [y]


@register
class Conv1DRules(ConvRules):
    op = nn.Conv1DOp
    hls_op = hls.Conv1DOp
    type_names = ("Conv1D", "Conv1d", "Conv")


@register
class Conv2DRules(ConvRules):
    op = nn.Conv2DOp
    hls_op = hls.Conv2DOp
    type_names = ("Conv2D", "Conv2d", "Conv")


@register
class DepthwiseConv1DRules(ConvRules):
    op = nn.DepthwiseConv1DOp
    hls_op = hls.DepthwiseConv1DOp
    type_names = ("DepthwiseConv1D",)


@register
class DepthwiseConv2DRules(ConvRules):
    op = nn.DepthwiseConv2DOp
    hls_op = hls.DepthwiseConv2DOp
    type_names = ("DepthwiseConv2D",)


class ConvKernel(KernelRules):
    accumulates = True

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, hls.ConvBaseOp)
        x = args[0]
        rank = op.RANK
        w = ex.mantissas_of(op.weight)
        kernel, channels = w.shape[:rank], w.shape[rank]
        acc_t = op.accum_t.precision
        init = ex.bias_init(op.bias, op.bias_t.precision, acc_t)
        if op.DEPTHWISE:
            wk = w.reshape(prod(kernel), channels, w.shape[-1])
        else:
            wk = w.reshape(prod(kernel) * channels, 1, w.shape[-1])
        init = init.reshape(wk.shape[1], wk.shape[2])
        padded = ex.pad_spatial(x.m, hls.ints(op.pads))
        out_shape = ex.out_shape(op)
        batch = x.m.shape[0]
        per_sample = (
            prod(out_shape[:-1]) * prod(kernel) * channels * max(1, wk.shape[2] if op.DEPTHWISE else 1)
        )
        pieces: list[ex.Mantissas] = []
        for block in ex.chunks(batch, per_sample):
            view = ex.windows(padded[block], kernel, hls.ints(op.strides), hls.ints(op.dilations))
            win = np.moveaxis(view, rank + 1, -1)  # (batch, *out, *kernel, C)
            n = win.shape[0] * prod(out_shape[:-1])
            rows = np.ascontiguousarray(win).reshape(n, wk.shape[0], wk.shape[1])
            acc = ex.mac(ex.FixedArray(rows, x.t), wk, op.weight_t.precision, init, acc_t)
            pieces.append(acc.reshape(win.shape[0], *out_shape))
        acc_all = ex.join(pieces, (0, *out_shape))
        return [ex.recast(ex.FixedArray(acc_all, acc_t), ex.result_t(op))]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, hls.ConvBaseOp)
        rank = op.RANK
        w_shape = op.weight.get_shape()
        in_shape, out_shape = layer.inputs[0].shape, layer.outputs[0].shape
        strides, dilations, pads = hls.ints(op.strides), hls.ints(op.dilations), hls.ints(op.pads)
        if rank == 1:
            in_shape, out_shape, w_shape = (1, *in_shape), (1, *out_shape), (1, *w_shape)
            strides, dilations, pads = (1, *strides), (1, *dilations), (0, 0, *pads)
        rf = layer.reuse_factor
        pf = 1 if op.parallelization_factor is None else op.parallelization_factor.value.data
        weights = layer.constant("w", op.weight, op.weight_t, f"weights {tuple(op.weight.get_shape())}", "weight")
        layer.constant("b", op.bias, op.bias_t, f"biases ({out_shape[-1]})", "bias")
        weights.code = encoded_weights(op, layer, weights.values)
        nonzeros = int(np.count_nonzero(weights.values))
        config = layer.struct("conv_config")
        config.const("in_height", in_shape[0]).const("in_width", in_shape[1]).const("n_chan", in_shape[2])
        config.const("filt_height", w_shape[0]).const("filt_width", w_shape[1])
        config.const("n_filt", out_shape[2])
        config.const("depth_multiplier", w_shape[3] if op.DEPTHWISE else 1)
        config.const("depthwise", op.DEPTHWISE)
        config.const("stride_height", strides[0]).const("stride_width", strides[1])
        config.const("dilation_height", dilations[0]).const("dilation_width", dilations[1])
        config.const("pad_top", pads[0]).const("pad_bottom", pads[1]).const("pad_left", pads[2]).const("pad_right", pads[3])
        config.const("out_height", out_shape[0]).const("out_width", out_shape[1])
        layer.io(config)
        config.const("strategy", f"nnet::{op.strategy.data.value}")
        config.const("reuse_factor", rf).const("parallelization_factor", pf)
        config.const("n_zeros", weights.count - nonzeros).const("n_nonzeros", nonzeros)
        config.ceil_div("multiplier_limit", "n_nonzeros * parallelization_factor", "reuse_factor")
        weights.bram = op.store_weights_in_bram is not None
        config.const("store_weights_in_bram", weights.bram)
        config.typedef("accum_t", op.accum_t.cpp())
        config.typedef("bias_t", f"{layer.name}_bias_t").typedef("weight_t", f"{layer.name}_weight_t")
        prefix = "depthwise_" if op.DEPTHWISE else ""
        layer.kernel, layer.header = f"{prefix}conv_{rank}d", "nnet_conv.h"
        layer.args = [f"{layer.name}_w", f"{layer.name}_b"]


@register
class Conv1DKernel(ConvKernel):
    op = hls.Conv1DOp


@register
class Conv2DKernel(ConvKernel):
    op = hls.Conv2DOp


@register
class DepthwiseConv1DKernel(ConvKernel):
    op = hls.DepthwiseConv1DOp


@register
class DepthwiseConv2DKernel(ConvKernel):
    op = hls.DepthwiseConv2DOp
