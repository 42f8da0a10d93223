"""`nn.quantize`: a quantizer on a tensor (QKeras QActivation, HGQ FixedPointQuantizer, QONNX Quant
and BipolarQuant, ONNX QuantizeLinear + DequantizeLinear, binary_tanh), with all its rules.

    %1 = nn.quantize %0 {layer = "relu1", quantizer = #nn.quant<uniform, bits = 6,
                         signed = false, scale = 0.015625>} : (tensor<64xf32>) -> tensor<64xf32>

nn-infer-quantization (its own pass) folds most quantizers into the types of their producers; the
ones that stay are lowered here.

Precision: result = the quantizer's exact type when it is one fixed-point type, else the narrowest
type holding every value it outputs (`quantizer_type`); nn-infer-quantization sets it.
Lowering: a quantizer that is exactly its result type is an `hls.cast` (the type's rounding and
overflow modes do the work). Estimates: no multiplier, one cycle per element group.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, StringAttr, TensorType
from xdsl.ir import SSAValue
from xdsl.irdl import irdl_op_definition, operand_def, opt_prop_def, prop_def, result_def

from nnhls.dialects import hls, nn
from nnhls.dialects.fixed import FixedPrecision
from nnhls.dialects.quant import (
    AnyQuantizer,
    BinaryQuantizer,
    Po2Quantizer,
    TernaryQuantizer,
    UniformQuantizer,
    exact_precision,
)
from nnhls.dialects.quantizer_attr import QuantizerAttr
from nnhls.dialects.types import FixedPointType
from nnhls.ops.base import (
    Estimate,
    LayerTypes,
    Lowering,
    LoweringError,
    OpRules,
    ScheduleInfo,
    elementwise_estimate,
    register,
)

# ----- the op ------------------------------------------------------------------------------------------------


@irdl_op_definition
class QuantizeOp(nn.NNLayerOp):
    """A quantizer on a tensor, y = quantizer(x) with the semantics of `#nn.quant` (see
    nnhls.dialects.quant): QKeras's QActivation, HGQ's FixedPointQuantizer, QONNX's Quant and
    BipolarQuant, an ONNX QuantizeLinear + DequantizeLinear pair, the old binary_tanh.

    The quantizer's per-channel / per-element parameters broadcast against the tensor (per sample).
    The quantization-inference pass folds it into types where it can. With `input_scale` and
    `input_bias` (per channel, a batchnorm the pass folded in), y = quantizer(x * input_scale +
    input_bias), evaluated exactly.

        %1 = nn.quantize %0 {layer = "relu1", quantizer = #nn.quant<uniform, bits = 6,
                             signed = false, scale = 0.015625>} : (tensor<64xf32>) -> tensor<64xf32>
    """

    name = "nn.quantize"
    input = operand_def(TensorType)
    output = result_def(TensorType)
    quantizer = prop_def(QuantizerAttr)
    input_scale = opt_prop_def(DenseIntOrFPElementsAttr)
    input_bias = opt_prop_def(DenseIntOrFPElementsAttr)

    def __init__(self, input: SSAValue, quantizer: QuantizerAttr, layer: str):
        super().__init__(
            operands=[input],
            result_types=[input.type],
            properties={"layer": StringAttr(layer), "quantizer": quantizer},
        )

    def verify_layer(self) -> None:
        if nn.shape_of(self.output) != nn.shape_of(self.input):
            raise self.fail("result shape must equal the input shape")
        try:
            np.broadcast_shapes(self.quantizer.get_shape(), nn.shape_of(self.input))
        except ValueError:
            raise self.fail(
                f"quantizer shape {self.quantizer.get_shape()} does not broadcast against the "
                f"input shape {nn.shape_of(self.input)}"
            ) from None
        channels = nn.shape_of(self.input)[-1]
        for label, attr in (("input_scale", self.input_scale), ("input_bias", self.input_bias)):
            if attr is not None and attr.get_shape() != (channels,):
                raise self.fail(f"{label} shape {attr.get_shape()} must be ({channels},)")
        if (self.input_scale is None) != (self.input_bias is None):
            raise self.fail("input_scale and input_bias go together")

    def affine_input(self, x: np.ndarray) -> np.ndarray:
        """x * input_scale + input_bias in float64 (x itself without them)."""
        if self.input_scale is None or self.input_bias is None:
            return x
        scale = nn.to_numpy(self.input_scale).astype(np.float64)
        return x * scale + nn.to_numpy(self.input_bias).astype(np.float64)


# ----- types -------------------------------------------------------------------------------------------------


def output_levels(q: AnyQuantizer, shape: tuple[int, ...]) -> np.ndarray:
    """Every value a binary, ternary or power-of-two quantizer can output."""
    if isinstance(q, BinaryQuantizer):
        scale = np.broadcast_to(q.scale, shape) if q.scale.size > 1 else q.scale.reshape(1)
        low = 0.0 if q.zero_one else -1.0
        return np.concatenate([scale.reshape(-1), low * scale.reshape(-1)])
    if isinstance(q, TernaryQuantizer):
        scale = q.scale.reshape(-1)
        return np.concatenate([scale, -scale, [0.0]])
    assert isinstance(q, Po2Quantizer)
    powers = q.values()
    negative = -powers if (not q.relu or q.negative_slope) else np.zeros(0)
    return np.concatenate([powers, negative])


def quantizer_type(q: AnyQuantizer, shape: tuple[int, ...]) -> FixedPrecision:
    """The narrowest type holding every value the quantizer outputs on a tensor of `shape`."""
    if isinstance(q, UniformQuantizer):
        return q.fixed_precision() or q.envelope_precision(shape) or FixedPrecision(1, 1)
    return exact_precision(output_levels(q, shape)) or FixedPrecision(2, 2)


def is_cast(op: QuantizeOp) -> bool:
    """Whether the quantizer is one fixed-point type equal to its result type (a cast does it)."""
    q = op.quantizer.quantizer()
    if not isinstance(q, UniformQuantizer) or op.input_scale is not None:
        return False
    t = q.fixed_precision()
    result = op.get_precision("result")
    return t is not None and isinstance(result, FixedPointType) and result.precision == t


# ----- rules -------------------------------------------------------------------------------------------------


@register
class QuantizeRules(OpRules):
    op = QuantizeOp
    type_names = ("QActivation", "FixedPointQuantizer", "Quant", "BipolarQuant", "QuantizeLinear")

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        assert isinstance(op, QuantizeOp)
        lt.get("result", lambda: quantizer_type(op.quantizer.quantizer(), nn.shape_of(op.input)))

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        return elementwise_estimate(op, s, 0, 1)

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, QuantizeOp)
        x = lw.operand(op.input)
        if not is_cast(op):
            raise LoweringError(
                f"{op.name} '{op.layer_name}': no hls kernel yet for the quantizer "
                f"#nn.quant<{op.quantizer.kind.data}> (per-channel or per-element grids, binary, "
                "ternary, power-of-two activations)"
            )
        return [lw.emit(hls.CastOp, [x], lw.out_type(op), lw.common(op))]

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        assert isinstance(op, QuantizeOp)
        return [op.quantizer.quantizer()(op.affine_input(args[0]))]
