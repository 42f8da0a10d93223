"""The `hls` dialect: what the generated C++ will be.

Values are `!hls.array<...>` (io_parallel: fully partitioned C arrays) or `!hls.stream<..., depth N>`
(io_stream: FIFOs of packed pixels) of fixed-point elements. Each kernel op maps to one nnet kernel
call and carries what its config struct needs: sizes (from the operand types), quantized weights
(raw integer mantissas of their fixed-point type, stored as i64), the accumulator / table types,
reuse factor, strategy, parallelization factor, table sizes. `hls.func` is the top-level function
with its interface (io type) and pipeline style.

    hls.func @myproject io_parallel pipeline {
    ^bb0(%input_1: !hls.array<16x!hls.fixed<16, 6>>):
      %fc1 = hls.dense %input_1 {layer = "fc1", weight = dense<...> : tensor<16x64xi64>,
                                 weight_t = !hls.fixed<8, 2>, bias = ..., bias_t = ...,
                                 accum_t = !hls.fixed<28, 12>, strategy = #hls<strategy latency>,
                                 reuse_factor = 1 : i64}
                                 : (!hls.array<16x!hls.fixed<16, 6>>) -> !hls.array<64x!hls.fixed<28, 12>>
      hls.return %fc1 : !hls.array<64x!hls.fixed<28, 12>>
    }

Semantics (the contract the nnet C++ kernels and the numpy emulator both implement, bit for bit):
- `cast<T>(v)` converts the exact value v to T with T's quantization, then overflow mode (C++
  assignment to an ap type). Products and sums written without a cast are exact (the vendor's
  full-precision operator result types).
- Tensors are row-major, channels last. In io_stream one stream element holds all channels of
  one pixel, pixels in row-major order; the arithmetic is the same as in io_parallel.
- Constants (weights, biases, scales, params, tables) are stored as raw integer mantissas of their
  type: value = m * 2**-F with F = W - I.
- Loops that accumulate into a type that can saturate run in the documented order; with WRAP
  accumulators the order does not change the result.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Sequence
from math import prod
from typing import ClassVar

import numpy as np
from xdsl.dialects.builtin import (
    I64,
    ArrayAttr,
    BytesAttr,
    DenseIntOrFPElementsAttr,
    Float64Type,
    FloatAttr,
    IntegerAttr,
    StringAttr,
    SymbolNameConstraint,
    TensorType,
    UnitAttr,
    i64,
)
from xdsl.ir import Attribute, Dialect, Operation, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.traits import HasParent, IsolatedFromAbove, IsTerminator, Pure, SymbolOpInterface
from xdsl.utils.exceptions import VerifyException

from nnhls.dialects.kinds import TABLE_ACTIVATIONS, ActivationKind, Strategy
from nnhls.dialects.types import (
    HLS_TYPES,
    ActivationKindAttr,
    ArrayType,
    FixedPointType,
    IntList,
    IOTypeAttr,
    MergeKindAttr,
    PipelineStyleAttr,
    PoolOpAttr,
    SoftmaxImplAttr,
    StrategyAttr,
    StreamType,
    conv_output_size,
    ints,
)


def mantissa_attr(mantissas: np.ndarray) -> DenseIntOrFPElementsAttr:
    """Quantized constants as raw integer mantissas (value = m * 2**-F of their fixed type)."""
    data = np.ascontiguousarray(mantissas, dtype="<i8")
    return DenseIntOrFPElementsAttr(TensorType(i64, list(data.shape)), BytesAttr(data.tobytes()))


def mantissas(attr: DenseIntOrFPElementsAttr) -> np.ndarray:
    """Zero-copy int64 view of a mantissa attribute, in its shape."""
    return np.frombuffer(attr.data.data, dtype="<i8").reshape(attr.get_shape())


HLSValueType = ArrayType | StreamType


def value_type(value: SSAValue) -> ArrayType | StreamType:
    ty = value.type
    if not isinstance(ty, ArrayType | StreamType):
        raise VerifyException(f"expected an !hls.array or !hls.stream value, got {ty}")
    return ty


def shape_of(value: SSAValue) -> tuple[int, ...]:
    return value_type(value).get_shape()


# ----- base class ------------------------------------------------------------------------------------------


class HLSKernelOp(IRDLOperation, ABC):
    """One nnet kernel call. Operands and results are all arrays (io_parallel) or all streams."""

    layer = prop_def(StringAttr)
    """Layer name from the model: names the C++ variables and config struct."""
    reuse_factor = opt_prop_def(IntegerAttr[I64])
    trace = opt_prop_def(UnitAttr)
    multipliers = opt_prop_def(IntegerAttr[I64])
    """Estimate (carried from nn-schedule): multipliers (DSPs) the kernel uses."""
    latency = opt_prop_def(IntegerAttr[I64])
    """Estimate: latency in clock cycles."""
    ii = opt_prop_def(IntegerAttr[I64])
    """Estimate: initiation interval in clock cycles."""
    bops = opt_prop_def(IntegerAttr[I64])
    """Estimate: bit operations per inference (multiplications x operand widths)."""
    quantized_result = opt_prop_def(UnitAttr)
    """Present when a quantizer of the model set the result type (the nn op's `quantizer_typed`
    names `result`): a value saturating or wrapping there is the model's design, which the
    overflow check reports apart from real overflows."""

    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "operands attr-dict `:` functional-type(operands, results)"
    traits = traits_def(Pure())

    WEIGHTS: ClassVar[tuple[tuple[str, str], ...]] = ()
    """(constant property, its type property) pairs whose mantissas must fit their type."""

    @property
    def layer_name(self) -> str:
        return self.layer.data

    def fail(self, message: str) -> VerifyException:
        return VerifyException(f"{self.name} '{self.layer.data}': {message}")

    @property
    def is_stream(self) -> bool:
        return any(isinstance(v.type, StreamType) for v in (*self.operands, *self.results))

    def verify_(self) -> None:
        kinds = {type(v.type) for v in (*self.operands, *self.results)}
        if not kinds <= {ArrayType, StreamType}:
            raise self.fail("operands and results must be !hls.array or !hls.stream values")
        if len(kinds) > 1:
            raise self.fail("cannot mix !hls.array and !hls.stream values in one kernel")
        if self.reuse_factor is not None and self.reuse_factor.value.data < 1:
            raise self.fail(f"reuse factor must be at least 1, got {self.reuse_factor.value.data}")
        for const_name, type_name in self.WEIGHTS:
            self._verify_constant(const_name, type_name)
        self.verify_kernel()

    def verify_kernel(self) -> None:
        """Per-kernel shape and configuration rules."""

    def _verify_constant(self, const_name: str, type_name: str) -> None:
        attr = getattr(self, const_name)
        if attr is None:
            return
        ty = getattr(self, type_name)
        if ty is None:
            raise self.fail(f"'{const_name}' needs its fixed-point type '{type_name}'")
        values = mantissas(attr)
        if values.size == 0:
            return
        p = ty.precision
        if values.min() < p.min_mantissa or values.max() > p.max_mantissa:
            raise self.fail(f"'{const_name}' values do not fit their type {p}")

    def verify_same_shape(self, a: SSAValue, b: SSAValue) -> None:
        if shape_of(a) != shape_of(b):
            raise self.fail(f"shapes {shape_of(a)} and {shape_of(b)} must be equal")


def _table_size_ok(size: IntegerAttr | None) -> bool:
    if size is None:
        return True
    n = size.value.data
    return n >= 1 and n & (n - 1) == 0


# ----- dense and convolution ------------------------------------------------------------------------------


WEIGHT_ENCODINGS = ("binary", "ternary", "po2")
"""Shift-coded weights: +-2^K (binary), 0 / +-2^K (ternary), 0 / +-2^k for several k (po2)."""


def verify_weight_encoding(op: DenseOp | ConvBaseOp) -> None:
    if op.weight_encoding is not None and op.weight_encoding.data not in WEIGHT_ENCODINGS:
        raise op.fail(f"weight_encoding must be one of {', '.join(WEIGHT_ENCODINGS)}, got {op.weight_encoding.data!r}")


@irdl_op_definition
class DenseOp(HLSKernelOp):
    """nnet::dense on the last axis (leading axes are independent rows); weight is (n_in, n_out).

    Per row and output j: acc = cast<accum_t>(b[j]); for i = 0 .. n_in-1:
    acc = cast<accum_t>(acc + cast<accum_t>(x[i] * w[i, j])); y[j] = cast<result>(acc).
    Zero weights may be skipped (they do not change acc). `strategy` and `reuse_factor` change the
    hardware schedule, never the result.
    """

    name = "hls.dense"
    input = operand_def()
    output = result_def()
    weight = prop_def(DenseIntOrFPElementsAttr)
    weight_t = prop_def(FixedPointType)
    bias = prop_def(DenseIntOrFPElementsAttr)
    bias_t = prop_def(FixedPointType)
    accum_t = prop_def(FixedPointType)
    strategy = prop_def(StrategyAttr)
    compression = opt_prop_def(UnitAttr)
    store_weights_in_bram = opt_prop_def(UnitAttr)
    """More weights than the model's BramFactor: a ROM in BRAM instead of registers/LUTs."""
    weight_encoding = opt_prop_def(StringAttr)
    """One of WEIGHT_ENCODINGS: every weight is 0 or +-2^k, stored as shift codes; the kernel
    shifts and negates instead of multiplying (the same exact products)."""

    WEIGHTS: ClassVar[tuple[tuple[str, str], ...]] = (("weight", "weight_t"), ("bias", "bias_t"))

    def verify_kernel(self) -> None:
        w = self.weight.get_shape()
        in_shape, out_shape = shape_of(self.input), shape_of(self.output)
        if len(w) != 2 or in_shape[-1] != w[0]:
            raise self.fail(f"weight shape {w} does not match input features {in_shape[-1]}")
        if out_shape != (*in_shape[:-1], w[1]):
            raise self.fail(f"result shape {out_shape} does not match weight shape {w}")
        if self.bias.get_shape() != (w[1],):
            raise self.fail(f"bias shape {self.bias.get_shape()} must be ({w[1]},)")
        if (n := w[0] * w[1]) % self.reuse_factor_value and self.strategy.data != Strategy.LATENCY:
            raise self.fail(f"reuse factor {self.reuse_factor_value} does not divide {n} products")
        verify_weight_encoding(self)

    @property
    def reuse_factor_value(self) -> int:
        return 1 if self.reuse_factor is None else self.reuse_factor.value.data


