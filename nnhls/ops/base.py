"""The op interface: what the compiler needs to know about one op, and the registry that finds it.

Every `nn` op class has one `OpRules` object and every `hls` kernel op class one `KernelRules`
object, written in the op's module under `nnhls/ops/` (together with the op classes themselves
when the op is not one of the built-in dialect ops) and registered with `@register`:

    OpRules (nn op)                        used by
      infer_precision(op, LayerTypes)      nn-infer-precision: every precision variable, exactly
      estimate(op, ScheduleInfo)           nn-schedule: multipliers, latency, II, BOPs
      lower(op, Lowering)                  lower-nn-to-hls: one hls value per result
      reference(op, args, batch)           the float reference interpreter
      type_names / config_keys             the configuration: LayerType names, applicable keys
      canonicalization_patterns()          nn-canonicalize (xDSL RewritePatterns)
    KernelRules (hls op)
      emulate(op, args)                    the bit-exact numpy emulator
      emit(op, Layer)                      codegen: config struct, kernel call, constants

The passes, the interpreters and the code generator dispatch through `rules(op)` and
`kernel_rules(op)` and never match on op classes. An op without rules is an error naming it;
the abstract methods make a rules class without one of them fail when it is registered.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from math import ceil, prod
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import (
    I64,
    DenseIntOrFPElementsAttr,
    Float64Type,
    FloatAttr,
    IntegerAttr,
    StringAttr,
    UnitAttr,
    i64,
)
from xdsl.ir import Attribute, Block, Dialect, Operation, SSAValue
from xdsl.pattern_rewriter import RewritePattern
from xdsl.utils.exceptions import DiagnosticException

from nnhls.dialects import hls, nn
from nnhls.dialects.bitgrowth import cap, precision_type, type_precision
from nnhls.dialects.fixed import (
    MAX_WIDTH,
    FixedPrecision,
    check_declared,
    constant_mantissas,
    count_outside,
    from_mantissa,
)
from nnhls.dialects.names import ssa_name
from nnhls.dialects.types import ArrayType, FixedPointType, StreamType, int_array
from nnhls.errors import ModelError, PrecisionError, PrecisionWarning, warn
from nnhls.ops.cpp import Layer
from nnhls.ops.exact import FixedArray


class PrecisionInferenceError(ModelError, DiagnosticException):
    """A type that cannot be inferred (e.g. wider than the ap types allow); names the layer."""


class LoweringError(ModelError, DiagnosticException):
    """An nn construct with no hls kernel; the message names the layer."""


# ----- precision inference ---------------------------------------------------------------------------------


@dataclass
class Choice:
    """One resolved variable, for the report."""

    layer: str
    var: str
    type: FixedPrecision
    how: str
    """"pinned", "default", "auto" or "auto, capped"."""


QUANTIZER_PROPERTIES = ("weight_quantizer", "bias_quantizer")
"""Properties whose presence makes a layer quantization-aware (see `quantization_aware`)."""


def quantization_aware(op: nn.NNLayerOp) -> bool:
    """Whether the layer's constants carry quantizers (QKeras, QONNX, HGQ, Brevitas layers): its
    `auto` types keep exact bit growth, never the maximum precision's cap, so the layer computes
    what the framework computes (its widths are bounded by the quantizers that type its inputs
    and constants; a cap would round or saturate the sums the quantizers were trained on). The
    same holds for a layer whose constants nn-infer-quantization typed (`quantizer_typed`): the
    integer codes of non-power-of-two-scaled weights and the scale layers next to them."""
    if any(op.properties.get(name) is not None for name in QUANTIZER_PROPERTIES):
        return True
    # Constants a quantizer typed (integer weight codes, a non-power-of-two scale layer's constants).
    marked = op.quantizer_typed.data if op.quantizer_typed is not None else ()
    return any(var.data not in op.RESULT_VARS for var in marked)


@dataclass
class LayerTypes:
    """Resolves the precision variables of one op, in order, from pinned types or auto rules.

    A rule calls `get(var, natural)` for each variable it defines; `natural` computes the `auto`
    type and runs only when the configuration left the variable `auto`.
    """

    op: nn.NNLayerOp
    inputs: list[FixedPrecision]
    model: nn.ModelTypes
    types: dict[str, FixedPrecision] = field(default_factory=dict[str, FixedPrecision])
    choices: list[Choice] = field(default_factory=list[Choice])

    @property
    def x(self) -> FixedPrecision:
        """The type of the first operand."""
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
                inferred = check_declared(natural())
            except PrecisionError:
                raise PrecisionInferenceError(
                    f"{self.op.name} '{self.op.layer_name}': inferred {var} type is wider than "
                    f"{MAX_WIDTH} bits; pin a narrower type or set a maximum precision"
                ) from None
            t = inferred if quantization_aware(self.op) else cap(inferred, self.model.maximum)
            how = "auto" if t == inferred else "auto, capped"
            if t.integer < inferred.integer:
                # Fewer fractional bits only round; fewer integer bits can overflow: say so.
                mode = "saturate" if t.overflow.value.startswith("SAT") else "wrap around"
                warn(
                    f"{self.op.name} '{self.op.layer_name}': {var} needs {inferred} in the worst "
                    f"case; capped to {t} by the maximum precision: values beyond "
                    f"[{t.min_value:g}, {t.max_value:g}] {mode}",
                    PrecisionWarning,
                )
        self.types[var] = t
        self.choices.append(Choice(self.op.layer_name, var, t, how))
        return t

    def finish(self) -> None:
        """Check the rule typed every result; variables it did not ask for (unused by the
        kernel, e.g. `accum` of a max pooling) take the first result's type."""
        missing = [var for var in self.op.RESULT_VARS if var not in self.types]
        if missing:
            raise ModelError(
                f"{self.op.name} '{self.op.layer_name}': its precision rule leaves "
                f"{', '.join(missing)} untyped"
            )
        result = self.types[self.op.RESULT_VARS[0]]
        for var in self.op.PRECISION_VARS:
            self.get(var, lambda: result)


