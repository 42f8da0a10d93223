"""`nn.activation` -> `hls.activation` (nnet::activation), with one `ActivationSpec` per kind.

A kind's spec holds everything about it: the float function, the framework class names, the
default alpha / beta and which of them the kernel reads, the auto result type, and either its
exact emulation or its lookup table (range, function sampled, pass-through side). Adding a kind
is one enum member (nnhls.dialects.kinds.ActivationKind), one spec here and one case in
nnet_activation.h.

Precision (the result's auto rule is the kind's; x = the input type, F = the default's
fractional bits):

| kind | result |
|---|---|
| linear | x |
| relu | the unsigned input type ufixed<W - 1, I - 1> (the input itself if unsigned) |
| relu6, clip, hard_tanh, thresholded_relu | x's F, the fewest integer bits for the clipped range |
| leaky_relu, prelu | x, plus the bits |slope| > 1 (or a negative slope) needs |
| sigmoid, hard_sigmoid | ufixed<F + 1, 1> over [0, 1] |
| tanh, softsign | fixed<F + 2, 2> over [-1, 1] |
| elu, selu, softplus, swish, gelu | F, integer bits for the function's range over the input range |

`table`: the result's F, integer bits for the table entries' range; `param`: `fitted` over
alpha, beta and the prelu slopes. Tables: see nnhls/dialects/tables.py for how entries are
quantized; the ranges are [-8, 8) ([-8, 0) for elu and selu, whose positive side is exact).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import erf

import numpy as np
from xdsl.dialects.builtin import Float64Type, FloatAttr
from xdsl.ir import Attribute, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern, op_type_rewrite_pattern

from nnhls.dialects import hls, nn, tables
from nnhls.dialects.bitgrowth import fitted, make_type, range_type
from nnhls.dialects.fixed import FixedPrecision, constant_mantissas, from_mantissa
from nnhls.dialects.kinds import TABLE_ACTIVATIONS, ActivationKind
from nnhls.dialects.types import ActivationKindAttr, FixedPointType
from nnhls.errors import CodegenError, ModelError
from nnhls.ops import exact as ex
from nnhls.ops.base import (
    Estimate,
    KernelRules,
    LayerTypes,
    Lowering,
    OpRules,
    ScheduleInfo,
    elementwise_estimate,
    int_attr,
    quantize,
    quantized_float,
    register,
)
from nnhls.ops.cpp import Layer

SELU_ALPHA = 1.6732632423543772848170429916717
"""SELU's alpha (Klambauer et al.); ONNX's default attribute is its float32 rounding."""
SELU_SCALE = 1.0507009873554804934193349852946
"""SELU's scale (lambda); ONNX's default gamma is its float32 rounding."""

Array = np.ndarray
_erf = np.vectorize(erf, otypes=[np.float64])


def sigmoid(x: Array) -> Array:
    """The logistic function, overflow-free."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


@dataclass(frozen=True)
class Params:
    """An activation's parameters as the rules see them: alpha and beta (None when unset or not
    used) and the prelu slopes."""

    alpha: float | None
    beta: float | None
    slopes: Array | None


@dataclass(frozen=True)
class TableSpec:
    """A lookup-table activation: the function it samples over [low, high) and what happens
    beside the table (see the hls.activation docstring)."""

    function: Callable[[Array, float | None], Array]
    """The exact float function a table entry samples (with the op's alpha)."""
    low: float = -8.0
    high: float = 8.0
    passthrough: str = ""
    """"above": y = x above the range (softplus, swish, gelu); "nonnegative": y = x for x >= 0
    (elu); "scaled": y = x * beta for x >= 0 (selu)."""
    result_range: Callable[[FixedPrecision, Params], tuple[float, float]] | None = None
    """The function's range over the input type, for the auto result (None: [-1, 1] or [0, 1]
    fixed ranges given by `fixed_range`)."""


