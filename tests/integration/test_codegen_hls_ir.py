"""C++ kernels against the numpy emulator on hand-written hls IR (no front end, no passes).

Covers what the framework models do not reach: every activation kind (exact and table, with
arbitrary table contents), the three softmax implementations, dot, casts with rounding and
saturation, unrolled/resource schedules with a parallelization factor, and the io_stream chain
of clone, pad, conv, depthwise conv, merge, pooling and global pooling from the dialect's own
round-trip test. Inputs are wide-ranged so that saturation, clamping and every branch occur.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from xdsl.parser import Parser

from nnhls.codegen.firmware import CodegenError, build_firmware
from nnhls.compiler.context import make_context
from nnhls.compiler.hls_model import HLSModel

REPO = Path(__file__).resolve().parent.parent.parent
IN = "!hls.array<2x8x!hls.fixed<16, 6>>"
OUT = "!hls.array<2x8x!hls.fixed<18, 8>>"
RNG = np.random.default_rng(11)


def _dense(values: np.ndarray) -> str:
    return f"dense<[{', '.join(str(int(v)) for v in values)}]> : tensor<{len(values)}xi64>"


def _table(lo: float, hi: float, size: int = 64) -> str:
    table = RNG.integers(-(1 << 17), 1 << 17, size=size)
    return f"table = {_dense(table)}, table_size = {size} : i64, table_t = !hls.fixed<18, 8>, table_min = {lo} : f64, table_max = {hi} : f64"


PARAM_T = "param_t = !hls.fixed<8, 3>"
ACTIVATIONS: dict[str, str] = {
    "linear": "",
    "relu": "",
    "relu6": "",
    "leaky_relu": f"alpha = 2.500000e-01 : f64, {PARAM_T}",
    "thresholded_relu": f"alpha = 1.500000e+00 : f64, {PARAM_T}",
    "clip": f"alpha = -2.000000e+00 : f64, beta = 3.125000e+00 : f64, {PARAM_T}",
    "hard_tanh": "",
    "hard_sigmoid": f"alpha = 1.875000e-01 : f64, beta = 5.000000e-01 : f64, {PARAM_T}",
    "prelu": f"param = {_dense(RNG.integers(0, 16, size=8))}, param_t = !hls.ufixed<4, 0>",
    "sigmoid": _table(-8.0, 8.0),
    "tanh": _table(-4.0, 4.0),
    "softsign": _table(-16.0, 16.0, 128),
    "softplus": _table(-8.0, 8.0),
    "swish": _table(-8.0, 8.0),
    "gelu": _table(-4.0, 4.0),
    "elu": _table(-8.0, 0.0),
    "selu": f"{_table(-8.0, 0.0)}, beta = 1.062500e+00 : f64, {PARAM_T}",
}


def _softmax(name: str, impl: str) -> str:
    exp_table = RNG.integers(0, 1 << 18, size=64)
    inv_table = RNG.integers(0, 1 << 18, size=64)
    return (
        f'  %{name} = hls.softmax %x {{layer = "{name}", implementation = #hls<softmax_impl {impl}>, '
        f"exp_table = {_dense(exp_table)}, exp_table_size = 64 : i64, exp_table_t = !hls.ufixed<18, 0, RND, SAT>, exp_range = 8.0 : f64, "
        f"inv_table = {_dense(inv_table)}, inv_table_size = 64 : i64, inv_table_t = !hls.ufixed<18, 8, RND, SAT>, inv_range = 16.0 : f64, "
        f"accum_t = !hls.ufixed<18, 8, RND, SAT>}} : ({IN}) -> !hls.array<2x8x!hls.ufixed<16, 0, RND, SAT>>"
    )


def activations_module() -> str:
    lines = ["hls.func @acts io_parallel pipeline {", f"^bb0(%x: {IN}, %v: !hls.array<8x!hls.fixed<12, 4>>):"]
    results: list[tuple[str, str]] = []
    for kind, props in ACTIVATIONS.items():
        extra = f", {props}" if props else ""
        lines.append(f'  %{kind} = hls.activation %x {{layer = "{kind}", kind = #hls<activation {kind}>{extra}}} : ({IN}) -> {OUT}')
        results.append((kind, OUT))
    for impl in ("stable", "latency", "argmax"):
        lines.append(_softmax(f"softmax_{impl}", impl))
        results.append((f"softmax_{impl}", "!hls.array<2x8x!hls.ufixed<16, 0, RND, SAT>>"))
    lines.append('  %dot = hls.dot %v, %v {layer = "dot", accum_t = !hls.fixed<22, 10, RND, SAT>} : (!hls.array<8x!hls.fixed<12, 4>>, !hls.array<8x!hls.fixed<12, 4>>) -> !hls.array<1x!hls.fixed<12, 10, RND_CONV, SAT_SYM>>')
    results.append(("dot", "!hls.array<1x!hls.fixed<12, 10, RND_CONV, SAT_SYM>>"))
    for mode in ("RND, SAT", "RND_ZERO, SAT_ZERO", "RND_INF, WRAP, 2", "TRN_ZERO, SAT_SYM"):
        name = "cast_" + mode.split(",")[0].lower()
        lines.append(f'  %{name} = hls.cast %x {{layer = "{name}"}} : ({IN}) -> !hls.array<2x8x!hls.fixed<8, 3, {mode}>>')
        results.append((name, f"!hls.array<2x8x!hls.fixed<8, 3, {mode}>>"))
    names = ", ".join(f"%{n}" for n, _ in results)
    types = ", ".join(t for _, t in results)
    lines += [f"  hls.return {names} : {types}", "}"]
    return "\n".join(lines)


def dialect_examples() -> list[str]:
    text = (REPO / "tests" / "filecheck" / "dialects" / "hls" / "ops.mlir").read_text()
    return [chunk for chunk in text.split("// -----") if "hls.func" in chunk]


@pytest.fixture(scope="module", autouse=True)
def build_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ.setdefault("NNHLS_CACHE_DIR", str(tmp_path_factory.mktemp("nnhls-cache")))


def _check(ir: str, out: Path, scale: float) -> None:
    module = Parser(make_context(), ir).parse_module()
    module.verify()
    fw = build_firmware(module)
    model = HLSModel(None, {"ProjectName": fw.project, "OutputDir": str(out)}, hls_module=module)
    model.compile()
    rng = np.random.default_rng(5)
    xs = [rng.normal(scale=scale, size=(64, *v.shape)) for v in fw.inputs]
    ours, theirs = model.predict(xs), model.predict(xs, emulator="numpy")
    ours_list = ours if isinstance(ours, list) else [ours]
    theirs_list = theirs if isinstance(theirs, list) else [theirs]
    assert len(ours_list) == len(fw.outputs)
    for value, a, b in zip(fw.outputs, ours_list, theirs_list, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=value.var)


def test_every_activation_softmax_dot_and_cast(tmp_path: Path) -> None:
    _check(activations_module(), tmp_path / "acts", scale=6.0)


@pytest.mark.parametrize("index", range(len(dialect_examples())))
def test_dialect_examples(index: int, tmp_path: Path) -> None:
    _check(dialect_examples()[index], tmp_path / f"ops{index}", scale=8.0)


def _s(shape: str, t: str = "!hls.fixed<16, 6>", depth: int = 4) -> str:
    return f"!hls.stream<{shape}x{t}, depth {depth}>"


def stream_module() -> str:
    """io_stream kernels the framework models do not reach: multi-row dense and softmax, repacking
    reshapes, transpose, 2-D upsampling and cropping, channel concatenation, dot."""
    rows = [RNG.integers(-100, 100, size=4) for _ in range(3)]
    w = "dense<[" + ", ".join("[" + ", ".join(str(int(v)) for v in r) + "]" for r in rows) + "]> : tensor<3x4xi64>"
    b = _dense(RNG.integers(-100, 100, size=4))
    e = _dense(RNG.integers(0, 1 << 18, size=64))
    inv = _dense(RNG.integers(0, 1 << 18, size=64))
    acc = "!hls.fixed<30, 12>"
    return f"""
