"""LayerNormalization (Keras), nn.LayerNorm (PyTorch) and ONNX LayerNormalization through the
compiler: the float reference equals the framework, the numpy emulator with wide types agrees
within the inverse-square-root table's bound, and the onnx package's conformance cases pass (the
C++ build of a layer norm is checked bit for bit in test_recurrent.py's chain model).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

from nnhls import converters  # noqa: E402
from nnhls.errors import NnhlsError  # noqa: E402
from nnhls.frontends.keras import import_keras_model  # noqa: E402
from nnhls.frontends.onnx import import_onnx  # noqa: E402
from nnhls.frontends.pytorch import import_pytorch  # noqa: E402
from nnhls.interpreters.reference import run_reference  # noqa: E402

SHAPE = (5, 8)
TABLE = 1 << 14
WIDE = {"Model": {"Precision": "fixed<40,14>"}, "LayerType": {"LayerNormalization": {"TableSize": TABLE}}}


def bound(n: int, gamma: float) -> float:
    """|emulator - framework| with WIDE types: the inverse square root's relative error is at most
    2 / TableSize (half a bin of 1/sqrt(m) on [1, 4), entries above 1/2), times a normalized value
    (at most sqrt(n - 1)) times |scale|, plus the types' own rounding (2^-20 here)."""
    return 2.0 / TABLE * np.sqrt(n - 1) * gamma + 2.0**-20


def _keras_model(**options: Any) -> Any:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(SHAPE), keras.layers.LayerNormalization(**options)])
    layer = model.layers[-1]
    rng = np.random.default_rng(0)
    layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(np.float32) if i == 0 and options.get("scale", True) else rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for i, w in enumerate(layer.get_weights())])
    return model


KERAS_CASES = {
    "last_axis": {},
    "two_axes": {"axis": [1, 2]},
    "plain": {"center": False, "scale": False, "epsilon": 1e-2},
}


