"""QONNX and ONNX QDQ quantization nodes as framework-neutral quantizers (no qonnx needed).

* `Quant(x, scale, zeropt, bitwidth; signed, narrow, rounding_mode)` (QONNX, Brevitas exports):
  y = clip(round(x / scale + zeropt)) - zeropt) * scale on a `bitwidth`-wide signed or unsigned
  integer range (narrow drops one code), `rounding_mode` ROUND / HALF_EVEN (ties to even), CEIL,
  FLOOR, DOWN (towards zero), HALF_UP (ties away from zero), HALF_DOWN (ties towards zero). A 1-bit
  signed Quant is bipolar: +1 where x / scale + zeropt >= 0, else -1.
* `BipolarQuant(x, scale)`: y = scale where x >= 0, else -scale.
* `Trunc(x, scale, zeropt, in_bitwidth, out_bitwidth; rounding_mode)` (QONNX v1): codes
  round(x / scale + zeropt) (ties to even) divided by 2**(in - out) and rounded with
  `rounding_mode` (FLOOR by default), value (code - zeropt) * scale: a power-of-two division of an
  integer, as Brevitas's average pooling uses it.
* `QuantizeLinear` + `DequantizeLinear` (ONNX): codes saturate(round_half_even(x / scale) + zp) in
  int8 / uint8 (also int16 / uint16 / int4 / uint4), per tensor or per channel along `axis`;
  the pair is the quantizer with those codes and (code - zp) * scale.

Scales, zero points and bit widths must be constants (initializers); per-channel parameters are
returned in the shape that broadcasts against the tensor in its original (channels-first) layout,
the front end moves them with the tensor.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nnhls.dialects.quant import (
    AnyQuantizer,
    BinaryQuantizer,
    Rounding,
    UniformQuantizer,
    round_with,
)
from nnhls.frontends.quant_config import QuantizerConfigError

QONNX_ROUNDING = {
    "ROUND": Rounding.RND_CONV,
    "HALF_EVEN": Rounding.RND_CONV,
    "CEIL": Rounding.CEIL,
    "FLOOR": Rounding.TRN,
    "DOWN": Rounding.TRN_ZERO,
    "HALF_UP": Rounding.RND_INF,
    "HALF_DOWN": Rounding.RND_ZERO,
}

QDQ_TYPES = {
    # ONNX TensorProto element type -> (bits, signed)
    2: (8, False),  # UINT8
    3: (8, True),  # INT8
    4: (16, False),  # UINT16
    5: (16, True),  # INT16
    21: (4, False),  # UINT4
    22: (4, True),  # INT4
}


def qonnx_rounding(mode: str, where: str) -> Rounding:
    rounding = QONNX_ROUNDING.get(mode.upper())
    if rounding is None:
        raise QuantizerConfigError(
            where,
            f"rounding_mode '{mode}' is not supported; supported: {', '.join(QONNX_ROUNDING)}",
        )
    return rounding


def _bit_width(value: npt.ArrayLike, where: str) -> int:
    array = np.asarray(value, dtype=np.float64)
    if array.size != 1 or array.reshape(()) != np.round(array.reshape(())):
        raise QuantizerConfigError(where, f"bit width must be one integer, got {array.tolist()}")
    bits = int(array.reshape(()))
    if not 1 <= bits <= 64:
        raise QuantizerConfigError(where, f"bit width must be between 1 and 64, got {bits}")
    return bits


def quant(
    scale: npt.ArrayLike,
    zero_point: npt.ArrayLike,
    bit_width: npt.ArrayLike,
    signed: bool,
    narrow: bool,
    rounding_mode: str,
    where: str,
) -> AnyQuantizer:
    """The quantizer of a QONNX `Quant` node (constant scale, zero point and bit width)."""
    bits = _bit_width(bit_width, where)
    scales = np.asarray(scale, dtype=np.float64)
    zps = np.asarray(zero_point, dtype=np.float64)
    if bits == 1 and signed:
        if (zps != 0).any():
            raise QuantizerConfigError(
                where, "a 1-bit signed Quant with a zero point is not supported"
            )
        return BinaryQuantizer(scales)
    try:
        return UniformQuantizer.make(
            bits, signed, scales, zps, narrow=narrow, rounding=qonnx_rounding(rounding_mode, where)
        )
    except QuantizerConfigError:
        raise
    except ValueError as e:
        raise QuantizerConfigError(where, str(e)) from e


def bipolar_quant(scale: npt.ArrayLike) -> BinaryQuantizer:
    """The quantizer of a QONNX `BipolarQuant` node."""
    return BinaryQuantizer(np.asarray(scale, dtype=np.float64))


def trunc(
    x: npt.ArrayLike,
    scale: npt.ArrayLike,
    zero_point: npt.ArrayLike,
    in_bits: npt.ArrayLike,
    out_bits: npt.ArrayLike,
    rounding_mode: str,
    where: str,
) -> npt.NDArray[np.float64]:
    """QONNX `Trunc` (v1) on x: drop in_bits - out_bits low bits of the integer codes."""
    dropped = _bit_width(in_bits, where) - _bit_width(out_bits, where)
    if dropped < 0:
        raise QuantizerConfigError(where, "Trunc output bit width exceeds its input's")
    scales = np.asarray(scale, dtype=np.float64)
    zps = np.asarray(zero_point, dtype=np.float64)
    codes = round_with(np.asarray(x, dtype=np.float64) / scales + zps, Rounding.RND_CONV)
    codes = round_with(codes / 2.0**dropped, qonnx_rounding(rounding_mode, where))
    return (codes - zps) * scales


def quantize_linear(
    scale: npt.ArrayLike,
    zero_point: npt.ArrayLike | None,
    element_type: int,
    axis: int | None,
    rank: int,
    where: str,
) -> UniformQuantizer:
    """The quantizer of a QuantizeLinear / DequantizeLinear pair.

    `element_type` is the ONNX type of the codes (int8 when the zero point is absent), `axis` the
    per-channel axis of the tensor of rank `rank` (None or ignored for a per-tensor scale).
    """
    if element_type not in QDQ_TYPES:
        raise QuantizerConfigError(where, f"quantized element type {element_type} is not supported")
    bits, signed = QDQ_TYPES[element_type]
    scales = np.asarray(scale, dtype=np.float64)
    zps = np.zeros_like(scales) if zero_point is None else np.asarray(zero_point, np.float64)
    if scales.ndim > 1 or zps.shape != scales.shape:
        raise QuantizerConfigError(where, "blocked quantization is not supported")
    if scales.ndim == 1 and scales.size > 1:
        channel_axis = (axis if axis is not None else 1) % rank
        shape = [1] * rank
        shape[channel_axis] = scales.size
        scales, zps = scales.reshape(shape), zps.reshape(shape)
    else:
        scales, zps = scales.reshape(()), zps.reshape(())
    try:
        return UniformQuantizer.make(bits, signed, scales, zps)
    except ValueError as e:
        raise QuantizerConfigError(where, str(e)) from e