@dataclass(frozen=True)
class ActivationSpec:
    """Everything about one activation kind (see the module docstring)."""

    kind: ActivationKind
    reference: Callable[[Array, Params], Array]
    """The float function on the framework's parameters (the golden model)."""
    result: Callable[[FixedPrecision, Params, FixedPrecision], FixedPrecision]
    """The auto result type from (input type, parameters rounded to param_t, model default)."""
    class_names: tuple[str, ...] = ()
    """Framework / hls4ml class names a LayerType entry may use for this kind."""
    default_alpha: float | None = None
    default_beta: float | None = None
    kernel_alpha: bool = False
    """Whether the kernel reads alpha (it is then a param_t constant)."""
    kernel_beta: bool = False
    exact: Callable[[Params, ex.Exact, hls.ActivationOp], ex.Exact] | None = None
    """The emulation of an exact kind (None for table kinds)."""
    table: TableSpec | None = None


SPECS: dict[ActivationKind, ActivationSpec] = {}


def spec(kind: ActivationKind) -> ActivationSpec:
    """The spec of a kind; an error naming it when there is none."""
    found = SPECS.get(kind)
    if found is None:
        raise ModelError(f"activation kind '{kind.value}' has no ActivationSpec (nnhls/ops/activation.py)")
    return found


def _add(s: ActivationSpec) -> None:
    if (s.table is not None) != (s.kind in TABLE_ACTIVATIONS) or (s.table is None) == (s.exact is None):
        raise AssertionError(f"{s.kind.value}: a table kind needs a table, an exact kind its emulation")
    SPECS[s.kind] = s


# ----- helpers of the rules ---------------------------------------------------------------------------------


def _clip_result(x: FixedPrecision, lo: float, hi: float) -> FixedPrecision:
    lo, hi = max(lo, x.min_value), min(hi, x.max_value)
    return range_type(min(lo, hi), max(lo, hi), x.fractional, x)


def _slope_result(x: FixedPrecision, slopes: Array) -> FixedPrecision:
    """leaky_relu / prelu: x, or x * slope for x < 0 (exact range of both branches, x's F)."""
    lo = min(
        x.min_value, float(np.min(slopes * x.min_value)), float(np.min(slopes * x.max_value)), 0.0
    )
    hi = max(x.max_value, float(np.max(slopes * x.min_value)), 0.0)
    return range_type(lo, hi, x.fractional, x)


def _table_result(x: FixedPrecision, p: Params, default: FixedPrecision, kind: ActivationKind) -> FixedPrecision:
    table = SPECS[kind].table
    assert table is not None and table.result_range is not None
    lo, hi = table.result_range(x, p)
    return range_type(lo, hi, default.fractional, default)


def _unit(lo: float) -> Callable[[FixedPrecision, Params, FixedPrecision], FixedPrecision]:
    """A result over [lo, 1] with the default's fractional bits and modes."""
    return lambda x, p, default: range_type(lo, 1.0, default.fractional, default)


def _const(value: int) -> ex.Exact:
    return ex.exact_const(value)


def _param(op: hls.ActivationOp, attr: FloatAttr | None, what: str) -> ex.Exact:
    """alpha or beta as the exact constant of param_t the kernel compares with."""
    if attr is None or op.param_t is None:
        raise ModelError(
            f"hls.activation '{op.layer_name}' ({op.kind.data.value}) needs {what} and param_t"
        )
    p = op.param_t.precision
    return ex.Exact(constant_mantissas(np.array(attr.value.data), p), p.fractional)


def _hi(x: FixedPrecision) -> float:
    return max(x.max_value, 0.0)


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


# ----- the kinds ----------------------------------------------------------------------------------------------