class ConvBaseOp(HLSKernelOp, ABC):
    """nnet convolution kernels, channels last; weight is (k.., in_channels, filters) or, depthwise,
    (k.., channels, multiplier) with output channel c * multiplier + m.

    pads = (begin, end) per spatial axis; positions in the padding read zero (and may be skipped).
    Per output pixel p and filter f: acc = cast<accum_t>(b[f]); for each kernel position (row-major
    over k..) and input channel c (only c itself for depthwise):
    acc = cast<accum_t>(acc + cast<accum_t>(x[p * stride + k * dilation - pad_begin, c] * w[k.., c, f]));
    y[p, f] = cast<result>(acc). In io_stream the pads must be zero (padding is an explicit hls.pad).
    """

    input = operand_def()
    output = result_def()
    weight = prop_def(DenseIntOrFPElementsAttr)
    weight_t = prop_def(FixedPointType)
    bias = prop_def(DenseIntOrFPElementsAttr)
    bias_t = prop_def(FixedPointType)
    accum_t = prop_def(FixedPointType)
    strides = prop_def(IntList)
    dilations = prop_def(IntList)
    pads = prop_def(IntList)
    strategy = prop_def(StrategyAttr)
    parallelization_factor = opt_prop_def(IntegerAttr[I64])
    store_weights_in_bram = opt_prop_def(UnitAttr)
    """More weights than the model's BramFactor: a ROM in BRAM instead of registers/LUTs."""
    weight_encoding = opt_prop_def(StringAttr)
    """As hls.dense's: shift-coded weights, a multiplier-free kernel."""

    RANK: ClassVar[int] = 2
    DEPTHWISE: ClassVar[bool] = False
    WEIGHTS: ClassVar[tuple[tuple[str, str], ...]] = (("weight", "weight_t"), ("bias", "bias_t"))

    def verify_kernel(self) -> None:
        rank = self.RANK
        w = self.weight.get_shape()
        in_shape, out_shape = shape_of(self.input), shape_of(self.output)
        strides, dilations, pads = ints(self.strides), ints(self.dilations), ints(self.pads)
        if len(in_shape) != rank + 1 or len(w) != rank + 2 or w[-2] != in_shape[-1]:
            raise self.fail(f"weight shape {w} does not match input shape {in_shape}")
        if len(strides) != rank or len(dilations) != rank or len(pads) != 2 * rank:
            raise self.fail(f"needs {rank} strides, {rank} dilations and {2 * rank} pads")
        if self.is_stream and any(pads):
            raise self.fail("io_stream convolutions need explicit padding (pads must be zero)")
        n_out = w[-2] * w[-1] if self.DEPTHWISE else w[-1]
        expected = tuple(
            conv_output_size(in_shape[a], w[a], strides[a], dilations[a], pads[2 * a] + pads[2 * a + 1])
            for a in range(rank)
        ) + (n_out,)
        if out_shape != expected:
            raise self.fail(f"result shape {out_shape} does not match the expected {expected}")
        if self.bias.get_shape() != (n_out,):
            raise self.fail(f"bias shape {self.bias.get_shape()} must be ({n_out},)")
        if (pf := self.parallelization_factor) is not None:
            pixels = prod(out_shape[:-1])
            if pf.value.data < 1 or pixels % pf.value.data:
                raise self.fail(
                    f"parallelization factor {pf.value.data} must divide the {pixels} output pixels"
                )
        verify_weight_encoding(self)


