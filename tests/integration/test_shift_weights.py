"""Multiplier-free kernels: dense and convolution layers whose weights are all 0 or +-2^k.

Such layers are lowered with `weight_encoding` (binary / ternary / po2): the weights are stored as
shift codes (nnet::po2_weight, nnet_common.h) and every product is a shift and a negation. The
products are exact either way, so what must hold is that the g++ build equals the numpy emulator
and the framework (or a reference written from the documented semantics) bit for bit, in both io
types and strategies, with the same per-term cast rule into a narrow, rounding, saturating
accumulator as the multiplying kernels.

* A QKeras model built here with qkeras-v3: QConv1D with ternary weights, QSeparableConv1D with
  quantized_po2 depthwise and binary pointwise weights, QDense with quantized_po2 weights, QDense
  with binary weights; its inputs lie on a 1/8 grid, so Keras's float32 arithmetic is exact and its
  logits are the exact ones.
* The corpus's old-Keras BinaryDense net against the reference forward pass of quant_reference.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nnhls
from nnhls.codegen.firmware import build_firmware
from nnhls.codegen.project import write_project
from nnhls.compiler.context import make_context
from nnhls.errors import CodegenError

QUANTIZERS = {"conv": "ternary(alpha=0.5)", "fc1": "quantized_po2(4)", "fc2": "binary(alpha=1)"}
SEPARABLE = {"depthwise_quantizer": "quantized_po2(3)", "pointwise_quantizer": "binary(alpha=0.5)"}
ENCODINGS = ["ternary", "po2", "binary", "po2", "binary"]  # conv, sep (depthwise, pointwise), fc1, fc2
BIAS = "quantized_bits(8,3,alpha=1)"


@pytest.fixture(scope="module")
def qkeras_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, np.ndarray, dict]:
    """The saved model, its inputs, Keras's logits (before the softmax) and the quantized weights
    and biases of every layer, as QKeras's own quantizers give them."""
    pytest.importorskip("qkeras", reason="qkeras-v3 (test dependency) not installed")
    keras = pytest.importorskip("keras")
    import qkeras
    from qkeras import QActivation, QConv1D, QDense, QSeparableConv1D

    rng = np.random.default_rng(7)
    inp = keras.Input((8, 2), name="x")
    h = QConv1D(4, 3, kernel_quantizer=QUANTIZERS["conv"], bias_quantizer=BIAS, name="conv")(inp)
    h = QActivation("quantized_relu(6,2)", name="relu1")(h)
    h = QSeparableConv1D(4, 2, **SEPARABLE, bias_quantizer=BIAS, name="sep")(h)
    h = QActivation("quantized_relu(6,2)", name="relu3")(h)
    h = keras.layers.Flatten(name="flat")(h)
    h = QDense(8, kernel_quantizer=QUANTIZERS["fc1"], bias_quantizer=BIAS, name="fc1")(h)
    h = QActivation("quantized_relu(6,2)", name="relu2")(h)
    h = QDense(3, kernel_quantizer=QUANTIZERS["fc2"], bias_quantizer=BIAS, name="fc2")(h)
    model = keras.Model(inp, keras.layers.Activation("softmax", name="softmax")(h))
    quantized: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for layer in model.layers:
        layer.set_weights([rng.normal(0, 0.6, v.shape).astype(np.float32) for v in layer.get_weights()])
    for name, spec in QUANTIZERS.items():
        w, b = model.get_layer(name).get_weights()
        as_array = lambda q, v: np.asarray(keras.ops.convert_to_numpy(q(v)), np.float64)  # noqa: E731
        quantized[name] = (as_array(qkeras.get_quantizer(spec), w), as_array(qkeras.get_quantizer(BIAS), b))
    path = tmp_path_factory.mktemp("shift") / "shift.keras"
    model.save(path)
    x = (rng.integers(-12, 12, (64, 8, 2)) / 8).astype(np.float32)
    cut = keras.Model(model.inputs, model.get_layer("fc2").output)
    logits = np.asarray(cut.predict(x, verbose=0), np.float64)
    return path, x.astype(np.float64), logits, quantized


def _convert(path: Path, out: Path, io_type: str, config: dict) -> nnhls.model.graph.ModelGraph:
    model = nnhls.converters.convert_from_keras_model(str(path), hls_config=config, output_dir=str(out), io_type=io_type)
    encodings = [line.split('weight_encoding = "')[1].split('"')[0] for line in model.ir("hls").splitlines() if "weight_encoding" in line]
    assert encodings == ENCODINGS
    return model


