"""ONNX conformance: the operator test cases the onnx package ships, through nnhls.

The cases come from `onnx.backend.test.case.node.collect_testcases()` (generated as code: the wheel
no longer ships their data files): every case whose nodes all belong to the operators nnhls claims
(README, "Supported layers"). Each runs at a wide precision (fixed<48,24>, lookup tables of 2**14
entries) through the numpy emulator and through the g++ build, and is checked against the expected
outputs the onnx package computed, with a tolerance derived from the types and table sizes of the
compiled kernels (tolerance() below). Every case passes or is in REFUSED with the one-line reason
nnhls gives, which is the clean error a user sees (no traceback, the layer named).

How a case becomes a model: nnhls compiles inference graphs whose first axis is the batch, with the
weights as constants. The first graph input is the data; another input of an elementwise merge
(Add, Sub, Mul, Div, Max, Min, Sum, Mean, Concat) with the same rank and batch size is data too;
every other input (weights, shapes, bounds, scales...) becomes an initializer holding the case's
value. g++ builds are shared: the cases of one opset and batch size are merged into one model
(names prefixed per case), built once, and each output must equal the numpy emulator's bits.
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from nnhls import converters, utils
from nnhls.dialects import hls
from nnhls.dialects.kinds import ActivationKind, MergeKind, SoftmaxImpl
from nnhls.errors import UserError
from nnhls.frontends.onnx import SUPPORTED

REPO = Path(__file__).resolve().parents[2]
QUANTIZATION_OPS = {"QuantizeLinear", "DequantizeLinear", "Quant", "BipolarQuant", "Trunc"}
"""Read only as quantizers (QDQ pairs, dequantized constants, QONNX custom ops): their own tests
are tests/integration/test_quant_qdq.py and test_quant_corpus.py; the onnx package's cases for
QuantizeLinear / DequantizeLinear alone compute integer codes (float8 and int4 included)."""
CLAIMED = tuple(op for op in SUPPORTED if op not in QUANTIZATION_OPS)
"""The ONNX operators nnhls claims (its error messages' list; README lists the same)."""
OWN_MODULES = frozenset({"RNN", "LSTM", "GRU", "LayerNormalization"})
"""Operators whose cases run in their own modules (test_recurrent_torch_onnx.py, test_layernorm.py):
their time-major data and statistics outputs need layouts and tolerances this harness does not
derive."""
MERGES = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean", "Concat"}
PRECISION = "fixed<48,24>"
TABLE_SIZE = 1 << 14
BUILD_GROUP = 40
"""Cases merged into one g++ build at most."""

_BATCH = "batch axis"
_INT = "integer arithmetic on"
_CONST_OUT = "is a constant (it does not depend on any input)"
_NEAREST = "only nearest mode"
_INT_UPSAMPLE = "only integer spatial upsampling"
_3D_POOL = "only 1-D and 2-D pooling"
_DIV2 = "division of two tensors"
_MASK = "the dropout mask is used"
_TRAINING = "training_mode=true (random dropout)"

REFUSED: dict[str, str] = {
    # Pooling beyond 1-D / 2-D, dilated pooling, and one ceil-mode corner.
    **{f"test_averagepool_3d_{s}": _3D_POOL for s in (
        "default", "dilations_small", "dilations_large_count_include_pad_is_0_ceil_mode_is_True",
        "dilations_large_count_include_pad_is_0_ceil_mode_is_False",
        "dilations_large_count_include_pad_is_1_ceil_mode_is_True",
        "dilations_large_count_include_pad_is_1_ceil_mode_is_False")},
    **{f"test_maxpool_3d_{s}": _3D_POOL for s in (
        "default", "dilations", "dilations_use_ref_impl", "dilations_use_ref_impl_large")},
    "test_averagepool_2d_dilations": "dilated pooling",
    "test_maxpool_2d_dilations": "dilated pooling",
    "test_averagepool_2d_ceil_last_window_starts_on_pad": "ceil_mode with count_include_pad",
    "test_maxpool_with_argmax_2d_precomputed_pads": "the Indices output",
    "test_maxpool_with_argmax_2d_precomputed_strides": "the Indices output",
    # Training-time behaviour.
    "test_batchnorm_example_training_mode": "training mode",
    "test_batchnorm_epsilon_training_mode": "training mode",
    "test_training_dropout": _TRAINING,
    "test_training_dropout_default": _TRAINING,
    "test_training_dropout_zero_ratio": _TRAINING,
    "test_dropout_default_mask": _MASK,
    "test_dropout_default_mask_ratio": _MASK,
    "test_training_dropout_mask": _MASK,
    "test_training_dropout_default_mask": _MASK,
    "test_training_dropout_zero_ratio_mask": _MASK,
    # Operations across the batch axis (the first axis is the batch for nnhls).
    **{f"test_concat_{s}": "concatenation along the batch axis" for s in (
        "1d_axis_0", "1d_axis_negative_1", "2d_axis_0", "2d_axis_negative_2", "3d_axis_0",
        "3d_axis_negative_3")},
    **{f"test_reshape_{s}": "changes the batch axis" for s in (
        "reordered_all_dims", "reordered_last_dims", "reduced_dims", "extended_dims", "one_dim",
        "negative_dim", "negative_extended_dims", "zero_dim", "zero_and_negative_dim",
        "allowzero_reordered")},
    **{f"test_transpose_{s}": "moves the batch axis" for s in (
        "default", "all_permutations_2", "all_permutations_3", "all_permutations_4",
        "all_permutations_5")},
    **{f"test_split_{s}_opset{v}": "a split along the batch axis" for v in (13, 18) for s in (
        "equal_parts_1d", "variable_parts_1d", "equal_parts_default_axis",
        "variable_parts_default_axis", "zero_size_splits")},
    "test_split_1d_uneven_split_opset18": "a split along the batch axis",
    "test_squeeze": "squeezing the batch axis",
    "test_unsqueeze_axis_0": "a new batch axis",
    "test_softmax_axis_0": "softmax over the batch axis",
    "test_gemm_transposeA": "transA=1 transposes the batch",
    "test_gemm_all_attributes": "transA=1 transposes the batch",
    "test_gemm_default_matrix_bias": _BATCH,
    "test_prelu_example": _BATCH,
    **{f"test_matmul_{s}": "the weight must be 2-D" for s in (
        "3d", "4d", "bcast", "1d_3d", "4d_1d", "1d_1d")},
    # Outputs that are constants (shape arithmetic) and models without an input.
    **{f"test_shape{s}": _CONST_OUT for s in (
        "", "_example", "_start_1", "_end_1", "_start_negative_1", "_end_negative_1",
        "_start_1_end_negative_1", "_start_1_end_2", "_clip_start", "_clip_end",
        "_start_greater_than_end")},
    "test_size": _CONST_OUT,
    "test_size_example": _CONST_OUT,
    "test_constant": _CONST_OUT,
    **{f"test_gather_{s}": "only one constant index" for s in ("0", "1", "2d_indices", "negative_indices")},
    "test_identity_sequence": "(sequence type) is not a tensor",
    "test_identity_opt": "(optional type) is not a tensor",
    # Division of two tensors (a constant divisor is supported).
    "test_div": _DIV2,
    "test_div_example": _DIV2,
    # Integer tensors through arithmetic (ONNX wraps and truncates; nnhls computes on reals).
    **{f"test_{op}_{t}": _INT for op in ("add", "sub", "mul", "div") for t in (
        "int8", "int16", "uint8", "uint16", "uint32", "uint64")},
    "test_div_int32_trunc": _INT,
    # Non-default parameters and modes.
    "test_gelu_tanh_1": "only the exact (erf) form",
    "test_gelu_tanh_2": "only the exact (erf) form",
    "test_selu": "only the standard alpha and gamma",
    "test_selu_example": "only the standard alpha and gamma",
    **{f"test_{s}_pad": "only constant padding" for s in ("edge", "reflect", "wrap")},
    **{f"test_constant_pad{s}": "(only zero)" for s in ("", "_axes", "_negative_axes")},
    # Resize beyond integer nearest-neighbour upsampling.
    **{f"test_resize_{s}": _NEAREST for s in (
        "upsample_scales_linear", "upsample_scales_linear_align_corners",
        "downsample_scales_linear", "downsample_scales_linear_align_corners",
        "upsample_scales_cubic", "upsample_scales_cubic_align_corners",
        "downsample_scales_cubic", "downsample_scales_cubic_align_corners",
        "upsample_sizes_cubic", "downsample_sizes_cubic",
        "upsample_scales_cubic_A_n0p5_exclude_outside",
        "downsample_scales_cubic_A_n0p5_exclude_outside", "upsample_scales_cubic_asymmetric",
        "tf_crop_and_resize", "tf_crop_and_resize_extrapolation_value",
        "downsample_sizes_linear_pytorch_half_pixel", "downsample_scales_linear_antialias",
        "downsample_sizes_linear_antialias", "downsample_scales_cubic_antialias",
        "downsample_sizes_cubic_antialias", "tf_crop_and_resize_axes_2_3",
        "tf_crop_and_resize_axes_3_2", "downsample_scales_linear_half_pixel_symmetric",
        "upsample_scales_linear_half_pixel_symmetric")},
    **{f"test_resize_{s}": _INT_UPSAMPLE for s in (
        "downsample_scales_nearest", "upsample_sizes_nearest", "downsample_sizes_nearest",
        "upsample_sizes_nearest_axes_2_3", "upsample_sizes_nearest_axes_3_2",
        "upsample_sizes_nearest_not_larger", "downsample_sizes_nearest_not_larger",
        "downsample_sizes_nearest_not_smaller")},
    **{f"test_resize_{s}": "is not plain repetition" for s in (
        "upsample_sizes_nearest_floor_align_corners",
        "upsample_sizes_nearest_round_prefer_ceil_asymmetric",
        "upsample_sizes_nearest_ceil_half_pixel")},
}  # fmt: skip
"""Case name -> a fragment of the one-line error nnhls gives for it."""


# ----- cases ----------------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    model: onnx.ModelProto
    """The case's graph with its non-data inputs turned into initializers."""
    inputs: list[np.ndarray]
    expected: list[np.ndarray]
    rtol: float
    atol: float
    opset: int


def _collect() -> list[Any]:
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return collect_testcases()


def _opset(model: onnx.ModelProto) -> int:
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


def _prepare(case: Any) -> Case:
    model = onnx.ModelProto()
    model.CopyFrom(case.model)
    inputs, outputs = case.data_sets[0]
    graph = model.graph
    op_type = graph.node[0].op_type
    first = np.asarray(inputs[0]) if inputs else None
    data = [0] if inputs else []
    for i in range(1, len(inputs)):
        value = np.asarray(inputs[i])
        assert first is not None
        if op_type in MERGES and value.ndim == first.ndim > 0 and value.shape[0] == first.shape[0]:
            data.append(i)
    names = [vi.name for vi in graph.input]
    for i in range(len(inputs)):
        if i not in data:
            graph.initializer.append(numpy_helper.from_array(np.asarray(inputs[i]), names[i]))
    kept = [vi for i, vi in enumerate(graph.input) if i in data]
    del graph.input[:]
    graph.input.extend(kept)
    return Case(
        case.name,
        model,
        [np.asarray(inputs[i]) for i in data],
        [np.asarray(o) for o in outputs],
        float(case.rtol),
        float(case.atol),
        _opset(model),
    )


@functools.cache
def claimed_cases() -> list[Case]:
    return [
        _prepare(c)
        for c in _collect()
        if c.model is not None
        and all(n.op_type in CLAIMED for n in c.model.graph.node)
        and not any(n.op_type in OWN_MODULES for n in c.model.graph.node)
    ]


# ----- configuration and tolerance --------------------------------------------------------------------------


def wide_config(model: onnx.ModelProto) -> dict[str, Any]:
    """Every precision variable of every layer at PRECISION, every table of TABLE_SIZE entries."""
    config = utils.config_from_onnx_model(model, granularity="name", default_precision=PRECISION)
    for layer in config.get("LayerName", {}).values():
        if isinstance(layer.get("Precision"), dict):
            layer["Precision"] = dict.fromkeys(layer["Precision"], PRECISION)
        for key in ("TableSize", "ExpTableSize", "InvTableSize"):
            if key in layer:
                layer[key] = TABLE_SIZE
    return config


LIPSCHITZ = {
    ActivationKind.SIGMOID: 0.25, ActivationKind.TANH: 1.0, ActivationKind.SOFTPLUS: 1.0,
    ActivationKind.SOFTSIGN: 1.0, ActivationKind.ELU: 1.0, ActivationKind.SELU: 1.7581,
    ActivationKind.SWISH: 1.1, ActivationKind.GELU: 1.13,
}  # fmt: skip
"""Largest slope of each table function (ELU: alpha <= 1 in the cases; SELU: scale * alpha)."""


def _lsb(t: Any) -> float:
    return float(t.precision.step)


def tolerance(module: Any, inputs: list[np.ndarray]) -> float:
    """A bound on |nnhls - exact| from the compiled kernels: each rounds its result (one LSB),
    reads its inputs and weights quantized (one LSB each, times the other factor's magnitude and
    the number of products), and a table adds its slope times its bin width (plus its entries'
    LSB); a softmax adds its exp bins for every term of the sum and its inverse bin. Errors add
    along the graph, scaled by the largest magnitude the data reaches when a product of two
    tensors can amplify them."""
    scale = max([1.0, *(float(np.max(np.abs(x))) if x.size else 0.0 for x in inputs)])
    total = 0.0
    amplifying = False
    for op in module.walk():
        if not isinstance(op, hls.HLSKernelOp):
            continue
        result_t = hls.value_type(op.results[0]).element_type
        total += _lsb(result_t) + _lsb(hls.value_type(op.operands[0]).element_type)
        if isinstance(op, hls.ActivationOp) and op.table is not None:
            assert op.table_size is not None and op.table_min is not None and op.table_max is not None
            step = (op.table_max.value.data - op.table_min.value.data) / op.table_size.value.data
            total += LIPSCHITZ.get(op.kind.data, 2.0) * step + _lsb(op.table_t)
        elif isinstance(op, hls.SoftmaxOp) and op.implementation.data != SoftmaxImpl.ARGMAX:
            n = hls.shape_of(op.input)[-1]
            exp_step = (op.exp_range.value.data if op.exp_range else 16.0) / op.exp_table_size.value.data
            inv_step = (op.inv_range.value.data if op.inv_range else 1.0) / op.inv_table_size.value.data
            total += (n + 1) * (exp_step + _lsb(op.exp_table_t)) + inv_step + _lsb(op.inv_table_t)
        elif isinstance(op, hls.DenseOp | hls.Conv1DOp | hls.Conv2DOp | hls.BatchNormOp):
            weight, weight_t = (
                (op.scale, op.scale_t) if isinstance(op, hls.BatchNormOp) else (op.weight, op.weight_t)
            )
            largest = float(np.max(np.abs(hls.mantissas(weight)), initial=0)) * _lsb(weight_t)
            shape = weight.get_shape()
            terms = 1 if isinstance(op, hls.BatchNormOp) else int(np.prod(shape[:-1]))
            x_lsb = _lsb(hls.value_type(op.operands[0]).element_type)
            total += terms * (scale * _lsb(weight_t) + largest * x_lsb)
        elif isinstance(op, hls.MergeOp) and op.kind.data == MergeKind.MUL:
            amplifying = True
    return total * (scale if amplifying else 1.0)


# ----- running ------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    case: Case
    error: str | None = None
    """The refusal (one line), or None when the case compiled."""
    crash: str | None = None
    """An exception that is not one of nnhls' clean errors (a bug)."""
    outputs: list[np.ndarray] = field(default_factory=list[np.ndarray])
    tol: float = 0.0
    cpp: list[np.ndarray] | None = None


def _predict(hls_model: Any, inputs: list[np.ndarray], emulator: str) -> list[np.ndarray]:
    y = hls_model.predict(inputs if len(inputs) != 1 else inputs[0], emulator=emulator)
    return y if isinstance(y, list) else [y]


def run_case(case: Case, out: Path) -> Outcome:
    try:
        hls_model = converters.convert_from_onnx_model(
            case.model, hls_config=wide_config(case.model), output_dir=str(out), project_name="onnx_case"
        )
        outputs = _predict(hls_model, case.inputs, "numpy")
        return Outcome(case, outputs=outputs, tol=tolerance(hls_model.hls_module, case.inputs))
    except UserError as error:  # the one-line errors users see
        return Outcome(case, error=str(error))
    except Exception as error:  # a crash: reported by the test, never hidden
        return Outcome(case, crash=f"{type(error).__name__}: {error}")


def _renamed(case: Case, prefix: str) -> onnx.GraphProto:
    """The case's graph with every value and node name prefixed (so cases can share a model)."""
    graph = onnx.GraphProto()
    graph.CopyFrom(case.model.graph)

    def rename(name: str) -> str:
        return f"{prefix}{name}" if name else name

    for node in graph.node:
        node.name = rename(node.name or node.op_type)
        node.input[:] = [rename(n) for n in node.input]
        node.output[:] = [rename(n) for n in node.output]
    for collection in (graph.input, graph.output, graph.value_info):
        for vi in collection:
            vi.name = rename(vi.name)
    for init in graph.initializer:
        init.name = rename(init.name)
    return graph


def merged_model(cases: list[Case]) -> onnx.ModelProto:
    graphs = [_renamed(c, f"c{i}_") for i, c in enumerate(cases)]
    graph = helper.make_graph(
        [n for g in graphs for n in g.node],
        "conformance",
        [i for g in graphs for i in g.input],
        [o for g in graphs for o in g.output],
        [t for g in graphs for t in g.initializer],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", cases[0].opset)])
    model.ir_version = max(c.model.ir_version for c in cases)
    return model


def build_group(cases: list[Outcome], out: Path) -> None:
    """One g++ build for cases of one opset and batch size; each gets its C++ outputs."""
    model = merged_model([o.case for o in cases])
    hls_model = converters.convert_from_onnx_model(
        model, hls_config=wide_config(model), output_dir=str(out), project_name="conformance"
    )
    hls_model.compile()
    outputs = _predict(hls_model, [x for o in cases for x in o.case.inputs], "cpp")
    for outcome in cases:
        count = len(outcome.case.expected)
        outcome.cpp, outputs = outputs[:count], outputs[count:]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    root = tmp_path_factory.mktemp("onnx_conformance")
    results = {c.name: run_case(c, root / "case") for c in claimed_cases()}
    groups: dict[tuple[int, int], list[Outcome]] = {}
    for outcome in results.values():
        if outcome.error is None and outcome.crash is None and outcome.case.inputs:
            key = (outcome.case.opset, len(outcome.case.inputs[0]))
            groups.setdefault(key, []).append(outcome)
    for (opset, batch), members in sorted(groups.items()):
        for start in range(0, len(members), BUILD_GROUP):
            build_group(members[start : start + BUILD_GROUP], root / f"g{opset}_{batch}_{start}")
    return results


CASE_NAMES = [c.name for c in claimed_cases()]


def _close(got: np.ndarray, want: np.ndarray, outcome: Outcome) -> str | None:
    case = outcome.case
    if got.size != want.size:
        return f"shape {got.shape}, expected {want.shape}"
    got = got.reshape(want.shape).astype(np.float64)
    want = want.astype(np.float64)
    allowed = case.atol + case.rtol * np.abs(want) + outcome.tol
    excess = np.abs(got - want) - allowed
    if want.size and float(np.max(excess)) > 0:
        worst = int(np.argmax(excess))
        return (
            f"|{got.reshape(-1)[worst]} - {want.reshape(-1)[worst]}| exceeds "
            f"{float(allowed.reshape(-1)[worst]) if np.ndim(allowed) else allowed:.3g}"
        )
    return None


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case(outcomes: dict[str, Outcome], name: str) -> None:
    outcome = outcomes[name]
    assert outcome.crash is None, f"{name} crashed: {outcome.crash}"
    if name in REFUSED:
        assert outcome.error is not None, f"{name} is listed as refused but now compiles: move it"
        assert REFUSED[name] in outcome.error, outcome.error
        assert "\n" not in outcome.error
        return
    assert outcome.error is None, f"{name} refused: {outcome.error}"
    assert len(outcome.outputs) == len(outcome.case.expected)
    for got, want in zip(outcome.outputs, outcome.case.expected, strict=True):
        problem = _close(got, want, outcome)
        assert problem is None, f"{name} (numpy emulator): {problem}"
    assert outcome.cpp is not None, f"{name} was not built with g++"
    for cpp, emulated in zip(outcome.cpp, outcome.outputs, strict=True):
        np.testing.assert_array_equal(cpp.reshape(emulated.shape), emulated, err_msg=f"{name}: g++ vs numpy")


def test_readme_lists_every_claimed_operator() -> None:
    row = next(line for line in (REPO / "README.md").read_text().splitlines() if line.startswith("| ONNX"))
    assert not [op for op in CLAIMED if not re.search(rf"\b{op}\b", row)]


def test_refused_list_names_real_cases() -> None:
    assert not set(REFUSED) - set(CASE_NAMES)


def test_readme_reports_the_counts(outcomes: dict[str, Outcome]) -> None:
    """README states the pass / refused counts of this module; they must be current."""
    passed = sum(1 for o in outcomes.values() if o.error is None and o.crash is None)
    refused = sum(1 for o in outcomes.values() if o.error is not None)
    text = (REPO / "README.md").read_text()
    match = re.search(r"(\d+) ONNX operator test cases: (\d+) pass, (\d+) are refused", text)
    assert match, "README lost its ONNX conformance line"
    assert tuple(map(int, match.groups())) == (len(outcomes), passed, refused)
    assert math.isfinite(passed)
