"""QONNX / ONNX QDQ / HGQ quantizers read by nnhls against the frameworks' own results.

* QONNX: qonnx's reference executors of `Quant`, `BipolarQuant` and `Trunc` (the functions its
  `execute_onnx` runs) on the same float32 inputs.
* ONNX QDQ: onnxruntime running QuantizeLinear -> DequantizeLinear models.
* HGQ (cannot be installed next to Keras 3): the corpus proxy models, whose files record, next to
  every quantizer, the fixed-point type HGQ derived for it (`overrides.result_t`), and hold weights
  already on HGQ's grids; plus HGQ's documented formula on hand-checked values.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from nnhls.dialects.fixed import parse_precision
from nnhls.dialects.quant import QuantOverflow, Rounding
from nnhls.frontends.hgq import read_fixed_point_quantizer
from nnhls.frontends.qonnx_ops import bipolar_quant, quant, quantize_linear, trunc
from nnhls.frontends.quant_config import QuantizerConfigError

RNG = np.random.default_rng(11)


def _inputs(step: float, shape: tuple[int, ...] = (64, 8)) -> np.ndarray:
    x = RNG.normal(0, 40 * step, size=shape)
    ties = (RNG.integers(-300, 300, size=shape) + 0.5) * step
    return np.where(RNG.random(shape) < 0.3, ties, x).astype(np.float32)


# ----- QONNX -------------------------------------------------------------------------------------------
qonnx_quant = pytest.importorskip("qonnx.custom_op.general.quant", reason="qonnx not installed")
from qonnx.custom_op.general.bipolar_quant import binary_quant  # noqa: E402
from qonnx.custom_op.general.trunc import trunc_v1  # noqa: E402


@pytest.mark.parametrize(
    "mode", ["ROUND", "HALF_EVEN", "CEIL", "FLOOR", "DOWN", "HALF_UP", "HALF_DOWN"]
)
@pytest.mark.parametrize(
    ("scale", "zero_point", "bits", "signed", "narrow"),
    [
        (0.0625, 0.0, 4, True, True),
        (0.25, 0.0, 4, True, False),
        (np.array([0.5, 0.125, 2.0, 1.0, 0.25, 0.0625, 1.0, 0.5], np.float32), 0.0, 6, True, False),
        (0.125, 3.0, 5, False, False),
        (0.03125, 0.0, 8, False, True),
        (1.0, 0.0, 2, True, False),
    ],
)
def test_quant_matches_qonnx(mode, scale, zero_point, bits, signed, narrow) -> None:
    step = float(np.min(scale))
    x = _inputs(step)
    theirs = qonnx_quant.quant(x, np.float32(scale) if np.isscalar(scale) else scale,
                               np.float32(zero_point), np.float32(bits), signed, narrow, mode)  # fmt: skip
    ours = quant(scale, zero_point, bits, signed, narrow, mode, "Quant_0")(x)
    assert np.array_equal(ours, np.asarray(theirs, np.float64))


def test_one_bit_signed_quant_and_bipolar_quant_match_qonnx() -> None:
    x = _inputs(0.5)
    x[0, :3] = [0.0, -0.0, -1e-30]
    theirs = qonnx_quant.quant(
        x, np.float32(0.5), np.float32(0), np.float32(1), True, False, "ROUND"
    )
    assert np.array_equal(quant(0.5, 0, 1, True, False, "ROUND", "q")(x), theirs)
    assert np.array_equal(bipolar_quant(0.25)(x), binary_quant(x, np.float32(0.25)))


@pytest.mark.parametrize("mode", ["FLOOR", "ROUND", "CEIL"])
def test_trunc_matches_qonnx(mode: str) -> None:
    x = (RNG.integers(-2000, 2000, size=(32, 8)) * 0.125).astype(np.float32)
    theirs = trunc_v1(x, np.float32(0.125), np.float32(0), np.float32(12), np.float32(8), mode)
    ours = trunc(x, 0.125, 0, 12, 8, mode, "Trunc_0")
    assert np.array_equal(ours, np.asarray(theirs, np.float64))


def test_quant_power_of_two_is_a_fixed_type_with_round_half_even() -> None:
    q = quant(0.0625, 0, 4, True, True, "ROUND", "Quant_0")
    assert str(q.fixed_precision()) == "fixed<4,0,RND_CONV,SAT_SYM>"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0.5, 0, 4, True, False, "STOCHASTIC"), "rounding_mode 'STOCHASTIC' is not supported"),
        ((0.5, 0, 0, True, False, "ROUND"), "bit width must be between 1 and 64"),
        ((0.5, 0, [4, 5], True, False, "ROUND"), "bit width must be one integer"),
        ((-0.5, 0, 4, True, False, "ROUND"), "scale must be positive"),
        ((0.5, 0.5, 4, True, False, "ROUND"), "zero point must be an integer"),
    ],
)
def test_bad_quant_parameters(args: tuple, message: str) -> None:
    with pytest.raises(QuantizerConfigError, match=f"^Quant_7: {message}"):
        quant(*args, "Quant_7")


# ----- ONNX QDQ vs onnxruntime -----------------------------------------------------------------------


def _qdq_model(
    scale: np.ndarray, zero_point: np.ndarray, axis: int | None, shape: list[int]
) -> bytes:
    qtype = TensorProto.UINT8 if zero_point.dtype == np.uint8 else TensorProto.INT8
    inits = [numpy_helper.from_array(scale, "s"), numpy_helper.from_array(zero_point, "z")]
    attrs = {} if axis is None else {"axis": axis}
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], **attrs),
        helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], **attrs),
    ]
    graph = helper.make_graph(
        nodes, "qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)], inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    assert qtype in (TensorProto.UINT8, TensorProto.INT8)
    return model.SerializeToString()


@pytest.mark.parametrize(
    ("scale", "zero_point", "axis"),
    [
        (np.float32(0.0125), np.int8(0), None),
        (np.float32(0.02), np.uint8(128), None),
        (np.float32(0.0078125), np.int8(-3), None),
        (np.array([0.01, 0.05, 0.003, 0.2], np.float32), np.array([0, 1, -2, 0], np.int8), 1),
        (np.array([0.01, 0.05, 0.003, 0.2], np.float32), np.array([10, 0, 200, 128], np.uint8), 1),
    ],
)
def test_quantize_dequantize_matches_onnxruntime(scale, zero_point, axis) -> None:
    shape = [50, 4]
    session = ort.InferenceSession(
        _qdq_model(np.asarray(scale), np.asarray(zero_point), axis, shape)
    )
    x = (RNG.normal(0, 1.0, size=shape) * np.asarray(scale) * 60).astype(np.float32)
    ties = ((RNG.integers(-100, 100, size=shape) + 0.5) * np.asarray(scale)).astype(np.float32)
    x = np.where(RNG.random(shape) < 0.3, ties, x).astype(np.float32)
    theirs = session.run(None, {"x": x})[0].astype(np.float64)
    element = TensorProto.UINT8 if np.asarray(zero_point).dtype == np.uint8 else TensorProto.INT8
    q = quantize_linear(scale, zero_point, element, axis, 2, "QuantizeLinear_0")
    ours = q(x)
    step = np.broadcast_to(np.asarray(scale, np.float64), x.shape)
    quotient = x / step
    near_tie = np.abs(np.abs(quotient - np.floor(quotient)) - 0.5) < 1e-4
    difference = np.abs(ours - theirs) / step
    # Within one quantization step everywhere (onnxruntime divides in float32, so a value at a
    # tie may round to the other side); identical up to float32 output rounding elsewhere.
    assert (difference <= 1 + 1e-5).all()
    assert (difference[~near_tie] < 1e-5).all()
    assert (~near_tie).sum() > 100


# ----- HGQ ---------------------------------------------------------------------------------------------


def _hgq_quantizers(path: Path) -> list[tuple[str, dict, list[np.ndarray]]]:
    with h5py.File(path) as f:
        config = json.loads(f.attrs["model_config"])
        weights = f["model_weights"]
        found = []
        for layer in config["config"]["layers"]:
            if layer["class_name"] != "FixedPointQuantizer":
                continue
            name = layer["config"]["name"]
            group = weights[name]
            arrays = [np.asarray(group[n]) for n in group.attrs["weight_names"]]
            found.append((name, layer["config"], arrays))
    return found


@pytest.mark.parametrize(
    "model", ["hgq_jet_classifier", "hgq_mnist_heterogeneous", "hgq_mnist_homogeneous"]
)
def test_hgq_quantizers_give_the_types_hgq_recorded(corpus: Path, model: str) -> None:
    """HGQ records for every quantizer result_t = the maxima of k, i = integers - k and
    f = bits - integers over its elements (zero-bit elements count as k = i = f = 0). Reproducing
    that from the quantizer nnhls read checks the reading; nnhls's own envelope (which ignores
    zero-bit elements) must hold the same values and never be wider."""
    quantizers = _hgq_quantizers(corpus / "keras" / f"{model}.h5")
    assert len(quantizers) >= 6
    heterogeneous = 0
    for name, config, arrays in quantizers:
        q = read_fixed_point_quantizer(config, arrays, name)
        shape = tuple(config["shape"][1:])
        recorded = parse_precision(config["overrides"]["layers"][name]["result_t"])
        bits, integer, signed = q.element_precisions(shape)
        zero = bits == 0
        k = np.where(zero, 0, signed).max()
        i = np.where(zero, 0, integer - signed).max()
        f = np.where(zero, 0, bits - integer).max()
        assert (k + i + f, k + i, bool(k)) == (recorded.width, recorded.integer, recorded.signed), (
            name
        )
        envelope = q.envelope_precision(shape)
        assert envelope is not None and envelope.width <= recorded.width, name
        assert envelope.integer - envelope.signed <= recorded.integer - recorded.signed, name
        assert q.rounding.value == config["RND"] and q.overflow.value == config["SAT"]
        heterogeneous += not q.homogeneous
    if model == "hgq_mnist_homogeneous":
        assert heterogeneous == 0
    else:
        assert heterogeneous >= 3


def test_hgq_weights_are_on_the_recorded_weight_grid(corpus: Path) -> None:
    """The proxy model's weights are already quantized: each kernel fits its recorded weight_t."""
    checked = 0
    with h5py.File(corpus / "keras" / "hgq_jet_classifier.h5") as f:
        config = json.loads(f.attrs["model_config"])
        for layer in config["config"]["layers"]:
            for owner, types in layer["config"].get("overrides", {}).get("layers", {}).items():
                if "weight_t" not in types:
                    continue
                group = f["model_weights"][owner]
                kernel = np.asarray(group[group.attrs["weight_names"][0]], np.float64)
                t = parse_precision(types["weight_t"])
                assert np.array_equal(
                    np.ldexp(np.round(np.ldexp(kernel, t.fractional)), -t.fractional), kernel
                )
                assert kernel.max() <= t.max_value and kernel.min() >= t.min_value
                checked += 1
    assert checked == 4