hls.func @streams io_stream dataflow {{
^bb0(%x: {_s("3x2x3")}, %v: {_s("6")}):
  %x1, %x2, %x3 = hls.clone %x {{layer = "x_clone"}} : ({_s("3x2x3")}) -> ({_s("3x2x3")}, {_s("3x2x3")}, {_s("3x2x3")})
  %d = hls.dense %x1 {{layer = "rows", weight = {w}, weight_t = !hls.fixed<8, 2>, bias = {b}, bias_t = !hls.fixed<8, 2>, accum_t = {acc}, strategy = #hls<strategy latency>}} : ({_s("3x2x3")}) -> {_s("3x2x4", acc)}
  %sm = hls.softmax %d {{layer = "sm", implementation = #hls<softmax_impl stable>, exp_table = {e}, exp_table_size = 64 : i64, exp_table_t = !hls.ufixed<18, 0, RND, SAT>, exp_range = 8.0 : f64, inv_table = {inv}, inv_table_size = 64 : i64, inv_table_t = !hls.ufixed<18, 8, RND, SAT>, inv_range = 16.0 : f64, accum_t = !hls.ufixed<18, 8, RND, SAT>}} : ({_s("3x2x4", acc)}) -> {_s("3x2x4", "!hls.ufixed<16, 0, RND, SAT>")}
  %t = hls.transpose %x2 {{layer = "perm", perm = array<i64: 1, 0, 2>}} : ({_s("3x2x3")}) -> {_s("2x3x3")}
  %r = hls.reshape %t {{layer = "flat"}} : ({_s("2x3x3")}) -> {_s("18")}
  %r2 = hls.reshape %r {{layer = "unflat"}} : ({_s("18")}) -> {_s("9x2")}
  %u = hls.upsample %x3 {{layer = "up", factors = array<i64: 2, 3>}} : ({_s("3x2x3")}) -> {_s("6x6x3")}
  %c = hls.crop %u {{layer = "crop", crops = array<i64: 1, 2, 0, 3>}} : ({_s("6x6x3")}) -> {_s("3x3x3")}
  %c1, %c2 = hls.clone %c {{layer = "c_clone"}} : ({_s("3x3x3")}) -> ({_s("3x3x3")}, {_s("3x3x3")})
  %cat = hls.concat %c1, %c2 {{layer = "cat", axis = 2 : i64}} : ({_s("3x3x3")}, {_s("3x3x3")}) -> {_s("3x3x6")}
  %v1, %v2 = hls.clone %v {{layer = "v_clone"}} : ({_s("6")}) -> ({_s("6")}, {_s("6")})
  %dot = hls.dot %v1, %v2 {{layer = "dot", accum_t = !hls.fixed<24, 12>}} : ({_s("6")}, {_s("6")}) -> {_s("1", "!hls.fixed<20, 12>")}
  hls.return %sm, %r2, %cat, %dot : {_s("3x2x4", "!hls.ufixed<16, 0, RND, SAT>")}, {_s("9x2")}, {_s("3x3x6")}, {_s("1", "!hls.fixed<20, 12>")}
}}
"""


def test_stream_kernels(tmp_path: Path) -> None:
    _check(stream_module(), tmp_path / "streams", scale=4.0)


def test_layer_names_become_distinct_c_identifiers(tmp_path: Path) -> None:
    """Layer names that are not C identifiers, keywords or duplicates still give valid C++."""
    relu = '{kind = #hls<activation relu>}'
    ir = f"""
hls.func @names io_parallel pipeline {{
^bb0(%x: {IN}):
  %a = hls.activation %x {{layer = "dense/1", kind = #hls<activation linear>}} : ({IN}) -> {OUT}
  %b = hls.activation %a {{layer = "class", {relu[1:]} : ({OUT}) -> {OUT}
  %c = hls.activation %b {{layer = "1st layer", {relu[1:]} : ({OUT}) -> {OUT}
  %d = hls.activation %c {{layer = "class", {relu[1:]} : ({OUT}) -> {OUT}
  hls.return %d : {OUT}
}}
"""
    _check(ir, tmp_path / "names", scale=6.0)
    model = HLSModel(None, {"ProjectName": "names", "OutputDir": str(tmp_path / "names")}, hls_module=Parser(make_context(), ir).parse_module())
    model.compile()
    x = np.random.default_rng(0).normal(scale=4.0, size=(2, 2, 8))
    traced = model.trace(x)
    assert list(traced) == ["dense/1", "class", "1st layer"]  # a repeated name reports its last layer
    np.testing.assert_array_equal(traced["class"], model.predict(x))
    text = (tmp_path / "names" / "firmware" / "names.cpp").read_text()
    for var in ("dense_1_out", "l_class_out", "l_1st_layer_out", "l_class_2_out"):
        assert var in text


@pytest.mark.parametrize(
    ("returned", "why"), [("%x", "('x') is a model input"), ("%a, %a", "('a_out') is returned twice")]
)
def test_outputs_that_are_not_distinct_layer_results_are_named(returned: str, why: str) -> None:
    """Hand-written hls IR may return an input or one value twice (lower-nn-to-hls copies them);
    codegen names the operand instead of failing in C++."""
    types = ", ".join([OUT] * returned.count("%")) if "%a" in returned else IN
    ir = f"""
hls.func @outs io_parallel pipeline {{
^bb0(%x: {IN}):
  %a = hls.activation %x {{layer = "a", kind = #hls<activation relu>}} : ({IN}) -> {OUT}
  hls.return {returned} : {types}
}}
"""
    module = Parser(make_context(), ir).parse_module()
    with pytest.raises(CodegenError, match=re.escape(why)):
        build_firmware(module)


def depthwise_module(channels: int, multiplier: int, taps: int) -> str:
    """One io_parallel depthwise conv1d on narrow integers (32-bit lanes), random weights (seeded
    by the shape, so each case is the same in every run and worker)."""
    n_out = channels * multiplier
    rng = np.random.default_rng(100 * channels + 10 * multiplier + taps)
    w = rng.integers(-2, 2, size=(taps, channels, multiplier))
    weights = f"dense<{w.tolist()}> : tensor<{taps}x{channels}x{multiplier}xi64>"
    bias = _dense(rng.integers(-2, 2, size=n_out))
    return f"""
hls.func @dw io_parallel dataflow {{
^bb0(%x: !hls.array<10x{channels}x!hls.int<14>>):
  %d = hls.depthwise_conv1d %x {{layer = "dw", weight = {weights}, weight_t = !hls.int<2>, bias = {bias}, bias_t = !hls.int<2>, accum_t = !hls.int<16>, strides = array<i64: 1>, dilations = array<i64: 1>, pads = array<i64: 0, 0>, strategy = #hls<strategy latency>}} : (!hls.array<10x{channels}x!hls.int<14>>) -> !hls.array<{11 - taps}x{n_out}x!hls.int<16>>
  hls.return %d : !hls.array<{11 - taps}x{n_out}x!hls.int<16>>
}}
"""


@pytest.mark.parametrize(("channels", "multiplier", "taps"), [(2, 2, 1), (1, 4, 1), (3, 2, 2), (2, 3, 3)])
def test_depthwise_multiplier_on_narrow_lanes(channels: int, multiplier: int, taps: int, tmp_path: Path) -> None:
    """Output channel c * multiplier + m reads input channel c: GCC 12.2's AVX-512 loop vectoriser
    got this loop wrong (nnhls/codegen/build.py keeps AVX-512 off); fails on such a machine
    without that flag."""
    _check(depthwise_module(channels, multiplier, taps), tmp_path / "dw", scale=8.0)
