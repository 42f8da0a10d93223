"""The `nn` dialect: framework-neutral neural-network layers on float tensors.

One op per layer, channels-last (as the kernels are), per-sample shapes (the batch dimension is
implicit), float32 weights in dense attributes built from `ndarray.tobytes()`. Every op keeps its
layer name from the model (`layer`) and, once `nn-apply-config` has run, its configuration as typed
properties: `precision` (a dictionary from variable name to a fixed-point type or "auto"),
`reuse_factor`, `strategy`, `parallelization_factor`, table sizes and so on.

    %0 = nn.dense %x {layer = "fc1", weight = dense<...> : tensor<16x64xf32>,
                      bias = dense<...> : tensor<64xf32>} : (tensor<16xf32>) -> tensor<64xf32>
    %1 = nn.activation %0 {layer = "fc1_relu", kind = #hls<activation relu>}
                            : (tensor<64xf32>) -> tensor<64xf32>
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Sequence
from dataclasses import dataclass
from math import prod
from typing import ClassVar

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    I64,
    ArrayAttr,
    BytesAttr,
    DenseIntOrFPElementsAttr,
    DictionaryAttr,
    Float64Type,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    TensorType,
    UnitAttr,
    f32,
    i64,
)
from xdsl.ir import Attribute, Dialect, Operation, OpResult, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_op_definition,
    operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

from nnhls.dialects.bitgrowth import DEFAULT_PRECISION, type_precision
from nnhls.dialects.fixed import FixedPrecision
from nnhls.dialects.kinds import ActivationKind, PoolOp
from nnhls.dialects.quantizer_attr import QuantizerAttr, QuantizerParams
from nnhls.dialects.types import (
    ActivationKindAttr,
    FixedPointType,
    IntList,
    PoolOpAttr,
    SoftmaxImplAttr,
    StrategyAttr,
    conv_output_size,
    int_array,
    ints,
)
from nnhls.errors import ModelError

AUTO = "auto"
"""The precision value that asks `nn-infer-precision` to choose the type."""

SKIP_ATTR = "nn.skip"
"""Discardable unit attribute nn-apply-config puts on a softmax the config asks to skip (hls4ml's
`Skip`); nn-canonicalize removes that softmax, so the model returns its input (the scores)."""

# ----- model-level attributes of the model function (written by nn-apply-config and nn-schedule) -----

DEFAULT_PRECISION_ATTR = "nn.default_precision"
"""The model's default precision (`!hls.fixed<...>`), HLSConfig.Model.Precision."""
MAX_PRECISION_ATTR = "nn.max_precision"
"""The cap on inferred types, HLSConfig.Model.Precision.maximum."""
IO_TYPE_ATTR = "nn.io_type"
"""`#hls<io_type ...>`: the configured IOType."""
PIPELINE_STYLE_ATTR = "nn.pipeline_style"
"""`#hls<pipeline_style ...>`: the configured (then resolved) PipelineStyle."""
PIPELINE_INTERVAL_ATTR = "nn.pipeline_interval"
"""The top function's PipelineInterval."""
SNAP_REUSE_FACTOR_ATTR = "nn.snap_reuse_factor"
"""Present when illegal reuse / parallelization factors are snapped (with a warning)."""
BRAM_FACTOR_ATTR = "nn.bram_factor"
"""Dense/conv layers with more weights than this keep them in BRAM."""
LATENCY_ATTR = "nn.latency"
"""nn-schedule's estimate of the model's latency in clock cycles."""
II_ATTR = "nn.ii"
"""nn-schedule's estimate of the model's initiation interval."""

# ----- helpers shared by builders and verifiers ----------------------------------------------------


def float_tensor(shape: Sequence[int]) -> TensorType:
    return TensorType(f32, list(shape))


def dense_attr(array: np.ndarray) -> DenseIntOrFPElementsAttr:
    """A float32 dense attribute straight from the array's bytes (never via Python lists)."""
    data = np.ascontiguousarray(array, dtype="<f4")
    return DenseIntOrFPElementsAttr(TensorType(f32, list(data.shape)), BytesAttr(data.tobytes()))


def to_numpy(attr: DenseIntOrFPElementsAttr) -> np.ndarray:
    """Zero-copy view of a float32 dense attribute as an array of its shape."""
    return np.frombuffer(attr.data.data, dtype="<f4").reshape(attr.get_shape())


def shape_of(value: SSAValue) -> tuple[int, ...]:
    ty = value.type
    assert isinstance(ty, TensorType)
    return tuple(ty.get_shape())


# ----- base class ------------------------------------------------------------------------------------


