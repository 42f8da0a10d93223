"""HGQ proxy models: the `FixedPointQuantizer` layer, read without HGQ or TensorFlow.

An HGQ (v1) proxy model is a plain Keras model whose every op is followed by a
`FixedPointQuantizer`; its weights are already on their grids. Each quantizer holds three int8
arrays in the weights file, in this order: `keep_negative` (k, sign bit or not), `bits` (total width,
sign included) and `integers` (integer bits, sign included), of the shape in its config (`shape`,
the batch axis first and 1) and broadcast against the tensor: one value (per tensor), one per
channel or one per element (heterogeneous precision). Its config names the rounding (`RND`: TRN,
RND, RND_CONV, TRN_ZERO, RND_ZERO, RND_MIN_INF, RND_INF) and overflow (`SAT`: WRAP, SAT, SAT_SYM)
modes of ap_fixed.

HGQ's semantics (its `gfixed_quantizer`): with f = bits - integers, codes round(x * 2**f) in the
rounding mode (RND is floor(x + 0.5)), then the overflow mode on a `bits`-wide range, signed when k;
value = code / 2**f, and 0 wherever bits == 0. That is exactly a `UniformQuantizer` with scale
2**-f per element; every float32 step HGQ takes is exact (power-of-two scaling, floor).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from nnhls.dialects.quant import QuantOverflow, Rounding, UniformQuantizer
from nnhls.frontends.quant_config import QuantizerConfigError

_ROUNDING = {r.value: r for r in Rounding if r is not Rounding.CEIL}
_OVERFLOW = {"WRAP": (QuantOverflow.WRAP, False), "SAT": (QuantOverflow.SAT, False),
             "SAT_SYM": (QuantOverflow.SAT, True)}  # fmt: skip

MAX_QUANTIZER_VALUES = 1 << 24
"""Largest per-element quantizer accepted (bounded before anything is allocated from it)."""


def _int8_array(value: Any, name: str, where: str) -> npt.NDArray[np.int64]:
    array = np.asarray(value)
    if array.dtype.kind not in "iu" and not (
        array.dtype.kind == "f" and np.isfinite(array).all() and (array == np.round(array)).all()
    ):
        raise QuantizerConfigError(where, f"FixedPointQuantizer {name} must be integers")
    return array.astype(np.int64)


def read_fixed_point_quantizer(
    config: dict[str, Any], weights: list[np.ndarray], where: str
) -> UniformQuantizer:
    """The quantizer of one `FixedPointQuantizer` layer (config and its three weight arrays).

    The arrays keep the config's shape without its leading batch axis, so they broadcast against
    the layer's output without batch (a scalar for a per-tensor quantizer).
    """
    rnd, sat = str(config.get("RND", "TRN")).upper(), str(config.get("SAT", "WRAP")).upper()
    if rnd not in _ROUNDING:
        raise QuantizerConfigError(
            where, f"rounding mode RND='{rnd}' is not supported; supported: {', '.join(_ROUNDING)}"
        )
    if sat not in _OVERFLOW:
        raise QuantizerConfigError(
            where, f"overflow mode SAT='{sat}' is not supported; supported: {', '.join(_OVERFLOW)}"
        )
    if len(weights) != 3:
        raise QuantizerConfigError(
            where,
            f"FixedPointQuantizer needs 3 weight arrays (keep_negative, bits, integers), "
            f"the file holds {len(weights)}",
        )
    shape = config.get("shape")
    if shape is not None and (
        not isinstance(shape, list | tuple) or not all(isinstance(d, int) and d > 0 for d in shape)
    ):
        raise QuantizerConfigError(where, f"invalid FixedPointQuantizer shape {shape!r}")
    keep_negative, bits, integers = (
        _int8_array(w, n, where)
        for w, n in zip(weights, ("keep_negative", "bits", "integers"), strict=True)
    )
    if not keep_negative.shape == bits.shape == integers.shape:
        raise QuantizerConfigError(where, "keep_negative, bits and integers differ in shape")
    if shape is not None and tuple(shape) != bits.shape:
        raise QuantizerConfigError(
            where, f"weights of shape {bits.shape} do not match the config's shape {tuple(shape)}"
        )
    if bits.size > MAX_QUANTIZER_VALUES:
        raise QuantizerConfigError(where, f"quantizer of {bits.size} values is too large")
    if ((keep_negative != 0) & (keep_negative != 1)).any():
        raise QuantizerConfigError(where, "keep_negative must be 0 or 1")
    if (bits < 0).any():
        raise QuantizerConfigError(where, "bits must be non-negative")
    if bits.ndim == 0 or bits.shape[0] != 1:
        raise QuantizerConfigError(where, f"the first (batch) axis of {bits.shape} must be 1")
    keep_negative, bits, integers = keep_negative[0], bits[0], integers[0]
    live = bits != 0
    keep_negative = np.where(live, keep_negative, 0)
    integers = np.where(live, integers, 0)
    overflow, narrow = _OVERFLOW[sat]
    return UniformQuantizer.make(
        bits,
        keep_negative.astype(bool),
        np.exp2((integers - bits).astype(np.float64)),
        narrow=narrow,
        rounding=_ROUNDING[rnd],
        overflow=overflow,
    )