@irdl_op_definition
class Conv1DOp(ConvBaseOp):
    name = "hls.conv1d"
    RANK: ClassVar[int] = 1


@irdl_op_definition
class Conv2DOp(ConvBaseOp):
    name = "hls.conv2d"
    RANK: ClassVar[int] = 2


@irdl_op_definition
class DepthwiseConv1DOp(ConvBaseOp):
    name = "hls.depthwise_conv1d"
    RANK: ClassVar[int] = 1
    DEPTHWISE: ClassVar[bool] = True


@irdl_op_definition
class DepthwiseConv2DOp(ConvBaseOp):
    name = "hls.depthwise_conv2d"
    RANK: ClassVar[int] = 2
    DEPTHWISE: ClassVar[bool] = True


# ----- pooling and normalisation -------------------------------------------------------------------------


@irdl_op_definition
class PoolOp(HLSKernelOp):
    """nnet::pooling1d/2d over windows of `pool_size` with `strides` and `pads`.

    Max: y = cast<result>(max of the window's in-bounds inputs) (padding never wins; a window
    with no in-bounds position gives 0).
    Average: acc = 0 in accum_t; for each in-bounds position in row-major order:
    acc = cast<accum_t>(acc + x); n = number of in-bounds positions, or the full window size with
    `count_pad`; y = cast<result>(acc * r) with r = cast<ap_ufixed<32, 1, AP_RND>>(1.0 / n)
    (exact for powers of two).
    """

    name = "hls.pool"
    input = operand_def()
    output = result_def()
    op = prop_def(PoolOpAttr)
    pool_size = prop_def(IntList)
    strides = prop_def(IntList)
    pads = prop_def(IntList)
    count_pad = opt_prop_def(UnitAttr)
    accum_t = prop_def(FixedPointType)

    def verify_kernel(self) -> None:
        size, strides, pads = ints(self.pool_size), ints(self.strides), ints(self.pads)
        rank = len(size)
        in_shape, out_shape = shape_of(self.input), shape_of(self.output)
        if rank not in (1, 2) or len(in_shape) != rank + 1:
            raise self.fail(f"pooling needs 1 or 2 spatial axes matching the input {in_shape}")
        if len(strides) != rank or len(pads) != 2 * rank or min(size + strides) < 1:
            raise self.fail(f"needs {rank} positive strides and {2 * rank} pads")
        expected = tuple(
            conv_output_size(in_shape[a], size[a], strides[a], 1, pads[2 * a] + pads[2 * a + 1])
            for a in range(rank)
        ) + (in_shape[-1],)
        if out_shape != expected:
            raise self.fail(f"result shape {out_shape} does not match the expected {expected}")