_add(ActivationSpec(
    ActivationKind.LINEAR,
    reference=lambda x, p: x,
    result=lambda x, p, d: x,
    exact=lambda p, x, op: x,
))
_add(ActivationSpec(
    ActivationKind.RELU,
    reference=lambda x, p: np.maximum(x, 0.0),
    result=lambda x, p, d: x if not x.signed else make_type(x.width - 1, x.integer - 1, False).with_modes(x.rounding, x.overflow, x.sat_bits),
    class_names=("ReLU", "Relu"),
    exact=lambda p, x, op: ex.e_max(x, _const(0)),
))
_add(ActivationSpec(
    ActivationKind.RELU6,
    reference=lambda x, p: np.clip(x, 0.0, 6.0),
    result=lambda x, p, d: _clip_result(x, 0.0, 6.0),
    exact=lambda p, x, op: ex.e_min(ex.e_max(x, _const(0)), _const(6)),
))
_add(ActivationSpec(
    ActivationKind.LEAKY_RELU,
    reference=lambda x, p: np.where(x >= 0, x, _or(p.alpha, 0.3) * x),
    result=lambda x, p, d: _slope_result(x, np.array([_or(p.alpha, 0.3)])),
    class_names=("LeakyReLU", "LeakyRelu", "ParametrizedActivation"),
    default_alpha=0.3,
    kernel_alpha=True,
    exact=lambda p, x, op: ex.e_where(ex.e_gt(x, _const(0)), x, ex.e_mul(x, _param(op, op.alpha, "alpha"))),
))
_add(ActivationSpec(
    ActivationKind.THRESHOLDED_RELU,
    reference=lambda x, p: np.where(x > _or(p.alpha, 1.0), x, 0.0),
    result=lambda x, p, d: _clip_result(x, min(_or(p.alpha, 1.0), 0.0), math.inf),
    class_names=("ThresholdedReLU", "ParametrizedActivation"),
    default_alpha=1.0,
    kernel_alpha=True,
    exact=lambda p, x, op: ex.e_where(ex.e_gt(x, _param(op, op.alpha, "alpha")), x, _const(0)),
))
_add(ActivationSpec(
    ActivationKind.PRELU,
    reference=lambda x, p: np.where(x >= 0, x, (p.slopes if p.slopes is not None else 0.0) * x),
    result=lambda x, p, d: _slope_result(x, p.slopes if p.slopes is not None else np.zeros(1)),
    class_names=("PReLU", "PRelu"),
    exact=lambda p, x, op: _prelu(x, op),
))
def _clip_reference(x: Array, p: Params) -> Array:
    """min(max(x, lo), hi), ONNX's order (lo > hi gives hi); an absent bound is no bound."""
    return np.minimum(np.maximum(x, _or(p.alpha, -np.inf)), _or(p.beta, np.inf))


def _clip_exact_result(x: FixedPrecision, p: Params) -> FixedPrecision:
    lo, hi = _or(p.alpha, -math.inf), _or(p.beta, math.inf)
    return _clip_result(x, hi, hi) if lo > hi else _clip_result(x, lo, hi)


def _clip_exact(x: ex.Exact, op: hls.ActivationOp) -> ex.Exact:
    if op.alpha is not None:
        x = ex.e_max(x, _param(op, op.alpha, "alpha"))
    if op.beta is not None:
        x = ex.e_min(x, _param(op, op.beta, "beta"))
    return x


_add(ActivationSpec(
    ActivationKind.CLIP,
    reference=_clip_reference,
    result=lambda x, p, d: _clip_exact_result(x, p),
    class_names=("Clip",),
    kernel_alpha=True,
    kernel_beta=True,
    exact=lambda p, x, op: _clip_exact(x, op),
))
_add(ActivationSpec(
    ActivationKind.HARD_TANH,
    reference=lambda x, p: np.clip(x, -1.0, 1.0),
    result=lambda x, p, d: _clip_result(x, -1.0, 1.0),
    class_names=("Hardtanh", "HardActivation"),
    exact=lambda p, x, op: ex.e_min(ex.e_max(x, _const(-1)), _const(1)),
))
_add(ActivationSpec(
    ActivationKind.HARD_SIGMOID,
    # Keras 3: relu6(x + 3) / 6 == clip(x / 6 + 0.5, 0, 1).
    reference=lambda x, p: np.clip(_or(p.alpha, 1.0 / 6.0) * x + _or(p.beta, 0.5), 0.0, 1.0),
    result=_unit(0.0),
    class_names=("HardSigmoid", "HardActivation"),
    default_alpha=1.0 / 6.0,
    default_beta=0.5,
    kernel_alpha=True,
    kernel_beta=True,
    exact=lambda p, x, op: ex.e_min(
        ex.e_max(ex.e_add(ex.e_mul(x, _param(op, op.alpha, "alpha")), _param(op, op.beta, "beta")), _const(0)),
        _const(1),
    ),
))


def _prelu(x: ex.Exact, op: hls.ActivationOp) -> ex.Exact:
    assert op.param is not None and op.param_t is not None
    slope = ex.Exact(ex.mantissas_of(op.param), op.param_t.precision.fractional)
    return ex.e_where(ex.e_gt(x, _const(0)), x, ex.e_mul(x, slope))