# ----- scheduling estimates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    multipliers: int
    latency: int
    ii: int
    bops: int = 0
    """Bit operations per inference: for every multiplication the multiplier estimate counts
    (before the reuse factor shares multipliers; a convolution's once per output pixel), the
    product of its two operands' widths (see `product_bops`)."""


@dataclass(frozen=True)
class ScheduleInfo:
    """What an estimate depends on beyond the op: its (legal) reuse and parallelization factors,
    the io type and the model default precision (for unresolved weight types)."""

    reuse_factor: int
    parallelization_factor: int
    stream: bool
    default: FixedPrecision


def output_pixels(op: Operation) -> int:
    """Pixels of an op's first result (its elements when it has no spatial axes)."""
    shape = nn.shape_of(op.results[0])
    return prod(shape[:-1]) if len(shape) > 1 else 1


def elementwise_estimate(
    op: nn.NNLayerOp, s: ScheduleInfo, multipliers: int, depth: int, bops: int = 0
) -> Estimate:
    """One cycle per element group: II = RF (or one pixel per RF cycles in io_stream)."""
    rf = s.reuse_factor
    groups = output_pixels(op) if s.stream else 1
    return Estimate(ceil(multipliers / rf), depth + (groups - 1) * rf, groups * rf, bops)


def product_bops(count: int, a: FixedPrecision, b: FixedPrecision) -> int:
    """BOPs of `count` multiplications of an `a` by a `b` operand: count * Wa * Wb."""
    return count * a.width * b.width


def operand_precision(op: nn.NNLayerOp, index: int, s: ScheduleInfo) -> FixedPrecision:
    """The (inferred) type of an op's operand `index`."""
    return nn.result_precision(op.operands[index], s.default)


FREE = Estimate(0, 0, 1)
"""The estimate of an op that costs nothing in hardware (an input, a reshape, a no-op)."""


# ----- lowering --------------------------------------------------------------------------------------------


def _i64(value: int) -> IntegerAttr[I64]:
    return cast(IntegerAttr[I64], IntegerAttr(value, i64))