class NNLayerOp(IRDLOperation, ABC):
    """Fields every layer carries: its model name and the configuration common to all layers."""

    layer = prop_def(StringAttr)
    """The layer name from the model; configs and generated C++ refer to layers by it."""
    layer_type = opt_prop_def(StringAttr)
    """The class (Keras, e.g. "SeparableConv2D") or op type (ONNX, e.g. "Gemm") of the framework
    layer this op was converted from; set by the front ends."""
    precision = opt_prop_def(DictionaryAttr)
    """Per-variable precision: variable name -> fixed-point type or "auto"."""
    reuse_factor = opt_prop_def(IntegerAttr[I64])
    trace = opt_prop_def(UnitAttr)
    """Present when the user asked to trace this layer's output."""
    multipliers = opt_prop_def(IntegerAttr[I64])
    """Estimate from nn-schedule: multipliers (DSPs) the layer uses."""
    latency = opt_prop_def(IntegerAttr[I64])
    """Estimate from nn-schedule: latency in clock cycles."""
    ii = opt_prop_def(IntegerAttr[I64])
    """Estimate from nn-schedule: initiation interval in clock cycles."""
    bops = opt_prop_def(IntegerAttr[I64])
    """Estimate from nn-schedule: bit operations per inference (multiplications x operand widths)."""
    quantizer_typed = opt_prop_def(ArrayAttr[StringAttr])
    """Precision variables whose type a quantizer of the model set (nn-infer-quantization), e.g.
    `["weight", "result"]`: a result saturating at such a type is the quantizer's design, not an
    overflow, and a layer whose constants a quantizer typed keeps exact bit growth."""

    PRECISION_VARS: ClassVar[tuple[str, ...]] = ("result",)
    """The precision variables this layer has (config keys under Precision)."""
    RESULT_VARS: ClassVar[tuple[str, ...]] = ("result",)
    """The precision variable typing each result, in result order (ops with several results
    name one variable per result, e.g. ("result", "state"))."""

    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "operands attr-dict `:` functional-type(operands, results)"
    traits = traits_def(Pure())

    @property
    def layer_name(self) -> str:
        return self.layer.data

    def fail(self, message: str) -> VerifyException:
        """An error naming this layer, for verifiers."""
        return VerifyException(f"{self.name} '{self.layer.data}': {message}")

    def verify_(self) -> None:
        self._verify_precision()
        if self.reuse_factor is not None and self.reuse_factor.value.data < 1:
            raise self.fail(f"reuse factor must be at least 1, got {self.reuse_factor.value.data}")
        self.verify_layer()

    def verify_layer(self) -> None:
        """Per-op shape rules."""

    def _verify_precision(self) -> None:
        if self.quantizer_typed is not None:
            for var in self.quantizer_typed.data:
                if var.data not in self.PRECISION_VARS:
                    raise self.fail(f"quantizer_typed names '{var.data}', not a precision variable")
        if self.precision is None:
            return
        for var, value in self.precision.data.items():
            if var not in self.PRECISION_VARS:
                raise self.fail(
                    f"unknown precision variable '{var}'; this layer has: "
                    + ", ".join(self.PRECISION_VARS)
                )
            if isinstance(value, FixedPointType):
                continue
            if isinstance(value, StringAttr) and value.data == AUTO:
                continue
            raise self.fail(f"precision of '{var}' must be a fixed-point type or \"auto\"")

    def set_precision(self, var: str, value: Attribute | None) -> None:
        """Set (or with None, remove) one precision entry."""
        entries = dict(self.precision.data) if self.precision is not None else {}
        if value is None:
            entries.pop(var, None)
        else:
            entries[var] = value
        self.precision = DictionaryAttr(entries) if entries else None

    def mark_quantizer_typed(self, var: str) -> None:
        """Record that a quantizer set `var`'s type (see `quantizer_typed`)."""
        if not self.is_quantizer_typed(var):
            marked = [*self.quantizer_typed.data] if self.quantizer_typed is not None else []
            self.quantizer_typed = ArrayAttr([*marked, StringAttr(var)])

    def is_quantizer_typed(self, var: str) -> bool:
        return self.quantizer_typed is not None and StringAttr(var) in self.quantizer_typed.data

    def get_precision(self, var: str) -> FixedPointType | str | None:
        """The configured precision of one variable: a type, "auto", or None if unset."""
        if self.precision is None or var not in self.precision.data:
            return None
        value = self.precision.data[var]
        return value if isinstance(value, FixedPointType) else AUTO


def _layer_props(layer: str, **extra: Attribute | None) -> dict[str, Attribute | None]:
    return {"layer": StringAttr(layer), **extra}


# ----- model inputs -----------------------------------------------------------------------------------


@irdl_op_definition
class InputOp(NNLayerOp):
    """A model input (the InputLayer): gives the input a layer name and a precision to configure.

    Its operand is the function argument; every other op reads the input through it.
    """

    name = "nn.input"
    input = operand_def(TensorType)
    output = result_def(TensorType)

    def __init__(self, argument: SSAValue, layer: str):
        super().__init__(
            operands=[argument], result_types=[argument.type], properties=_layer_props(layer)
        )

    def verify_layer(self) -> None:
        if self.output.type != self.input.type:
            raise self.fail("result type must equal the argument type")


# ----- dense and convolutions -------------------------------------------------------------------------