@pytest.mark.slow
@pytest.mark.parametrize(
    ("io_type", "strategy", "reuse"),
    [("io_parallel", "Latency", 1), ("io_stream", "Resource", 2)],
)
def test_qkeras_shift_kernels_bit_identical_to_qkeras(
    qkeras_model, tmp_path: Path, io_type: str, strategy: str, reuse: int
) -> None:
    path, x, logits, _ = qkeras_model
    config = {"Model": {"Precision": "fixed<16,6>", "Strategy": strategy, "ReuseFactor": reuse, "SnapReuseFactor": True}}
    model = _convert(path, tmp_path / "prj", io_type, config)
    report = {row["layer"]: row for row in model.layer_report()}
    assert [row["multipliers"] for row in report.values() if row["op"] in ("hls.dense", "hls.conv1d", "hls.depthwise_conv1d")] == [0] * 5
    assert "(ternary: 2-bit codes, shift-add)" in report["conv"]["types"]
    assert "(binary: 1-bit codes, shift-add)" in report["fc2"]["types"]
    ours = model.trace(x, layers=["fc2"], emulator="numpy")["fc2"]
    assert np.array_equal(ours.reshape(logits.shape), logits)
    model.compile()
    assert np.array_equal(model.trace(x, layers=["fc2"])["fc2"], ours)
    assert (model.predict(x).argmax(1) == logits.argmax(1)).all()


@pytest.mark.slow
def test_vendor_ap_types_build_of_the_shift_kernels(qkeras_model, vendor_ap_types, tmp_path: Path) -> None:
    """The project of the first case above (same configuration: its emulation build comes from the
    cache) built as the vendor's C simulation, against the vendor's ap types headers: the shift
    and sign products of po2_weight / binary_weight / ternary_weight codes on the vendor's
    ap_fixed give the same bits as our emulation build and the numpy emulator."""
    from vendor_csim import vendor_csim

    path, x, logits, _ = qkeras_model
    config = {"Model": {"Precision": "fixed<16,6>", "Strategy": "Latency", "ReuseFactor": 1, "SnapReuseFactor": True}}
    model = _convert(path, tmp_path / "prj", "io_parallel", config)
    model.compile()
    ours = model.predict(x, emulator="numpy")
    assert np.array_equal(model.predict(x), ours)
    vendor = vendor_csim(tmp_path / "prj", x, vendor_ap_types)
    assert np.array_equal(vendor, ours.reshape(vendor.shape))
    assert (vendor.argmax(1) == logits.argmax(1)).all()


def _cast(v: np.ndarray, width: int, integer: int) -> np.ndarray:
    """fixed<width, integer, RND, SAT>: round half up, saturate (exact on these dyadic values)."""
    f = width - integer
    m = np.floor(v * 2.0**f + 0.5)
    return np.clip(m, -(2 ** (width - 1)), 2 ** (width - 1) - 1) / 2.0**f


@pytest.mark.slow
def test_narrow_rounding_saturating_accumulator_casts_every_term(qkeras_model, tmp_path: Path) -> None:
    """fc1 (po2 weights, reuse factor 4, Resource) with accum fixed<7,2,RND,SAT>: every product,
    then every partial sum, is rounded and saturated into the accumulator, as in the multiplying
    kernels: C++ == emulator == a numpy loop doing exactly that from QKeras's quantized weights."""
    path, x, _, quantized = qkeras_model
    config = {
        "Model": {"Precision": "fixed<16,6>", "Strategy": "Resource", "ReuseFactor": 2, "SnapReuseFactor": True},
        "LayerName": {"fc1": {"ReuseFactor": 4, "Precision": {"accum": "fixed<7,2,RND,SAT>"}}},
    }
    model = _convert(path, tmp_path / "prj", "io_parallel", config)
    layers = ["sep_pointwise", "fc1"]  # relu3 / relu2: their result types
    traced = model.trace(x, layers=layers, emulator="numpy")
    model.compile()
    traced_cpp = model.trace(x, layers=layers)
    assert all(np.array_equal(traced_cpp[k], traced[k]) for k in layers)
    w, b = quantized["fc1"]
    assert set(np.abs(w[w != 0]).tolist()) <= {2.0**k for k in range(-8, 4)}
    inputs = traced["sep_pointwise"].reshape(len(x), -1)
    acc = np.broadcast_to(_cast(b, 7, 2), (len(x), b.size)).copy()
    saturated = 0
    for i in range(w.shape[0]):
        partial = acc + _cast(inputs[:, i : i + 1] * w[i], 7, 2)
        saturated += int(np.count_nonzero((partial < -2) | (partial > 2 - 2.0**-5)))
        acc = _cast(partial, 7, 2)
    assert saturated > 0  # the saturation of partial sums is exercised
    relu = np.clip(np.round(acc * 16), 0, 63) / 16  # then quantized_relu(6,2): half to even, saturating
    assert np.array_equal(traced["fc1"].reshape(acc.shape), relu)