# Table kinds: `function` is what the table samples; `reference` the whole float function.

_add(ActivationSpec(
    ActivationKind.SIGMOID,
    reference=lambda x, p: sigmoid(x),
    result=_unit(0.0),
    class_names=("Sigmoid",),
    table=TableSpec(lambda x, alpha: sigmoid(x)),
))
_add(ActivationSpec(
    ActivationKind.TANH,
    reference=lambda x, p: np.tanh(x),
    result=_unit(-1.0),
    class_names=("Tanh",),
    table=TableSpec(lambda x, alpha: np.tanh(x)),
))
_add(ActivationSpec(
    ActivationKind.SOFTSIGN,
    reference=lambda x, p: x / (1.0 + np.abs(x)),
    result=_unit(-1.0),
    class_names=("Softsign",),
    table=TableSpec(lambda x, alpha: x / (1.0 + np.abs(x))),
))
_add(ActivationSpec(
    ActivationKind.SOFTPLUS,
    reference=lambda x, p: np.logaddexp(0.0, x),
    result=lambda x, p, d: _table_result(x, p, d, ActivationKind.SOFTPLUS),
    class_names=("Softplus",),
    table=TableSpec(
        lambda x, alpha: np.logaddexp(0.0, x),
        passthrough="above",
        result_range=lambda x, p: (0.0, _hi(x) + math.log(2.0)),
    ),
))
_add(ActivationSpec(
    ActivationKind.ELU,
    reference=lambda x, p: np.where(x > 0, x, _or(p.alpha, 1.0) * np.expm1(np.minimum(x, 0.0))),
    result=lambda x, p, d: _table_result(x, p, d, ActivationKind.ELU),
    class_names=("ELU", "Elu", "ParametrizedActivation"),
    table=TableSpec(
        lambda x, alpha: _or(alpha, 1.0) * np.expm1(np.minimum(x, 0.0)),
        high=0.0,
        passthrough="nonnegative",
        result_range=lambda x, p: (-abs(_or(p.alpha, 1.0)), _hi(x)),
    ),
))
_add(ActivationSpec(
    ActivationKind.SELU,
    reference=lambda x, p: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0))),
    result=lambda x, p, d: _table_result(x, p, d, ActivationKind.SELU),
    class_names=("Selu", "SELU"),
    default_beta=SELU_SCALE,
    kernel_beta=True,
    table=TableSpec(
        lambda x, alpha: SELU_SCALE * SELU_ALPHA * np.expm1(np.minimum(x, 0.0)),
        high=0.0,
        passthrough="scaled",
        result_range=lambda x, p: (-SELU_SCALE * SELU_ALPHA, SELU_SCALE * _hi(x)),
    ),
))
_add(ActivationSpec(
    ActivationKind.SWISH,
    reference=lambda x, p: x * sigmoid(x),
    result=lambda x, p, d: _table_result(x, p, d, ActivationKind.SWISH),
    table=TableSpec(
        lambda x, alpha: x * sigmoid(x),
        passthrough="above",
        result_range=lambda x, p: (-0.2785, _hi(x)),
    ),
))
_add(ActivationSpec(
    ActivationKind.GELU,
    reference=lambda x, p: 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0))),
    result=lambda x, p, d: _table_result(x, p, d, ActivationKind.GELU),
    table=TableSpec(
        lambda x, alpha: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))),
        passthrough="above",
        result_range=lambda x, p: (-0.17, _hi(x)),
    ),
))

TABLE_KINDS = TABLE_ACTIVATIONS
"""Activations computed through a lookup table in hardware (TableSize / table precision apply);
the hls dialect's verifier holds the list, every spec above agrees with it."""


# ----- tables -----------------------------------------------------------------------------------------------


def activation_range(kind: ActivationKind) -> tuple[float, float]:
    """[table_min, table_max) of a table activation."""
    table = spec(kind).table
    if table is None:
        raise ModelError(f"{kind.value} is not a table activation")
    return table.low, table.high


def activation_values(kind: ActivationKind, size: int, alpha: float | None) -> Array:
    """Float entries at the bin centres of [table_min, table_max)."""
    table = spec(kind).table
    if table is None:
        raise ModelError(f"{kind.value} is not a table activation")
    centres = table.low + (np.arange(size, dtype=np.float64) + 0.5) * ((table.high - table.low) / size)
    return table.function(centres, alpha)


