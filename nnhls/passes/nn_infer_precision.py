"""nn-infer-precision: resolve every `auto` precision with exact hardware bit-growth rules.

Every layer leaves with a complete `precision` dictionary (one fixed-point type per variable of
the op). Variables the configuration pins keep their type; a variable that is absent (the pass
ran without nn-apply-config) takes the model default (`nn.default_precision`, else
`fixed<16,6>`); `auto` is inferred from the layer's input types and constants, model-wide in
program order. Notation: a type is (W, I, F = W - I), `union(a, b)` holds every value of a and
b (signed if either is, F = max F, I = max I plus one when only the other one is signed) and
`grow(t, n)` adds ceil(log2 n) integer bits to t (the sum of n terms of type t never overflows).

| op | variable | auto rule |
|---|---|---|
| input | result | the model default |
| dense, conv | weight, bias | `fitted`: the default's width, the fewest integer bits holding the quantized values |
| dense, conv | accum, result | grow(union(product, bias), n + 1), product = (Wx + Ww, Ix + Iw), n = n_in (dense), k * C_in (conv), k (depthwise); n without a (non-zero) bias |
| pool max, global max | accum, result | the input type |
| pool avg, global avg | accum | grow(x, window size) |
| pool avg, global avg | result | the input type; one more integer bit when a divisor is not a power of two |
| batchnorm | scale, bias | `fitted` |
| batchnorm | accum, result | grow(union(x * scale, bias), 2) |
| relu | result | the unsigned input type ufixed<W - 1, I - 1> (the input itself if unsigned) |
| relu6, clip, hard_tanh, thresholded_relu | result | the input's F and the fewest integer bits for the clipped range |
| leaky_relu, prelu | result | the input type, plus the bits |slope| > 1 (or a negative slope) needs |
| sigmoid, hard_sigmoid, softmax | result | ufixed<F + 1, 1> over [0, 1], F = the default's fractional bits |
| tanh, softsign | result | fixed<F + 2, 2> over [-1, 1] |
| elu, selu, softplus, swish, gelu | result | the default's F, integer bits for the function's range over the input range |
| activation | table | the result's F, integer bits for the table entries' range |
| activation | param | `fitted` over alpha, beta and the prelu slopes |
| softmax | exp_table | ufixed over the entries' range (stable: [0, 1]) with the default's F |
| softmax | accum | grow(exp_table, n) for n = the softmax length: the sum of the n entries never overflows |
| softmax | inv_table | the default's F, integer bits for the largest entry |
| add, sub, average, mul, maximum, minimum, concat | result | exact: grow(union, k) for k addends; sub signed; average grow then halve; mul (sum W, sum I); max/min/concat union |
| dot | accum, result | grow(product, n) |
| reshape, flatten, transpose, pad, crop, upsample, dropout, identity | result | the input type |
| constant | result | `fitted` |

Unlike hls4ml, activations and softmax are inferred too (never truncated to the default). Exact
types use TRN/WRAP (they cannot overflow); range types keep the default's quantization and
overflow modes. `nn.max_precision` caps inferred widths and integer bits (each independently, as
hls4ml does), taking the maximum's modes; a capped type may overflow, which the report marks.
Types wider than 1024 bits are an error naming the layer.

Before (`accum` and `result` auto, inputs and weights fixed<16,6>, 8 inputs, with a bias):

    %1 = nn.dense %0 {layer = "fc1", precision = {weight = !hls.fixed<16, 6>,
                      bias = !hls.fixed<16, 6>, accum = "auto", result = "auto"}, ...}

After: product fixed<32,12>, nine terms -> 4 more bits:

    %1 = nn.dense %0 {layer = "fc1", precision = {weight = !hls.fixed<16, 6>,
                      bias = !hls.fixed<16, 6>, accum = !hls.fixed<36, 16>,
                      result = !hls.fixed<36, 16>}, ...}
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from math import prod

import numpy as np
from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import DictionaryAttr, ModuleOp
from xdsl.ir import Attribute
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import DiagnosticException

from nnhls.dialects import fixed, nn, tables
from nnhls.dialects.bitgrowth import (
    accumulator,
    cap,
    clog2,
    fitted,
    grow,
    make_type,
    precision_type,
    product,
    range_type,
    type_precision,
    union,
)
from nnhls.dialects.fixed import (
    MAX_WIDTH,
    FixedPrecision,
    PrecisionError,
    from_mantissa,
    to_mantissa,
)
from nnhls.dialects.kinds import ActivationKind, PoolOp, SoftmaxImpl
from nnhls.dialects.nn import ModelTypes, result_precision
from nnhls.dialects.types import FixedPointType
from nnhls.errors import ModelError, PrecisionWarning, warn


class PrecisionInferenceError(ModelError, DiagnosticException):
    """A type that cannot be inferred (e.g. wider than the ap types allow); names the layer."""


# ----- per-layer resolution --------------------------------------------------------------------------------


@dataclass
class Choice:
    """One resolved variable, for the report."""

    layer: str
    var: str
    type: FixedPrecision
    how: str
    """"pinned", "default", "auto" or "auto, capped"."""


@dataclass
class LayerTypes:
    """Resolves the variables of one op, in order, from pinned types or auto rules."""

    op: nn.NNLayerOp
    inputs: list[FixedPrecision]
    model: ModelTypes
    types: dict[str, FixedPrecision] = field(default_factory=dict[str, FixedPrecision])
    choices: list[Choice] = field(default_factory=list[Choice])

    @property
    def x(self) -> FixedPrecision:
        return self.inputs[0]

    @property
    def default(self) -> FixedPrecision:
        return self.model.default

    def get(self, var: str, natural: Callable[[], FixedPrecision]) -> FixedPrecision:
        """The variable's type: pinned, default when absent, else the auto rule (capped)."""
        if var in self.types:
            return self.types[var]
        value = self.op.get_precision(var)
        if isinstance(value, FixedPointType):
            t, how = type_precision(value), "pinned"
        elif value is None:
            t, how = self.default, "default"
        else:
            try:
                inferred = natural()
            except PrecisionError:
                raise PrecisionInferenceError(
                    f"{self.op.name} '{self.op.layer_name}': inferred {var} type is wider than "
                    f"{MAX_WIDTH} bits; pin a narrower type or set a maximum precision"
                ) from None
            t = cap(inferred, self.model.maximum)
            how = "auto" if t == inferred else "auto, capped"
            if t != inferred:
                warn(
                    f"{self.op.name} '{self.op.layer_name}': {var} needs {inferred}; "
                    f"capped to {t} by the maximum precision",
                    PrecisionWarning,
                )
        self.types[var] = t
        self.choices.append(Choice(self.op.layer_name, var, t, how))
        return t

    def finish(self) -> None:
        """Resolve the variables no rule asked for (unused by the kernel) as the result type."""
        result = self.get("result", lambda: self.x)
        for var in self.op.PRECISION_VARS:
            self.get(var, lambda: result)