@irdl_op_definition
class GlobalPoolOp(HLSKernelOp):
    """nnet::global_pooling1d/2d: (..., C) -> (C), as hls.pool with one window covering everything."""

    name = "hls.global_pool"
    input = operand_def()
    output = result_def()
    op = prop_def(PoolOpAttr)
    accum_t = prop_def(FixedPointType)

    def verify_kernel(self) -> None:
        in_shape = shape_of(self.input)
        if len(in_shape) not in (2, 3) or shape_of(self.output) != (in_shape[-1],):
            raise self.fail(f"global pooling maps (..., C) to (C), got {in_shape}")


@irdl_op_definition
class BatchNormOp(HLSKernelOp):
    """nnet::normalize per channel c (last axis): y = cast<result>(x * scale[c] + bias[c]), exact
    product and sum before the single cast."""

    name = "hls.batchnorm"
    input = operand_def()
    output = result_def()
    scale = prop_def(DenseIntOrFPElementsAttr)
    scale_t = prop_def(FixedPointType)
    bias = prop_def(DenseIntOrFPElementsAttr)
    bias_t = prop_def(FixedPointType)
    accum_t = opt_prop_def(FixedPointType)

    WEIGHTS: ClassVar[tuple[tuple[str, str], ...]] = (("scale", "scale_t"), ("bias", "bias_t"))

    def verify_kernel(self) -> None:
        self.verify_same_shape(self.input, self.output)
        channels = shape_of(self.input)[-1]
        if self.scale.get_shape() != (channels,) or self.bias.get_shape() != (channels,):
            raise self.fail(f"scale and bias must have shape ({channels},)")