@irdl_op_definition
class DenseOp(NNLayerOp):
    """Fully connected layer on the last axis: y = x @ weight + bias, weight is (n_in, n_out)."""

    name = "nn.dense"
    input = operand_def(TensorType)
    output = result_def(TensorType)
    weight = prop_def(DenseIntOrFPElementsAttr)
    bias = opt_prop_def(DenseIntOrFPElementsAttr)
    weight_quantizer = opt_prop_def(QuantizerAttr)
    """The quantizer the framework applied to the weights (the weights hold its output)."""
    bias_quantizer = opt_prop_def(QuantizerAttr)
    strategy = opt_prop_def(StrategyAttr)
    compression = opt_prop_def(UnitAttr)

    PRECISION_VARS: ClassVar[tuple[str, ...]] = ("weight", "bias", "accum", "result")

    def __init__(self, input: SSAValue, weight: np.ndarray, bias: np.ndarray | None, layer: str):
        out_shape = (*shape_of(input)[:-1], weight.shape[1])
        super().__init__(
            operands=[input],
            result_types=[float_tensor(out_shape)],
            properties=_layer_props(
                layer, weight=dense_attr(weight), bias=None if bias is None else dense_attr(bias)
            ),
        )

    def verify_layer(self) -> None:
        w_shape = self.weight.get_shape()
        if len(w_shape) != 2:
            raise self.fail(f"weight must be 2-D (n_in, n_out), got shape {w_shape}")
        in_shape, out_shape = shape_of(self.input), shape_of(self.output)
        if in_shape[-1] != w_shape[0]:
            raise self.fail(
                f"weight shape {w_shape} does not match input features {in_shape[-1]}"
            )
        if out_shape != (*in_shape[:-1], w_shape[1]):
            raise self.fail(f"result shape {out_shape} does not match weight shape {w_shape}")
        if self.bias is not None and self.bias.get_shape() != (w_shape[1],):
            raise self.fail(f"bias shape {self.bias.get_shape()} must be ({w_shape[1]},)")


class ConvBaseOp(NNLayerOp, ABC):
    """Convolution over 1 or 2 spatial axes, channels last, with explicit padding.

    `pads` holds (begin, end) per spatial axis: [left, right] or [top, bottom, left, right].
    """

    input = operand_def(TensorType)
    output = result_def(TensorType)
    weight = prop_def(DenseIntOrFPElementsAttr)
    bias = opt_prop_def(DenseIntOrFPElementsAttr)
    weight_quantizer = opt_prop_def(QuantizerAttr)
    """The quantizer the framework applied to the weights (the weights hold its output)."""
    bias_quantizer = opt_prop_def(QuantizerAttr)
    strides = prop_def(IntList)
    dilations = prop_def(IntList)
    pads = prop_def(IntList)
    strategy = opt_prop_def(StrategyAttr)
    parallelization_factor = opt_prop_def(IntegerAttr[I64])

    RANK: ClassVar[int] = 2
    DEPTHWISE: ClassVar[bool] = False
    PRECISION_VARS: ClassVar[tuple[str, ...]] = ("weight", "bias", "accum", "result")

    def __init__(
        self,
        input: SSAValue,
        weight: np.ndarray,
        bias: np.ndarray | None,
        layer: str,
        strides: Sequence[int],
        dilations: Sequence[int],
        pads: Sequence[int],
    ):
        in_shape = shape_of(input)
        spatial = [
            conv_output_size(in_shape[a], weight.shape[a], strides[a], dilations[a], pads[2 * a] + pads[2 * a + 1])
            for a in range(self.RANK)
        ]
        channels = weight.shape[-2] * weight.shape[-1] if self.DEPTHWISE else weight.shape[-1]
        super().__init__(
            operands=[input],
            result_types=[float_tensor([*spatial, channels])],
            properties=_layer_props(
                layer,
                weight=dense_attr(weight),
                bias=None if bias is None else dense_attr(bias),
                strides=int_array(strides),
                dilations=int_array(dilations),
                pads=int_array(pads),
            ),
        )

    def verify_layer(self) -> None:
        rank = self.RANK
        w_shape = self.weight.get_shape()
        in_shape, out_shape = shape_of(self.input), shape_of(self.output)
        if len(in_shape) != rank + 1:
            raise self.fail(f"input must have {rank} spatial axes and channels, got {in_shape}")
        if len(w_shape) != rank + 2:
            raise self.fail(f"weight must have {rank + 2} axes, got shape {w_shape}")
        if w_shape[-2] != in_shape[-1]:
            raise self.fail(f"weight shape {w_shape} does not match {in_shape[-1]} input channels")
        strides, dilations, pads = ints(self.strides), ints(self.dilations), ints(self.pads)
        if len(strides) != rank or len(dilations) != rank or len(pads) != 2 * rank:
            raise self.fail(f"needs {rank} strides, {rank} dilations and {2 * rank} pads")
        if min(strides + dilations) < 1 or min(pads) < 0:
            raise self.fail("strides and dilations must be positive and pads non-negative")
        n_out = w_shape[-2] * w_shape[-1] if self.DEPTHWISE else w_shape[-1]
        expected = tuple(
            conv_output_size(in_shape[a], w_shape[a], strides[a], dilations[a], pads[2 * a] + pads[2 * a + 1])
            for a in range(rank)
        ) + (n_out,)
        if min(expected) < 1:
            raise self.fail(f"kernel {w_shape[:rank]} does not fit input {in_shape}")
        if out_shape != expected:
            raise self.fail(f"result shape {out_shape} does not match the expected {expected}")
        if self.bias is not None and self.bias.get_shape() != (n_out,):
            raise self.fail(f"bias shape {self.bias.get_shape()} must be ({n_out},)")


