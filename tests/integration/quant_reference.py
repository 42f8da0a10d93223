"""Reference forward passes for quantized Keras models that no installable framework runs.

HGQ v1 proxy models need Keras 2 / TensorFlow, and the old BinaryDense / TernaryDense layers exist
in no package, so their reference is written here from the documented semantics, independently of
nnhls's readers (its own small h5py reader and its own quantizer formulas):

* HGQ `FixedPointQuantizer`: f = bits - integers; code = RND(x * 2**f) with RND floor(v + 0.5)
  (RND) or floor(v) (TRN); WRAP into the bits-wide range (signed when keep_negative) or SAT;
  value code / 2**f; 0 where bits == 0.
* BinaryDense: kernel -> +H where W / H > 0 else -H; TernaryDense: +H where W / H > 0.5, -H where
  W / H <= -0.5, else 0; binary_tanh: +1 where x > 0 else -1; ternary_tanh: +1 where x > 0.5, -1
  where x <= -0.5, else 0; relu1: clip(x, 0, 1).

Arithmetic is float64: with the quantized weights and activations of these models every dense and
convolution sum is exact (well under 53 significant bits), so the values are the exact ones a
fixed-point implementation must produce; BatchNormalization (float in the model) is evaluated in
float64 as the float model defines it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np

Array = np.ndarray


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _weights(group: h5py.Group) -> dict[str, list[Array]]:
    """Keras 2 H5 weights: layer name -> arrays in `weight_names` order."""
    found: dict[str, list[Array]] = {}
    for layer in group.attrs["layer_names"]:
        name = _text(layer)
        sub = group[name]
        found[name] = [np.asarray(sub[_text(w)], np.float64) for w in sub.attrs["weight_names"]]
    return found


def load(
    model: Path, weights: Path | None = None
) -> tuple[list[dict[str, Any]], dict[str, list[Array]]]:
    """The layer list (a linear chain) and the weights of a JSON + H5 pair or a full-model .h5."""
    if weights is None:
        with h5py.File(model) as f:
            config = json.loads(_text(f.attrs["model_config"]))
            arrays = _weights(f["model_weights"])
    else:
        config = json.loads(model.read_text())
        with h5py.File(weights) as f:
            arrays = _weights(f)
    layers = config["config"]["layers"] if isinstance(config["config"], dict) else config["config"]
    return layers, arrays


# ----- quantizer formulas --------------------------------------------------------------------------------


def hgq_quantize(x: Array, k: Array, b: Array, i: Array, rnd: str, sat: str) -> Array:
    f = b - i
    v = x * np.exp2(f)
    if rnd == "RND":
        code = np.floor(v + 0.5)
    elif rnd == "TRN":
        code = np.floor(v)
    else:
        raise NotImplementedError(rnd)
    high = np.exp2(b - k) - 1
    low = -(high + 1) * k
    if sat == "WRAP":
        code = np.mod(code - low, high - low + 1) + low
    elif sat == "SAT":
        code = np.clip(code, low, high)
    else:
        raise NotImplementedError(sat)
    return np.where(b == 0, 0.0, code / np.exp2(f))


def binary_tanh(x: Array) -> Array:
    return np.where(x > 0, 1.0, -1.0)


def ternary_tanh(x: Array) -> Array:
    return np.where(x > 0.5, 1.0, np.where(x <= -0.5, -1.0, 0.0))


def _binarize(w: Array, h: float) -> Array:
    return np.where(w / h > 0, h, -h)


def _ternarize(w: Array, h: float) -> Array:
    return np.where(w / h > 0.5, h, np.where(w / h <= -0.5, -h, 0.0))


# ----- layers ---------------------------------------------------------------------------------------------


def _conv2d(x: Array, kernel: Array, strides: tuple[int, int]) -> Array:
    kh, kw = kernel.shape[:2]
    sh, sw = strides
    n, h, w, _ = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.zeros((n, oh, ow, kernel.shape[3]))
    for a in range(kh):
        for b in range(kw):
            patch = x[:, a : a + sh * oh : sh, b : b + sw * ow : sw, :]
            out += patch @ kernel[a, b]
    return out


def _maxpool2d(x: Array, pool: tuple[int, int]) -> Array:
    n, h, w, c = x.shape
    ph, pw = pool
    oh, ow = h // ph, w // pw
    return x[:, : oh * ph, : ow * pw, :].reshape(n, oh, ph, ow, pw, c).max(axis=(2, 4))


_ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "binary_tanh": binary_tanh,
    "ternary_tanh": ternary_tanh,
    "relu1": lambda x: np.clip(x, 0.0, 1.0),
}


def forward(
    layers: list[dict[str, Any]],
    weights: dict[str, list[Array]],
    x: Array,
    stop_before_softmax: bool = True,
) -> dict[str, Array]:
    """Every layer's output (float64) for inputs x, in layer order; stops before a final softmax."""
    outputs: dict[str, Array] = {}
    value = np.asarray(x, np.float64)
    for layer in layers:
        kind, config = layer["class_name"], layer["config"]
        name = config["name"]
        w = weights.get(name, [])
        if kind == "InputLayer":
            continue
        if kind == "FixedPointQuantizer":
            k, b, i = (a[0] for a in w)  # drop the batch axis
            value = hgq_quantize(value, k, b, i, config["RND"], config["SAT"])
        elif kind in ("Dense", "BinaryDense", "TernaryDense"):
            kernel = w[0]
            if kind == "BinaryDense":
                kernel = _binarize(kernel, float(config.get("H", 1.0)))
            elif kind == "TernaryDense":
                kernel = _ternarize(kernel, float(config.get("H", 1.0)))
            value = value @ kernel + (w[1] if config.get("use_bias", True) else 0.0)
            value = _ACTIVATIONS[config.get("activation", "linear")](value)
        elif kind == "Conv2D":
            assert config["padding"] == "valid" and tuple(config.get("dilation_rate", (1, 1))) in (
                (1, 1),
                (1,),
            )
            value = _conv2d(value, w[0], tuple(config["strides"])) + w[1]
            value = _ACTIVATIONS[config.get("activation", "linear")](value)
        elif kind == "Activation":
            if config["activation"] == "softmax" and stop_before_softmax:
                break
            value = _ACTIVATIONS[config["activation"]](value)
        elif kind == "BatchNormalization":
            gamma, beta, mean, var = w if config.get("scale", True) else (1.0, *w)
            value = gamma * (value - mean) / np.sqrt(var + config["epsilon"]) + beta
        elif kind == "MaxPooling2D":
            assert tuple(config["strides"]) == tuple(config["pool_size"])
            value = _maxpool2d(value, tuple(config["pool_size"]))
        elif kind == "Reshape":
            value = value.reshape(value.shape[0], *config["target_shape"])
        elif kind == "Flatten":
            value = value.reshape(value.shape[0], -1)
        elif kind == "Dropout":
            pass
        else:
            raise NotImplementedError(kind)
        outputs[name] = value
    return outputs