# ----- activations ------------------------------------------------------------------------------------------


@irdl_op_definition
class ActivationOp(HLSKernelOp):
    """nnet activations, element-wise; `alpha` / `beta` are constants of `param_t` (exactly
    representable in it), `param` is the per-channel prelu slope.

    Exact kinds, y = cast<result>(v) with v:
      linear x; relu max(x, 0); relu6 min(max(x, 0), 6); leaky_relu x > 0 ? x : x * alpha;
      thresholded_relu x > alpha ? x : 0; prelu x > 0 ? x : x * param[c];
      clip min(max(x, alpha), beta) (ONNX's order: alpha > beta gives beta; an absent bound is none);
      hard_tanh min(max(x, -1), 1); hard_sigmoid min(max(x * alpha + beta, 0), 1).
    Table kinds (sigmoid, tanh, softplus, softsign, elu, selu, swish, gelu) read `table`
    (table_size entries of table_t) over [table_min, table_max), a range whose length is a power of
    two: i = floor((x - table_min) * table_size / (table_max - table_min)), clamped to
    [0, table_size - 1]; y = cast<result>(table[i]). Entry i holds f(table_min + (i + 0.5) * step).
    Above the range, softplus, swish and gelu pass x through (y = cast<result>(x)); elu gives
    cast<result>(x) and selu cast<result>(x * beta) for x >= 0 (beta = selu's scale), wherever
    the table range ends; negative x reads the table. Indices are computed exactly on the
    fixed-point value (no floating-point rounding), e.g. by a shift when size / span is a power of two.
    """

    name = "hls.activation"
    input = operand_def()
    output = result_def()
    kind = prop_def(ActivationKindAttr)
    alpha = opt_prop_def(FloatAttr[Float64Type])
    beta = opt_prop_def(FloatAttr[Float64Type])
    param = opt_prop_def(DenseIntOrFPElementsAttr)
    param_t = opt_prop_def(FixedPointType)
    table = opt_prop_def(DenseIntOrFPElementsAttr)
    table_size = opt_prop_def(IntegerAttr[I64])
    table_t = opt_prop_def(FixedPointType)
    table_min = opt_prop_def(FloatAttr[Float64Type])
    table_max = opt_prop_def(FloatAttr[Float64Type])

    WEIGHTS: ClassVar[tuple[tuple[str, str], ...]] = (("param", "param_t"), ("table", "table_t"))

    def verify_kernel(self) -> None:
        self.verify_same_shape(self.input, self.output)
        if not _table_size_ok(self.table_size):
            raise self.fail(f"table size must be a power of two, got {self.table_size}")
        kind = self.kind.data
        if kind in TABLE_ACTIVATIONS:
            self._verify_table()
        if kind == ActivationKind.PRELU and self.param is None:
            raise self.fail("prelu needs its per-channel param")
        for value in (self.alpha, self.beta):
            if value is None:
                continue
            if self.param_t is None:
                raise self.fail("alpha and beta need their fixed-point type 'param_t'")
            p = self.param_t.precision
            mantissa = value.value.data / p.step
            if mantissa != int(mantissa) or not p.min_mantissa <= mantissa <= p.max_mantissa:
                raise self.fail(f"constant {value.value.data} is not exactly representable in {p}")

    def _verify_table(self) -> None:
        kind = self.kind.data.value
        if None in (self.table, self.table_size, self.table_t, self.table_min, self.table_max):
            raise self.fail(f"{kind} needs table, table_size, table_t, table_min and table_max")
        assert self.table is not None and self.table_size is not None
        assert self.table_min is not None and self.table_max is not None
        if self.table.get_shape() != (self.table_size.value.data,):
            raise self.fail(f"table must hold table_size = {self.table_size.value.data} entries")
        span = self.table_max.value.data - self.table_min.value.data
        if span <= 0 or span != 2.0 ** round(np.log2(span)):
            raise self.fail(f"table range [table_min, table_max) must have a power-of-two length, got {span}")