def activation_table(kind: ActivationKind, size: int, alpha: float | None, t: FixedPrecision) -> Array:
    """The mantissas of a table activation's table in type t."""
    return tables.quantize_table(activation_values(kind, size, alpha), t)


def _alpha(op: nn.ActivationOp) -> float | None:
    return None if op.alpha is None else float(op.alpha.value.data)


def table_value_type(op: nn.ActivationOp, size: int, frac: int, like: FixedPrecision) -> FixedPrecision:
    """Auto table type: `frac` fractional bits, integer bits for the entries' range."""
    values = activation_values(op.activation, size, _alpha(op))
    return range_type(float(values.min()), float(values.max()), frac, like)


def kernel_params(op: nn.ActivationOp) -> tuple[float | None, float | None]:
    """(alpha, beta) as the hls kernel reads them (framework defaults filled in)."""
    s = spec(op.activation)
    alpha = op.alpha.value.data if op.alpha is not None else s.default_alpha
    beta = op.beta.value.data if op.beta is not None else s.default_beta
    return (alpha if s.kernel_alpha else None, beta if s.kernel_beta else None)


def clip_bounds(op: nn.ActivationOp, x: FixedPrecision) -> tuple[float | None, float | None]:
    """The bounds of a clip that can change a value of type x, as the kernel applies them:
    y = min(max(x, lo), hi) (ONNX's order: with lo > hi every output is hi). A bound is None
    when absent or when it cannot act on x's range: lo <= min(x) keeps every value, and so does
    hi >= max(max(x), lo). Dropping them keeps constants the input type could never reach (a
    bound of 1e6, or float32's largest standing for "no bound") out of the parameter type."""
    lo = None if op.alpha is None else op.alpha.value.data
    hi = None if op.beta is None else op.beta.value.data
    if lo is not None and lo <= x.min_value:
        lo = None
    if hi is not None and hi >= max(x.max_value, -math.inf if lo is None else lo):
        hi = None
    return lo, hi


def applied_params(op: nn.ActivationOp, x: FixedPrecision) -> tuple[float | None, float | None]:
    """(alpha, beta) as the hls kernel applies them to an input of type x: kernel_params, and
    for a clip only the bounds that can act on x (clip_bounds)."""
    if op.activation == ActivationKind.CLIP:
        return clip_bounds(op, x)
    return kernel_params(op)


def activation_params(op: nn.ActivationOp, x: FixedPrecision) -> Array:
    """alpha, beta (with the framework defaults the kernel uses; a clip's bounds that can act on
    the input type x) and the prelu slopes: the constants param_t must hold."""
    values = [v for v in applied_params(op, x) if v is not None]
    if op.param is not None:
        values += nn.to_numpy(op.param).reshape(-1).tolist()
    return np.asarray(values or [0.0], dtype=np.float64)


def _quantized(value: float | None, t: FixedPrecision) -> float | None:
    """A constant as the kernel sees it: quantized into its type t (saturating)."""
    if value is None:
        return None
    return float(from_mantissa(constant_mantissas(np.array([value]), t), t)[0])


def activation_result(
    kind: ActivationKind,
    x: FixedPrecision,
    op: nn.ActivationOp,
    default: FixedPrecision,
    param: FixedPrecision | None = None,
) -> FixedPrecision:
    """The auto result type of an activation (see the module table). The parameters of an exact
    kind (clip bounds, slopes) are taken as rounded to the parameter type `param`, what the kernel
    compares with; a table kind's range follows the function the table samples."""
    alpha = None if op.alpha is None else op.alpha.value.data
    beta = None if op.beta is None else op.beta.value.data
    if kind == ActivationKind.CLIP:
        alpha, beta = clip_bounds(op, x)
    s = spec(kind)
    if param is not None and s.table is None:
        alpha, beta = _quantized(alpha, param), _quantized(beta, param)
    slopes = nn.to_numpy(op.param) if op.param is not None else None
    return s.result(x, Params(alpha, beta, slopes), default)


# ----- canonicalization ------------------------------------------------------------------------------------


