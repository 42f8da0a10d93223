"""Old Keras binary / ternary networks: `BinaryDense`, `TernaryDense` and their activations.

These custom layers come from an early Keras BNN code base (models in the hls4ml example zoo);
no package provides them, so nnhls reads them from their documented semantics:

* `BinaryDense(units, H, use_bias)`: the kernel is binarized, H * binary_tanh(W / H), before the
  dot product: +H where W / H > 0, else -H (0 goes to -H);
* `TernaryDense(units, H, use_bias)`: the kernel is ternarized: +H where W / H > 0.5, -H where
  W / H <= -0.5, else 0;
* `binary_tanh(x)` = 2 * round(hard_sigmoid(x)) - 1 with hard_sigmoid(x) = clip(0.5 x + 0.5, 0, 1)
  and round half to even: +1 where x > 0, else -1 (in float32, 0 < x <= 2**-24 also gives -1,
  because 0.5 x + 0.5 rounds to 0.5: no fixed-point input that fine exists in practice);
* `ternary_tanh(x)` = ternarize(clip(x, -1, 1)): +1 where x > 0.5, -1 where x <= -0.5, else 0;
* `relu1(x)` = min(max(x, 0), 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from nnhls.dialects.quant import BinaryQuantizer, TernaryQuantizer
from nnhls.frontends.quant_config import QuantizerConfigError

BINARY_LAYERS = ("BinaryDense", "TernaryDense")
ACTIVATIONS = ("binary_tanh", "ternary_tanh", "relu1")


def _h(config: dict[str, Any], where: str) -> float:
    h = config.get("H", 1.0)
    if isinstance(h, bool) or not isinstance(h, int | float) or not h > 0:
        raise QuantizerConfigError(
            where, f"H must be a positive number, got {h!r} (the 'Glorot' H is resolved only "
            "while training; a saved model needs its number)",
        )  # fmt: skip
    return float(h)


def kernel_quantizer(
    class_name: str, config: dict[str, Any], where: str
) -> BinaryQuantizer | TernaryQuantizer:
    """The quantizer a BinaryDense / TernaryDense layer applies to its kernel."""
    h = _h(config, where)
    if class_name == "BinaryDense":
        return BinaryQuantizer(np.asarray(h), zero_positive=False)
    if class_name == "TernaryDense":
        return TernaryQuantizer(0.5 * h, np.asarray(h), upper_inclusive=False)
    raise QuantizerConfigError(where, f"'{class_name}' is not a binary layer")


def quantize_kernel(
    class_name: str, config: dict[str, Any], kernel: npt.ArrayLike, where: str
) -> npt.NDArray[np.float64]:
    """The kernel values the layer multiplies with (exact: +-H or 0)."""
    return kernel_quantizer(class_name, config, where)(kernel)


def activation_quantizer(name: str) -> BinaryQuantizer | TernaryQuantizer | None:
    """binary_tanh / ternary_tanh as quantizers (relu1 is a clip, not a quantizer: None)."""
    if name == "binary_tanh":
        return BinaryQuantizer(zero_positive=False)
    if name == "ternary_tanh":
        return TernaryQuantizer(0.5, upper_inclusive=False)
    return None


def activation(name: str, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The documented forward function of binary_tanh, ternary_tanh or relu1."""
    quantizer = activation_quantizer(name)
    if quantizer is not None:
        return quantizer(x)
    if name == "relu1":
        return np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    raise ValueError(f"unknown activation '{name}'")
