"""QKeras quantizers read by nnhls against QKeras itself (qkeras-v3 on Keras 3, torch backend).

nnhls reads quantizer configs without QKeras; here the same config strings are instantiated in
QKeras and both are applied to the same float32 inputs (random values, exact ties of every grid,
values beyond the range). Results must be identical bit for bit, except where QKeras's result
depends on the backend's float32 `log` (po2 exponents of values within a few ulps of 2**(k + 1/2),
excluded from the random data and bounded in a separate test) or on the summation order of a float32
mean (the non-power-of-two 'auto' alphas, compared to 1e-5 relative).
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from nnhls.dialects.quant import Po2Quantizer, UniformQuantizer
from nnhls.frontends.qkeras import read_quantizer
from nnhls.frontends.quant_config import QuantizerConfigError

qkeras = pytest.importorskip("qkeras", reason="qkeras-v3 (test dependency) not installed")
keras = pytest.importorskip("keras")
from qkeras import quantizers as qk  # noqa: E402

RNG = np.random.default_rng(2024)

EXACT = [
    "quantized_bits(6,0,alpha=1)",
    "quantized_bits(6,0,1,alpha=1)",
    "quantized_bits(4,2)",
    "quantized_bits(8,3,keep_negative=False)",
    "quantized_bits(5,-2,1)",
    "quantized_bits(4,0,1,alpha='auto_po2')",
    "quantized_bits(6,1,1,alpha='auto_po2')",
    "quantized_bits(3,0,alpha=0.75)",
    "quantized_bits(1,0)",
    "quantized_bits(2,0,1)",
    "quantized_relu(6,0)",
    "quantized_relu(3,1)",
    "quantized_relu(2)",
    "quantized_relu(8,3)",
    "quantized_relu(4,2,negative_slope=0.25)",
    "quantized_relu(6,2,relu_upper_bound=3)",
    "quantized_tanh(4)",
    "quantized_tanh(6,symmetric=True)",
    "quantized_sigmoid(4)",
    "quantized_sigmoid(8)",
    "quantized_po2(4,1)",
    "quantized_po2(4)",
    "quantized_po2(5,max_value=2)",
    "quantized_relu_po2(4)",
    "quantized_relu_po2(4,1)",
    "quantized_relu_po2(5,negative_slope=0.5)",
    "binary()",
    "binary(alpha=1)",
    "binary(use_01=True)",
    "binary(alpha='auto_po2')",
    "stochastic_binary()",
    "ternary()",
    "ternary(threshold=0.5)",
    "ternary(alpha=0.5)",
    "ternary(alpha='auto_po2')",
    "stochastic_ternary(alpha='auto_po2')",
]


def _away_from_po2_ties(x: np.ndarray) -> np.ndarray:
    """x with values within 8 float32 ulps of some 2**(k + 1/2) moved away from it."""
    a = np.abs(x.astype(np.float64))
    safe = np.where(a > 0, a, 1.0)
    half = np.exp2(np.round(np.log2(safe) - 0.5) + 0.5)
    near = np.abs(a - half) < 8 * np.spacing(half.astype(np.float32)).astype(np.float64)
    return np.where(near, x * np.float32(1.01), x).astype(np.float32)


def _inputs(shape: tuple[int, ...] = (48, 24)) -> np.ndarray:
    x = RNG.normal(0, 1.5, size=shape).astype(np.float32)
    for step in (1 / 64, 1 / 16, 1 / 4, 1.0):  # exact ties of the grids used above
        ties = ((RNG.integers(-80, 80, size=shape) + 0.5) * step).astype(np.float32)
        x = np.where(RNG.random(shape) < 0.1, ties, x)
    x[0, :6] = [0.0, -0.0, 1e-9, -1e-9, 1e4, -1e4]
    return _away_from_po2_ties(x.astype(np.float32))


def _qkeras(spec: str | dict, x: np.ndarray) -> np.ndarray:
    """QKeras's own result: its `get_quantizer` builds the quantizer from the same config."""
    quantizer = qk.get_quantizer(spec)
    return keras.ops.convert_to_numpy(quantizer(keras.ops.convert_to_tensor(x))).astype(np.float64)


@pytest.mark.parametrize("spec", EXACT)
def test_quantizer_matches_qkeras_bit_for_bit(spec: str) -> None:
    x = _inputs()
    ours = read_quantizer(spec, "test").quantize(x)  # type: ignore[union-attr]
    assert np.array_equal(ours, _qkeras(spec, x)), spec


def _has_generic_form(spec: str) -> bool:
    """Quantizers whose IR form is a plain grid: not those an activation precedes, nor the ternary
    ones whose data-dependent thresholds move with the scale."""
    q = read_quantizer(spec, "test")
    assert q is not None
    return "negative_slope" not in spec and q.activation is None and not (q.data_dependent and "ternary" in spec)


@pytest.mark.parametrize("spec", [s for s in EXACT if _has_generic_form(s)])
def test_generic_quantizer_gives_the_same_values(spec: str) -> None:
    """The framework-neutral form (what the IR carries) reproduces QKeras on the grid's input."""
    x = _inputs()
    q = read_quantizer(spec, "test")
    assert q is not None
    generic = q.generic(x)
    values = generic(x)
    scale = q.post_scale()
    if scale is not None:
        values = (values * scale).astype(np.float32).astype(np.float64)
    assert np.array_equal(values, _qkeras(spec, x)), spec