@irdl_op_definition
class Conv1DOp(ConvBaseOp):
    """1-D convolution: input (width, channels), weight (kernel, in_channels, filters)."""

    name = "nn.conv1d"
    RANK: ClassVar[int] = 1


@irdl_op_definition
class Conv2DOp(ConvBaseOp):
    """2-D convolution: input (height, width, channels), weight (kh, kw, in_channels, filters)."""

    name = "nn.conv2d"
    RANK: ClassVar[int] = 2


@irdl_op_definition
class DepthwiseConv1DOp(ConvBaseOp):
    """Depthwise 1-D convolution: weight (kernel, channels, multiplier)."""

    name = "nn.depthwise_conv1d"
    RANK: ClassVar[int] = 1
    DEPTHWISE: ClassVar[bool] = True


@irdl_op_definition
class DepthwiseConv2DOp(ConvBaseOp):
    """Depthwise 2-D convolution: weight (kh, kw, channels, multiplier)."""

    name = "nn.depthwise_conv2d"
    RANK: ClassVar[int] = 2
    DEPTHWISE: ClassVar[bool] = True


# ----- pooling and normalisation -----------------------------------------------------------------------


@irdl_op_definition
class PoolingOp(NNLayerOp):
    """Max or average pooling over 1 or 2 spatial axes (rank = len(pool_size)).

    `count_pad` says whether padded positions count in an average (ONNX count_include_pad); Keras
    'same' pooling excludes them.
    """

    name = "nn.pool"
    input = operand_def(TensorType)
    output = result_def(TensorType)
    op = prop_def(PoolOpAttr)
    pool_size = prop_def(IntList)
    strides = prop_def(IntList)
    pads = prop_def(IntList)
    count_pad = opt_prop_def(UnitAttr)

    PRECISION_VARS: ClassVar[tuple[str, ...]] = ("accum", "result")

    def __init__(
        self,
        input: SSAValue,
        op: PoolOp,
        layer: str,
        pool_size: Sequence[int],
        strides: Sequence[int],
        pads: Sequence[int],
        count_pad: bool = False,
    ):
        in_shape = shape_of(input)
        spatial = [
            conv_output_size(in_shape[a], pool_size[a], strides[a], 1, pads[2 * a] + pads[2 * a + 1])
            for a in range(len(pool_size))
        ]
        super().__init__(
            operands=[input],
            result_types=[float_tensor([*spatial, in_shape[-1]])],
            properties=_layer_props(
                layer,
                op=PoolOpAttr(op),
                pool_size=int_array(pool_size),
                strides=int_array(strides),
                pads=int_array(pads),
                count_pad=UnitAttr() if count_pad else None,
            ),
        )

    @property
    def rank(self) -> int:
        return len(ints(self.pool_size))

    def verify_layer(self) -> None:
        rank = self.rank
        in_shape, out_shape = shape_of(self.input), shape_of(self.output)
        size, strides, pads = ints(self.pool_size), ints(self.strides), ints(self.pads)
        if rank not in (1, 2) or len(in_shape) != rank + 1:
            raise self.fail(f"pooling needs 1 or 2 spatial axes matching the input {in_shape}")
        if len(strides) != rank or len(pads) != 2 * rank:
            raise self.fail(f"needs {rank} strides and {2 * rank} pads")
        if min(size + strides) < 1 or min(pads) < 0:
            raise self.fail("pool size and strides must be positive and pads non-negative")
        expected = tuple(
            conv_output_size(in_shape[a], size[a], strides[a], 1, pads[2 * a] + pads[2 * a + 1])
            for a in range(rank)
        ) + (in_shape[-1],)
        if min(expected) < 1 or out_shape != expected:
            raise self.fail(f"result shape {out_shape} does not match the expected {expected}")


@irdl_op_definition
class GlobalPoolOp(NNLayerOp):
    """Max or average over all spatial positions: (..., C) -> (C)."""

    name = "nn.global_pool"
    input = operand_def(TensorType)
    output = result_def(TensorType)
    op = prop_def(PoolOpAttr)

    PRECISION_VARS: ClassVar[tuple[str, ...]] = ("accum", "result")

    def __init__(self, input: SSAValue, op: PoolOp, layer: str):
        super().__init__(
            operands=[input],
            result_types=[float_tensor([shape_of(input)[-1]])],
            properties=_layer_props(layer, op=PoolOpAttr(op)),
        )

    def verify_layer(self) -> None:
        in_shape, out_shape = shape_of(self.input), shape_of(self.output)
        if len(in_shape) not in (2, 3):
            raise self.fail(f"global pooling needs 1 or 2 spatial axes, got input {in_shape}")
        if out_shape != (in_shape[-1],):
            raise self.fail(f"result shape {out_shape} must be ({in_shape[-1]},)")