@dataclass
class Lowering:
    """The state of lowering one model function, and the helpers op rules lower with."""

    function: func.FuncOp
    io_type: str
    block: Block
    model: nn.ModelTypes = field(init=False)
    values: dict[SSAValue, SSAValue] = field(default_factory=dict[SSAValue, SSAValue])
    type_cache: dict[tuple[tuple[int, ...], FixedPointType], ArrayType | StreamType] = field(
        default_factory=dict[tuple[tuple[int, ...], FixedPointType], ArrayType | StreamType]
    )
    default_attr: FixedPointType | None = None

    def __post_init__(self) -> None:
        self.model = nn.ModelTypes.of(self.function)

    @property
    def stream(self) -> bool:
        return self.io_type == "io_stream"

    # ----- types -----------------------------------------------------------------------------------------

    def hls_type(
        self, shape: Sequence[int], p: FixedPrecision | FixedPointType
    ) -> ArrayType | StreamType:
        """The io type's value type (array, or stream of pixels) of a shape and element type."""
        element = p if isinstance(p, FixedPointType) else precision_type(p)
        shape = tuple(shape) or (1,)  # a per-sample scalar (only a batch axis) is one element
        key = (shape, element)
        if (cached := self.type_cache.get(key)) is not None:
            return cached
        if not self.stream:
            ty = ArrayType(list(shape), element)  # pyright: ignore[reportCallIssue]
        else:
            pixels = prod(shape[:-1]) if len(shape) > 1 else 1
            ty = StreamType(list(shape), element, pixels)  # pyright: ignore[reportCallIssue]
        self.type_cache[key] = ty
        return ty

    def type_attr(self, op: nn.NNLayerOp, var: str) -> FixedPointType:
        """The `!hls.*` type of a precision variable (the model default when unresolved)."""
        value = op.get_precision(var)
        if isinstance(value, FixedPointType):
            return value
        if self.default_attr is None:
            self.default_attr = precision_type(self.model.default)
        return self.default_attr

    def precision(self, op: nn.NNLayerOp, var: str) -> FixedPrecision:
        return type_precision(self.type_attr(op, var))

    def out_type(self, op: nn.NNLayerOp, index: int = 0) -> ArrayType | StreamType:
        """The hls type of result `index`, typed by its precision variable (RESULT_VARS)."""
        return self.hls_type(
            nn.shape_of(op.results[index]), self.type_attr(op, op.RESULT_VARS[index])
        )

    def element(self, value: SSAValue) -> FixedPrecision:
        return type_precision(hls.value_type(value).element_type)

    # ----- building ---------------------------------------------------------------------------------------

    def operand(self, value: SSAValue) -> SSAValue:
        """The hls value of an nn value."""
        mapped = self.values.get(value)
        if mapped is None:
            owner = value.owner
            if isinstance(owner, nn.NNLayerOp):
                name = f"{owner.name} '{owner.layer_name}'"
            else:
                name = owner.name if isinstance(owner, Operation) else "a function argument"
            raise LoweringError(
                f"the result of {name} has no hls counterpart (it cannot be an operand or an output here)"
            )
        return mapped

    def common(self, op: nn.NNLayerOp, layer: str | None = None) -> dict[str, Attribute | None]:
        """Layer name, reuse factor, trace, the schedule estimates of an nn op and whether a
        quantizer typed its result (these two only on the kernel that keeps the op's own name)."""
        props: dict[str, Attribute | None] = {
            "layer": StringAttr(layer or op.layer_name),
            "reuse_factor": op.reuse_factor,
            "trace": op.trace,
        }
        if layer is None:
            props |= {"multipliers": op.multipliers, "latency": op.latency, "ii": op.ii, "bops": op.bops}
            if op.is_quantizer_typed("result"):
                props["quantized_result"] = UnitAttr()
        return props

    def emit_results(
        self,
        cls: type[hls.HLSKernelOp],
        operands: Sequence[SSAValue],
        result_types: Sequence[Attribute],
        props: dict[str, Attribute | None],
    ) -> list[SSAValue]:
        """Append a kernel op; its results are named after its layer (`<layer>`, `<layer>_1`...)."""
        new = cls.build(
            operands=list(operands),
            result_types=list(result_types),
            properties={k: v for k, v in props.items() if v is not None},
        )
        self.block.add_op(new)
        layer = props["layer"]
        assert isinstance(layer, StringAttr)
        base = ssa_name(layer.data)
        for i, result in enumerate(new.results):
            result.name_hint = base if i == 0 else f"{base}_{i}"
        return list(new.results)

    def emit(
        self,
        cls: type[hls.HLSKernelOp],
        operands: Sequence[SSAValue],
        result_type: Attribute,
        props: dict[str, Attribute | None],
    ) -> SSAValue:
        """Append a single-result kernel op and return its result."""
        return self.emit_results(cls, operands, [result_type], props)[0]

    def pad(self, x: SSAValue, pads: Sequence[int], layer: str) -> SSAValue:
        """An explicit zero padding of x (io_stream), keeping x's element type."""
        shape = hls.shape_of(x)
        padded = [shape[a] + pads[2 * a] + pads[2 * a + 1] for a in range(len(shape) - 1)]
        props: dict[str, Attribute | None] = {
            "layer": StringAttr(layer),
            "pads": int_array(pads),
        }
        return self.emit(
            hls.PadOp, [x], self.hls_type([*padded, shape[-1]], self.element(x)), props
        )


def quantize(
    values: np.ndarray, t: FixedPrecision, where: str | None = None
) -> DenseIntOrFPElementsAttr:
    """Float constants as int64 mantissas of t, saturating (fixed.constant_mantissas: a constant
    is never wrapped, whatever t's overflow mode).

    With `where` (e.g. "nn.dense 'fc1' weight"), constants outside t's range are reported as a
    PrecisionWarning: they were saturated, which the user should know about.
    """
    _warn_saturated(values, t, where)
    return hls.mantissa_attr(constant_mantissas(values, t))