@pytest.mark.slow
def test_binary_corpus_net_with_resource_strategy(corpus: Path, tmp_path: Path) -> None:
    """KERAS_3layer_binary_smaller (BinaryDense, +-1 weights as 1-bit codes), Resource with reuse
    factor 4: C++ == emulator; against the documented-semantics reference within 1e-3 (its
    batchnorms are float, approximated in 16-bit constants) and the same argmax."""
    import quant_reference

    name = "KERAS_3layer_binary_smaller"
    x = np.loadtxt(corpus / "generated" / "KERAS_3layer_input_features.dat").reshape(-1, 16)[:200]
    path, weights = corpus / "keras" / f"{name}.json", corpus / "keras" / f"{name}_weights.h5"
    layers, arrays = quant_reference.load(path, weights)
    expected = list(quant_reference.forward(layers, arrays, x).values())[-1]
    config = {
        "Model": {"Precision": "fixed<16,6>", "Strategy": "Resource", "ReuseFactor": 4, "SnapReuseFactor": True},
        "LayerType": {"InputLayer": {"Precision": "fixed<48,8>"}},
    }
    model = nnhls.converters.convert_from_keras_model((path, weights), hls_config=config, output_dir=str(tmp_path / "prj"))
    hls_ir = model.ir("hls")
    assert hls_ir.count('weight_encoding = "binary"') == 4 and "reuse_factor = 4" in hls_ir
    numpy_out = model.predict(x, emulator="numpy")
    model.compile()
    assert np.array_equal(model.predict(x), numpy_out)
    assert "typedef nnet::binary_weight<0> fc1_weight_t;" in (tmp_path / "prj" / "firmware" / "defines.h").read_text()
    assert np.abs(numpy_out - expected).max() < 1e-3
    assert (numpy_out.argmax(1) == expected.argmax(1)).all()


@pytest.mark.slow
def test_compressed_ternary_corpus_net_stores_codes_and_shifts(corpus: Path, tmp_path: Path) -> None:
    """KERAS_3layer_ternary_small (TernaryDense: 0 / +-2^k weights) with Compression on every
    dense layer: the sparse triplets hold the non-zero weights as 1-bit sign codes (binary, no
    zero bit), no multiplier is estimated and the report says so; the C++ build equals the
    emulator, and the numbers equal those of the uncompressed model bit for bit."""
    import quant_reference

    name = "KERAS_3layer_ternary_small"
    x = np.loadtxt(corpus / "generated" / "KERAS_3layer_input_features.dat").reshape(-1, 16)[:200]
    path, weights = corpus / "keras" / f"{name}.json", corpus / "keras" / f"{name}_weights.h5"
    layers, arrays = quant_reference.load(path, weights)
    expected = list(quant_reference.forward(layers, arrays, x).values())[-1]
    dense = ("fc1", "fc2", "fc3", "output")
    config: dict = {"Model": {"Precision": "fixed<16,6>"}, "LayerType": {"InputLayer": {"Precision": "fixed<48,8>"}}}
    plain = nnhls.converters.convert_from_keras_model((path, weights), hls_config=config, output_dir=str(tmp_path / "plain"))
    config["LayerName"] = {layer: {"Compression": True} for layer in dense}
    model = nnhls.converters.convert_from_keras_model((path, weights), hls_config=config, output_dir=str(tmp_path / "prj"))
    assert 'weight_encoding = "ternary"' in plain.ir("hls")
    hls_ir = model.ir("hls")
    assert hls_ir.count("compression") == 4 and hls_ir.count('weight_encoding = "binary"') == 4
    report = {row["layer"]: row for row in model.layer_report()}
    for layer in dense:
        assert report[layer]["multipliers"] == 0
        assert "(binary: 1-bit codes, shift-add, compressed)" in report[layer]["types"]
    numpy_out = model.predict(x, emulator="numpy")
    assert np.array_equal(numpy_out, plain.predict(x, emulator="numpy"))
    model.compile()
    assert np.array_equal(model.predict(x), numpy_out)
    fc1_w = (tmp_path / "prj" / "firmware" / "weights" / "fc1_w.h").read_text()
    assert "nnet::compressed_weight<fc1_weight_t" in fc1_w and "1 bit(s) per weight" in fc1_w
    assert "typedef nnet::binary_weight<" in (tmp_path / "prj" / "firmware" / "defines.h").read_text()
    assert np.abs(numpy_out - expected).max() < 1e-3


# ----- codegen: the codes in the weight files, and an edited IR whose weights are no longer 0 / +-2^k --------

SHIFT_IR = Path(__file__).resolve().parents[1] / "filecheck" / "codegen" / "shift_weights.mlir"


def _project(text: str, out: Path) -> Path:
    from xdsl.parser import Parser

    module = Parser(make_context(), text).parse_module()
    fw = build_firmware(module)
    write_project(out, fw, {"ProjectName": fw.project}, text, force=True)
    return out