@irdl_op_definition
class BatchNormOp(NNLayerOp):
    """Per-channel affine map on the last axis: y = x * scale + bias (moments already folded)."""

    name = "nn.batchnorm"
    input = operand_def(TensorType)
    output = result_def(TensorType)
    scale = prop_def(DenseIntOrFPElementsAttr)
    bias = prop_def(DenseIntOrFPElementsAttr)

    PRECISION_VARS: ClassVar[tuple[str, ...]] = ("scale", "bias", "accum", "result")

    def __init__(self, input: SSAValue, scale: np.ndarray, bias: np.ndarray, layer: str):
        super().__init__(
            operands=[input],
            result_types=[input.type],
            properties=_layer_props(layer, scale=dense_attr(scale), bias=dense_attr(bias)),
        )

    def verify_layer(self) -> None:
        channels = shape_of(self.input)[-1]
        if shape_of(self.output) != shape_of(self.input):
            raise self.fail("result shape must equal the input shape")
        for label, attr in (("scale", self.scale), ("bias", self.bias)):
            if attr.get_shape() != (channels,):
                raise self.fail(f"{label} shape {attr.get_shape()} must be ({channels},)")


# ----- activations ----------------------------------------------------------------------------------------


@irdl_op_definition
class ActivationOp(NNLayerOp):
    """Element-wise activation.

    Parameters: `alpha` (leaky_relu slope, elu alpha, thresholded_relu theta, clip minimum,
    hard_sigmoid slope), `beta` (clip maximum, hard_sigmoid offset); prelu takes a per-channel `param`.
    clip is min(max(x, alpha), beta) as ONNX defines it (alpha > beta gives beta everywhere); an
    absent bound is no bound.
    """

    name = "nn.activation"
    input = operand_def(TensorType)
    output = result_def(TensorType)
    kind = prop_def(ActivationKindAttr)
    alpha = opt_prop_def(FloatAttr[Float64Type])
    beta = opt_prop_def(FloatAttr[Float64Type])
    param = opt_prop_def(DenseIntOrFPElementsAttr)
    table_size = opt_prop_def(IntegerAttr[I64])

    PRECISION_VARS: ClassVar[tuple[str, ...]] = ("result", "table", "param")

    def __init__(
        self,
        input: SSAValue,
        kind: ActivationKind,
        layer: str,
        alpha: float | None = None,
        beta: float | None = None,
        param: np.ndarray | None = None,
    ):
        super().__init__(
            operands=[input],
            result_types=[input.type],
            properties=_layer_props(
                layer,
                kind=ActivationKindAttr(kind),
                alpha=None if alpha is None else FloatAttr(alpha, Float64Type()),
                beta=None if beta is None else FloatAttr(beta, Float64Type()),
                param=None if param is None else dense_attr(param),
            ),
        )

    @property
    def activation(self) -> ActivationKind:
        return self.kind.data

    def verify_layer(self) -> None:
        if shape_of(self.output) != shape_of(self.input):
            raise self.fail("result shape must equal the input shape")
        kind = self.activation
        if kind == ActivationKind.PRELU:
            channels = shape_of(self.input)[-1]
            if self.param is None or self.param.get_shape() != (channels,):
                raise self.fail(f"prelu needs a per-channel param of shape ({channels},)")
        elif self.param is not None:
            raise self.fail(f"only prelu takes a param tensor, not {kind.value}")
        if kind == ActivationKind.CLIP and self.alpha is None and self.beta is None:
            raise self.fail("clip needs alpha (minimum), beta (maximum) or both")
        if self.table_size is not None:
            _verify_table_size(self, self.table_size.value.data)


def _verify_table_size(op: NNLayerOp, size: int) -> None:
    if size < 1 or size & (size - 1):
        raise op.fail(f"table size must be a power of two, got {size}")


@irdl_op_definition
class SoftmaxOp(NNLayerOp):
    """Softmax over the last axis."""

    name = "nn.softmax"
    input = operand_def(TensorType)
    output = result_def(TensorType)
    implementation = opt_prop_def(SoftmaxImplAttr)
    exp_table_size = opt_prop_def(IntegerAttr[I64])
    inv_table_size = opt_prop_def(IntegerAttr[I64])

    PRECISION_VARS: ClassVar[tuple[str, ...]] = ("result", "exp_table", "inv_table", "accum", "inv_inp", "table")

    def __init__(self, input: SSAValue, layer: str):
        super().__init__(operands=[input], result_types=[input.type], properties=_layer_props(layer))

    def verify_layer(self) -> None:
        if shape_of(self.output) != shape_of(self.input):
            raise self.fail("result shape must equal the input shape")
        for size in (self.exp_table_size, self.inv_table_size):
            if size is not None:
                _verify_table_size(self, size.value.data)