def _warn_saturated(values: np.ndarray, t: FixedPrecision, where: str | None) -> None:
    if where is None or not values.size:
        return
    outside = count_outside(values, t)
    if outside:
        warn(
            f"{where}: {outside} of {values.size} values lie outside {t} "
            f"[{t.min_value:g}, {t.max_value:g}]; saturated to its range",
            PrecisionWarning,
        )


def quantized_float(value: float, t: FixedPrecision, where: str | None = None) -> FloatAttr:
    """A scalar constant quantized into t (saturating, like every constant), as the exact float
    the kernel sees."""
    _warn_saturated(np.array([value]), t, where)
    m = constant_mantissas(np.array([value]), t)
    return FloatAttr(float(from_mantissa(m, t)[0]), Float64Type())


def int_attr(value: int) -> IntegerAttr[I64]:
    """An i64 integer property."""
    return _i64(value)


# ----- the interfaces -----------------------------------------------------------------------------------


class OpRules(ABC):
    """Everything the compiler knows about one `nn` op class (see the module docstring)."""

    op: ClassVar[type[nn.NNLayerOp]]
    """The nn op class these rules are for."""

    type_names: ClassVar[tuple[str, ...]] = ()
    """Framework and hls4ml class names a LayerType entry may use for this op, most specific first
    (the op's kind, e.g. `dense`, always matches too)."""

    config_keys: ClassVar[tuple[str, ...]] = ()
    """LayerType / LayerName keys beyond Precision, ReuseFactor and Trace."""

    accepts_constants: ClassVar[bool] = False
    """Whether an nn.constant may feed this op (its lowering folds the constant)."""

    parallelizable: ClassVar[bool] = False
    """Whether the op takes a ParallelizationFactor (which must divide its output pixels)."""

    calibrated_vars: ClassVar[tuple[str, ...]] = ()
    """The precision variables nn-calibrate-precision chooses from data (weight / scale: the
    multiplied constants; bias; accum; result); the others stay as configured (`auto` follows
    its rule from the calibrated inputs)."""

    has_strategy: ClassVar[bool] = False
    """Whether the layer's Strategy (Latency, Resource, Unrolled) chooses its kernel."""

    def layer_type_names(self, op: nn.NNLayerOp) -> tuple[str, ...]:
        """The LayerType names matching this op instance (most specific first)."""
        return self.type_names

    def all_type_names(self) -> tuple[str, ...]:
        """Every LayerType name some instance may match (for validation and suggestions)."""
        return self.type_names

    def kernel_dims(self, op: nn.NNLayerOp) -> tuple[int, int] | None:
        """(n_in, n_out) of the op's matrix-vector kernel when its reuse factor must be legal for
        its strategy (dense, convolutions); None for ops whose reuse factor is free."""
        return None

    @abstractmethod
    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        """Resolve the op's precision variables with `lt.get` (every result variable at least)."""

    @abstractmethod
    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        """Multipliers, latency and II of the op (reports, not synthesis results)."""

    @abstractmethod
    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        """Emit the op's hls kernel(s) into `lw.block`; one hls value per result of the op (none
        for an op another op's lowering consumes, such as a constant)."""

    @abstractmethod
    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        """The op's float64 result(s) on batched operands (leading batch axis of size `batch`)."""

    def canonicalization_patterns(self) -> Sequence[RewritePattern]:
        """Local rewrites nn-canonicalize applies to this op (idempotent RewritePatterns)."""
        return ()

    def exact_before_cast(self, op: nn.NNLayerOp) -> bool:
        """Whether the op's kernel computes its value exactly and only then casts it to the
        result type, so that a quantizer reading it can become that cast (nn-infer-quantization
        gives the op the quantizer's type and removes the quantizer)."""
        return False