class RemoveLinear(RewritePattern):
    """A linear activation without type effect goes: its result precision is unset or "auto" (it
    would be the input type) or equals its producer's result type. With a pinned type, a
    producer with no other user and an "auto" result takes that type (hls4ml's
    merge_linear_activation) and the activation goes."""

    @op_type_rewrite_pattern
    def match_and_rewrite(self, op: nn.ActivationOp, rewriter: PatternRewriter) -> None:
        if op.activation != ActivationKind.LINEAR:
            return
        result = op.get_precision("result")
        producer = op.input.owner
        if not isinstance(result, FixedPointType):
            rewriter.replace(op, [], [op.input])
            return
        if not isinstance(producer, nn.NNLayerOp):
            return
        before = producer.get_precision("result")
        if isinstance(before, FixedPointType) and before == result:
            rewriter.replace(op, [], [op.input])
            return
        uses = list(op.input.uses)
        if before == nn.AUTO and len(uses) == 1 and uses[0].operation is op:
            producer.set_precision("result", result)
            rewriter.notify_op_modified(producer)
            rewriter.replace(op, [], [op.input])


# ----- the op -----------------------------------------------------------------------------------------------


EXACT_KINDS = frozenset(
    {
        ActivationKind.LINEAR,
        ActivationKind.RELU,
        ActivationKind.RELU6,
        ActivationKind.CLIP,
        ActivationKind.HARD_TANH,
        ActivationKind.LEAKY_RELU,
    }
)
"""Kinds whose kernel computes the exact value before the output cast (no table, no rounding)."""


@register
class ActivationRules(OpRules):
    op = nn.ActivationOp
    config_keys = ("TableSize",)

    def exact_before_cast(self, op: nn.NNLayerOp) -> bool:
        assert isinstance(op, nn.ActivationOp)
        return op.activation in EXACT_KINDS

    def layer_type_names(self, op: nn.NNLayerOp) -> tuple[str, ...]:
        assert isinstance(op, nn.ActivationOp)
        return (*spec(op.activation).class_names, "Activation")

    def all_type_names(self) -> tuple[str, ...]:
        return (*dict.fromkeys(n for s in SPECS.values() for n in s.class_names), "Activation")

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        assert isinstance(op, nn.ActivationOp)
        kind = op.activation
        params = activation_params(op, lt.x)
        param = lt.get("param", lambda: fitted(params, lt.default))
        result = lt.get("result", lambda: activation_result(kind, lt.x, op, lt.default, param))
        if kind not in TABLE_KINDS:
            lt.get("table", lambda: result)
            return
        size = tables.table_size(op.table_size)
        lt.get("table", lambda: table_value_type(op, size, result.fractional, lt.default))

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        return elementwise_estimate(op, s, 0, 1)

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, nn.ActivationOp)
        kind = op.activation
        props = lw.common(op) | {"kind": ActivationKindAttr(kind)}
        param_t = lw.precision(op, "param")
        alpha, beta = applied_params(op, lw.element(lw.operand(op.input)))
        uses_param = alpha is not None or beta is not None or op.param is not None
        if uses_param:
            props["param_t"] = lw.type_attr(op, "param")
        where = f"{op.name} '{op.layer_name}'"
        if alpha is not None:
            props["alpha"] = quantized_float(alpha, param_t, f"{where} alpha")
        if beta is not None:
            props["beta"] = quantized_float(beta, param_t, f"{where} beta")
        if op.param is not None:
            props["param"] = quantize(
                nn.to_numpy(op.param), param_t, f"{op.name} '{op.layer_name}' param"
            )
        if kind in TABLE_KINDS:
            props |= self.table_props(op, lw)
        return [lw.emit(hls.ActivationOp, [lw.operand(op.input)], lw.out_type(op), props)]

    @staticmethod
    def table_props(op: nn.ActivationOp, lw: Lowering) -> dict[str, Attribute | None]:
        kind = op.activation
        size = tables.table_size(op.table_size)
        table_t = lw.precision(op, "table")
        lo, hi = activation_range(kind)
        return {
            "table": hls.mantissa_attr(activation_table(kind, size, _alpha(op), table_t)),
            "table_size": int_attr(size),
            "table_t": lw.type_attr(op, "table"),
            "table_min": FloatAttr(lo, Float64Type()),
            "table_max": FloatAttr(hi, Float64Type()),
        }

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        assert isinstance(op, nn.ActivationOp)
        slopes = nn.to_numpy(op.param).astype(np.float64) if op.param is not None else None
        beta = None if op.beta is None else float(op.beta.value.data)
        return [spec(op.activation).reference(args[0], Params(_alpha(op), beta, slopes))]

    def canonicalization_patterns(self) -> Sequence[RewritePattern]:
        return (RemoveLinear(),)