# ----- merges ------------------------------------------------------------------------------------------------


class ElementwiseMergeOp(NNLayerOp, ABC):
    """Element-wise merge of two or more tensors of one shape."""

    inputs = var_operand_def(TensorType)
    output = result_def(TensorType)

    PRECISION_VARS: ClassVar[tuple[str, ...]] = ("accum", "result")

    def __init__(self, inputs: Sequence[SSAValue], layer: str):
        super().__init__(
            operands=[list(inputs)],
            result_types=[inputs[0].type],
            properties=_layer_props(layer),
        )

    def verify_layer(self) -> None:
        if len(self.inputs) < 2:
            raise self.fail(f"needs at least two inputs, got {len(self.inputs)}")
        shapes = {shape_of(v) for v in self.inputs}
        if len(shapes) != 1:
            raise self.fail(f"inputs must have one shape, got {sorted(shapes)}")
        if shape_of(self.output) != shape_of(self.inputs[0]):
            raise self.fail("result shape must equal the input shape")


@irdl_op_definition
class AddOp(ElementwiseMergeOp):
    name = "nn.add"


@irdl_op_definition
class SubOp(ElementwiseMergeOp):
    """First input minus the second (exactly two inputs)."""

    name = "nn.sub"

    def verify_layer(self) -> None:
        super().verify_layer()
        if len(self.inputs) != 2:
            raise self.fail("subtract takes exactly two inputs")


@irdl_op_definition
class MulOp(ElementwiseMergeOp):
    name = "nn.mul"


@irdl_op_definition
class AverageOp(ElementwiseMergeOp):
    name = "nn.average"


@irdl_op_definition
class MaximumOp(ElementwiseMergeOp):
    name = "nn.maximum"


@irdl_op_definition
class MinimumOp(ElementwiseMergeOp):
    name = "nn.minimum"


@irdl_op_definition
class ConcatOp(NNLayerOp):
    """Concatenation along `axis` (non-negative, per-sample axes)."""

    name = "nn.concat"
    inputs = var_operand_def(TensorType)
    output = result_def(TensorType)
    axis = prop_def(IntegerAttr[I64])

    def __init__(self, inputs: Sequence[SSAValue], axis: int, layer: str):
        shapes = [shape_of(v) for v in inputs]
        out = list(shapes[0])
        out[axis] = sum(s[axis] for s in shapes)
        super().__init__(
            operands=[list(inputs)],
            result_types=[float_tensor(out)],
            properties=_layer_props(layer, axis=IntegerAttr(axis, i64)),
        )

    def verify_layer(self) -> None:
        shapes = [shape_of(v) for v in self.inputs]
        axis = self.axis.value.data
        rank = len(shapes[0])
        if len(shapes) < 2:
            raise self.fail("concatenation needs at least two inputs")
        if not 0 <= axis < rank:
            raise self.fail(f"axis {axis} is out of range for rank {rank}")
        for s in shapes:
            if len(s) != rank or any(s[a] != shapes[0][a] for a in range(rank) if a != axis):
                raise self.fail(f"input shapes {shapes} differ outside axis {axis}")
        expected = list(shapes[0])
        expected[axis] = sum(s[axis] for s in shapes)
        if shape_of(self.output) != tuple(expected):
            raise self.fail(f"result shape {shape_of(self.output)} must be {tuple(expected)}")


@irdl_op_definition
class DotOp(NNLayerOp):
    """Dot product of two vectors of one length: (n), (n) -> (1)."""

    name = "nn.dot"
    lhs = operand_def(TensorType)
    rhs = operand_def(TensorType)
    output = result_def(TensorType)

    PRECISION_VARS: ClassVar[tuple[str, ...]] = ("accum", "result")

    def __init__(self, lhs: SSAValue, rhs: SSAValue, layer: str):
        super().__init__(
            operands=[lhs, rhs], result_types=[float_tensor([1])], properties=_layer_props(layer)
        )

    def verify_layer(self) -> None:
        a, b = shape_of(self.lhs), shape_of(self.rhs)
        if len(a) != 1 or a != b:
            raise self.fail(f"dot needs two vectors of one length, got {a} and {b}")
        if shape_of(self.output) != (1,):
            raise self.fail("result shape must be (1,)")


# ----- shape ops ----------------------------------------------------------------------------------------------


class SameSizeOp(NNLayerOp, ABC):
    input = operand_def(TensorType)
    output = result_def(TensorType)

    def verify_layer(self) -> None:
        if prod(shape_of(self.input)) != prod(shape_of(self.output)):
            raise self.fail(
                f"cannot reshape {shape_of(self.input)} into {shape_of(self.output)}"
            )