@irdl_op_definition
class SoftmaxOp(HLSKernelOp):
    """nnet::softmax over the last axis, through two lookup tables.

    stable: m = max(x); d_k = m - x_k (exact, >= 0); i_k = floor(d_k * exp_table_size / exp_range)
    clamped to [0, exp_table_size - 1]; e_k = exp_table[i_k] (entry i holds
    exp(-(i + 0.5) * exp_range / exp_table_size), except entry 0 which holds exp(0) = 1);
    s = 0 in accum_t, s = cast<accum_t>(s + e_k) for k in order;
    j = floor(s * inv_table_size / inv_range) clamped to [0, inv_table_size - 1]
    (entry j holds 1 / ((j + 0.5) * inv_range / inv_table_size));
    y_k = cast<result>(e_k * inv_table[j]).
    latency: as stable without the max subtraction: i_k indexes exp_table over
    [-exp_range / 2, exp_range / 2) by x_k (entry i holds exp of its bin centre).
    argmax: y_k = cast<result>(1) for the first maximal x_k, 0 elsewhere (tables unused).
    """

    name = "hls.softmax"
    input = operand_def()
    output = result_def()
    implementation = prop_def(SoftmaxImplAttr)
    exp_table = opt_prop_def(DenseIntOrFPElementsAttr)
    exp_table_size = prop_def(IntegerAttr[I64])
    exp_table_t = prop_def(FixedPointType)
    exp_range = opt_prop_def(FloatAttr[Float64Type])
    inv_table = opt_prop_def(DenseIntOrFPElementsAttr)
    inv_table_size = prop_def(IntegerAttr[I64])
    inv_table_t = prop_def(FixedPointType)
    inv_range = opt_prop_def(FloatAttr[Float64Type])
    accum_t = prop_def(FixedPointType)

    WEIGHTS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("exp_table", "exp_table_t"),
        ("inv_table", "inv_table_t"),
    )

    def verify_kernel(self) -> None:
        self.verify_same_shape(self.input, self.output)
        for size in (self.exp_table_size, self.inv_table_size):
            if not _table_size_ok(size):
                raise self.fail(f"table size must be a power of two, got {size.value.data}")
        if self.implementation.data.value == "argmax":
            return
        tables = (self.exp_table, self.exp_range, self.inv_table, self.inv_range)
        if any(t is None for t in tables):
            raise self.fail("stable and latency softmax need exp_table, exp_range, inv_table and inv_range")
        assert self.exp_table is not None and self.inv_table is not None
        if self.exp_table.get_shape() != (self.exp_table_size.value.data,):
            raise self.fail("exp_table must hold exp_table_size entries")
        if self.inv_table.get_shape() != (self.inv_table_size.value.data,):
            raise self.fail("inv_table must hold inv_table_size entries")


# ----- merges --------------------------------------------------------------------------------------------


@irdl_op_definition
class MergeOp(HLSKernelOp):
    """nnet::add / subtract / multiply / average / maximum / minimum of two tensors, element-wise:
    y = cast<result>(a + b | a - b | a * b | (a + b) * 0.5 | max(a, b) | min(a, b)), exact inside."""

    name = "hls.merge"
    lhs = operand_def()
    rhs = operand_def()
    output = result_def()
    kind = prop_def(MergeKindAttr)

    def verify_kernel(self) -> None:
        self.verify_same_shape(self.lhs, self.rhs)
        self.verify_same_shape(self.lhs, self.output)


@irdl_op_definition
class ConcatOp(HLSKernelOp):
    """nnet::concatenate of two tensors along `axis`, each element cast<result>.

    io_stream: along the channel (last) axis each output pixel joins one pixel of each input;
    along a spatial axis the output stream is, for each index of the axes before `axis`, the
    lhs pixels of that block, then the rhs pixels (row-major order, as on arrays)."""

    name = "hls.concat"
    lhs = operand_def()
    rhs = operand_def()
    output = result_def()
    axis = prop_def(IntegerAttr[I64])

    def verify_kernel(self) -> None:
        a, b, out = shape_of(self.lhs), shape_of(self.rhs), shape_of(self.output)
        axis = self.axis.value.data
        if not 0 <= axis < len(a) or len(a) != len(b):
            raise self.fail(f"axis {axis} is out of range for shapes {a} and {b}")
        expected = tuple(a[i] + b[i] if i == axis else a[i] for i in range(len(a)))
        if any(a[i] != b[i] for i in range(len(a)) if i != axis) or out != expected:
            raise self.fail(f"cannot concatenate {a} and {b} along axis {axis} into {out}")