def test_hgq_formula_on_hand_checked_values() -> None:
    """gfixed: code = round(x * 2**f) (RND = floor(x + 0.5)), overflow on `bits`, value code / 2**f."""
    config = {"RND": "RND", "SAT": "WRAP", "shape": [1, 4]}
    # Elements: fixed<4,2>, ufixed<3,1>, fixed<0,..> (bits 0 -> 0), fixed<5,5> (integers).
    arrays = [np.array([[1, 0, 1, 1]], np.int8), np.array([[4, 3, 0, 5]], np.int8),
              np.array([[2, 1, 3, 5]], np.int8)]  # fmt: skip
    q = read_fixed_point_quantizer(config, arrays, "q")
    x = np.array([[0.625, 0.3125, 5.0, 17.5], [-2.125, 1.0, -1.0, -16.5], [1.9, -0.1, 0, 15.49]])
    values = q(x)
    assert values[0].tolist() == [0.75, 0.25, 0.0, -14.0]
    assert values[1].tolist() == [-2.0, 1.0, 0.0, -16.0]
    assert values[2].tolist() == [-2.0, 0.0, 0.0, 15.0]  # 1.9 * 4 = 7.6 -> 8 wraps to -8 -> -2
    sat = read_fixed_point_quantizer({**config, "SAT": "SAT_SYM", "RND": "TRN"}, arrays, "q")
    assert sat.overflow is QuantOverflow.SAT and sat.narrow and sat.rounding is Rounding.TRN
    assert sat(x)[2].tolist() == [1.75, 0.0, 0.0, 15.0]
    assert sat([[-100.0, -1.0, 0.0, -100.0]]).tolist() == [[-1.75, 0.0, 0.0, -15.0]]