@irdl_op_definition
class ReshapeOp(SameSizeOp):
    """Reshape to the result type's shape (row-major order is kept)."""

    name = "nn.reshape"

    def __init__(self, input: SSAValue, shape: Sequence[int], layer: str):
        super().__init__(
            operands=[input], result_types=[float_tensor(shape)], properties=_layer_props(layer)
        )


@irdl_op_definition
class FlattenOp(SameSizeOp):
    """Flatten to one axis (row-major)."""

    name = "nn.flatten"

    def __init__(self, input: SSAValue, layer: str):
        super().__init__(
            operands=[input],
            result_types=[float_tensor([prod(shape_of(input))])],
            properties=_layer_props(layer),
        )

    def verify_layer(self) -> None:
        super().verify_layer()
        if len(shape_of(self.output)) != 1:
            raise self.fail("flatten must give a 1-D result")


@irdl_op_definition
class TransposeOp(NNLayerOp):
    """Permute the per-sample axes: result axis i is input axis perm[i]."""

    name = "nn.transpose"
    input = operand_def(TensorType)
    output = result_def(TensorType)
    perm = prop_def(IntList)

    def __init__(self, input: SSAValue, perm: Sequence[int], layer: str):
        in_shape = shape_of(input)
        super().__init__(
            operands=[input],
            result_types=[float_tensor([in_shape[p] for p in perm])],
            properties=_layer_props(layer, perm=int_array(perm)),
        )

    def verify_layer(self) -> None:
        perm, in_shape = ints(self.perm), shape_of(self.input)
        if sorted(perm) != list(range(len(in_shape))):
            raise self.fail(f"perm {list(perm)} is not a permutation of {len(in_shape)} axes")
        expected = tuple(in_shape[p] for p in perm)
        if shape_of(self.output) != expected:
            raise self.fail(f"result shape {shape_of(self.output)} must be {expected}")


class SpatialResizeOp(NNLayerOp, ABC):
    """Ops that change the spatial axes (all but the last, channel axis) of a tensor."""

    input = operand_def(TensorType)
    output = result_def(TensorType)

    def expected_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    def verify_layer(self) -> None:
        expected = self.expected_shape()
        if min(expected) < 1:
            raise self.fail(f"would produce an empty tensor from {shape_of(self.input)}")
        if shape_of(self.output) != expected:
            raise self.fail(f"result shape {shape_of(self.output)} must be {expected}")


@irdl_op_definition
class PadOp(SpatialResizeOp):
    """Zero padding of the spatial axes: pads = (begin, end) per spatial axis."""

    name = "nn.pad"
    pads = prop_def(IntList)

    def __init__(self, input: SSAValue, pads: Sequence[int], layer: str):
        in_shape = shape_of(input)
        out = [in_shape[a] + pads[2 * a] + pads[2 * a + 1] for a in range(len(in_shape) - 1)]
        super().__init__(
            operands=[input],
            result_types=[float_tensor([*out, in_shape[-1]])],
            properties=_layer_props(layer, pads=int_array(pads)),
        )

    def expected_shape(self) -> tuple[int, ...]:
        in_shape, pads = shape_of(self.input), ints(self.pads)
        if len(pads) != 2 * (len(in_shape) - 1) or min(pads, default=0) < 0:
            raise self.fail(f"needs a non-negative (begin, end) pair per spatial axis, got {list(pads)}")
        spatial = tuple(in_shape[a] + pads[2 * a] + pads[2 * a + 1] for a in range(len(in_shape) - 1))
        return (*spatial, in_shape[-1])


@irdl_op_definition
class CropOp(SpatialResizeOp):
    """Cropping of the spatial axes: crops = (begin, end) per spatial axis."""

    name = "nn.crop"
    crops = prop_def(IntList)

    def __init__(self, input: SSAValue, crops: Sequence[int], layer: str):
        in_shape = shape_of(input)
        out = [in_shape[a] - crops[2 * a] - crops[2 * a + 1] for a in range(len(in_shape) - 1)]
        super().__init__(
            operands=[input],
            result_types=[float_tensor([*out, in_shape[-1]])],
            properties=_layer_props(layer, crops=int_array(crops)),
        )

    def expected_shape(self) -> tuple[int, ...]:
        in_shape, crops = shape_of(self.input), ints(self.crops)
        if len(crops) != 2 * (len(in_shape) - 1) or min(crops, default=0) < 0:
            raise self.fail(f"needs a non-negative (begin, end) pair per spatial axis, got {list(crops)}")
        spatial = tuple(in_shape[a] - crops[2 * a] - crops[2 * a + 1] for a in range(len(in_shape) - 1))
        return (*spatial, in_shape[-1])


