"""QKeras quantizers: their documented semantics at inference, read from a model's config.

`read_quantizer(spec, where)` turns a quantizer config (dict or string, see `quant_config`) into one
of the classes below. Each one has

* `quantize(x)`: the values QKeras computes at inference (float32 arithmetic where QKeras's float32
  steps can change a result, e.g. `floor(|x| / s + 0.5)` or the least-squares alpha), for weights and
  for reference forward passes;
* `activation`: the float function QKeras applies before quantizing (`None`, `"hard_sigmoid"`
  (QKeras's own: clip(0.5 x + 0.5, 0, 1)), `"hard_tanh"` (clip(x, -1, 1)), `"sigmoid"`, `"tanh"`,
  `"leaky_relu"`);
* `generic(weights)`: the framework-neutral quantizer of `nnhls.dialects.quant` that gives the same
  values on the activation's output (for weights, the data-dependent scales are computed from them).

Semantics (QKeras 0.9 / qkeras-v3 1.2, inference; stochastic variants are deterministic there):

* quantized_bits(bits, integer, symmetric, keep_negative, alpha): codes round(x * 2**(bits - k -
  integer)) half to even, clipped to a `bits`-wide signed (keep_negative, k = 1) or unsigned range,
  the most negative code dropped when symmetric; value = code * 2**(integer - bits + k) * alpha.
  alpha None / 1 is no scale; "auto" / "auto_po2" compute one scale per output channel (last axis)
  from the weights (QKeras's least-squares iterations, po2-rounded for auto_po2) and then round half
  away from zero on a symmetric grid; bits - k == 0 is the sign (+1 for 0).
* quantized_relu(bits, integer, negative_slope): unsigned codes of relu(x) (half to even, SAT) on
  step 2**(integer - bits); with a power-of-two negative_slope, one bit is the sign and negative
  inputs give round(slope * x / step) clipped at -slope * 2**(bits - 1).
* quantized_tanh(bits, symmetric) / quantized_sigmoid(bits, symmetric): the hard tanh / QKeras hard
  sigmoid, then codes round(p * 2**(bits - 1)) (tanh, signed) or round(p * 2**bits) (sigmoid,
  unsigned), clipped to [-1 + symmetric / m, 1 - 1 / m] / [symmetric / m, 1 - 1 / m].
* quantized_po2(bits, max_value) / quantized_relu_po2: sign(x) * 2**round(log2 |x|), exponents
  clipped to the range the bits allow, |x| < 1e-7 to the smallest power (never 0).
* binary(use_01, alpha): sign(x) with sign(0) = +1 (or {0, 1}), times alpha (auto: least squares).
* ternary(alpha, threshold): sign(x) where |x| >= threshold (0.33 by default) else 0, times alpha.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from nnhls.dialects.quant import (
    AnyQuantizer,
    BinaryQuantizer,
    Po2Quantizer,
    Rounding,
    TernaryQuantizer,
    UniformQuantizer,
)
from nnhls.frontends.quant_config import (
    QuantizerCall,
    QuantizerConfigError,
    bind,
    quantizer_call,
)

F32 = np.float32
EPSILON = F32(1e-7)
"""keras.backend.epsilon() as QKeras uses it (float32)."""

Array = npt.NDArray[Any]


def _f32(x: npt.ArrayLike) -> npt.NDArray[np.float32]:
    return np.asarray(x, dtype=np.float32)


def _round_even(x: Array) -> Array:
    return np.round(x)  # numpy rounds half to even, as tf.round and torch.round do


def _channel_axes(ndim: int) -> tuple[int, ...]:
    """Axes reduced for one scale per output channel (channels last: all but the last)."""
    return tuple(range(ndim - 1)) if ndim > 1 else (0,)


def _po2_round(scale: Array) -> Array:
    """2**round(log(scale + eps) / log(2)) in float32, as QKeras rounds a scale to a power of 2."""
    log2 = np.log(scale + EPSILON) / F32(np.log(2.0))
    return np.power(F32(2.0), _round_even(log2)).astype(np.float32)


def _least_squares_scale(alpha: str, x: Array, q: Array) -> Array:
    """mean(x q) / (mean(q q) + eps) per output channel, po2-rounded for auto_po2 (float32)."""
    axes = _channel_axes(x.ndim)
    if x.ndim > 1:
        qx = np.mean(x * q, axis=axes, keepdims=True, dtype=np.float32)
        qq = np.mean(q * q, axis=axes, keepdims=True, dtype=np.float32)
    else:
        qx, qq = x * q, q * q
    scale = np.asarray(qx / (qq + EPSILON), dtype=np.float32)
    return _po2_round(scale) if alpha == "auto_po2" else scale


def _is_one(value: Any) -> bool:
    return value is None or (not isinstance(value, str | list) and float(value) == 1.0)


def _alpha_array(alpha: Any, where: str) -> Array:
    try:
        array = np.asarray(alpha, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise QuantizerConfigError(where, f"invalid alpha {alpha!r}") from e
    if not (np.isfinite(array).all() and (array > 0).all()):
        raise QuantizerConfigError(where, f"alpha must be positive, got {alpha!r}")
    return array


@dataclass(frozen=True)
class QKerasQuantizer:
    """Base of the QKeras quantizers: parameters by their QKeras names."""

    name: str
    params: dict[str, Any]
    where: str

    PARAMS: ClassVar[tuple[tuple[str, Any], ...]] = ()

    @property
    def activation(self) -> str | None:
        """The float function applied before the quantizer's grid (None: identity)."""
        return None

    @property
    def data_dependent(self) -> bool:
        """Whether the scale depends on the values quantized (auto alphas): weights only."""
        return False

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def _error(self, problem: str) -> QuantizerConfigError:
        return QuantizerConfigError(self.where, f"{self.name}: {problem}")

    def check(self) -> None:
        noise = self.params.get("qnoise_factor", 1.0)
        if noise is not None and float(noise) != 1.0:
            raise self._error(f"qnoise_factor={noise} mixes float and quantized values")

    def quantize(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        raise NotImplementedError

    def generic(self, weights: npt.ArrayLike | None = None) -> AnyQuantizer:
        raise NotImplementedError

    def post_scale(self) -> npt.NDArray[np.float64] | None:
        """A multiplier QKeras applies to the quantizer's output (numeric alpha), None if 1."""
        return None


def _int_param(q: QKerasQuantizer, key: str, low: int, high: int) -> int:
    value = q[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise q._error(f"{key} must be an integer, got {value!r}")
    if not low <= int(value) <= high:
        raise q._error(f"{key} must be between {low} and {high}, got {value}")
    return int(value)


class QuantizedBits(QKerasQuantizer):
    PARAMS = (
        ("bits", 8), ("integer", 0), ("symmetric", 0), ("keep_negative", True), ("alpha", None),
        ("use_stochastic_rounding", False), ("scale_axis", None), ("qnoise_factor", 1.0),
        ("var_name", None), ("use_ste", True), ("use_variables", False),
        ("elements_per_scale", None), ("min_po2_exponent", None), ("max_po2_exponent", None),
        ("post_training_scale", None),
    )  # fmt: skip

    @property
    def data_dependent(self) -> bool:
        return isinstance(self["alpha"], str) and self["post_training_scale"] is None

    def check(self) -> None:
        super().check()
        _int_param(self, "bits", 1, 32)
        _int_param(self, "integer", -64, 64)
        alpha = self["alpha"]
        if isinstance(alpha, str):
            if alpha not in ("auto", "auto_po2"):
                raise self._error(
                    f"invalid alpha '{alpha}' (expected a number, 'auto', 'auto_po2')"
                )
            for key in ("scale_axis", "elements_per_scale", "min_po2_exponent", "max_po2_exponent"):
                if self[key] is not None:
                    raise self._error(f"{key} is not supported (one scale per output channel)")
        elif not _is_one(alpha):
            _alpha_array(alpha, self.where)

    @property
    def _k(self) -> int:
        return int(bool(self["keep_negative"]))

    def _step_exponent(self) -> int:
        return int(self["integer"]) - (int(self["bits"]) - self._k)

    # ----- auto alphas --------------------------------------------------------------------------
    def _auto_scale(self, x: Array) -> Array:
        """QKeras's per-channel scale of x / 2**integer (float32, keepdims shape)."""
        levels = F32((2 ** (int(self["bits"]) - 1) - 1) * 2)
        if self["post_training_scale"] is not None:
            m = F32(2.0 ** (int(self["bits"]) - self._k))
            return (_f32(self["post_training_scale"]) / m).astype(np.float32)
        axes = _channel_axes(x.ndim)
        scale = (np.max(np.abs(x), axis=axes, keepdims=True) * F32(2) / levels).astype(np.float32)
        if self["alpha"] == "auto_po2":
            scale = _po2_round(scale)
            for _ in range(5):
                z = self._auto_codes(x, scale, levels)
                scale = _least_squares_scale("auto_po2", x, z)
        return scale

    @staticmethod
    def _auto_codes(x: Array, scale: Array, levels: np.float32) -> Array:
        v = np.floor(np.abs(x) / scale + F32(0.5))
        z = np.where(v < levels / F32(2), v, levels / F32(2))
        return (np.sign(x) * z).astype(np.float32)

    def _auto(self, w: Array) -> tuple[Array, Array]:
        """(codes, per-channel scale of one code) for an auto alpha."""
        m_i = F32(2.0 ** int(self["integer"]))
        x = (w / m_i).astype(np.float32)
        levels = F32((2 ** (int(self["bits"]) - 1) - 1) * 2)
        scale = self._auto_scale(x)
        return self._auto_codes(x, scale, levels), (scale * m_i).astype(np.float32)

    # ----- semantics ------------------------------------------------------------------------------
    def quantize(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        xs = _f32(x)
        alpha = self["alpha"]
        if isinstance(alpha, str):
            codes, step = self._auto(xs)
            return (codes * step).astype(np.float64)
        scale = F32(1.0) if _is_one(alpha) else _alpha_array(alpha, self.where)
        if int(self["bits"]) - self._k <= 0:
            sign = np.where(xs >= 0, F32(1), F32(-1))
            if not self._k:
                sign = (sign + F32(1)) / F32(2)
            return (scale * sign).astype(np.float64)
        codes = self._grid().codes(xs)  # x * 2**-e is exact in float32: no float32 detail
        step = F32(2.0 ** self._step_exponent())
        return (scale * (codes.astype(np.float32) * step)).astype(np.float64)

    def post_scale(self) -> npt.NDArray[np.float64] | None:
        alpha = self["alpha"]
        if isinstance(alpha, str) or _is_one(alpha):
            return None
        return _alpha_array(alpha, self.where).astype(np.float64)

    def generic(self, weights: npt.ArrayLike | None = None) -> AnyQuantizer:
        alpha = self["alpha"]
        if isinstance(alpha, str):
            if weights is None:
                raise self._error(f"alpha='{alpha}' is computed from weights; not an activation")
            _, step = self._auto(_f32(weights))
            return UniformQuantizer.make(
                self["bits"],
                True,
                step.reshape(-1) if step.size > 1 else step.reshape(()),
                narrow=True,
                rounding=Rounding.RND_INF,
            )
        if int(self["bits"]) - self._k <= 0:
            return BinaryQuantizer(np.asarray(1.0, dtype=np.float64), zero_one=not self._k)
        return self._grid()

    def _grid(self) -> UniformQuantizer:
        """The integer grid of a fixed (not auto) alpha, before the alpha multiplier."""
        return UniformQuantizer.make(
            self["bits"],
            bool(self._k),
            2.0 ** self._step_exponent(),
            narrow=bool(self["symmetric"]) and bool(self._k),
        )


class QuantizedRelu(QKerasQuantizer):
    PARAMS = (
        ("bits", 8), ("integer", 0), ("use_sigmoid", 0), ("negative_slope", 0.0),
        ("use_stochastic_rounding", False), ("relu_upper_bound", None), ("is_quantized_clip", True),
        ("qnoise_factor", 1.0), ("var_name", None), ("use_ste", True), ("use_variables", False),
    )  # fmt: skip

    def check(self) -> None:
        super().check()
        _int_param(self, "bits", 1, 32)
        _int_param(self, "integer", -64, 64)
        if self["use_sigmoid"]:
            raise self._error("use_sigmoid=1 (the sigmoid-shaped relu) is not supported")
        slope = float(self["negative_slope"] or 0.0)
        if slope < 0 or (slope and np.log2(slope) != np.round(np.log2(slope))):
            raise self._error(f"negative_slope must be 0 or a power of two, got {slope}")
        if not self["is_quantized_clip"] and self["relu_upper_bound"] is not None:
            raise self._error("relu_upper_bound without is_quantized_clip is not supported")

    @property
    def slope(self) -> float:
        return float(self["negative_slope"] or 0.0)

    @property
    def _magnitude_bits(self) -> int:
        return int(self["bits"]) - (self.slope != 0.0)

    @property
    def step(self) -> float:
        return 2.0 ** (int(self["integer"]) - self._magnitude_bits)

    def quantize(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        xs = _f32(x).astype(np.float64)  # x / step is exact: float64 reproduces float32 here
        m = 2.0**self._magnitude_bits
        positive = np.clip(_round_even(xs / self.step), 0.0, m - 1) * self.step
        if not self.slope:
            return positive
        negative = np.clip(_round_even(xs * self.slope / self.step), -self.slope * m, 0.0)
        return positive + negative * self.step

    @property
    def activation(self) -> str | None:
        return "leaky_relu" if self.slope else None

    def generic(self, weights: npt.ArrayLike | None = None) -> AnyQuantizer:
        if self.slope:
            raise self._error("negative_slope has no single-grid quantizer (see quantize())")
        return UniformQuantizer.make(self["bits"], False, self.step)


class QuantizedTanh(QKerasQuantizer):
    PARAMS = (
        ("bits", 8), ("use_stochastic_rounding", False), ("symmetric", False),
        ("use_real_tanh", False),
    )  # fmt: skip

    def check(self) -> None:
        super().check()
        _int_param(self, "bits", 2, 32)

    @property
    def activation(self) -> str | None:
        return "tanh" if self["use_real_tanh"] else "hard_tanh"

    def quantize(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        xs = _f32(x)
        if self["use_real_tanh"]:
            p = np.tanh(xs)
        else:  # 2 * hard_sigmoid(x) - 1, in float32 as QKeras computes it
            p = F32(2.0) * np.clip(F32(0.5) * xs + F32(0.5), F32(0), F32(1)) - F32(1)
        m = F32(2.0 ** (int(self["bits"]) - 1))
        low = F32(-1.0) + F32(bool(self["symmetric"])) / m
        return np.clip(_round_even(p * m) / m, low, F32(1) - F32(1) / m).astype(np.float64)

    def generic(self, weights: npt.ArrayLike | None = None) -> AnyQuantizer:
        bits = int(self["bits"])
        return UniformQuantizer.make(bits, True, 2.0 ** (1 - bits), narrow=bool(self["symmetric"]))


class QuantizedSigmoid(QKerasQuantizer):
    PARAMS = (
        ("bits", 8), ("symmetric", False), ("use_real_sigmoid", False),
        ("use_stochastic_rounding", False),
    )  # fmt: skip

    def check(self) -> None:
        super().check()
        _int_param(self, "bits", 1, 32)
        if self["symmetric"]:
            raise self._error("symmetric=True (lowest code 1) is not supported")

    @property
    def activation(self) -> str | None:
        return "sigmoid" if self["use_real_sigmoid"] else "hard_sigmoid"

    def quantize(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        xs = _f32(x)
        if self["use_real_sigmoid"]:
            p = (F32(1) / (F32(1) + np.exp(-xs))).astype(np.float32)
        else:
            p = np.clip(F32(0.5) * xs + F32(0.5), F32(0), F32(1))
        m = F32(2.0 ** int(self["bits"]))
        return np.clip(_round_even(p * m) / m, F32(0), F32(1) - F32(1) / m).astype(np.float64)

    def generic(self, weights: npt.ArrayLike | None = None) -> AnyQuantizer:
        bits = int(self["bits"])
        return UniformQuantizer.make(bits, False, 2.0**-bits)


def _po2_exponent_range(q: QKerasQuantizer, magnitude_bits: int) -> tuple[int, int]:
    """QKeras's exponent range for the bits, the top tightened to what max_value lets through."""
    max_value = q["max_value"]
    if max_value is not None and not float(max_value) > 0:
        raise q._error(f"max_value must be positive, got {max_value}")
    sign_bit = 1 if max_value is None or float(max_value) > 1 else 0
    effective = magnitude_bits - sign_bit
    if effective < 0:
        raise q._error(f"{q['bits']} bits leave no exponent bits")
    low, high = -(2**effective), 2**effective - 1
    if q["quadratic_approximation"]:
        high = 2 * (high // 2)
    if max_value is not None:
        top = Po2Quantizer(low, high).exponents(np.asarray([float(F32(max_value))]))
        high = int(top[0])
    return low, high


class QuantizedPo2(QKerasQuantizer):
    PARAMS = (
        ("bits", 8), ("max_value", None), ("use_stochastic_rounding", False),
        ("quadratic_approximation", False), ("log2_rounding", "rnd"), ("qnoise_factor", 1.0),
        ("var_name", None), ("use_ste", True), ("use_variables", False),
    )  # fmt: skip

    def check(self) -> None:
        super().check()
        _int_param(self, "bits", 2, 16)
        if self["quadratic_approximation"]:
            raise self._error("quadratic_approximation is not supported")
        if self["log2_rounding"] != "rnd":
            raise self._error(f"log2_rounding='{self['log2_rounding']}' is not supported")
        self.generic()

    def generic(self, weights: npt.ArrayLike | None = None) -> Po2Quantizer:
        low, high = _po2_exponent_range(self, int(self["bits"]) - 1)
        max_value = self["max_value"]
        return Po2Quantizer(
            low, high, None if max_value is None else float(F32(max_value)), float(EPSILON)
        )

    def quantize(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return self.generic()(_f32(x))


class QuantizedReluPo2(QuantizedPo2):
    PARAMS = (
        ("bits", 8), ("max_value", None), ("negative_slope", 0), ("use_stochastic_rounding", False),
        ("quadratic_approximation", False), ("log2_rounding", "rnd"), ("qnoise_factor", 1.0),
        ("var_name", None), ("use_ste", True), ("use_variables", False),
    )  # fmt: skip

    def check(self) -> None:
        slope = float(self["negative_slope"] or 0.0)
        if slope < 0 or (slope and np.log2(slope) != np.round(np.log2(slope))):
            raise self._error(f"negative_slope must be 0 or a power of two, got {slope}")
        super().check()

    def generic(self, weights: npt.ArrayLike | None = None) -> Po2Quantizer:
        low, high = _po2_exponent_range(self, int(self["bits"]))
        max_value = self["max_value"]
        return Po2Quantizer(
            low,
            high,
            None if max_value is None else float(F32(max_value)),
            float(EPSILON),
            relu=True,
            negative_slope=float(self["negative_slope"] or 0.0),
        )


class Binary(QKerasQuantizer):
    PARAMS = (
        ("use_01", False), ("alpha", None), ("training", False), ("use_stochastic_rounding", False),
        ("scale_axis", None), ("elements_per_scale", None), ("min_po2_exponent", None),
        ("max_po2_exponent", None),
    )  # fmt: skip

    @property
    def data_dependent(self) -> bool:
        return isinstance(self["alpha"], str)

    def check(self) -> None:
        super().check()
        alpha = self["alpha"]
        if isinstance(alpha, str) and alpha not in ("auto", "auto_po2"):
            raise self._error(f"invalid alpha '{alpha}'")
        if not isinstance(alpha, str) and not _is_one(alpha):
            _alpha_array(alpha, self.where)
        for key in ("scale_axis", "elements_per_scale", "min_po2_exponent", "max_po2_exponent"):
            if self[key] is not None:
                raise self._error(f"{key} is not supported (one scale per output channel)")

    def _signs(self, xs: Array) -> Array:
        sign = np.where(xs >= 0, F32(1), F32(-1))
        return (sign + F32(1)) / F32(2) if self["use_01"] else sign

    def _scale(self, xs: Array) -> Array:
        alpha = self["alpha"]
        if isinstance(alpha, str):
            return _least_squares_scale(alpha, xs, self._signs(xs))
        return np.asarray(F32(1.0)) if _is_one(alpha) else _alpha_array(alpha, self.where)

    def quantize(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        xs = _f32(x)
        return (self._scale(xs) * self._signs(xs)).astype(np.float64)

    def generic(self, weights: npt.ArrayLike | None = None) -> AnyQuantizer:
        if self.data_dependent and weights is None:
            raise self._error(f"alpha='{self['alpha']}' is computed from weights")
        scale = self._scale(_f32(weights if weights is not None else 0.0))
        return BinaryQuantizer(scale.reshape(-1 if scale.size > 1 else ()).astype(np.float64),
                               zero_one=bool(self["use_01"]))  # fmt: skip


class Ternary(QKerasQuantizer):
    PARAMS = (
        ("alpha", None), ("threshold", None), ("use_stochastic_rounding", False),
        ("number_of_unrolls", 5),
    )  # fmt: skip

    @property
    def data_dependent(self) -> bool:
        return isinstance(self["alpha"], str)

    def check(self) -> None:
        super().check()
        alpha = self["alpha"]
        if isinstance(alpha, str):
            if alpha not in ("auto", "auto_po2"):
                raise self._error(f"invalid alpha '{alpha}'")
            if self["threshold"] is not None:
                raise self._error("a threshold with an auto alpha is not supported by QKeras")
        elif not _is_one(alpha):
            _alpha_array(alpha, self.where)

    def _auto(self, xs: Array) -> tuple[Array, Array]:
        """(codes in {-1, 0, 1}, per-channel scale) as QKeras iterates them."""
        axes = None if xs.ndim == 1 else _channel_axes(xs.ndim)
        scale = (F32(2) * np.max(np.abs(xs), axis=axes, keepdims=True) / F32(3)).astype(np.float32)
        if self["alpha"] == "auto_po2":
            scale = _po2_round(scale)
        q = np.zeros_like(xs)
        for _ in range(int(self["number_of_unrolls"])):
            threshold = scale / F32(2)
            v = scale * _round_even(xs / scale)
            q = ((np.abs(v) >= threshold) * np.sign(xs)).astype(np.float32)
            scale = _least_squares_scale(str(self["alpha"]), xs, q)
        return q, scale

    def quantize(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        xs = _f32(x)
        if isinstance(self["alpha"], str):
            q, scale = self._auto(xs)
            return (scale * q).astype(np.float64)
        threshold = F32(0.33 if self["threshold"] is None else self["threshold"])
        q = ((np.abs(xs) >= threshold) * np.sign(xs)).astype(np.float32)
        alpha = self["alpha"]
        scale = F32(1.0) if _is_one(alpha) else _alpha_array(alpha, self.where)
        return (scale * q).astype(np.float64)

    def generic(self, weights: npt.ArrayLike | None = None) -> AnyQuantizer:
        alpha = self["alpha"]
        if isinstance(alpha, str):
            raise self._error(
                f"alpha='{alpha}' thresholds move with the scale; use quantize() on the weights"
            )
        threshold = float(F32(0.33 if self["threshold"] is None else self["threshold"]))
        scale = 1.0 if _is_one(alpha) else _alpha_array(alpha, self.where).astype(np.float64)
        return TernaryQuantizer(threshold, np.asarray(scale, dtype=np.float64))


_QUANTIZERS: dict[str, type[QKerasQuantizer]] = {
    "quantized_bits": QuantizedBits,
    "quantized_relu": QuantizedRelu,
    "quantized_tanh": QuantizedTanh,
    "quantized_sigmoid": QuantizedSigmoid,
    "quantized_po2": QuantizedPo2,
    "quantized_relu_po2": QuantizedReluPo2,
    "binary": Binary,
    "stochastic_binary": Binary,
    "ternary": Ternary,
    "stochastic_ternary": Ternary,
}
SUPPORTED_QUANTIZERS = tuple(sorted(_QUANTIZERS))

_STOCHASTIC_ONLY = {
    # stochastic variants' extra training-only parameters, ignored at inference
    "stochastic_binary": ("temperature", "use_real_sigmoid"),
    "stochastic_ternary": ("temperature", "use_real_sigmoid"),
}


def read_quantizer(spec: Any, where: str) -> QKerasQuantizer | None:
    """The QKeras quantizer of a config entry (None when absent); errors name `where`."""
    call = quantizer_call(spec, where)
    if call is None:
        return None
    return make_quantizer(call, where)


def make_quantizer(call: QuantizerCall, where: str) -> QKerasQuantizer:
    cls = _QUANTIZERS.get(call.name)
    if cls is None:
        raise QuantizerConfigError(
            where,
            f"quantizer '{call.name}' is not supported; supported: "
            + ", ".join(SUPPORTED_QUANTIZERS),
        )
    kwargs = {k: v for k, v in call.kwargs.items() if k not in _STOCHASTIC_ONLY.get(call.name, ())}
    known = {p for p, _ in cls.PARAMS}
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise QuantizerConfigError(where, f"{call.name}: unknown parameter(s) {', '.join(unknown)}")
    params = bind(QuantizerCall(call.name, call.args, kwargs), cls.PARAMS, where)
    quantizer = cls(call.name, params, where)
    quantizer.check()
    return quantizer