@pytest.mark.parametrize(
    ("config", "arrays", "message"),
    [
        ({"RND": "STOCHASTIC"}, None, "RND='STOCHASTIC' is not supported"),
        ({"SAT": "WRAP_SM"}, None, "SAT='WRAP_SM' is not supported"),
        ({}, [np.zeros((1, 2))] * 2, "needs 3 weight arrays"),
        ({"shape": [1, 3]}, None, "do not match the config's shape"),
        (
            {},
            [np.array([[2, 1]]), np.array([[4, 4]]), np.array([[1, 1]])],
            "keep_negative must be 0 or 1",
        ),
        (
            {},
            [np.array([[1, 1]]), np.array([[-4, 4]]), np.array([[1, 1]])],
            "bits must be non-negative",
        ),
        ({"shape": [2, 2]}, [np.ones((2, 2))] * 3, "first \\(batch\\) axis"),
    ],
)
def test_bad_hgq_quantizers(config: dict, arrays: list | None, message: str) -> None:
    arrays = arrays or [np.array([[1, 0]]), np.array([[4, 4]]), np.array([[1, 1]])]
    with pytest.raises(QuantizerConfigError, match=message):
        read_fixed_point_quantizer({"shape": [1, 2], **config}, arrays, "dense_1_quantizer")