@register
class ActivationKernel(KernelRules):
    op = hls.ActivationOp

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, hls.ActivationOp)
        x, result = args[0], ex.result_t(op)
        s = spec(op.kind.data)
        if s.table is None:
            assert s.exact is not None
            return [ex.cast(s.exact(Params(None, None, None), x.exact, op), result)]
        assert op.table is not None and op.table_size is not None and op.table_t is not None
        assert op.table_min is not None and op.table_max is not None
        size = op.table_size.value.data
        low, high = Fraction(op.table_min.value.data), Fraction(op.table_max.value.data)
        raw = ex.table_index(x.exact, low, size, high - low)
        table = ex.mantissas_of(op.table)
        y = ex.cast(ex.Exact(table[ex.clamp_index(raw, size)], op.table_t.precision.fractional), result)
        direct = self._direct_branch(op, s.table, x, raw, size)
        if direct is None:
            return [y]
        where, value = direct
        passed = ex.cast(value, result)
        return [
            ex.FixedArray(
                ex.norm(np.where(where, ex.obj(passed.m) if y.m.dtype == object else passed.m, y.m)), result
            )
        ]

    @staticmethod
    def _direct_branch(
        op: hls.ActivationOp, table: TableSpec, x: ex.FixedArray, raw: ex.Mantissas, size: int
    ) -> tuple[np.ndarray, ex.Exact] | None:
        """Where a table activation bypasses its table, and the exact value it takes there."""
        if table.passthrough == "above":
            return np.asarray(raw >= size, dtype=bool), x.exact
        if table.passthrough == "nonnegative":
            return np.asarray(x.m >= 0, dtype=bool), x.exact
        if table.passthrough == "scaled":
            return np.asarray(x.m >= 0, dtype=bool), ex.e_mul(
                x.exact, _param(op, op.beta, "beta (selu scale)")
            )
        return None

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, hls.ActivationOp)
        value = layer.inputs[0]
        config = layer.struct("activ_config")
        config.const("n_in", value.size).const("n_chan", value.pack)
        layer.io(config)
        config.const("reuse_factor", layer.reuse_factor)
        config.const("kind", f"nnet::act_{op.kind.data.value}")
        table_arg, param_arg = "nullptr", "nullptr"
        if op.table is not None:
            assert op.table_size is not None and op.table_t is not None
            assert op.table_min is not None and op.table_max is not None
            size = op.table_size.value.data
            lo, hi = op.table_min.value.data, op.table_max.value.data
            k = layer.log2_exact(size / (hi - lo), "table_size / (table_max - table_min)")
            offset = lo * 2.0**k
            if offset != int(offset):
                raise CodegenError(f"{op.name} '{layer.layer}': table_min {lo} must be a multiple of the table step")
            layer.constant("table", op.table, op.table_t, f"{op.kind.data.value} table over [{lo}, {hi})")
            config.const("table_size", size).const("table_scale_log2", k, "int").const("table_offset", int(offset), "long long")
            config.typedef("table_t", f"{layer.name}_table_t")
            table_arg = f"{layer.name}_table"
        if op.param is not None:
            assert op.param_t is not None
            layer.constant("param", op.param, op.param_t, "per-channel parameter")
            param_arg = f"{layer.name}_param"
        if op.alpha is not None:
            config.real("alpha", op.alpha.value.data)
        if op.beta is not None:
            config.real("beta", op.beta.value.data)
        if op.kind.data == ActivationKind.CLIP:
            config.const("clip_min", op.alpha is not None).const("clip_max", op.beta is not None)
        if op.param_t is not None:
            config.typedef("param_t", f"{layer.name}_param_t" if op.param is not None else op.param_t.cpp())
        layer.kernel, layer.header = "activation", "nnet_activation.h"
        if param_arg != "nullptr":
            layer.args = [table_arg, param_arg]
        elif table_arg != "nullptr":
            layer.args = [table_arg]
