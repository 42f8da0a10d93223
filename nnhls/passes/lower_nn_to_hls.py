"""lower-nn-to-hls{io-type=io_parallel|io_stream}: one `hls.func` per model, one kernel per layer.

Each `func.func` of nn ops becomes an `hls.func` of the same name. `nn.input` ops disappear into
the function arguments (typed by the input layer's result precision); the model outputs go to
`hls.return`. Every value's element type is its layer's result precision (run nn-infer-precision
first; types still "auto" or absent fall back to the model default). Weights, biases, scales,
parameters and tables become integer mantissas of their fixed-point types, quantized with the
type's quantization and overflow modes (`nnhls.dialects.fixed`). Schedule properties (strategy,
reuse factor, parallelization factor) and nn-schedule's estimates (`multipliers`, `latency`,
`ii`) are carried onto the kernels.

- io_parallel: values are `!hls.array<shape x T>` (fully partitioned arrays); the top function
  is pipelined (or dataflow if nn-schedule chose it) with nn-schedule's pipeline interval.
- io_stream: values are `!hls.stream<shape x T, depth N>` of packed pixels with N = the number of
  pixels; convolutions and average pooling counting padded positions get an explicit `hls.pad`
  (max pooling, and average pooling that excludes padding, keep their pads: zeros would change
  their result); a value read by several consumers goes through `hls.clone`; the top is dataflow.

Ops without a one-to-one kernel: merges of k > 2 inputs become chains of binary `hls.merge` (or
`hls.concat`) with exact intermediate types; an average of k > 2 inputs is an add chain followed
by an `hls.batchnorm` scaling by 1/k (rounded down, so it never overflows); a merge with an
`nn.constant` that is uniform over the spatial axes becomes an `hls.batchnorm`; dropout and
identity are forwarded, or become `hls.cast` when their result type differs.

Before:

    func.func @m(%arg: tensor<4xf32>) -> tensor<2xf32> {
      %x = nn.input %arg {layer = "input_1", precision = {result = !hls.fixed<16, 6>}} ...
      %d = nn.dense %x {layer = "fc1", weight = dense<...> : tensor<4x2xf32>, ...} ...
      func.return %d : tensor<2xf32>
    }

After (io_parallel):

    hls.func @m io_parallel pipeline {
    ^bb0(%input_1: !hls.array<4x!hls.fixed<16, 6>>):
      %fc1 = hls.dense %input_1 {layer = "fc1", weight = dense<...> : tensor<4x2xi64>,
               weight_t = !hls.fixed<16, 6>, ..., strategy = #hls<strategy latency>, reuse_factor = 1 : i64}
               : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<2x!hls.fixed<36, 16>>
      hls.return %fc1 : !hls.array<2x!hls.fixed<36, 16>>
    }
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from math import prod
from typing import cast

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    I64,
    DenseIntOrFPElementsAttr,
    Float64Type,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    UnitAttr,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import DiagnosticException

from nnhls.dialects import fixed, hls, nn, tables
from nnhls.dialects.bitgrowth import make_type, precision_type, type_precision, union
from nnhls.dialects.fixed import FixedPrecision, Quant, from_mantissa, to_mantissa
from nnhls.dialects.kinds import IOType, MergeKind, PoolOp, SoftmaxImpl, Strategy
from nnhls.dialects.nn import ModelTypes
from nnhls.dialects.schedule import pipeline_settings
from nnhls.dialects.types import (
    ActivationKindAttr,
    ArrayType,
    FixedPointType,
    IOTypeAttr,
    MergeKindAttr,
    PipelineStyleAttr,
    PoolOpAttr,
    SoftmaxImplAttr,
    StrategyAttr,
    StreamType,
    fixed_type,
)
from nnhls.errors import ConfigWarning, ModelError, PrecisionWarning, warn


class LoweringError(ModelError, DiagnosticException):
    """An nn construct with no hls kernel; the message names the layer."""


IO_TYPES = ("io_parallel", "io_stream")
SCALE_TYPE = FixedPrecision(18, 0, False)
"""Type of the 1/k scale of averages of k > 2 inputs (rounded down)."""

_NAME_CHARS = re.compile(r"[^A-Za-z0-9_$.-]")


def value_name(layer: str) -> str:
    """A valid SSA name hint for a layer name."""
    name = _NAME_CHARS.sub("_", layer) or "v"
    return name if not name[0].isdigit() else f"l{name}"


def quantize(
    values: np.ndarray, t: FixedPrecision, where: str | None = None
) -> DenseIntOrFPElementsAttr:
    """Float constants as int64 mantissas of t (t's quantization and overflow modes).

    With `where` (e.g. "nn.dense 'fc1' weight"), constants outside t's range are reported on
    stderr: they saturate or wrap as t's overflow mode says, which the user should know about.
    """
    if where is not None and values.size:
        outside = int(np.count_nonzero((values < t.min_value) | (values > t.max_value)))
        if outside:
            warn(
                f"{where}: {outside} of {values.size} values lie outside {t} "
                f"[{t.min_value:g}, {t.max_value:g}] ({t.overflow.value} overflow)",
                PrecisionWarning,
            )
    return hls.mantissa_attr(np.asarray(to_mantissa(values, t), dtype=np.int64))


def quantized_float(value: float, t: FixedPrecision) -> FloatAttr:
    """A scalar constant rounded to t, as the exact float the kernel sees."""
    m = to_mantissa(np.array([value]), t)
    return FloatAttr(float(from_mantissa(m, t)[0]), Float64Type())


def _i64(value: int) -> IntegerAttr[I64]:
    return cast(IntegerAttr[I64], IntegerAttr(value, i64))


@dataclass
class FunctionLowering:
    """Builds the hls.func of one model function."""

    function: func.FuncOp
    io_type: str
    model: ModelTypes = field(init=False)
    block: Block = field(init=False)
    values: dict[SSAValue, SSAValue] = field(default_factory=dict[SSAValue, SSAValue])
    type_cache: dict[tuple[tuple[int, ...], FixedPointType], ArrayType | StreamType] = field(
        default_factory=dict[tuple[tuple[int, ...], FixedPointType], ArrayType | StreamType]
    )
    default_attr: FixedPointType | None = None

    def __post_init__(self) -> None:
        self.model = ModelTypes.of(self.function)

    @property
    def stream(self) -> bool:
        return self.io_type == "io_stream"

    # ----- types ---------------------------------------------------------------------------------------------

    def hls_type(
        self, shape: Sequence[int], p: FixedPrecision | FixedPointType
    ) -> ArrayType | StreamType:
        element = p if isinstance(p, FixedPointType) else precision_type(p)
        key = (tuple(shape), element)
        if (cached := self.type_cache.get(key)) is not None:
            return cached
        if not self.stream:
            ty = ArrayType(list(shape), element)  # pyright: ignore[reportCallIssue]
        else:
            pixels = prod(shape[:-1]) if len(shape) > 1 else 1
            ty = StreamType(list(shape), element, pixels)  # pyright: ignore[reportCallIssue]
        self.type_cache[key] = ty
        return ty

    def type_attr(self, op: nn.NNLayerOp, var: str) -> FixedPointType:
        """The `!hls.*` type of a precision variable (the model default when unresolved)."""
        value = op.get_precision(var)
        if isinstance(value, FixedPointType):
            return value
        if self.default_attr is None:
            self.default_attr = precision_type(self.model.default)
        return self.default_attr

    def precision(self, op: nn.NNLayerOp, var: str) -> FixedPrecision:
        attr = self.type_attr(op, var)
        return type_precision(attr)

    def out_type(self, op: nn.NNLayerOp) -> ArrayType | StreamType:
        return self.hls_type(nn.shape_of(op.results[0]), self.type_attr(op, "result"))

    def element(self, value: SSAValue) -> FixedPrecision:
        return type_precision(hls.value_type(value).element_type)

    # ----- building -------------------------------------------------------------------------------------------

    def common(self, op: nn.NNLayerOp, layer: str | None = None) -> dict[str, Attribute | None]:
        """layer name, reuse factor, trace and the schedule estimates of an nn op."""
        props: dict[str, Attribute | None] = {
            "layer": StringAttr(layer or op.layer_name),
            "reuse_factor": op.reuse_factor,
            "trace": op.trace,
        }
        if layer is None:
            props |= {"multipliers": op.multipliers, "latency": op.latency, "ii": op.ii}
        return props

    def emit(
        self,
        cls: type[hls.HLSKernelOp],
        operands: Sequence[SSAValue],
        result_type: Attribute,
        props: dict[str, Attribute | None],
    ) -> SSAValue:
        new = cls.build(
            operands=list(operands),
            result_types=[result_type],
            properties={k: v for k, v in props.items() if v is not None},
        )
        self.block.add_op(new)
        result = new.results[0]
        layer = props["layer"]
        assert isinstance(layer, StringAttr)
        result.name_hint = value_name(layer.data)
        return result

    def check_operands(self, op: nn.NNLayerOp) -> None:
        """Every operand must have an hls value (constants only feed add, sub and mul)."""
        if isinstance(op, nn.AddOp | nn.SubOp | nn.MulOp):
            return
        for value in op.operands:
            producer = value.owner
            if value in self.values or not isinstance(producer, nn.ConstantOp):
                continue
            raise LoweringError(
                f"{op.name} '{op.layer_name}': reads the constant '{producer.layer_name}'; "
                "constants are only supported as per-channel operands of add, sub and mul"
            )

    def operand(self, value: SSAValue) -> SSAValue:
        mapped = self.values.get(value)
        if mapped is None:
            owner = value.owner
            name = owner.name if isinstance(owner, Operation) else "a function argument"
            raise LoweringError(f"value of {name} has no hls counterpart (unsupported producer)")
        return mapped

    # ----- top level ------------------------------------------------------------------------------------------

    def run(self) -> hls.FuncOp:
        block = self.function.body.block
        arg_types: list[Attribute] = []
        names: list[str | None] = []
        for arg in block.args:
            op = next((u.operation for u in arg.uses if isinstance(u.operation, nn.InputOp)), None)
            p = self.precision(op, "result") if op is not None else self.model.default
            arg_types.append(self.hls_type(nn.shape_of(arg), p))
            names.append(value_name(op.layer_name) if op is not None else arg.name_hint)
        self.block = Block(arg_types=arg_types)
        for arg, new_arg, name in zip(block.args, self.block.args, names, strict=True):
            new_arg.name_hint = name
            self.values[arg] = new_arg
        for op in block.ops:
            self.lower(op)
        if self.stream:
            insert_clones(self.block)
        mark_bram_weights(self.block, self.function.attributes.get(nn.BRAM_FACTOR_ATTR))
        return self.make_func()

    def make_func(self) -> hls.FuncOp:
        style, interval = pipeline_settings(self.function, self.io_type)
        estimates = {
            key: value
            for key, attr in (("latency", nn.LATENCY_ATTR), ("ii", nn.II_ATTR))
            if isinstance(value := self.function.attributes.get(attr), IntegerAttr)
        }
        return hls.FuncOp.build(
            attributes=estimates,
            properties={
                "sym_name": StringAttr(self.function.sym_name.data),
                "io_type": IOTypeAttr(IOType(self.io_type)),
                "pipeline_style": PipelineStyleAttr(style),
                **({"pipeline_interval": _i64(interval)} if interval is not None else {}),
            },
            regions=[Region(self.block)],
        )

    def lower(self, op: Operation) -> None:
        if isinstance(op, func.ReturnOp):
            self.block.add_op(hls.ReturnOp(*(self.operand(v) for v in op.arguments)))
            return
        if not isinstance(op, nn.NNLayerOp):
            raise LoweringError(
                f"cannot lower {op.name}: only nn ops and func.return are supported"
            )
        self.check_operands(op)
        result = self.lower_layer(op)
        if result is not None:
            self.values[op.results[0]] = result

    def lower_layer(self, op: nn.NNLayerOp) -> SSAValue | None:
        match op:
            case nn.InputOp():
                return self.operand(op.input)
            case nn.ConstantOp():
                return None  # consumed by the merge that reads it
            case nn.DenseOp():
                return self.dense(op)
            case nn.ConvBaseOp():
                return self.conv(op)
            case nn.PoolingOp():
                return self.pool(op)
            case nn.GlobalPoolOp():
                return self.global_pool(op)
            case nn.BatchNormOp():
                return self.batchnorm(op)
            case nn.ActivationOp():
                return self.activation(op)
            case nn.SoftmaxOp():
                return self.softmax(op)
            case nn.ElementwiseMergeOp():
                return self.merge(op)
            case nn.ConcatOp():
                return self.concat(op)
            case nn.DotOp():
                return self.dot(op)
            case _:
                return self.shape_op(op)

    # ----- weighted layers -----------------------------------------------------------------------------------

    def _weights(self, op: nn.DenseOp | nn.ConvBaseOp) -> dict[str, Attribute | None]:
        w_t, b_t = self.precision(op, "weight"), self.precision(op, "bias")
        weight = nn.to_numpy(op.weight)
        n_out = nn.shape_of(op.output)[-1]
        bias = nn.to_numpy(op.bias) if op.bias is not None else np.zeros(n_out, np.float32)
        return {
            "weight": quantize(weight, w_t, f"{op.name} '{op.layer_name}' weight"),
            "weight_t": self.type_attr(op, "weight"),
            "bias": quantize(bias, b_t, f"{op.name} '{op.layer_name}' bias"),
            "bias_t": self.type_attr(op, "bias"),
            "accum_t": self.type_attr(op, "accum"),
            "strategy": StrategyAttr(
                op.strategy.data if op.strategy is not None else Strategy.LATENCY
            ),
        }

    def dense(self, op: nn.DenseOp) -> SSAValue:
        props = self.common(op) | self._weights(op) | {"compression": op.compression}
        return self.emit(hls.DenseOp, [self.operand(op.input)], self.out_type(op), props)

    def conv(self, op: nn.ConvBaseOp) -> SSAValue:
        x = self.operand(op.input)
        pads = nn.ints(op.pads)
        if self.stream and any(pads):
            x = self.pad(x, pads, f"{op.layer_name}_pad", op)
            pads = (0,) * len(pads)
        cls: type[hls.HLSKernelOp] = {
            nn.Conv1DOp: hls.Conv1DOp,
            nn.Conv2DOp: hls.Conv2DOp,
            nn.DepthwiseConv1DOp: hls.DepthwiseConv1DOp,
            nn.DepthwiseConv2DOp: hls.DepthwiseConv2DOp,
        }[type(op)]
        props = (
            self.common(op)
            | self._weights(op)
            | {
                "strides": hls.int_array(nn.ints(op.strides)),
                "dilations": hls.int_array(nn.ints(op.dilations)),
                "pads": hls.int_array(pads),
                "parallelization_factor": op.parallelization_factor,
            }
        )
        return self.emit(cls, [x], self.out_type(op), props)

    def pad(self, x: SSAValue, pads: Sequence[int], layer: str, op: nn.NNLayerOp) -> SSAValue:
        """An explicit zero padding of x (io_stream), keeping x's element type."""
        shape = hls.shape_of(x)
        padded = [shape[a] + pads[2 * a] + pads[2 * a + 1] for a in range(len(shape) - 1)]
        props: dict[str, Attribute | None] = {
            "layer": StringAttr(layer),
            "pads": hls.int_array(pads),
        }
        return self.emit(
            hls.PadOp, [x], self.hls_type([*padded, shape[-1]], self.element(x)), props
        )

    # ----- pooling and normalisation -------------------------------------------------------------------------

    def pool(self, op: nn.PoolingOp) -> SSAValue:
        x = self.operand(op.input)
        pads = nn.ints(op.pads)
        exact_padding = op.op.data == PoolOp.AVERAGE and op.count_pad is not None
        if self.stream and any(pads) and exact_padding:
            x = self.pad(x, pads, f"{op.layer_name}_pad", op)
            pads = (0,) * len(pads)
        props = self.common(op) | {
            "op": PoolOpAttr(op.op.data),
            "pool_size": hls.int_array(nn.ints(op.pool_size)),
            "strides": hls.int_array(nn.ints(op.strides)),
            "pads": hls.int_array(pads),
            "count_pad": op.count_pad if any(pads) else None,
            "accum_t": self.type_attr(op, "accum"),
        }
        return self.emit(hls.PoolOp, [x], self.out_type(op), props)

    def global_pool(self, op: nn.GlobalPoolOp) -> SSAValue:
        props = self.common(op) | {
            "op": PoolOpAttr(op.op.data),
            "accum_t": self.type_attr(op, "accum"),
        }
        return self.emit(hls.GlobalPoolOp, [self.operand(op.input)], self.out_type(op), props)

    def batchnorm(self, op: nn.BatchNormOp) -> SSAValue:
        s_t, b_t = self.precision(op, "scale"), self.precision(op, "bias")
        props = self.common(op) | {
            "scale": quantize(nn.to_numpy(op.scale), s_t, f"{op.name} '{op.layer_name}' scale"),
            "scale_t": fixed_type(s_t),
            "bias": quantize(nn.to_numpy(op.bias), b_t, f"{op.name} '{op.layer_name}' bias"),
            "bias_t": fixed_type(b_t),
            "accum_t": self.type_attr(op, "accum"),
        }
        return self.emit(hls.BatchNormOp, [self.operand(op.input)], self.out_type(op), props)

    # ----- activations ---------------------------------------------------------------------------------------

    def activation(self, op: nn.ActivationOp) -> SSAValue:
        kind = op.activation
        props = self.common(op) | {"kind": ActivationKindAttr(kind)}
        param_t = self.precision(op, "param")
        alpha, beta = tables.kernel_params(op)
        uses_param = alpha is not None or beta is not None or op.param is not None
        if uses_param:
            props["param_t"] = self.type_attr(op, "param")
        if alpha is not None:
            props["alpha"] = quantized_float(alpha, param_t)
        if beta is not None:
            props["beta"] = quantized_float(beta, param_t)
        if op.param is not None:
            props["param"] = quantize(
                nn.to_numpy(op.param), param_t, f"{op.name} '{op.layer_name}' param"
            )
        if kind in tables.TABLE_KINDS:
            props |= self.activation_table(op)
        return self.emit(hls.ActivationOp, [self.operand(op.input)], self.out_type(op), props)

    def activation_table(self, op: nn.ActivationOp) -> dict[str, Attribute | None]:
        kind = op.activation
        size = tables.table_size(op.table_size)
        table_t = self.precision(op, "table")
        alpha = op.alpha.value.data if op.alpha is not None else None
        lo, hi = tables.activation_range(kind)
        return {
            "table": hls.mantissa_attr(tables.activation_table(kind, size, alpha, table_t)),
            "table_size": _i64(size),
            "table_t": self.type_attr(op, "table"),
            "table_min": FloatAttr(lo, Float64Type()),
            "table_max": FloatAttr(hi, Float64Type()),
        }

    def softmax(self, op: nn.SoftmaxOp) -> SSAValue:
        impl = op.implementation.data if op.implementation is not None else SoftmaxImpl.STABLE
        exp_size, inv_size = (
            tables.table_size(op.exp_table_size),
            tables.table_size(op.inv_table_size),
        )
        exp_t, inv_t = self.precision(op, "exp_table"), self.precision(op, "inv_table")
        acc = self.precision(op, "accum")
        x = self.operand(op.input)
        props = self.common(op) | {
            "implementation": SoftmaxImplAttr(impl),
            "exp_table_size": _i64(exp_size),
            "exp_table_t": fixed_type(exp_t),
            "inv_table_size": _i64(inv_size),
            "inv_table_t": fixed_type(inv_t),
            "accum_t": fixed_type(acc),
        }
        if impl != SoftmaxImpl.ARGMAX:
            n = hls.shape_of(x)[-1]
            t = tables.softmax_tables(
                impl, n, self.element(x), exp_t, exp_size, acc, inv_t, inv_size
            )
            props |= {
                "exp_table": hls.mantissa_attr(t.exp_table),
                "exp_range": FloatAttr(t.exp_range, Float64Type()),
                "inv_table": hls.mantissa_attr(t.inv_table),
                "inv_range": FloatAttr(t.inv_range, Float64Type()),
            }
        return self.emit(hls.SoftmaxOp, [x], self.out_type(op), props)

    # ----- merges --------------------------------------------------------------------------------------------

    def merge(self, op: nn.ElementwiseMergeOp) -> SSAValue:
        constants = [v for v in op.inputs if isinstance(v.owner, nn.ConstantOp)]
        if constants:
            return self.merge_constant(op)
        inputs = [self.operand(v) for v in op.inputs]
        kind = _MERGE_KINDS[type(op)]
        if isinstance(op, nn.AverageOp) and len(inputs) > 2:
            return self.average(op, inputs)
        return self.chain(op, inputs, kind)

    def chain(self, op: nn.NNLayerOp, inputs: list[SSAValue], kind: MergeKind) -> SSAValue:
        """Binary merges left to right; intermediate types are exact, the last is the result."""
        acc = inputs[0]
        shape = nn.shape_of(op.results[0])
        for i, rhs in enumerate(inputs[1:], start=1):
            last = i == len(inputs) - 1
            if last:
                ty, layer = self.out_type(op), None
            else:
                ty = self.hls_type(shape, _exact_merge(kind, self.element(acc), self.element(rhs)))
                layer = f"{op.layer_name}_part{i}"
            props = self.common(op, layer) | {"kind": MergeKindAttr(kind)}
            acc = self.emit(hls.MergeOp, [acc, rhs], ty, props)
        return acc

    def average(self, op: nn.AverageOp, inputs: list[SSAValue]) -> SSAValue:
        """An average of k > 2 inputs: exact sum, then a batchnorm scaling by 1/k (rounded down)."""
        k = len(inputs)
        shape = nn.shape_of(op.output)
        total = inputs[0]
        for i, rhs in enumerate(inputs[1:], start=1):
            t = _exact_merge(MergeKind.ADD, self.element(total), self.element(rhs))
            props = self.common(op, f"{op.layer_name}_sum{i}") | {
                "kind": MergeKindAttr(MergeKind.ADD)
            }
            total = self.emit(hls.MergeOp, [total, rhs], self.hls_type(shape, t), props)
        return self.affine(
            op,
            total,
            np.full(shape[-1], 1.0 / k),
            np.zeros(shape[-1]),
            SCALE_TYPE.with_modes(Quant.TRN),
            FixedPrecision(2, 1),
        )

    def affine(
        self,
        op: nn.NNLayerOp,
        x: SSAValue,
        scale: np.ndarray,
        bias: np.ndarray,
        scale_t: FixedPrecision,
        bias_t: FixedPrecision,
    ) -> SSAValue:
        props = self.common(op) | {
            "scale": quantize(scale, scale_t),
            "scale_t": fixed_type(scale_t),
            "bias": quantize(bias, bias_t),
            "bias_t": fixed_type(bias_t),
        }
        return self.emit(hls.BatchNormOp, [x], self.out_type(op), props)

    def merge_constant(self, op: nn.ElementwiseMergeOp) -> SSAValue:
        """x + c, x - c, c - x or x * c with a constant c uniform over the spatial axes."""
        if len(op.inputs) != 2 or not isinstance(op, nn.AddOp | nn.SubOp | nn.MulOp):
            raise LoweringError(
                f"{op.name} '{op.layer_name}': constants are only supported in two-input add, sub and mul"
            )
        const_index = 0 if isinstance(op.inputs[0].owner, nn.ConstantOp) else 1
        const_op = op.inputs[const_index].owner
        assert isinstance(const_op, nn.ConstantOp)
        if isinstance(op.inputs[1 - const_index].owner, nn.ConstantOp):
            raise LoweringError(
                f"{op.name} '{op.layer_name}': a merge of two constants should be folded"
            )
        values = nn.to_numpy(const_op.value).astype(np.float64)
        channels = values.reshape(-1, values.shape[-1]) if values.ndim else values.reshape(1, 1)
        if not np.all(channels == channels[0]):
            raise LoweringError(
                f"{op.name} '{op.layer_name}': constant '{const_op.layer_name}' varies over the spatial axes; only per-channel constants are supported"
            )
        c = channels[0]
        c_t = self.precision(const_op, "result")
        x = self.operand(op.inputs[1 - const_index])
        one, zero = np.ones_like(c), np.zeros_like(c)
        unit = FixedPrecision(2, 2)
        if isinstance(op, nn.MulOp):
            return self.affine(op, x, c, zero, c_t, unit)
        if isinstance(op, nn.SubOp) and const_index == 0:
            return self.affine(op, x, -one, c, unit, c_t)
        sign = -1.0 if isinstance(op, nn.SubOp) else 1.0
        return self.affine(
            op,
            x,
            one,
            sign * c,
            unit,
            make_type(c_t.width + 1, c_t.integer + 1, True) if sign < 0 else c_t,
        )

    def concat(self, op: nn.ConcatOp) -> SSAValue:
        inputs = [self.operand(v) for v in op.inputs]
        axis = op.axis.value.data
        acc = inputs[0]
        for i, rhs in enumerate(inputs[1:], start=1):
            last = i == len(inputs) - 1
            a, b = hls.shape_of(acc), hls.shape_of(rhs)
            shape = [a[d] + b[d] if d == axis else a[d] for d in range(len(a))]
            if last:
                ty, layer = self.out_type(op), None
            else:
                ty, layer = (
                    self.hls_type(shape, union(self.element(acc), self.element(rhs))),
                    f"{op.layer_name}_part{i}",
                )
            props = self.common(op, layer) | {"axis": _i64(axis)}
            acc = self.emit(hls.ConcatOp, [acc, rhs], ty, props)
        return acc

    def dot(self, op: nn.DotOp) -> SSAValue:
        props = self.common(op) | {"accum_t": fixed_type(self.precision(op, "accum"))}
        return self.emit(
            hls.DotOp, [self.operand(op.lhs), self.operand(op.rhs)], self.out_type(op), props
        )

    # ----- shape ops and no-ops ------------------------------------------------------------------------------

    def shape_op(self, op: nn.NNLayerOp) -> SSAValue:
        x = self.operand(op.operands[0])
        props = self.common(op)
        match op:
            case nn.ReshapeOp() | nn.FlattenOp():
                return self.emit(hls.ReshapeOp, [x], self.out_type(op), props)
            case nn.TransposeOp():
                return self.emit(
                    hls.TransposeOp,
                    [x],
                    self.out_type(op),
                    props | {"perm": hls.int_array(nn.ints(op.perm))},
                )
            case nn.PadOp():
                return self.emit(
                    hls.PadOp,
                    [x],
                    self.out_type(op),
                    props | {"pads": hls.int_array(nn.ints(op.pads))},
                )
            case nn.CropOp():
                return self.emit(
                    hls.CropOp,
                    [x],
                    self.out_type(op),
                    props | {"crops": hls.int_array(nn.ints(op.crops))},
                )
            case nn.UpsampleOp():
                return self.emit(
                    hls.UpsampleOp,
                    [x],
                    self.out_type(op),
                    props | {"factors": hls.int_array(nn.ints(op.factors))},
                )
            case nn.DropoutOp() | nn.IdentityOp():
                if self.out_type(op) == x.type:
                    return x
                return self.emit(hls.CastOp, [x], self.out_type(op), props)
            case _:
                raise LoweringError(f"{op.name} '{op.layer_name}': no hls kernel for this op")


_MERGE_KINDS: dict[type[nn.ElementwiseMergeOp], MergeKind] = {
    nn.AddOp: MergeKind.ADD,
    nn.SubOp: MergeKind.SUB,
    nn.MulOp: MergeKind.MUL,
    nn.AverageOp: MergeKind.AVERAGE,
    nn.MaximumOp: MergeKind.MAXIMUM,
    nn.MinimumOp: MergeKind.MINIMUM,
}


def _exact_merge(kind: MergeKind, a: FixedPrecision, b: FixedPrecision) -> FixedPrecision:
    """The exact type of a binary merge (intermediate results of merge chains)."""
    match kind:
        case MergeKind.ADD:
            return fixed.add_type(a, b)
        case MergeKind.SUB:
            return fixed.sub_type(a, b)
        case MergeKind.MUL:
            return fixed.mul_type(a, b)
        case _:
            return union(a, b)


# ----- weights in BRAM ------------------------------------------------------------------------------------


def mark_bram_weights(block: Block, bram_factor: Attribute | None) -> None:
    """Flag dense/conv kernels with more weights than BramFactor (hls4ml's rule) for BRAM storage."""
    if not isinstance(bram_factor, IntegerAttr):
        return
    limit = bram_factor.value.data
    for op in block.ops:
        if isinstance(op, hls.DenseOp | hls.ConvBaseOp) and prod(op.weight.get_shape()) > limit:
            op.properties["store_weights_in_bram"] = UnitAttr()


# ----- io_stream fan-out -----------------------------------------------------------------------------------


def insert_clones(block: Block) -> None:
    """Give every stream read by several consumers hls.clone ops with one output per read; past
    CloneOp.MAX_OUTPUTS readers, the last output of each clone feeds the next clone of a chain."""
    values: list[SSAValue] = list(block.args)
    for op in block.ops:
        values += op.results
    for value in values:
        uses = sorted(value.uses, key=lambda u: (_position(block, u.operation), u.index))
        if len(uses) < 2 or not isinstance(value.type, StreamType):
            continue
        owner = value.owner
        base = value.name_hint or "stream"
        layer = owner.layer.data if isinstance(owner, hls.HLSKernelOp) else base
        outputs = _clone_chain(block, value, len(uses), layer)
        for i, (use, out) in enumerate(zip(uses, outputs, strict=True)):
            out.name_hint = f"{base}_cpy{i + 1}"
            use.operation.operands[use.index] = out  # pyright: ignore[reportIndexIssue]


def _clone_chain(block: Block, value: SSAValue, readers: int, layer: str) -> list[SSAValue]:
    """Clones after `value`'s producer giving `readers` copies of it, in reader order."""
    copies: list[SSAValue] = []
    source, anchor, link = value, value.owner, 0
    while readers > 0:
        last = readers <= hls.CloneOp.MAX_OUTPUTS
        width = readers if last else hls.CloneOp.MAX_OUTPUTS
        name = f"{layer}_clone" if link == 0 else f"{layer}_clone{link + 1}"
        clone = hls.CloneOp.build(
            operands=[source],
            result_types=[[value.type] * width],
            properties={"layer": StringAttr(name)},
        )
        if isinstance(anchor, Operation):
            block.insert_op_after(clone, anchor)
        else:
            first = block.first_op
            assert first is not None
            block.insert_op_before(clone, first)
        outs = list(clone.outputs)
        copies += outs if last else outs[:-1]
        readers -= len(outs) if last else len(outs) - 1
        if not last:
            outs[-1].name_hint = f"{name}_next"
        source, anchor, link = outs[-1], clone, link + 1
    return copies


def _position(block: Block, op: Operation) -> int:
    return block.get_operation_index(op)


# ----- the pass ----------------------------------------------------------------------------------------------


def lower_module(module: ModuleOp, io_type: str) -> None:
    """Replace every model function of the module by its hls.func."""
    if io_type not in IO_TYPES:
        raise LoweringError(
            f"lower-nn-to-hls: io-type must be io_parallel or io_stream, got '{io_type}'"
        )
    for function in list(module.ops):
        if not isinstance(function, func.FuncOp):
            continue
        configured = function.attributes.get(nn.IO_TYPE_ATTR)
        if isinstance(configured, IOTypeAttr) and configured.data.value != io_type:
            warn(
                f"model '{function.sym_name.data}': lowering to {io_type} but the configuration "
                f"says {configured.data.value} (nn-schedule's estimates assume the latter)",
                ConfigWarning,
            )
        new = FunctionLowering(function, io_type).run()
        module.body.block.insert_op_before(new, function)
        function.detach()
        function.erase(safe_erase=False)


@dataclass(frozen=True)
class LowerNNToHLSPass(ModulePass):
    """Lower nn model functions to hls functions (see the module docstring)."""

    name = "lower-nn-to-hls"

    io_type: str = "io_parallel"
    """io_parallel (arrays, pipelined top) or io_stream (FIFOs of pixels, dataflow top)."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        lower_module(op, self.io_type)