@irdl_op_definition
class DotOp(HLSKernelOp):
    """nnet::dot1d: acc = 0 in accum_t; acc = cast<accum_t>(acc + cast<accum_t>(a[i] * b[i])) for i in
    order; y[0] = cast<result>(acc)."""

    name = "hls.dot"
    lhs = operand_def()
    rhs = operand_def()
    output = result_def()
    accum_t = prop_def(FixedPointType)

    def verify_kernel(self) -> None:
        a, b = shape_of(self.lhs), shape_of(self.rhs)
        if len(a) != 1 or a != b or shape_of(self.output) != (1,):
            raise self.fail(f"dot needs two vectors of one length, got {a} and {b}")


# ----- shape ops ------------------------------------------------------------------------------------------


@irdl_op_definition
class ReshapeOp(HLSKernelOp):
    """Reshape / flatten (row-major order kept), each element cast<result>: an alias in io_parallel
    when the types are equal, a repack in io_stream."""

    name = "hls.reshape"
    input = operand_def()
    output = result_def()

    def verify_kernel(self) -> None:
        if prod(shape_of(self.input)) != prod(shape_of(self.output)):
            raise self.fail(f"cannot reshape {shape_of(self.input)} into {shape_of(self.output)}")


@irdl_op_definition
class TransposeOp(HLSKernelOp):
    """nnet::transpose: result axis i is input axis perm[i]; elements cast<result>."""

    name = "hls.transpose"
    input = operand_def()
    output = result_def()
    perm = prop_def(IntList)

    def verify_kernel(self) -> None:
        perm, in_shape = ints(self.perm), shape_of(self.input)
        if sorted(perm) != list(range(len(in_shape))):
            raise self.fail(f"perm {list(perm)} is not a permutation of {len(in_shape)} axes")
        if shape_of(self.output) != tuple(in_shape[p] for p in perm):
            raise self.fail(f"result shape {shape_of(self.output)} does not follow perm {list(perm)}")


class _SpatialOp(HLSKernelOp, ABC):
    input = operand_def()
    output = result_def()

    def spatial_result(self, amounts: Sequence[int], sign: int) -> tuple[int, ...]:
        in_shape = shape_of(self.input)
        n = len(in_shape) - 1
        if len(amounts) != 2 * n or min(amounts, default=0) < 0:
            raise self.fail(f"needs a non-negative (begin, end) pair per spatial axis, got {list(amounts)}")
        spatial = [in_shape[a] + sign * (amounts[2 * a] + amounts[2 * a + 1]) for a in range(n)]
        return (*spatial, in_shape[-1])

    def check_result(self, expected: tuple[int, ...]) -> None:
        if min(expected) < 1 or shape_of(self.output) != expected:
            raise self.fail(f"result shape {shape_of(self.output)} must be {expected}")


@irdl_op_definition
class PadOp(_SpatialOp):
    """nnet::zeropad1d/2d: pads = (begin, end) per spatial axis filled with zeros; elements cast<result>."""

    name = "hls.pad"
    pads = prop_def(IntList)

    def verify_kernel(self) -> None:
        self.check_result(self.spatial_result(ints(self.pads), 1))


@irdl_op_definition
class CropOp(_SpatialOp):
    """nnet::cropping1d/2d: crops = (begin, end) removed per spatial axis; elements cast<result>."""

    name = "hls.crop"
    crops = prop_def(IntList)

    def verify_kernel(self) -> None:
        self.check_result(self.spatial_result(ints(self.crops), -1))


@irdl_op_definition
class UpsampleOp(_SpatialOp):
    """nnet::resize_nearest by integer factors: y[i.., c] = cast<result>(x[i // factor.., c])."""

    name = "hls.upsample"
    factors = prop_def(IntList)

    def verify_kernel(self) -> None:
        factors, in_shape = ints(self.factors), shape_of(self.input)
        if len(factors) != len(in_shape) - 1 or min(factors, default=1) < 1:
            raise self.fail(f"needs a positive factor per spatial axis, got {list(factors)}")
        self.check_result((*(in_shape[a] * factors[a] for a in range(len(factors))), in_shape[-1]))