def _inputs(n: int = 64, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Rows of very different spreads: the table is indexed by the normalized variance.
    return (rng.normal(0, 1, (n, *SHAPE)) * 10.0 ** rng.uniform(-2, 1, (n, 1, 1))).astype(np.float32)


@pytest.mark.parametrize("case", sorted(KERAS_CASES))
def test_keras_layernorm(case: str, tmp_path: Path) -> None:
    model = _keras_model(**KERAS_CASES[case])
    x = _inputs()
    want = np.asarray(keras.ops.convert_to_numpy(model(x)), dtype=np.float64)
    got = run_reference(import_keras_model(model), [x.astype(np.float64)])[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    hls_model = converters.convert_from_keras_model(model, output_dir=str(tmp_path / "prj"), hls_config=WIDE)
    emulated = np.asarray(hls_model.predict(x, emulator="numpy"))
    n = SHAPE[-1] * (SHAPE[0] if case == "two_axes" else 1)
    assert np.max(np.abs(emulated - want)) <= bound(n, 1.5) + 1e-5  # + Keras' float32 rounding


class TorchNorm(torch.nn.Module):
    def __init__(self, shape: tuple[int, ...], affine: bool):
        super().__init__()
        self.norm = torch.nn.LayerNorm(shape, elementwise_affine=affine)
        if affine:
            with torch.no_grad():
                self.norm.weight.uniform_(0.5, 1.5)
                self.norm.bias.uniform_(-0.5, 0.5)

    def forward(self, x: Any) -> Any:
        return self.norm(x)


@pytest.mark.parametrize(("shape", "affine"), [((8,), True), (SHAPE, True), ((8,), False)])
def test_pytorch_layernorm(shape: tuple[int, ...], affine: bool, tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = TorchNorm(shape, affine).eval()
    x = _inputs(seed=2)
    with torch.no_grad():
        want = module(torch.tensor(x)).numpy().astype(np.float64)
    got = run_reference(import_pytorch(module, SHAPE), [x.astype(np.float64)])[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    hls_model = converters.convert_from_pytorch_model(module, SHAPE, output_dir=str(tmp_path / "prj"), hls_config=WIDE)
    emulated = np.asarray(hls_model.predict(x, emulator="numpy"))
    assert np.max(np.abs(emulated - want)) <= bound(int(np.prod(shape)), 1.5) + 1e-5


LN_CASES = (
    "test_layer_normalization_2d_axis1", "test_layer_normalization_2d_axis_negative_1",
    "test_layer_normalization_3d_axis1_epsilon", "test_layer_normalization_3d_axis2_epsilon",
    "test_layer_normalization_3d_axis_negative_1_epsilon", "test_layer_normalization_3d_axis_negative_2_epsilon",
    "test_layer_normalization_4d_axis1", "test_layer_normalization_4d_axis2", "test_layer_normalization_4d_axis3",
    "test_layer_normalization_4d_axis_negative_1", "test_layer_normalization_4d_axis_negative_2",
    "test_layer_normalization_4d_axis_negative_3", "test_layer_normalization_default_axis",
)  # fmt: skip


@pytest.fixture(scope="module")
def ln_cases() -> dict[str, Any]:
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return {c.name: c for c in collect_testcases() if c.name in LN_CASES or c.name == "test_layer_normalization_2d_axis0"}


def _prepared(case: Any, keep_stats: bool = False) -> tuple[onnx.ModelProto, np.ndarray, np.ndarray]:
    """Scale and bias as initializers; only Y as the output (an inference graph) unless keep_stats."""
    model = onnx.ModelProto()
    model.CopyFrom(case.model)
    inputs, outputs = case.data_sets[0]
    graph = model.graph
    for vi, value in zip(graph.input[1:], inputs[1:], strict=True):
        graph.initializer.append(numpy_helper.from_array(np.asarray(value), vi.name))
    kept = [graph.input[0]]
    del graph.input[:]
    graph.input.extend(kept)
    if not keep_stats:
        first = graph.output[0]
        del graph.output[:]
        graph.output.extend([first])
    return model, np.asarray(inputs[0], np.float64), np.asarray(outputs[0], np.float64)


@pytest.mark.parametrize("name", LN_CASES)
def test_onnx_conformance(name: str, ln_cases: dict[str, Any], tmp_path: Path) -> None:
    model, x, want = _prepared(ln_cases[name])
    got = run_reference(import_onnx(model), [x])[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    hls_model = converters.convert_from_onnx_model(model, output_dir=str(tmp_path / "prj"), hls_config=WIDE)
    emulated = np.asarray(hls_model.predict(x, emulator="numpy"))
    node = model.graph.node[0]
    scale = next(numpy_helper.to_array(t) for t in model.graph.initializer if t.name == node.input[1])
    assert np.max(np.abs(emulated - want)) <= bound(scale.size, float(np.max(np.abs(scale)))) + 1e-5


def test_refused(ln_cases: dict[str, Any]) -> None:
    model, _, _ = _prepared(ln_cases["test_layer_normalization_2d_axis0"])
    with pytest.raises(NnhlsError, match="batch axis"):
        import_onnx(model)
    model, _, _ = _prepared(ln_cases["test_layer_normalization_2d_axis1"], keep_stats=True)
    with pytest.raises(NnhlsError, match="Mean and InvStdDev"):
        import_onnx(model)
    keras_model = keras.Sequential([keras.Input(SHAPE), keras.layers.LayerNormalization(axis=1)])
    with pytest.raises(NnhlsError, match="trailing feature axes"):
        import_keras_model(keras_model)


def test_default_cap_on_the_internals_warns_and_bops_count_the_multiplications(tmp_path: Path) -> None:
    """The default `auto` cap reaches a layer norm's row sum (accum) and sum of squares
    (variance); capping their integer bits warns, naming the layer and the saturating range. The
    layer reports its multiplications: per row of n = 8, the squares and the products by the
    inverse standard deviation (the scale is 1.0 everywhere: a power of two, no multiplier) and no
    1/n multiplier (8 is a power of two)."""
    from nnhls.errors import PrecisionWarning

    model = keras.Sequential([keras.Input(SHAPE), keras.layers.LayerNormalization(name="ln")])
    config = {"Model": {"Precision": "fixed<16,6>"}, "LayerName": {"ln": {"Precision": "auto"}}}
    hls_model = converters.convert_from_keras_model(model, hls_config=config, output_dir=str(tmp_path / "prj"))
    with pytest.warns(PrecisionWarning, match=r"nn.layernorm 'ln': variance needs ufixed<25,15> .* capped to ufixed<24,12,RND,SAT> .* values beyond \[0, 4096\] saturate"):
        typed = hls_model.ir("typed")
    row = next(r for r in hls_model.layer_report() if r["layer"] == "ln")
    accum = int(typed.split("accum = !hls.fixed<")[1].split(",")[0])
    inv_sqrt = int(typed.split("inv_sqrt = !hls.ufixed<")[1].split(",")[0])
    n, rows = SHAPE[1], SHAPE[0]
    assert row["multipliers"] == 2 * n
    assert row["bops"] == rows * (n * accum * accum + n * accum * inv_sqrt)


def test_overflow_report_counts_the_variance_saturation(tmp_path: Path) -> None:
    """With the capped variance_t of the test above (ufixed<24,12,RND,SAT>: sums of squares up
    to 4096), rows alternating +-31 (sum of squares 8 * 31^2 = 7688) saturate it; the overflow
    report counts them under the layer's name and variable `variance`, proposes the 13 integer
    bits that hold them, and predict warns naming it. Rows of +-10 (800) fit."""
    from nnhls.errors import OverflowWarning, PrecisionWarning

    model = keras.Sequential([keras.Input(SHAPE), keras.layers.LayerNormalization(name="ln")])
    config = {"Model": {"Precision": "fixed<16,6>"}, "LayerName": {"ln": {"Precision": "auto"}}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrecisionWarning)
        hls_model = converters.convert_from_keras_model(model, hls_config=config, output_dir=str(tmp_path / "prj"))
        hls_model.ir("hls")
    signs = np.where(np.arange(SHAPE[1]) % 2 == 0, 1.0, -1.0)
    wide, narrow = np.tile(31.0 * signs, (3, SHAPE[0], 1)), np.tile(10.0 * signs, (2, SHAPE[0], 1))
    rows = {(r["layer"], r["var"]): r for r in hls_model.overflow_report(np.concatenate([wide, narrow]))}
    variance = rows[("ln", "variance")]
    assert variance["type"] == "ufixed<24,12,RND,SAT>" and variance["mode"] == "saturated"
    assert variance["overflows"] == 3 * SHAPE[0] and variance["checked"] == 5 * SHAPE[0]
    assert variance["observed"] == "[800, 7688]" and variance["proposed_integer_bits"] == 13
    assert rows[("ln", "accum")]["overflows"] == 0
    assert hls_model.overflow_report(narrow)[-2]["overflows"] == 0
    with pytest.warns(OverflowWarning, match=r"'ln' variance \(15 of 25 values saturated"):
        hls_model.predict(np.concatenate([wide, narrow]), emulator="numpy")