class KernelRules(ABC):
    """Everything the compiler knows about one `hls` kernel op class."""

    op: ClassVar[type[hls.HLSKernelOp]]
    """The hls op class these rules are for."""

    accumulates: ClassVar[bool] = False
    """Whether the kernel's first result is cast<result_t>(a sum in accum_t) (dense,
    convolutions, dot): the overflow report then checks the complete sums against accum_t."""

    def internal_values(self, op: hls.HLSKernelOp, args: Sequence[FixedArray]) -> Sequence[tuple[str, FixedPrecision, np.ndarray]]:
        """(variable, its type, the values it would hold were it wide enough) for the internal
        variables of the kernel the overflow report checks besides its accumulator and results
        (a layer norm's row sums and sums of squares); none by default."""
        return ()

    header_file: ClassVar[Path | None] = None
    """The C++ header defining the kernel when it is not part of nnhls/hls_lib/nnet (an op added
    outside nnhls): the project writer copies it into nnet_utils/ for models that use the op."""

    @abstractmethod
    def emulate(self, op: hls.HLSKernelOp, args: Sequence[FixedArray]) -> Sequence[FixedArray]:
        """The exact result(s) of the kernel on batched fixed-point operands (the op docstring's
        semantics, bit for bit those of the C++ kernel)."""

    @abstractmethod
    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        """Fill in the kernel call: name, header, config struct, constants, extra arguments."""


# ----- the registry -------------------------------------------------------------------------------------

_RULES: dict[type[Operation], OpRules] = {}
_KERNELS: dict[type[Operation], KernelRules] = {}
_BY_NAME: dict[str, OpRules] = {}

R = TypeVar("R", bound=type[OpRules] | type[KernelRules])


def register(rules_class: R) -> R:
    """Class decorator: register the rules of an nn op (OpRules) or hls kernel (KernelRules).

    Registering rules for a class that already has some replaces them (a test may redefine).
    """
    instance: Any = rules_class()  # abstract methods left out fail here, naming them
    if isinstance(instance, OpRules):
        _RULES[instance.op] = instance
        _BY_NAME[instance.op.name] = instance
    else:
        assert isinstance(instance, KernelRules)
        _KERNELS[instance.op] = instance
    return rules_class


def rules(op: Operation | type[Operation]) -> OpRules:
    """The rules of an nn op (instance or class); an error naming it when it has none."""
    cls = op if isinstance(op, type) else type(op)
    found = _RULES.get(cls)
    if found is None:
        raise ModelError(f"{cls.name}: no rules registered for this nn op (see nnhls/ops)")
    return found


def rules_by_name(name: str) -> OpRules | None:
    """The rules of the nn op called `name` (e.g. "nn.dense"), if registered."""
    return _BY_NAME.get(name)


def kernel_rules(op: Operation | type[Operation]) -> KernelRules:
    """The rules of an hls kernel op (instance or class); an error naming it when it has none."""
    cls = op if isinstance(op, type) else type(op)
    found = _KERNELS.get(cls)
    if found is None:
        raise ModelError(f"{cls.name}: no kernel rules registered for this hls op (see nnhls/ops)")
    return found


def nn_op_classes() -> list[type[nn.NNLayerOp]]:
    """Every registered nn op class (the built-ins first)."""
    return [cast(type[nn.NNLayerOp], c) for c in _RULES]


def kernel_op_classes() -> list[type[hls.HLSKernelOp]]:
    """Every registered hls kernel op class."""
    return [cast(type[hls.HLSKernelOp], c) for c in _KERNELS]


_ATTRIBUTES: dict[str, list[type[Attribute]]] = {"nn": [], "hls": []}


def register_attribute(dialect: str, attribute: type[Attribute]) -> None:
    """Add an attribute or type (e.g. a quantizer attribute) to the `nn` or `hls` dialect the
    context loads; its ops register through their rules."""
    if attribute not in _ATTRIBUTES[dialect]:
        _ATTRIBUTES[dialect].append(attribute)


def nn_dialect() -> Dialect:
    """The `nn` dialect with every registered op and attribute (built-in and added)."""
    extra = [c for c in _RULES if c not in nn.NN_OPS]
    return Dialect("nn", [*nn.NN_OPS, *extra], [*nn.NN_ATTRS, *_ATTRIBUTES["nn"]])


def hls_dialect() -> Dialect:
    """The `hls` dialect with every registered kernel op and attribute (built-in and added)."""
    extra = [c for c in _KERNELS if c not in hls.HLS_OPS]
    return Dialect("hls", [*hls.HLS_OPS, *extra], [*hls.HLS_ATTRS, *_ATTRIBUTES["hls"]])


# ----- helpers for canonicalization patterns ---------------------------------------------------------


def single_user(value: SSAValue) -> Operation | None:
    """The only operation reading value (once), or None."""
    uses = list(value.uses)
    return uses[0].operation if len(uses) == 1 else None


def pinned(op: nn.NNLayerOp, var: str) -> bool:
    """Whether the user chose var's type: a type other than the model default (nn-apply-config
    writes the default into every unset variable, so the default itself cannot be told apart
    from a deliberate choice)."""
    value = op.get_precision(var)
    return isinstance(value, FixedPointType) and value.precision != nn.model_types(op).default