def _weights(attr: Attribute | None) -> np.ndarray | None:
    from xdsl.dialects.builtin import DenseIntOrFPElementsAttr

    return nn.to_numpy(attr) if isinstance(attr, DenseIntOrFPElementsAttr) else None


def has_bias(bias: np.ndarray | None) -> bool:
    """Whether a bias term joins the accumulation (an absent or all-zero bias adds nothing)."""
    return bias is not None and bool(np.any(bias != 0))


def accumulated_terms(op: nn.DenseOp | nn.ConvBaseOp) -> int:
    """Products summed per output: n_in (dense), kernel size * channels (conv), kernel (depthwise)."""
    w = op.weight.get_shape()
    if isinstance(op, nn.DenseOp):
        return w[0]
    kernel = prod(w[: op.RANK])
    return kernel if op.DEPTHWISE else kernel * w[-2]


def _infer_weighted(lt: LayerTypes, op: nn.DenseOp | nn.ConvBaseOp) -> None:
    weight = nn.to_numpy(op.weight)
    bias = _weights(op.bias)
    w = lt.get("weight", lambda: fitted(weight, lt.default))
    b = lt.get("bias", lambda: fitted(bias, lt.default) if bias is not None else lt.default)
    n = accumulated_terms(op)
    acc = lt.get("accum", lambda: accumulator(lt.x, w, b if has_bias(bias) else None, n))
    lt.get("result", lambda: acc)