def test_weight_files_hold_the_codes(tmp_path: Path) -> None:
    root = _project(SHIFT_IR.read_text(), tmp_path / "p")
    fc1 = (root / "firmware" / "weights" / "fc1_w.h").read_text()
    # +-2^-1 as fixed<4,2> mantissas +-2: sign bits, row-major (i, j)
    assert "1 bit(s) per weight instead of the 4 of ap_fixed<4,2>" in fc1
    assert "0, 1, 1, 1, 0, 0, 1, 0," in fc1
    conv = (root / "firmware" / "weights" / "conv_w.h").read_text()
    # 0 -> zero bit (8); 1 = 2^0 -> exponent 0 - (-2) = 2; -0.25 -> sign (4) | 0; 2 -> exponent 3
    assert "8, 2, 4, 3," in conv
    assert "0.5, -0.5, -0.5, -0.5" in (root / "firmware" / "weights" / "fc1_w.txt").read_text()


def test_edited_weights_that_are_not_powers_of_two_are_an_error(tmp_path: Path) -> None:
    text = SHIFT_IR.read_text().replace("dense<[[2, -2], [-2, -2]", "dense<[[3, -2], [-2, -2]")
    with pytest.raises(CodegenError, match=r"hls.dense 'fc1': weight_encoding binary needs weights that are all 0 or \+-2\^k"):
        _project(text, tmp_path / "p")


# ----- the C++ operator itself: every input value of several types times every code ------------------------

HARNESS = r"""
#include "nnet_emulation.h"
#include <cstdio>

// Every value of X times every code of W: the shift product must equal the exact product of the
// values (as doubles, exact at these widths), and the emulation's reading of the code (mant) the
// weight's value.
template <class X, int KMIN, int KMAX, bool Z> int check(const char* name) {
  typedef nnet::po2_weight<KMIN, KMAX, Z> W;
  typedef nnet::emu::fx<W> F;
  int bad = 0, n = 0;
  X x;
  for (unsigned long long raw = 0; raw < (1ull << X::width); raw++) {
    x.range(X::width - 1, 0) = raw;
    for (unsigned code = 0; code < (1u << W::width); code++) {
      W w;
      w.code = code;
      const unsigned e = code & ((1u << W::exp_bits) - 1);
      if (KMIN + int(e) > KMAX) continue;  // not a code of this type
      const bool zero = Z && ((code >> (W::exp_bits + 1)) & 1);
      const double value = zero ? 0.0 : ((code >> W::exp_bits) & 1 ? -1.0 : 1.0) * nnet::pow2(KMIN + int(e));
      const double product = (x * w).to_double();
      const double emulated = double(nnet::emu::mant(w)) * nnet::pow2(-F::frac);
      n++;
      if (product != x.to_double() * value || emulated != value) {
        if (bad++ < 3) std::printf("%s: x=%g code=%u: %g (want %g), emulation reads %g\n", name, x.to_double(), code, product, x.to_double() * value, emulated);
      }
    }
  }
  std::printf("%s: %d products\n", name, n);
  return bad;
}

int main() {
  int bad = 0;
  bad += check<ap_fixed<8, 3>, -3, 2, true>("fixed<8,3> x po2<-3,2,zero>");
  bad += check<ap_ufixed<6, 2>, -1, -1, false>("ufixed<6,2> x binary<-1>");
  bad += check<ap_int<5>, 2, 5, false>("int<5> x po2<2,5>");
  bad += check<ap_uint<4>, -6, -4, true>("uint<4> x po2<-6,-4,zero>");
  bad += check<ap_fixed<7, -1>, 0, 0, true>("fixed<7,-1> x ternary<0>");
  bad += check<ap_fixed<10, 12, AP_RND, AP_SAT>, -9, 3, true>("fixed<10,12,RND,SAT> x po2<-9,3,zero>");
  return bad != 0;
}
"""


def test_shift_product_is_the_exact_product_for_every_input_and_code(tmp_path: Path) -> None:
    """nnet::po2_weight's operator* (the synthesizable shift) and the emulation's reading of a code,
    against the exact product, exhaustively: signed, unsigned, integer and sub-unit input types,
    exponent ranges below, across and above zero, with and without zero codes."""
    import shutil
    import subprocess

    compiler = shutil.which("g++")
    if compiler is None:
        pytest.skip("g++ not installed")
    lib = Path(nnhls.__file__).parent / "hls_lib"
    (tmp_path / "harness.cpp").write_text(HARNESS)
    cmd = [compiler, "-std=c++17", "-O1", f"-I{lib / 'ap_types'}", f"-I{lib / 'nnet'}", "harness.cpp", "-o", "harness"]
    subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True, text=True)
    result = subprocess.run([str(tmp_path / "harness")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
    assert result.stdout.count(" products") == 6