@pytest.mark.parametrize("spec", ["quantized_bits(4,0,1,alpha='auto')", "binary(alpha='auto')",
                                  "ternary(alpha='auto')"])  # fmt: skip
def test_least_squares_alphas_agree_to_float32_rounding(spec: str) -> None:
    x = _inputs()
    ours = read_quantizer(spec, "test").quantize(x)  # type: ignore[union-attr]
    np.testing.assert_allclose(ours, _qkeras(spec, x), rtol=1e-5, atol=0)


def test_po2_exponent_ties_differ_only_near_half_exponents() -> None:
    """Within a few ulps of 2**(k + 1/2) QKeras's result depends on the float32 log of its backend;
    nnhls rounds log2 exactly. Elsewhere they agree; near the ties at most one power apart."""
    e = RNG.integers(-10, 3, size=2000).astype(np.float64)
    x = (np.exp2(e + 0.5) * (1 + RNG.integers(-4, 5, size=2000) * 2.0**-23)).astype(np.float32)
    ours = read_quantizer("quantized_po2(5)", "test").quantize(x)  # type: ignore[union-attr]
    theirs = _qkeras("quantized_po2(5)", x)
    ratio = ours / theirs
    assert set(np.unique(ratio).tolist()) <= {0.5, 1.0, 2.0}
    assert (ratio == 1.0).mean() > 0.5


# ----- the corpus models' own weights ------------------------------------------------------------------


def _quantized_layers(json_path: Path) -> list[dict]:
    config = json.loads(json_path.read_text())["config"]
    layers = config["layers"] if isinstance(config, dict) else config
    return [layer for layer in layers if layer["class_name"] in ("QDense", "QConv2D")]


@pytest.mark.parametrize("model", ["qkeras_3layer", "qkeras_mnist_dense", "qkeras_mnist_cnn"])
def test_corpus_weights_quantized_as_qkeras_does(corpus: Path, model: str) -> None:
    layers = _quantized_layers(corpus / "keras" / f"{model}.json")
    assert layers
    with h5py.File(corpus / "keras" / f"{model}_weights.h5") as f:
        for layer in layers:
            name, config = layer["config"]["name"], layer["config"]
            group = f[name]
            names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
            arrays = {n.split("/")[-1].split(":")[0]: np.asarray(group[n]) for n in names}
            for var, key in (("kernel", "kernel_quantizer"), ("bias", "bias_quantizer")):
                spec = config[key]
                ours = read_quantizer(spec, f"{name}.{key}")
                assert ours is not None
                theirs = _qkeras(spec, arrays[var])
                assert np.array_equal(ours.quantize(arrays[var]), theirs), f"{model}/{name}/{var}"


def test_corpus_quantizers_map_to_exact_generic_forms(corpus: Path) -> None:
    layers = _quantized_layers(corpus / "keras" / "qkeras_mnist_dense.json")
    kernel = read_quantizer(layers[0]["config"]["kernel_quantizer"], "q_dense_2")
    assert kernel is not None
    po2 = kernel.generic()
    assert isinstance(po2, Po2Quantizer) and (po2.min_exp, po2.max_exp) == (-8, 0)
    bias = read_quantizer(layers[1]["config"]["bias_quantizer"], "q_dense_3")
    assert isinstance(bias.generic(), UniformQuantizer)  # type: ignore[union-attr]
    assert str(bias.generic().fixed_precision()) == "fixed<4,1,RND_CONV,SAT_SYM>"  # type: ignore


# ----- reading configs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("__import__('os').system('true')", "expected name\\(args\\)|only literal"),
        ("quantized_bits(bits=open('x'))", "only literal"),
        ("quantized_bits(*[1])", "no \\* or \\*\\* arguments"),
        ("quantized_ulaw(8)", "quantizer 'quantized_ulaw' is not supported; supported: binary"),
        (
            "quantized_bits(4, 0, 0, 1, None, False, None, 1.0, None, True, False, None, None, None, None, 9)",
            "at most 15",
        ),
        ("quantized_bits(4, frobnicate=1)", "unknown parameter\\(s\\) frobnicate"),
        ("quantized_bits(4, alpha='best')", "invalid alpha 'best'"),
        ("quantized_bits(0)", "bits must be between 1 and 32"),
        ("quantized_bits(4, qnoise_factor=0.5)", "qnoise_factor=0.5"),
        ("quantized_relu(4, negative_slope=0.3)", "power of two"),
        ("quantized_po2(4, quadratic_approximation=True)", "quadratic_approximation"),
        ("quantized_bits(4,", "cannot read quantizer"),
    ],
)
def test_bad_quantizer_configs_are_one_line_errors(spec: str, message: str) -> None:
    with pytest.raises(QuantizerConfigError, match=message) as info:
        read_quantizer(spec, "layer 'fc1' kernel_quantizer")
    assert str(info.value).startswith("layer 'fc1' kernel_quantizer: ")
    assert "\n" not in str(info.value)


def test_dict_and_string_forms_agree() -> None:
    as_dict = {"class_name": "quantized_bits", "config": {"bits": 6, "integer": 0, "symmetric": 0,
               "alpha": 1, "keep_negative": True, "use_stochastic_rounding": False,
               "qnoise_factor": 1.0}, "registered_name": "qkeras>quantized_bits"}  # fmt: skip
    x = _inputs()
    a, b = read_quantizer(as_dict, "d"), read_quantizer("quantized_bits(6,0,alpha=1)", "s")
    assert a is not None and b is not None
    assert np.array_equal(a.quantize(x), b.quantize(x))