def pool_divisors_exact(op: nn.PoolingOp | nn.GlobalPoolOp, in_shape: Sequence[int]) -> bool:
    """Whether every averaging divisor is a power of two (then y = sum * 2**-k is exact)."""
    if isinstance(op, nn.GlobalPoolOp):
        n = prod(in_shape[:-1])
        return n & (n - 1) == 0
    n = prod(nn.ints(op.pool_size))
    padded = any(nn.ints(op.pads)) and op.count_pad is None
    return n & (n - 1) == 0 and not padded


def _infer_pool(lt: LayerTypes, op: nn.PoolingOp | nn.GlobalPoolOp) -> None:
    x = lt.x
    in_shape = nn.shape_of(op.input)
    if op.op.data == PoolOp.MAX:
        lt.get("accum", lambda: x)
        lt.get("result", lambda: x)
        return
    window = prod(in_shape[:-1]) if isinstance(op, nn.GlobalPoolOp) else prod(nn.ints(op.pool_size))
    lt.get("accum", lambda: grow(x, window))
    exact = pool_divisors_exact(op, in_shape)
    lt.get("result", lambda: x if exact else make_type(x.width + 1, x.integer + 1, x.signed))


def _infer_batchnorm(lt: LayerTypes, op: nn.BatchNormOp) -> None:
    scale, bias = nn.to_numpy(op.scale), nn.to_numpy(op.bias)
    s = lt.get("scale", lambda: fitted(scale, lt.default))
    b = lt.get("bias", lambda: fitted(bias, lt.default))
    acc = lt.get("accum", lambda: grow(union(product(lt.x, s), b), 2))
    lt.get("result", lambda: acc)


# ----- activations -----------------------------------------------------------------------------------------


def activation_params(op: nn.ActivationOp) -> np.ndarray:
    """alpha, beta (with the framework defaults the kernel uses) and the prelu slopes: the
    constants param_t must hold."""
    values = [v for v in tables.kernel_params(op) if v is not None]
    param = _weights(op.param)
    if param is not None:
        values += param.reshape(-1).tolist()
    return np.asarray(values or [0.0], dtype=np.float64)


def _slope_result(x: FixedPrecision, slopes: np.ndarray) -> FixedPrecision:
    """leaky_relu / prelu: x, or x * slope for x < 0 (exact range of both branches, x's F)."""
    lo = min(
        x.min_value, float(np.min(slopes * x.min_value)), float(np.min(slopes * x.max_value)), 0.0
    )
    hi = max(x.max_value, float(np.max(slopes * x.min_value)), 0.0)
    return range_type(lo, hi, x.fractional, x)


def _clip_result(x: FixedPrecision, lo: float, hi: float) -> FixedPrecision:
    lo, hi = max(lo, x.min_value), min(hi, x.max_value)
    return range_type(min(lo, hi), max(lo, hi), x.fractional, x)


def _function_range(
    kind: ActivationKind, x: FixedPrecision, op: nn.ActivationOp
) -> tuple[float, float]:
    """The range of a table activation over the input type (the pass-through side included)."""
    hi = max(x.max_value, 0.0)
    alpha = 1.0 if op.alpha is None else op.alpha.value.data
    match kind:
        case ActivationKind.ELU:
            return -abs(alpha), hi
        case ActivationKind.SELU:
            return -tables.SELU_SCALE * tables.SELU_ALPHA, tables.SELU_SCALE * hi
        case ActivationKind.SOFTPLUS:
            return 0.0, hi + math.log(2.0)
        case ActivationKind.SWISH:
            return -0.2785, hi
        case ActivationKind.GELU:
            return -0.17, hi
        case _:
            return 0.0, hi


