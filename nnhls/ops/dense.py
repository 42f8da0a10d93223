"""`nn.dense` -> `hls.dense` (nnet::dense), and what dense and convolutions share.

Precision (bit growth; n = the products summed per output: n_in for dense, kernel * C_in for a
convolution, kernel for a depthwise one):

| variable | auto rule |
|---|---|
| weight, bias | `fitted`: the default's width, the fewest integer bits holding the quantized values |
| accum, result | grow(union(x * weight, bias), n + 1); grow(x * weight, n) without a (non-zero) bias |

Schedule: the reuse factor must be legal for the strategy (nnhls.dialects.schedule) over
(n_in, n_out). Estimates: a product by a weight that is zero or ± a power of two (after
quantization to weight_t) needs no multiplier; multipliers = ceil(needed / RF); latency =
RF + ceil(log2 n_in) + 2 per row, II = RF per row. BOPs = needed * rows * W(x) * W(weight)
(convolutions: needed * output pixels * W(x) * W(weight)).

Lowering: when every weight (quantized to weight_t) is 0 or +-2^k, at least one non-zero, the
kernel gets `weight_encoding` binary (+-2^K), ternary (0 / +-2^K) or po2 (several k), whatever
made them so (QKeras po2 / binary / ternary quantizers, BinaryDense, float weights that happen to
be powers of two), with or without Compression (the sparse triplets then hold the codes of the
non-zero weights). The C++ then stores shift codes (nnhls.ops.cpp.ShiftCode, nnet::po2_weight)
and computes each exact product by shifting and negating x: no multiplier in any strategy, as the
estimate (0 needed) says.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from math import ceil, prod

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, StringAttr
from xdsl.ir import Attribute, SSAValue

from nnhls.dialects import hls, nn
from nnhls.dialects.bitgrowth import accumulator, clog2, fitted
from nnhls.dialects.fixed import FixedPrecision, constant_mantissas
from nnhls.dialects.kinds import Strategy
from nnhls.dialects.schedule import kernel_dims
from nnhls.dialects.types import StrategyAttr
from nnhls.errors import CodegenError
from nnhls.ops import exact as ex
from nnhls.ops.base import (
    Estimate,
    KernelRules,
    LayerTypes,
    Lowering,
    OpRules,
    ScheduleInfo,
    operand_precision,
    output_pixels,
    product_bops,
    quantize,
    register,
)
from nnhls.ops.cpp import Layer, ShiftCode, shift_code, stored_shift_code

# ----- shared by dense and convolutions -------------------------------------------------------------------


def optional_weights(attr: Attribute | None) -> np.ndarray | None:
    """A float constant attribute as an array, None when absent."""
    return nn.to_numpy(attr) if isinstance(attr, DenseIntOrFPElementsAttr) else None


def has_bias(bias: np.ndarray | None) -> bool:
    """Whether a bias term joins the accumulation (an absent or all-zero bias adds nothing)."""
    return bias is not None and bool(np.any(bias != 0))


def accumulated_terms(op: nn.DenseOp | nn.ConvBaseOp) -> int:
    """Products summed per output: n_in (dense), kernel size * channels (conv), kernel (depthwise)."""
    w = op.weight.get_shape()
    if isinstance(op, nn.DenseOp):
        return w[0]
    kernel = prod(w[: op.RANK])
    return kernel if op.DEPTHWISE else kernel * w[-2]


def multiplier_free(values: np.ndarray, t: FixedPrecision) -> np.ndarray:
    """Which quantized constants need no multiplier: zero or ± a power of two."""
    m = np.abs(constant_mantissas(values, t))
    return (m == 0) | ((m & (m - 1)) == 0)


def encoded_weights(op: hls.DenseOp | hls.ConvBaseOp, layer: Layer, mantissas: np.ndarray) -> ShiftCode | None:
    """The shift code of a kernel with `weight_encoding` (its weights must still be 0 / +-2^k: an
    edited IR may have changed them)."""
    if op.weight_encoding is None:
        return None
    code = shift_code(mantissas, op.weight_t.precision)
    if code is None:
        raise CodegenError(
            f"{op.name} '{layer.layer}': weight_encoding {op.weight_encoding.data} needs weights that are all 0 "
            "or +-2^k (remove weight_encoding to multiply)"
        )
    return code


class WeightedRules(OpRules):
    """Dense and convolutions: weights, bias, accumulator, strategy and reuse-factor legality."""

    has_strategy = True
    calibrated_vars = ("weight", "bias", "accum", "result")

    def exact_before_cast(self, op: nn.NNLayerOp) -> bool:
        return True  # the accumulator is exact (nn-infer-precision), then one cast

    def kernel_dims(self, op: nn.NNLayerOp) -> tuple[int, int] | None:
        assert isinstance(op, nn.DenseOp | nn.ConvBaseOp)
        return kernel_dims(op)

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        assert isinstance(op, nn.DenseOp | nn.ConvBaseOp)
        weight = nn.to_numpy(op.weight)
        bias = optional_weights(op.bias)
        w = lt.get("weight", lambda: fitted(weight, lt.default))
        b = lt.get("bias", lambda: fitted(bias, lt.default) if bias is not None else lt.default)
        n = accumulated_terms(op)
        acc = lt.get("accum", lambda: accumulator(lt.x, w, b if has_bias(bias) else None, n))
        lt.get("result", lambda: acc)

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        assert isinstance(op, nn.DenseOp | nn.ConvBaseOp)
        rf, pf = s.reuse_factor, s.parallelization_factor
        w_t = nn.resolved_precision(op, "weight", s.default)
        needed = int(np.count_nonzero(~multiplier_free(nn.to_numpy(op.weight), w_t)))
        n_in, _ = kernel_dims(op)
        depth = rf + clog2(n_in) + 2
        x_t = operand_precision(op, 0, s)
        if isinstance(op, nn.DenseOp):
            rows = prod(nn.shape_of(op.output)[:-1])
            bops = product_bops(needed * rows, x_t, w_t)
            return Estimate(ceil(needed / rf), depth + (rows - 1) * rf, rows * rf, bops)
        pixels = output_pixels(op)
        partitions = pixels if s.stream else pixels // pf
        instances = 1 if s.stream else pf
        bops = product_bops(needed * pixels, x_t, w_t)
        return Estimate(ceil(needed / rf) * instances, partitions * rf + depth - rf, partitions * rf, bops)

    @staticmethod
    def weight_props(op: nn.DenseOp | nn.ConvBaseOp, lw: Lowering) -> dict[str, Attribute | None]:
        """weight, bias (zeros when absent), their types, accum_t and strategy of the kernel."""
        w_t, b_t = lw.precision(op, "weight"), lw.precision(op, "bias")
        weight = nn.to_numpy(op.weight)
        n_out = nn.shape_of(op.output)[-1]
        bias = nn.to_numpy(op.bias) if op.bias is not None else np.zeros(n_out, np.float32)
        quantized = quantize(weight, w_t, f"{op.name} '{op.layer_name}' weight")
        code = shift_code(hls.mantissas(quantized), w_t)
        return {
            "weight": quantized,
            "weight_t": lw.type_attr(op, "weight"),
            "weight_encoding": None if code is None else StringAttr(code.kind),
            "bias": quantize(bias, b_t, f"{op.name} '{op.layer_name}' bias"),
            "bias_t": lw.type_attr(op, "bias"),
            "accum_t": lw.type_attr(op, "accum"),
            "strategy": StrategyAttr(
                op.strategy.data if op.strategy is not None else Strategy.LATENCY
            ),
        }


# ----- dense ----------------------------------------------------------------------------------------------


@register
class DenseRules(WeightedRules):
    op = nn.DenseOp
    type_names = ("Dense", "Linear", "Gemm", "MatMul")
    config_keys = ("Compression",)

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, nn.DenseOp)
        props = lw.common(op) | self.weight_props(op, lw) | {"compression": op.compression}
        weight = props["weight"]
        if op.compression is not None and props["weight_encoding"] is not None:
            assert isinstance(weight, DenseIntOrFPElementsAttr)
            code = stored_shift_code(hls.mantissas(weight), lw.precision(op, "weight"), compressed=True)
            props["weight_encoding"] = None if code is None else StringAttr(code.kind)
        return [lw.emit(hls.DenseOp, [lw.operand(op.input)], lw.out_type(op), props)]

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        assert isinstance(op, nn.DenseOp)
        y = args[0] @ nn.to_numpy(op.weight).astype(np.float64)
        return [y if op.bias is None else y + nn.to_numpy(op.bias).astype(np.float64)]


@register
class DenseKernel(KernelRules):
    op = hls.DenseOp
    accumulates = True

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, hls.DenseOp)
        x = args[0]
        w = ex.mantissas_of(op.weight)
        acc_t = op.accum_t.precision
        lead = x.m.shape[:-1]
        rows = ex.FixedArray(x.m.reshape(-1, w.shape[0], 1), x.t)
        init = ex.bias_init(op.bias, op.bias_t.precision, acc_t).reshape(1, -1)
        acc = ex.mac(rows, w[:, None, :], op.weight_t.precision, init, acc_t)
        return [ex.recast(ex.FixedArray(acc.reshape(*lead, w.shape[1]), acc_t), ex.result_t(op))]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, hls.DenseOp)
        n_in, n_out = op.weight.get_shape()
        in_shape = layer.inputs[0].shape
        rf = layer.reuse_factor
        weights = layer.constant("w", op.weight, op.weight_t, f"weights ({n_in} x {n_out})", "weight")
        layer.constant("b", op.bias, op.bias_t, f"biases ({n_out})", "bias")
        nonzeros = int(np.count_nonzero(weights.values))
        index_bits = max(1, math.ceil(math.log2(max(n_in, n_out, 2))))
        config = layer.struct("dense_config")
        config.const("n_rows", prod(in_shape[:-1])).const("n_in", n_in).const("n_out", n_out)
        layer.io(config)
        config.const("strategy", f"nnet::{op.strategy.data.value}")
        config.const("reuse_factor", rf)
        config.const("n_zeros", n_in * n_out - nonzeros).const("n_nonzeros", nonzeros)
        config.ceil_div("multiplier_limit", "n_nonzeros", "reuse_factor")
        weights.bram = op.store_weights_in_bram is not None
        config.const("store_weights_in_bram", weights.bram)
        config.typedef("accum_t", op.accum_t.cpp())
        config.typedef("bias_t", f"{layer.name}_bias_t").typedef("weight_t", f"{layer.name}_weight_t")
        config.typedef("index_t", f"ap_uint<{index_bits}>")
        if op.compression is not None:
            grid = weights.values.reshape(n_in, n_out)
            rows, cols = np.nonzero(grid)
            weights.values = grid[rows, cols].astype(np.int64)
            weights.sparse = (rows.astype(np.int64), cols.astype(np.int64), f"ap_uint<{index_bits}>")
            weights.comment += f", compressed: {nonzeros} non-zero (row, col, weight) triplets"
        weights.code = encoded_weights(op, layer, weights.values)
        layer.kernel, layer.header = "dense", "nnet_dense.h"
        layer.args = [f"{layer.name}_w", f"{layer.name}_b"]