@irdl_op_definition
class CloneOp(HLSKernelOp):
    """nnet::clone_stream: copies one stream to 2 .. MAX_OUTPUTS consumers (a stream is read once);
    a wider fan-out is a chain of clones."""

    name = "hls.clone"
    input = operand_def(StreamType)
    outputs = var_result_def(StreamType)

    MAX_OUTPUTS: ClassVar[int] = 6
    """The widest nnet::clone_stream overload."""

    def verify_kernel(self) -> None:
        if not 2 <= len(self.outputs) <= self.MAX_OUTPUTS:
            raise self.fail(f"a clone needs 2 to {self.MAX_OUTPUTS} outputs, got {len(self.outputs)}")
        for out in self.outputs:
            self.verify_same_shape(self.input, out)


@irdl_op_definition
class CastOp(HLSKernelOp):
    """Element-wise conversion to the result's fixed-point type (quantize, then overflow)."""

    name = "hls.cast"
    input = operand_def()
    output = result_def()

    def verify_kernel(self) -> None:
        self.verify_same_shape(self.input, self.output)


# ----- top-level function ------------------------------------------------------------------------------


@irdl_op_definition
class FuncOp(IRDLOperation):
    """The top-level HLS function: its arguments are the model inputs, `hls.return` gives the outputs.

    `io_type` selects the interface (arrays or AXI streams), `pipeline_style` the top-level pragma
    (PIPELINE with an optional `pipeline_interval`, or DATAFLOW).
    """

    name = "hls.func"
    sym_name = prop_def(SymbolNameConstraint())
    io_type = prop_def(IOTypeAttr)
    pipeline_style = prop_def(PipelineStyleAttr)
    pipeline_interval = opt_prop_def(IntegerAttr[I64])
    quantized_inputs = opt_prop_def(ArrayAttr[IntegerAttr[I64]])
    """Arguments (by position) whose type a quantizer of the model set: inputs beyond it saturate
    as the model was trained, so predict does not warn about them."""
    body = region_def("single_block")

    traits = traits_def(SymbolOpInterface(), IsolatedFromAbove())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = (
        "$sym_name $io_type $pipeline_style (`interval` $pipeline_interval^)?"
        " attr-dict-with-keyword $body"
    )

    def verify_(self) -> None:
        name = self.sym_name.data
        if not name.isidentifier() or not name.isascii():
            raise VerifyException(f"hls.func name '{name}' is not a valid C identifier")
        stream = self.io_type.data.value == "io_stream"
        expected = StreamType if stream else ArrayType
        for arg in self.body.block.args:
            if not isinstance(arg.type, expected):
                raise VerifyException(
                    f"hls.func '{name}': {self.io_type.data.value} arguments must be {expected.name}"
                )
        if (ii := self.pipeline_interval) is not None:
            if self.pipeline_style.data.value != "pipeline":
                raise VerifyException(
                    f"hls.func '{name}': pipeline_interval needs the pipeline style 'pipeline'"
                )
            if ii.value.data < 1:
                raise VerifyException(f"hls.func '{name}': pipeline_interval must be at least 1")


@irdl_op_definition
class ReturnOp(IRDLOperation):
    name = "hls.return"
    values = var_operand_def()
    traits = traits_def(IsTerminator(), HasParent(FuncOp))
    assembly_format = "attr-dict ($values^ `:` type($values))?"

    def __init__(self, *values: SSAValue):
        super().__init__(operands=[list(values)])


HLS_OPS: list[type[Operation]] = [
    FuncOp,
    ReturnOp,
    DenseOp,
    Conv1DOp,
    Conv2DOp,
    DepthwiseConv1DOp,
    DepthwiseConv2DOp,
    PoolOp,
    GlobalPoolOp,
    BatchNormOp,
    ActivationOp,
    SoftmaxOp,
    MergeOp,
    ConcatOp,
    DotOp,
    ReshapeOp,
    TransposeOp,
    PadOp,
    CropOp,
    UpsampleOp,
    CloneOp,
    CastOp,
]

HLS_ATTRS: list[type[Attribute]] = HLS_TYPES

HLS = Dialect("hls", HLS_OPS, HLS_ATTRS)