def _quantized(value: float | None, t: FixedPrecision) -> float | None:
    """A constant as the kernel sees it: rounded to its type t."""
    if value is None:
        return None
    return float(from_mantissa(to_mantissa(np.array([value]), t), t)[0])


def activation_result(
    kind: ActivationKind,
    x: FixedPrecision,
    op: nn.ActivationOp,
    default: FixedPrecision,
    param: FixedPrecision | None = None,
) -> FixedPrecision:
    """The auto result type of an activation (see the module table); clip bounds are taken as
    rounded to the parameter type `param` (what the kernel compares with)."""
    frac = default.fractional
    alpha = None if op.alpha is None else op.alpha.value.data
    beta = None if op.beta is None else op.beta.value.data
    if param is not None:
        alpha, beta = _quantized(alpha, param), _quantized(beta, param)
    match kind:
        case ActivationKind.LINEAR:
            return x
        case ActivationKind.RELU:
            return (
                x
                if not x.signed
                else make_type(x.width - 1, x.integer - 1, False).with_modes(
                    x.rounding, x.overflow, x.sat_bits
                )
            )
        case ActivationKind.RELU6:
            return _clip_result(x, 0.0, 6.0)
        case ActivationKind.HARD_TANH:
            return _clip_result(x, -1.0, 1.0)
        case ActivationKind.CLIP:
            return _clip_result(
                x, -math.inf if alpha is None else alpha, math.inf if beta is None else beta
            )
        case ActivationKind.THRESHOLDED_RELU:
            theta = 1.0 if alpha is None else alpha
            return _clip_result(x, min(theta, 0.0), math.inf)
        case ActivationKind.LEAKY_RELU:
            return _slope_result(x, np.array([0.3 if alpha is None else alpha]))
        case ActivationKind.PRELU:
            slopes = _weights(op.param)
            return _slope_result(x, slopes if slopes is not None else np.zeros(1))
        case ActivationKind.SIGMOID | ActivationKind.HARD_SIGMOID:
            return range_type(0.0, 1.0, frac, default)
        case ActivationKind.TANH | ActivationKind.SOFTSIGN:
            return range_type(-1.0, 1.0, frac, default)
        case _:
            lo, hi = _function_range(kind, x, op)
            return range_type(lo, hi, frac, default)


def _infer_activation(lt: LayerTypes, op: nn.ActivationOp) -> None:
    kind = op.activation
    params = activation_params(op)
    param = lt.get("param", lambda: fitted(params, lt.default))
    result = lt.get("result", lambda: activation_result(kind, lt.x, op, lt.default, param))
    if kind not in tables.TABLE_KINDS:
        lt.get("table", lambda: result)
        return
    size = tables.table_size(op.table_size)
    lt.get("table", lambda: tables.table_value_type(op, size, result.fractional, lt.default))


def _infer_softmax(lt: LayerTypes, op: nn.SoftmaxOp) -> None:
    n = nn.shape_of(op.input)[-1]
    impl = op.implementation.data if op.implementation is not None else SoftmaxImpl.STABLE
    frac = lt.default.fractional
    lt.get("result", lambda: range_type(0.0, 1.0, frac, lt.default))
    exp_size = tables.table_size(op.exp_table_size)
    exp_t = lt.get("exp_table", lambda: tables.exp_table_type(impl, lt.x, exp_size, lt.default))
    acc = lt.get("accum", lambda: grow(exp_t, n))
    inv_size = tables.table_size(op.inv_table_size)
    lt.get(
        "inv_table",
        lambda: tables.inv_table_type(impl, n, lt.x, exp_t, exp_size, acc, inv_size, lt.default),
    )
    lt.get("inv_inp", lambda: acc)
    lt.get("table", lambda: exp_t)