# ----- old Keras binary / ternary networks -------------------------------------------------------------


def test_binary_and_ternary_layers_by_their_documented_semantics(corpus: Path) -> None:
    """No package provides BinaryDense / TernaryDense, so the documented formulas are the
    reference: hand-checked values, and the corpus kernels map to exactly +-H / 0."""
    from nnhls.frontends import bnn

    x = np.array([-1.0, -0.5, -0.25, 0.0, 1e-3, 0.5, 0.75, 3.0])
    assert bnn.activation("binary_tanh", x).tolist() == [-1, -1, -1, -1, 1, 1, 1, 1]
    assert bnn.activation("ternary_tanh", x).tolist() == [-1, -1, 0, 0, 0, 0, 1, 1]
    assert bnn.activation("relu1", x).tolist() == [0, 0, 0, 0, 1e-3, 0.5, 0.75, 1]
    w = np.array([-0.7, -0.5, -0.2, 0.0, 0.2, 0.5, 0.6])
    assert bnn.quantize_kernel("BinaryDense", {"H": 1}, w, "b").tolist() == [
        -1,
        -1,
        -1,
        -1,
        1,
        1,
        1,
    ]
    assert bnn.quantize_kernel("TernaryDense", {"H": 1}, w, "t").tolist() == [-1, -1, 0, 0, 0, 0, 1]
    assert bnn.quantize_kernel("TernaryDense", {"H": 2.0}, w * 2, "t").tolist() == [
        -2,
        -2,
        0,
        0,
        0,
        0,
        2,
    ]
    with pytest.raises(QuantizerConfigError, match="H must be a positive number, got 'Glorot'"):
        bnn.kernel_quantizer("BinaryDense", {"H": "Glorot"}, "fc1")
    with h5py.File(corpus / "keras" / "KERAS_3layer_ternary_small_weights.h5") as f:
        kernels = [np.asarray(d) for d in _datasets(f) if d.name.endswith("kernel:0")]
    assert len(kernels) == 4
    for kernel in kernels:
        assert set(np.unique(bnn.quantize_kernel("TernaryDense", {"H": 1}, kernel, "t"))) <= {
            -1,
            0,
            1,
        }


def _datasets(group: h5py.Group) -> list[h5py.Dataset]:
    found: list[h5py.Dataset] = []
    group.visititems(lambda _, obj: found.append(obj) if isinstance(obj, h5py.Dataset) else None)
    return found