@irdl_op_definition
class UpsampleOp(SpatialResizeOp):
    """Nearest-neighbour upsampling of the spatial axes by integer factors."""

    name = "nn.upsample"
    factors = prop_def(IntList)

    def __init__(self, input: SSAValue, factors: Sequence[int], layer: str):
        in_shape = shape_of(input)
        out = [in_shape[a] * factors[a] for a in range(len(in_shape) - 1)]
        super().__init__(
            operands=[input],
            result_types=[float_tensor([*out, in_shape[-1]])],
            properties=_layer_props(layer, factors=int_array(factors)),
        )

    def expected_shape(self) -> tuple[int, ...]:
        in_shape, factors = shape_of(self.input), ints(self.factors)
        if len(factors) != len(in_shape) - 1 or min(factors, default=1) < 1:
            raise self.fail(f"needs a positive factor per spatial axis, got {list(factors)}")
        return (*(in_shape[a] * factors[a] for a in range(len(in_shape) - 1)), in_shape[-1])


# ----- constants and inference no-ops ----------------------------------------------------------------------


@irdl_op_definition
class ConstantOp(NNLayerOp):
    """A constant tensor operand (an ONNX initializer fed to a merge, for example)."""

    name = "nn.constant"
    output = result_def(TensorType)
    value = prop_def(DenseIntOrFPElementsAttr)

    assembly_format = "attr-dict `:` type($output)"

    def __init__(self, value: np.ndarray, layer: str):
        super().__init__(
            result_types=[float_tensor(value.shape)],
            properties=_layer_props(layer, value=dense_attr(value)),
        )

    def verify_layer(self) -> None:
        if shape_of(self.output) != self.value.get_shape():
            raise self.fail(f"value shape {self.value.get_shape()} must equal the result shape")


class NoOpLayer(NNLayerOp, ABC):
    input = operand_def(TensorType)
    output = result_def(TensorType)

    def __init__(self, input: SSAValue, layer: str):
        super().__init__(operands=[input], result_types=[input.type], properties=_layer_props(layer))

    def verify_layer(self) -> None:
        if self.output.type != self.input.type:
            raise self.fail("result type must equal the input type")


@irdl_op_definition
class DropoutOp(NoOpLayer):
    """Dropout: the identity at inference (removed by nn-canonicalize)."""

    name = "nn.dropout"


@irdl_op_definition
class IdentityOp(NoOpLayer):
    """Identity (removed by nn-canonicalize)."""

    name = "nn.identity"


# ----- the model function ------------------------------------------------------------------------------


def model_function(module: ModuleOp) -> func.FuncOp:
    """The single model function of a module."""
    for op in module.ops:
        if isinstance(op, func.FuncOp):
            return op
    raise ModelError("the module holds no model function (func.func)")


@dataclass(frozen=True)
class ModelTypes:
    """The model default and maximum precision (function attributes written by nn-apply-config)."""

    default: FixedPrecision = DEFAULT_PRECISION
    maximum: FixedPrecision | None = None

    @staticmethod
    def of(function: func.FuncOp) -> ModelTypes:
        default = function.attributes.get(DEFAULT_PRECISION_ATTR)
        maximum = function.attributes.get(MAX_PRECISION_ATTR)
        return ModelTypes(
            type_precision(default) if isinstance(default, FixedPointType) else DEFAULT_PRECISION,
            type_precision(maximum) if isinstance(maximum, FixedPointType) else None,
        )


def resolved_precision(op: NNLayerOp, var: str, default: FixedPrecision) -> FixedPrecision:
    """A variable's type once inferred: its pinned type, else the default (never "auto")."""
    value = op.get_precision(var)
    return type_precision(value) if isinstance(value, FixedPointType) else default


def result_precision(value: SSAValue, default: FixedPrecision) -> FixedPrecision:
    """The precision of an nn value: its producer's type for that result (block arguments: the
    default)."""
    owner = value.owner
    if isinstance(owner, NNLayerOp) and isinstance(value, OpResult):
        return resolved_precision(owner, owner.RESULT_VARS[value.index], default)
    return default


def model_types(op: Operation) -> ModelTypes:
    """The model types of the model function holding `op` (defaults outside one)."""
    function = op.parent_op()
    while function is not None and not isinstance(function, func.FuncOp):
        function = function.parent_op()
    return ModelTypes.of(function) if function is not None else ModelTypes()


NN_OPS: list[type[Operation]] = [
    InputOp,
    DenseOp,
    Conv1DOp,
    Conv2DOp,
    DepthwiseConv1DOp,
    DepthwiseConv2DOp,
    PoolingOp,
    GlobalPoolOp,
    BatchNormOp,
    ActivationOp,
    SoftmaxOp,
    AddOp,
    SubOp,
    MulOp,
    AverageOp,
    MaximumOp,
    MinimumOp,
    ConcatOp,
    DotOp,
    ReshapeOp,
    FlattenOp,
    TransposeOp,
    PadOp,
    CropOp,
    UpsampleOp,
    ConstantOp,
    DropoutOp,
    IdentityOp,
]

NN_ATTRS: list[type[Attribute]] = [QuantizerAttr, QuantizerParams]
"""The attributes of the `nn` dialect (the quantizer attribute of nn.quantize and quantized constants)."""

NN = Dialect("nn", NN_OPS, NN_ATTRS)

