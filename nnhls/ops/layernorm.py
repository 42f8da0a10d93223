"""`nn.layernorm` -> `hls.layernorm` (nnet::layernorm): layer normalization over trailing axes.

    %y = nn.layernorm %x {layer = "ln", axes = 1 : i64, epsilon = 1.0e-03 : f64,
                          scale = dense<...> : tensor<16xf32>, bias = dense<...> : tensor<16xf32>}
         : (tensor<8x16xf32>) -> tensor<8x16xf32>

Each row of the last `axes` axes (n values) is normalized: y = (x - mean) / sqrt(var + epsilon)
* scale + bias, with the population variance (Keras, PyTorch and ONNX agree).

In hardware (the hls.layernorm docstring is exact) the mean is the accumulated sum times 1/n,
the variance the accumulated squares of the differences times 1/n plus epsilon, and the inverse
square root comes from a table of `TableSize` entries indexed by the variance normalized to
[1, 4) by an even power of two (a leading-one search): inv = table[i] * 2^(-e/2), so its relative
error is set by the table size (half a step of 1/sqrt(m) on [1, 4), below 2^-(log2 N - 1) / 2),
whatever the variance's magnitude.

Precision (x = input type, F = the default's fractional bits, n = the row length):

| variable | auto rule |
|---|---|
| scale, bias | `fitted` |
| mean | x's integer bits and sign, max(F, x's F) fractional bits |
| accum | grow(union(x, mean), n): the sum of n inputs, and x - mean |
| variance | unsigned, F fractional bits, integer bits for n * span(x)^2 (the sum of squares) |
| inv_table | ufixed over (1/2, 1], F fractional bits |
| inv_sqrt | F fractional bits, integer bits for 1 / sqrt(max(epsilon, one variance LSB)) |
| result | F fractional bits, integer bits for sqrt(n) * max abs(scale) + max abs(bias) (a normalized value never exceeds sqrt(n - 1)) |

Estimates, per row of n (the multiplications the kernel implements; BOPs: each one's operand
widths multiplied, summed over the rows):

| multiplication | count | BOPs each |
|---|---|---|
| d * d (the squares) | n | W(accum)^2 |
| d * inv | n | W(accum) x W(inv_sqrt) |
| (d * inv) * scale | scales not zero or a power of two | (W(accum) + W(inv_sqrt)) x W(scale) |
| sum * 1/n, squares * 1/n | 2 unless n is a power of two (a shift) | W(accum) x 32, W(variance) x 32 |

Multipliers: that count per row over the reuse factor (the rows share them); latency
3 * ceil(log2 n) + 8 per row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from math import ceil, prod
from typing import ClassVar

import numpy as np
from xdsl.dialects.builtin import (
    I64,
    DenseIntOrFPElementsAttr,
    Float64Type,
    FloatAttr,
    IntegerAttr,
    StringAttr,
    TensorType,
)
from xdsl.ir import Attribute, SSAValue
from xdsl.irdl import irdl_op_definition, operand_def, opt_prop_def, prop_def, result_def

from nnhls.dialects import hls, nn, tables
from nnhls.dialects.bitgrowth import clog2, fitted, grow, make_type, range_type, union
from nnhls.dialects.fixed import FixedPrecision, from_mantissa, to_mantissa
from nnhls.dialects.types import FixedPointType
from nnhls.errors import PrecisionWarning, warn
from nnhls.ops import exact as ex
from nnhls.ops.base import (
    Estimate,
    KernelRules,
    LayerTypes,
    Lowering,
    LoweringError,
    OpRules,
    ScheduleInfo,
    output_pixels,
    quantize,
    register,
)
from nnhls.ops.cpp import Layer
from nnhls.ops.dense import multiplier_free

# ----- the inverse square root table ----------------------------------------------------------------------


def inv_sqrt_values(size: int) -> np.ndarray:
    """Entry i holds 1 / sqrt(m) at the centre of its bin of m in [1, 4): m = (i + 0.5) * 4 / size
    for i >= size / 4; the first quarter (never read) repeats entry size / 4."""
    i = np.maximum(np.arange(size), size // 4)
    return 1.0 / np.sqrt((i + 0.5) * (4.0 / size))


def inv_sqrt_index(m: int, width: int, frac: int, log2_size: int) -> tuple[int, int]:
    """(table index, half exponent h) of a variance with raw bits m (unsigned, `width` bits, `frac`
    fractional): v = m * 2^-frac = (m' / 2^(k-2)) * 2^e with e even, index m' in [N/4, N), and
    1/sqrt(v) ~ table[index] * 2^-h, h = e / 2. A zero variance counts as one LSB."""
    m = m % (1 << width) or 1
    p = m.bit_length() - 1
    e = p - frac
    e -= e & 1
    shift = frac + e - (log2_size - 2)
    index = m >> shift if shift >= 0 else m << -shift
    return index, e // 2


# ----- the ops -------------------------------------------------------------------------------------------


def _normalized(shape: tuple[int, ...], axes: int) -> int:
    return prod(shape[len(shape) - axes :])


@irdl_op_definition
class LayerNormOp(nn.NNLayerOp):
    """Layer normalization over the last `axes` axes (see the module docstring)."""

    name = "nn.layernorm"
    input = operand_def(TensorType)
    output = result_def(TensorType)
    axes = prop_def(IntegerAttr[I64])
    epsilon = prop_def(FloatAttr[Float64Type])
    scale = prop_def(DenseIntOrFPElementsAttr)
    bias = prop_def(DenseIntOrFPElementsAttr)
    table_size = opt_prop_def(IntegerAttr[I64])

    PRECISION_VARS: ClassVar[tuple[str, ...]] = (
        "scale", "bias", "accum", "mean", "variance", "inv_table", "inv_sqrt", "result",
    )  # fmt: skip

    def __init__(self, input: SSAValue, axes: int, epsilon: float, scale: np.ndarray, bias: np.ndarray, layer: str):
        super().__init__(
            operands=[input],
            result_types=[input.type],
            properties={
                "layer": StringAttr(layer),
                "axes": IntegerAttr(axes, 64),
                "epsilon": FloatAttr(float(epsilon), Float64Type()),
                "scale": nn.dense_attr(np.asarray(scale, np.float32).reshape(-1)),
                "bias": nn.dense_attr(np.asarray(bias, np.float32).reshape(-1)),
            },
        )

    @property
    def row(self) -> int:
        return _normalized(nn.shape_of(self.input), self.axes.value.data)

    def verify_layer(self) -> None:
        shape = nn.shape_of(self.input)
        axes = self.axes.value.data
        if not 1 <= axes <= len(shape):
            raise self.fail(f"axes {axes} must count 1 to {len(shape)} trailing axes")
        if nn.shape_of(self.output) != shape:
            raise self.fail("result shape must equal the input shape")
        n = self.row
        for label, attr in (("scale", self.scale), ("bias", self.bias)):
            if attr.get_shape() != (n,):
                raise self.fail(f"{label} shape {attr.get_shape()} must be ({n},)")
        if self.epsilon.value.data < 0:
            raise self.fail(f"epsilon {self.epsilon.value.data} must not be negative")
        if self.table_size is not None:
            size = self.table_size.value.data
            if size < 4 or size & (size - 1):
                raise self.fail(f"table size must be a power of two of at least 4, got {size}")


@irdl_op_definition
class LayerNormKernelOp(hls.HLSKernelOp):
    """nnet::layernorm, per row of n values x (the last n_in elements), r = cast<ap_ufixed<32, 1,
    AP_RND>>(1.0 / n):

      acc = 0; acc = cast<accum_t>(acc + x[i]) for i in order;  mean = cast<mean_t>(acc * r)
      d[i] = cast<accum_t>(x[i] - mean)
      sq = 0; sq = cast<variance_t>(sq + cast<variance_t>(d[i] * d[i])) for i in order
      var = cast<variance_t>(sq * r + epsilon)      (epsilon a constant of variance_t)
      m = the raw bits of var (unsigned; 0 counts as 1), p its leading one, F variance_t's
          fractional bits, e = p - F rounded down to even, k = log2(table size):
          i = m >> (F + e - k + 2) (a left shift when negative), in [N/4, N)
      inv = cast<inv_sqrt_t>(inv_table[i] * 2^(-e / 2))
      y[i] = cast<result>(d[i] * inv * scale[i] + bias[i])
    Products and sums without a cast are exact."""

    name = "hls.layernorm"
    input = operand_def()
    output = result_def()
    scale = prop_def(DenseIntOrFPElementsAttr)
    scale_t = prop_def(FixedPointType)
    bias = prop_def(DenseIntOrFPElementsAttr)
    bias_t = prop_def(FixedPointType)
    accum_t = prop_def(FixedPointType)
    mean_t = prop_def(FixedPointType)
    variance_t = prop_def(FixedPointType)
    epsilon = prop_def(FloatAttr[Float64Type])
    """Exactly representable in variance_t."""
    inv_table = prop_def(DenseIntOrFPElementsAttr)
    inv_table_t = prop_def(FixedPointType)
    inv_sqrt_t = prop_def(FixedPointType)

    WEIGHTS: ClassVar[tuple[tuple[str, str], ...]] = (("scale", "scale_t"), ("bias", "bias_t"), ("inv_table", "inv_table_t"))

    def verify_kernel(self) -> None:
        self.verify_same_shape(self.input, self.output)
        n = self.scale.get_shape()[0]
        shape = hls.shape_of(self.input)
        if prod(shape) % n or self.bias.get_shape() != (n,):
            raise self.fail(f"scale and bias ({n},) must divide the input {shape} into rows")
        if self.is_stream and shape[-1] != n:
            raise self.fail("io_stream normalizes the channel axis only")
        size = self.inv_table.get_shape()[0]
        if size < 4 or size & (size - 1):
            raise self.fail(f"inv_table size must be a power of two of at least 4, got {size}")
        p = self.variance_t.precision
        mantissa = self.epsilon.value.data / p.step
        if mantissa != int(mantissa):
            raise self.fail(f"epsilon {self.epsilon.value.data} is not a value of {p}")


# ----- the rules -------------------------------------------------------------------------------------------


def _quantized_epsilon(epsilon: float, t: FixedPrecision) -> float:
    return float(from_mantissa(to_mantissa(np.array([epsilon]), t), t)[0])


def _row_multiplications(op: LayerNormOp, default: FixedPrecision) -> tuple[int, int]:
    """(multiplications, BOPs) of one row (the module docstring's table)."""
    n = op.row
    acc, inv, var, scale_t = (nn.resolved_precision(op, v, default) for v in ("accum", "inv_sqrt", "variance", "scale"))
    scaled = int(np.count_nonzero(~multiplier_free(nn.to_numpy(op.scale), scale_t)))
    count = 2 * n + scaled
    bops = n * acc.width * acc.width + n * acc.width * inv.width + scaled * (acc.width + inv.width) * scale_t.width
    if n & (n - 1):  # 1/n is not a power of two: the mean and the variance take a multiplier each
        count += 2
        bops += (acc.width + var.width) * ex.AVG_T.width
    return count, bops


def _inv_sqrt_type(variance: FixedPrecision, epsilon: float, default: FixedPrecision) -> FixedPrecision:
    smallest = max(_quantized_epsilon(epsilon, variance), variance.step)
    return range_type(0.0, 1.0 / math.sqrt(smallest), default.fractional, default)


@register
class LayerNormRules(OpRules):
    op = LayerNormOp
    type_names = ("LayerNormalization", "LayerNorm")
    config_keys = ("TableSize",)

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        assert isinstance(op, LayerNormOp)
        d, x, n = lt.default, lt.x, op.row
        scale, bias = nn.to_numpy(op.scale), nn.to_numpy(op.bias)
        lt.get("scale", lambda: fitted(scale, d))
        lt.get("bias", lambda: fitted(bias, d))
        frac = max(d.fractional, x.fractional)
        mean = lt.get("mean", lambda: make_type(x.integer + frac, x.integer, x.signed).with_modes(d.rounding, d.overflow, d.sat_bits))
        lt.get("accum", lambda: grow(union(x, mean), n))
        span = x.max_value - x.min_value
        variance = lt.get("variance", lambda: range_type(0.0, n * span * span, d.fractional, d))
        lt.get("inv_table", lambda: range_type(0.5, 1.0, d.fractional, d))
        lt.get("inv_sqrt", lambda: _inv_sqrt_type(variance, op.epsilon.value.data, d))
        largest = math.sqrt(n) * float(np.max(np.abs(scale), initial=0.0)) + float(np.max(np.abs(bias), initial=0.0))
        lt.get("result", lambda: range_type(-largest, largest, d.fractional, d))

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        assert isinstance(op, LayerNormOp)
        n, rf = op.row, s.reuse_factor
        rows = prod(nn.shape_of(op.input)) // n
        depth = 3 * clog2(n) + 8
        groups = output_pixels(op) if s.stream else rows
        multipliers, bops = _row_multiplications(op, s.default)
        return Estimate(ceil(multipliers / rf), depth + (groups - 1) * rf, groups * rf, rows * bops)

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, LayerNormOp)
        where = f"{op.name} '{op.layer_name}'"
        if lw.stream and op.axes.value.data != 1:
            raise LoweringError(f"{where}: io_stream normalizes the channel (last) axis only, not the last {op.axes.value.data} axes; use io_parallel")
        variance = lw.precision(op, "variance")
        epsilon = _quantized_epsilon(op.epsilon.value.data, variance)
        if epsilon == 0.0 and op.epsilon.value.data > 0:
            warn(f"{where}: epsilon {op.epsilon.value.data:g} is below the variance type {variance}'s step; a zero variance counts as one step", PrecisionWarning)
        size = tables.table_size(op.table_size)
        props: dict[str, Attribute | None] = lw.common(op) | {
            "scale": quantize(nn.to_numpy(op.scale), lw.precision(op, "scale"), f"{where} scale"),
            "scale_t": lw.type_attr(op, "scale"),
            "bias": quantize(nn.to_numpy(op.bias), lw.precision(op, "bias"), f"{where} bias"),
            "bias_t": lw.type_attr(op, "bias"),
            "accum_t": lw.type_attr(op, "accum"),
            "mean_t": lw.type_attr(op, "mean"),
            "variance_t": lw.type_attr(op, "variance"),
            "epsilon": FloatAttr(epsilon, Float64Type()),
            "inv_table": hls.mantissa_attr(tables.quantize_table(inv_sqrt_values(size), lw.precision(op, "inv_table"))),
            "inv_table_t": lw.type_attr(op, "inv_table"),
            "inv_sqrt_t": lw.type_attr(op, "inv_sqrt"),
        }
        return [lw.emit(LayerNormKernelOp, [lw.operand(op.input)], lw.out_type(op), props)]

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        assert isinstance(op, LayerNormOp)
        x = args[0]
        rows = x.reshape(x.shape[0], -1, op.row)
        mean = rows.mean(axis=-1, keepdims=True)
        var = ((rows - mean) ** 2).mean(axis=-1, keepdims=True)
        y = (rows - mean) / np.sqrt(var + op.epsilon.value.data)
        y = y * nn.to_numpy(op.scale).astype(np.float64) + nn.to_numpy(op.bias).astype(np.float64)
        return [y.reshape(x.shape)]


@register
class LayerNormKernel(KernelRules):
    op = LayerNormKernelOp

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, LayerNormKernelOp)
        x = args[0]
        n = op.scale.get_shape()[0]
        acc_t, mean_t, var_t = op.accum_t.precision, op.mean_t.precision, op.variance_t.precision
        rows = x.m.reshape(-1, n)
        count = np.full(rows.shape[0], n, dtype=np.int64)
        total = ex.accumulate(np.zeros(rows.shape[0], dtype=np.int64), ex.Exact(rows, x.t.fractional), acc_t)
        mean = ex.average(total, acc_t, count, mean_t)
        d = ex.cast(ex.e_add(ex.Exact(rows, x.t.fractional), ex.e_neg(ex.Exact(mean.m[:, None], mean_t.fractional))), acc_t)
        squares = ex.cast(ex.e_mul(d.exact, d.exact), var_t)
        sq = ex.accumulate(np.zeros(rows.shape[0], dtype=np.int64), squares.exact, var_t)
        r = np.asarray(to_mantissa(np.array([1.0 / n]), ex.AVG_T), dtype=np.int64)
        eps = ex.Exact(np.asarray(int(to_mantissa(np.array([op.epsilon.value.data]), var_t)[0]), dtype=np.int64), var_t.fractional)
        var = ex.cast(ex.e_add(ex.Exact(ex.mul(sq, r), var_t.fractional + ex.AVG_T.fractional), eps), var_t)
        inv = self._inv_sqrt(op, var)
        scale = ex.Exact(ex.mantissas_of(op.scale), op.scale_t.precision.fractional)
        bias = ex.Exact(ex.mantissas_of(op.bias), op.bias_t.precision.fractional)
        y = ex.e_add(ex.e_mul(ex.e_mul(d.exact, ex.Exact(inv.m[:, None], inv.t.fractional)), scale), bias)
        out = ex.cast(y, ex.result_t(op))
        return [ex.FixedArray(out.m.reshape(x.m.shape), out.t)]

    def internal_values(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[tuple[str, FixedPrecision, np.ndarray]]:
        """The row sums (accum_t) and the sums of squared differences from the mean (variance_t
        holds them before the multiplication by 1/n), computed exactly from the inputs."""
        assert isinstance(op, LayerNormKernelOp)
        n = op.scale.get_shape()[0]
        rows = args[0].to_float().reshape(-1, n)
        squares = ((rows - rows.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
        return (("accum", op.accum_t.precision, rows.sum(axis=1)), ("variance", op.variance_t.precision, squares))

    @staticmethod
    def _inv_sqrt(op: LayerNormKernelOp, var: ex.FixedArray) -> ex.FixedArray:
        table = ex.mantissas_of(op.inv_table)
        table_t = op.inv_table_t.precision
        k = int(table.shape[0]).bit_length() - 1
        t = var.t
        pairs = [inv_sqrt_index(int(m), t.width, t.fractional, k) for m in var.m.reshape(-1)]
        halves = [h for _, h in pairs]
        top = max(halves, default=0)
        # table[i] * 2^-h on the common binary point table_F + top.
        values = np.array([int(table[i]) << (top - h) for i, h in pairs], dtype=object)
        return ex.cast(ex.Exact(ex.norm(values), table_t.fractional + top), op.inv_sqrt_t.precision)

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, LayerNormKernelOp)
        value = layer.inputs[0]
        n = op.scale.get_shape()[0]
        size = op.inv_table.get_shape()[0]
        var_t = op.variance_t.precision
        layer.constant("scale", op.scale, op.scale_t, f"scale ({n})")
        layer.constant("bias", op.bias, op.bias_t, f"bias ({n})")
        layer.constant("inv_table", op.inv_table, op.inv_table_t, f"1/sqrt(m) over m in [1, 4) ({size} entries)")
        config = layer.struct("layernorm_config")
        config.const("n_rows", value.size // n).const("n_in", n)
        layer.io(config)
        config.const("reuse_factor", layer.reuse_factor)
        config.const("table_size", size).const("table_log2", size.bit_length() - 1, "int")
        # |e / 2| never exceeds this: the shift of a table entry stays exact in the kernel.
        config.const("inv_shift", max(var_t.fractional + 1, var_t.width - var_t.fractional) // 2 + 2, "int")
        config.real("epsilon", op.epsilon.value.data)
        config.typedef("accum_t", op.accum_t.cpp()).typedef("mean_t", op.mean_t.cpp()).typedef("variance_t", op.variance_t.cpp())
        config.typedef("inv_sqrt_t", op.inv_sqrt_t.cpp())
        config.typedef("scale_t", f"{layer.name}_scale_t").typedef("bias_t", f"{layer.name}_bias_t")
        config.typedef("inv_table_t", f"{layer.name}_inv_table_t")
        layer.kernel, layer.header = "layernorm", "nnet_layernorm.h"
        layer.args = [f"{layer.name}_scale", f"{layer.name}_bias", f"{layer.name}_inv_table"]