# ----- merges and shape ops --------------------------------------------------------------------------------


def merge_result(op: nn.NNLayerOp, inputs: list[FixedPrecision]) -> FixedPrecision:
    """Exact type of an element-wise merge of k inputs (the lowering's chain of binary kernels)."""
    k = len(inputs)
    if isinstance(op, nn.AddOp):
        return grow(union(*inputs), k)
    if isinstance(op, nn.SubOp):
        return fixed.sub_type(inputs[0], inputs[1])
    if isinstance(op, nn.AverageOp):
        t = union(*inputs)
        return make_type(t.width + clog2(k), t.integer, t.signed)
    if isinstance(op, nn.MulOp):
        t = inputs[0]
        for other in inputs[1:]:
            t = product(t, other)
        return t
    return union(*inputs)


def _infer_generic(lt: LayerTypes, op: nn.NNLayerOp) -> None:
    match op:
        case nn.InputOp():
            lt.get("result", lambda: lt.default)
        case nn.ConstantOp():
            lt.get("result", lambda: fitted(nn.to_numpy(op.value), lt.default))
        case nn.DotOp():
            n = nn.shape_of(op.lhs)[0]
            acc = lt.get("accum", lambda: grow(product(lt.inputs[0], lt.inputs[1]), n))
            lt.get("result", lambda: acc)
        case nn.ElementwiseMergeOp() | nn.ConcatOp():
            result = lt.get("result", lambda: merge_result(op, lt.inputs))
            lt.get("accum", lambda: result)
        case _:
            lt.get("result", lambda: lt.x)


def infer_layer(op: nn.NNLayerOp, inputs: list[FixedPrecision], model: ModelTypes) -> LayerTypes:
    """Resolve every precision variable of one op from its input types."""
    lt = LayerTypes(op, inputs, model)
    match op:
        case nn.DenseOp() | nn.ConvBaseOp():
            _infer_weighted(lt, op)
        case nn.PoolingOp() | nn.GlobalPoolOp():
            _infer_pool(lt, op)
        case nn.BatchNormOp():
            _infer_batchnorm(lt, op)
        case nn.ActivationOp():
            _infer_activation(lt, op)
        case nn.SoftmaxOp():
            _infer_softmax(lt, op)
        case _:
            _infer_generic(lt, op)
    lt.finish()
    return lt


def infer_function(function: func.FuncOp) -> list[Choice]:
    """Resolve every layer of one model function in program order; returns the report."""
    model = ModelTypes.of(function)
    report: list[Choice] = []
    for op in function.body.block.ops:
        if not isinstance(op, nn.NNLayerOp):
            continue
        inputs = [result_precision(v, model.default) for v in op.operands]
        lt = infer_layer(op, inputs, model)
        op.precision = DictionaryAttr(
            {var: precision_type(lt.types[var]) for var in op.PRECISION_VARS}
        )
        report += lt.choices
    return report


def format_report(choices: Sequence[Choice]) -> str:
    """One line per layer: `fc1: weight fixed<16,6> (pinned), accum fixed<36,16> (auto), ...`."""
    lines: dict[str, list[str]] = {}
    for c in choices:
        lines.setdefault(c.layer, []).append(f"{c.var} {c.type} ({c.how})")
    return "\n".join(f"{layer}: {', '.join(parts)}" for layer, parts in lines.items())


@dataclass(frozen=True)
class InferPrecisionPass(ModulePass):
    """Resolve every `auto` precision model-wide with exact bit growth (see the module docstring)."""

    name = "nn-infer-precision"

    report: bool = False
    """Print the chosen type of every variable of every layer to stderr."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for function in op.ops:
            if not isinstance(function, func.FuncOp):
                continue
            choices = infer_function(function)
            if self.report:
                print(format_report(choices), file=sys.stderr)
