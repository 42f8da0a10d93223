"""nn-calibrate-precision: choose every layer's types from data, as narrow as the accuracy allows.

The pass runs where a configuration takes effect (after nn-apply-config, before nn-canonicalize)
and pins types on the variables each op's rules name in `calibrated_vars` (nnhls/ops: the input,
dense, convolutions, batchnorm); every other variable keeps its configuration (an `auto` one then
follows its rule from the calibrated inputs). It lives in the driver layer because it measures
each candidate the way conversion will run it: the rest of the default pipeline, then the
bit-exact numpy emulator.

0. Folding. The layers calibrated are those of the canonical model (nn-canonicalize: batchnorms
   folded into the dense/conv before them where the configuration allows): a folded layer's
   weight, bias and accum types are pinned on the dense/conv (they type the folded constants)
   and its result type on the batchnorm whose result it is, which keeps the fold (only a pinned
   result type of the dense/conv blocks it).

1. Ranges. The float reference interpreter runs the model on the data; a layer's observed output
   range gives its integer bits I (sign included; plus `margin` bits). Constants get the fewest
   integer bits holding their values.
2. Types, for F fractional bits of a layer's result and Fw of its multiplied constants:
   result    fixed<I + F, I, RND, SAT>           (ufixed when the range is non-negative)
   weight    fixed<Iw + Fw, Iw, RND, SAT>        (scale of a batchnorm alike; quantized offline;
                                                 Iw holds the constants as rounded to Fw bits,
                                                 so none saturates)
   accum     fixed<I + 2 + Fa, I + 2>            Fa = Fx + Fw: the products are exact; two more
                                                 integer bits than the result, which saturates
   bias      fixed<Ib + Fa, Ib, RND, SAT>        at the accumulator's fractional bits
3. Search (a greedy heuristic, measured, not an optimum) on the first two thirds of the samples:
   the smallest uniform F = Fw meeting the target (a bisection), then round robin over the knobs
   (each layer's F and Fw, the layers with most BOPs first): each loses one bit while the target
   still holds and the bit saves BOPs; a knob that cannot is done (a result that no multiplier
   reads, such as the last layer's before a softmax, keeps the uniform F: narrowing it would
   spend accuracy for nothing). The cost is the total BOPs of nn-schedule. The
   search counts a sample only if it would agree with SAFETY (8) times its quantization error
   (about three bits of headroom for samples the search never saw, whose top two scores may lie
   closer). The last third (unseen by the search; with at least 60 samples) validates: while its
   plain agreement misses the target, every F and Fw grows by one bit (up to MAX_FRACTIONAL).
   Its target is capped at the agreement the third keeps with every calibrated type at
   MAX_FRACTIONAL: a near-tie that the layers calibration does not type (a softmax's tables)
   lose anyway cannot be won back by widening the others.
   The reported score (plain agreement) is on all the samples.
4. Target: classifiers (outputs with more than one value) keep `target` argmax agreement with
   the float model; other outputs keep `target` of the samples within `tolerance` (absolute;
   default 1% of the float outputs' range) of the float outputs.

Before (configured; the input auto, the dense auto):

    %x = nn.input %arg {layer = "in", precision = {result = "auto"}}
    %d = nn.dense %x {layer = "fc", precision = {weight = "auto", bias = "auto", accum = "auto", result = "auto"}, ...}

After `nn-calibrate-precision{data="x.npy" target=0.99}`:

    %x = nn.input %arg {layer = "in", precision = {result = !hls.fixed<8, 3, RND, SAT>}}
    %d = nn.dense %x {layer = "fc", precision = {weight = !hls.fixed<6, 1, RND, SAT>,
                      bias = !hls.fixed<12, 2, RND, SAT>, accum = !hls.fixed<15, 5>,
                      result = !hls.fixed<7, 3, RND, SAT>}, ...}
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, ModuleOp
from xdsl.interpreter import Interpreter, PythonValues
from xdsl.interpreters.func import FuncFunctions
from xdsl.ir import Operation
from xdsl.passes import ModulePass

from nnhls import ops as registry
from nnhls.compiler.context import make_context
from nnhls.dialects import hls, nn
from nnhls.dialects.bitgrowth import DEFAULT_PRECISION
from nnhls.dialects.fixed import FixedPrecision, Overflow, Quant
from nnhls.dialects.schedule import io_type_of
from nnhls.dialects.types import fixed_type
from nnhls.errors import InputDataError, ModelError, UserError
from nnhls.interpreters.emulator import run_hls
from nnhls.interpreters.reference import reference_functions
from nnhls.ops.quantize import QuantizeOp
from nnhls.passes import get_all_passes
from nnhls.passes.nn_canonicalize import canonicalize_module

MAX_FRACTIONAL = 24
"""The largest fractional bits the search tries."""
AFTER = ("nn-canonicalize", "nn-infer-quantization", "nn-infer-precision", "nn-schedule", "lower-nn-to-hls")
"""The passes that follow this one in the default pipeline (how conversion measures a candidate)."""
MULTIPLIED = ("weight", "scale")
"""Calibrated variables holding constants that are multiplied (their widths make the BOPs)."""
SAFETY = 8.0
"""The search and the validation count a sample only if it keeps its argmax (or tolerance) with
eight times its quantization error (about three bits of headroom; see `score`). Measured with
`bench/bench_calibration.py --splits 6` (8 classifiers, 6 halvings each): with eight every one
of the 48 calibrations keeps 99% on its held-out half; four, five and six leave 2-3 of them
below (near 99% the held-out agreement is within sampling noise of the target)."""
VALIDATION_MIN = 60
"""With at least this many samples, the last third validates the search (see step 3)."""


class CalibrationError(UserError):
    """Calibration cannot reach the target (the message says how close it came), or bad data."""


# ----- measurements ----------------------------------------------------------------------------------


@dataclass
class Step:
    """One candidate the search measured."""

    bops: int
    score: float
    what: str


@dataclass
class Calibration:
    """What the search chose and how it got there."""

    types: dict[str, dict[str, FixedPrecision]]
    """Layer name -> variable -> type: the pins to write."""
    bops: int
    score: float
    metric: str
    """"argmax agreement" or "within tolerance"."""
    baseline_bops: int
    """The same model with every type fixed<16,6> (hls4ml's default)."""
    target: float = 0.99
    history: list[Step] = field(default_factory=list[Step])


def layer_ops(module: ModuleOp) -> list[nn.NNLayerOp]:
    return [op for op in nn.model_function(module).body.block.ops if isinstance(op, nn.NNLayerOp)]


def trace_reference(module: ModuleOp, inputs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """The float outputs and every layer's float output (first result) on the inputs."""
    function = nn.model_function(module)
    traced: dict[str, np.ndarray] = {}

    class Listener(Interpreter.Listener):
        def did_interpret_op(self, op: Operation, results: PythonValues) -> None:
            if isinstance(op, nn.NNLayerOp) and results:
                traced[op.layer_name] = np.asarray(results[0])

    interpreter = Interpreter(module, listeners=(Listener(),))
    interpreter.register_implementations(FuncFunctions())
    interpreter.register_implementations(reference_functions(len(inputs[0])))
    outputs = interpreter.run_ssacfg_region(function.body, tuple(inputs), function.sym_name.data)
    return [np.asarray(o, dtype=np.float64) for o in outputs], traced


def score(
    outputs: Sequence[np.ndarray],
    reference: Sequence[np.ndarray],
    tolerances: Sequence[float | None],
    safety: float = 1.0,
    anchor: Sequence[np.ndarray] | None = None,
) -> float:
    """The worst output's agreement: argmax agreement, or the fraction within tolerance. With
    `safety` > 1 a sample counts only if it would still agree with the calibrated types' error
    multiplied by `safety`: anchor + safety * (quantized - anchor), where `anchor` is the output
    with every calibrated type at MAX_FRACTIONAL bits (the error of layers calibration does not
    type, a softmax's tables, is not amplified). Headroom that unseen samples, whose top two
    scores may lie closer, need."""
    scores: list[float] = []
    anchors = anchor if anchor is not None and safety != 1.0 else reference
    for out, ref, base, tol in zip(outputs, reference, anchors, tolerances, strict=True):
        n = len(ref)
        o, r, a = out.reshape(n, -1), ref.reshape(n, -1), base.reshape(n, -1)
        amplified = a + safety * (o - a) if safety != 1.0 else o
        if tol is None:
            scores.append(float(np.mean(amplified.argmax(axis=1) == r.argmax(axis=1))))
        else:
            scores.append(float(np.mean(np.max(np.abs(amplified - r), axis=1) <= tol)))
    return min(scores)


# ----- types -------------------------------------------------------------------------------------------


def integer_bits(low: float, high: float, signed: bool) -> int:
    """The fewest integer bits (sign included) holding [low, high] at any fractional bits."""
    magnitude = max(abs(low), abs(high), 2.0**-MAX_FRACTIONAL)
    bits = math.floor(math.log2(magnitude)) + 1  # 2**(bits - 1) <= magnitude < 2**bits
    return bits + 1 if signed else bits


def rounded_integer_bits(values: np.ndarray, frac: int) -> int:
    """The fewest integer bits (sign included) holding the constants as rounded to `frac`
    fractional bits (rounding can carry a value up to the next power of two)."""
    step = 2.0**-frac
    rounded = np.floor(values / step + 0.5) * step  # RND: halves up, as the types round
    return integer_bits(float(rounded.min()), float(rounded.max()), True)


def sat(integer_frac: tuple[int, int], signed: bool) -> FixedPrecision:
    """fixed<I + F, I, RND, SAT> (ufixed when unsigned); at least one bit wide, with F kept (a
    constant that rounds to zero at F bits gets fixed<1, 1 - F>, which holds that zero)."""
    integer, frac = integer_frac
    integer = max(integer, 1 - frac)
    return FixedPrecision(integer + frac, integer, signed, Quant.RND, Overflow.SAT)


Pins = dict[str, dict[str, FixedPrecision]]
"""Layer name -> variable -> type."""


@dataclass
class LayerPlan:
    """The calibrated variables of one layer and what their types are made of."""

    op: nn.NNLayerOp
    result_bits: int
    result_signed: bool
    constants: dict[str, np.ndarray]
    """The multiplied constants and the bias (values as folded): their integer bits follow the
    fractional bits chosen."""
    frac: int = 0
    """F: the result's fractional bits (a knob)."""
    weight_frac: int = 0
    """Fw: the multiplied constants' fractional bits (a knob)."""
    input_frac: int = 0
    """Fx of the layer's input (the upstream plan's F), for the accumulator."""
    quantized: frozenset[str] = frozenset()
    """Variables whose types quantizers give (nn-infer-quantization): never pinned here."""
    result_layer: str = ""
    """The layer whose result type this plan's result is (the batchnorm a dense/conv folds:
    nn-canonicalize gives the folded layer that batchnorm's result type); its own by default."""

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(v for v in registry.rules(self.op).calibrated_vars if v not in self.quantized)

    def pins(self) -> Pins:
        """Layer name -> variable -> type: a folded dense/conv's result under `result_layer`; a
        fused batchnorm's every type there (the fused op keeps the last batchnorm's configuration
        under the first one's name)."""
        chosen = self.types()
        if not self.result_layer:
            return {self.op.layer_name: chosen} if chosen else {}
        if isinstance(self.op, nn.BatchNormOp):
            return {self.result_layer: chosen}
        pins = {self.op.layer_name: {var: t for var, t in chosen.items() if var != "result"}}
        if "result" in chosen:
            pins[self.result_layer] = {"result": chosen["result"]}
        return {layer: types for layer, types in pins.items() if types}

    def types(self) -> dict[str, FixedPrecision]:
        chosen: dict[str, FixedPrecision] = {}
        accum_frac = self.input_frac + self.weight_frac
        for var in self.variables:
            if var == "result":
                chosen[var] = sat((self.result_bits, self.frac), self.result_signed)
            elif var in MULTIPLIED and var in self.constants:
                chosen[var] = sat((rounded_integer_bits(self.constants[var], self.weight_frac), self.weight_frac), True)
            elif var == "bias" and var in self.constants:
                chosen[var] = sat((rounded_integer_bits(self.constants[var], accum_frac), accum_frac), True)
            elif var == "accum":
                chosen[var] = FixedPrecision(self.result_bits + 2 + accum_frac, self.result_bits + 2, True)
        return chosen


def _constant(op: nn.NNLayerOp, var: str) -> np.ndarray | None:
    attr = op.properties.get(var)
    return nn.to_numpy(attr) if isinstance(attr, DenseIntOrFPElementsAttr) else None


def quantized_vars(op: nn.NNLayerOp) -> frozenset[str]:
    """The calibrated variables a quantizer types (the quantization-aware model's own choice,
    which calibration keeps): constants with a quantizer, the accumulator of a layer whose
    constants are quantized (exact growth, as the framework computes), and a result whose only
    user is a quantizer (nn-infer-quantization folds it into that result)."""
    found: set[str] = set()
    if op.properties.get("weight_quantizer") is not None:
        found |= {*MULTIPLIED, "accum"}
    if op.properties.get("bias_quantizer") is not None:
        found |= {"bias", "accum"}
    users = list(op.results[0].uses) if op.results else []
    if len(users) == 1 and isinstance(users[0].operation, QuantizeOp):
        found.add("result")
    return frozenset(found)


def make_plans(ops: Sequence[nn.NNLayerOp], traced: dict[str, np.ndarray], margin: int) -> list[LayerPlan]:
    plans: list[LayerPlan] = []
    for op in ops:
        quantized = quantized_vars(op)
        variables = tuple(v for v in registry.rules(op).calibrated_vars if v not in quantized)
        if not variables:
            continue
        values = traced.get(op.layer_name)
        if values is None or values.size == 0:
            continue
        low, high = float(values.min()), float(values.max())
        signed = low < 0
        constants: dict[str, np.ndarray] = {}
        for var in variables:
            if var in (*MULTIPLIED, "bias"):
                data = _constant(op, var)
                if data is None or data.size == 0:
                    continue  # no such constant (a dense without bias): nothing to type
                constants[var] = data
        plans.append(LayerPlan(op, integer_bits(low, high, signed) + margin, signed, constants, quantized=quantized))
    return plans


def link_inputs(plans: Sequence[LayerPlan], ops: Sequence[nn.NNLayerOp]) -> None:
    """Each plan's input fractional bits: the nearest calibrated producer upstream (through the
    ops that keep their input's type, e.g. ReLU, flatten, pooling); the model default's when none."""
    by_op = {id(p.op): p for p in plans}
    for plan in plans:
        value = plan.op.operands[0] if plan.op.operands else None
        frac = DEFAULT_PRECISION.fractional
        while value is not None:
            owner = value.owner
            if not isinstance(owner, nn.NNLayerOp):
                break
            upstream = by_op.get(id(owner))
            if upstream is not None:
                frac = upstream.frac
                break
            value = owner.operands[0] if owner.operands else None
        plan.input_frac = frac


# ----- the search ---------------------------------------------------------------------------------------


class Evaluator:
    """Measures a candidate: pins the types on a copy, runs the rest of the pipeline and the
    emulator, returns (BOPs, score)."""

    def __init__(
        self,
        module: ModuleOp,
        inputs: Sequence[np.ndarray],
        reference: Sequence[np.ndarray],
        tolerances: Sequence[float | None],
        safety: float = 1.0,
    ) -> None:
        self.module = module
        self.safety = safety
        self.anchor: list[np.ndarray] | None = None
        """Outputs with every calibrated type at MAX_FRACTIONAL bits (see `score`)."""
        self.outputs: list[np.ndarray] = []
        """The last candidate's outputs."""
        self.inputs = list(inputs)
        self.reference = list(reference)
        self.tolerances = list(tolerances)
        io_type = io_type_of(nn.model_function(module)).value
        available = get_all_passes()
        self.passes: tuple[ModulePass, ...] = tuple(
            available[name]()(io_type=io_type) if name == "lower-nn-to-hls" else available[name]()()  # pyright: ignore[reportCallIssue]
            for name in AFTER
        )
        self.ctx: Context = make_context()
        self.history: list[Step] = []

    def lowered(self, pins: Pins) -> ModuleOp:
        module = self.module.clone()
        for op in layer_ops(module):
            for var, t in pins.get(op.layer_name, {}).items():
                op.set_precision(var, fixed_type(t))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the candidates' own warnings are not the user's
            for p in self.passes:
                p.apply(self.ctx, module)
        return module

    def __call__(self, pins: Pins, what: str, cheaper_than: int | None = None) -> tuple[int, float]:
        """(BOPs, score); with `cheaper_than`, a candidate costing at least that many BOPs is not
        emulated (its score is returned as -1: not worth any accuracy)."""
        lowered = self.lowered(pins)
        bops = _bops(lowered)
        if cheaper_than is not None and bops >= cheaper_than:
            return bops, -1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outputs = run_hls(lowered, self.inputs)
        self.outputs = [np.asarray(o, dtype=np.float64) for o in outputs]
        result = score(self.outputs, self.reference, self.tolerances, self.safety, self.anchor)
        self.history.append(Step(bops, result, what))
        return bops, result


def hls_kernels(module: ModuleOp) -> list[hls.HLSKernelOp]:
    return [op for op in module.walk() if isinstance(op, hls.HLSKernelOp)]


def _bops(lowered: ModuleOp) -> int:
    return sum(op.bops.value.data for op in hls_kernels(lowered) if op.bops is not None)


def _pins(plans: Sequence[LayerPlan]) -> Pins:
    link_inputs(plans, [])
    pins: Pins = {}
    for plan in plans:
        for layer, types in plan.pins().items():
            pins.setdefault(layer, {}).update(types)
    return pins


def _bisect(ok: Callable[[int], bool], low: int, high: int) -> int:
    """The smallest value in [low, high] for which ok holds, given ok(high) (ok is assumed
    monotone)."""
    while low < high:
        mid = (low + high) // 2
        if ok(mid):
            high = mid
        else:
            low = mid + 1
    return high


def calibrate(
    module: ModuleOp,
    inputs: Sequence[np.ndarray],
    target: float = 0.99,
    margin: int = 0,
    tolerance: float | None = None,
) -> Calibration:
    """Choose the calibrated types of a configured module on the data (see the module docstring).
    The module is not changed: `apply_calibration` writes the result."""
    if not 0.0 < target <= 1.0:
        raise CalibrationError(f"target must be in (0, 1], got {target}")
    if margin < 0:
        raise CalibrationError(f"margin must be a non-negative number of integer bits, got {margin}")
    folded = canonical(module)
    reference, traced = trace_reference(folded, inputs)
    tolerances = [None if r.reshape(len(r), -1).shape[1] > 1 else _tolerance(r, tolerance) for r in reference]
    metric = "argmax agreement" if all(t is None for t in tolerances) else "within tolerance"
    ops = layer_ops(folded)
    plans = make_plans(ops, traced, margin)
    owners = result_layers(module, {op.layer_name for op in ops})
    for plan in plans:
        plan.result_layer = owners.get(plan.op.layer_name, "")
    if not plans:
        raise ModelError("nn-calibrate-precision: the model has no layer whose types can be calibrated")
    n = len(inputs[0])
    cut = n - n // 3 if n >= VALIDATION_MIN else n
    evaluate = Evaluator(module, [a[:cut] for a in inputs], [r[:cut] for r in reference], tolerances, SAFETY)
    validate = Evaluator(module, [a[cut:] for a in inputs], [r[cut:] for r in reference], tolerances) if cut < n else None

    def uniform(f: int) -> bool:
        for p in plans:
            p.frac = p.weight_frac = f
        return evaluate(_pins(plans), f"uniform F = {f}")[1] >= target

    for p in plans:
        p.frac = p.weight_frac = MAX_FRACTIONAL
    evaluate(_pins(plans), f"uniform F = {MAX_FRACTIONAL}")
    evaluate.anchor = evaluate.outputs
    validation_target = target
    if validate is not None:
        widest = validate(_pins(plans), f"validation, uniform F = {MAX_FRACTIONAL}")[1]
        validation_target = min(target, widest)
    best = score(evaluate.outputs, evaluate.reference, tolerances)
    if best < target:
        raise CalibrationError(
            f"nn-calibrate-precision: even {MAX_FRACTIONAL} fractional bits everywhere keep only "
            f"{best:.2%} {metric} (target {target:.2%}); lower the target or check the data"
        )
    start = _bisect(uniform, 0, MAX_FRACTIONAL)
    for p in plans:
        p.frac = p.weight_frac = start
    lowered = evaluate.lowered(_pins(plans))
    knobs = _knobs(plans, lowered)
    cost = _bops(lowered)
    while knobs:
        # Round robin, one bit at a time, the most expensive layers first: the accuracy budget
        # spreads over the layers instead of the first ones taking it all. A knob that cannot
        # lose a bit is done (lowering others only costs accuracy), and so is one whose bit saves
        # no BOPs (it would spend accuracy that the others can use).
        for plan, attr in list(knobs):
            current = getattr(plan, attr)
            if current > 0:
                setattr(plan, attr, current - 1)
                bops, result = evaluate(_pins(plans), f"{plan.op.layer_name} {attr} = {current - 1}", cost)
                if result >= target:
                    cost = bops
                    continue
                setattr(plan, attr, current)
            knobs.remove((plan, attr))
    if validate is not None:
        # On rows the search never saw, widen every fractional part until the target holds there
        # too (plain agreement), up to MAX_FRACTIONAL bits.
        for extra in range(MAX_FRACTIONAL + 1):
            if validate(_pins(plans), f"validation, all F + {extra}")[1] >= validation_target:
                break
            if max(max(p.frac, p.weight_frac) for p in plans) >= MAX_FRACTIONAL:
                break
            for p in plans:
                p.frac, p.weight_frac = p.frac + 1, p.weight_frac + 1
        evaluate.history += validate.history
        evaluate.inputs, evaluate.reference = list(inputs), list(reference)
    evaluate.safety, evaluate.anchor = 1.0, None  # the reported score: plain agreement on all the samples
    pins = _pins(plans)
    bops, final = evaluate(pins, "chosen")
    baseline = _baseline(module, evaluate)
    return Calibration(pins, bops, final, metric, baseline, target, evaluate.history)


def canonical(module: ModuleOp) -> ModuleOp:
    """A copy after nn-canonicalize: batchnorms folded into the dense/conv before them as the
    configuration lets them (calibration types the folded layers; its pins do not block the fold)."""
    folded = module.clone()
    canonicalize_module(folded)
    return folded


def result_layers(module: ModuleOp, survivors: set[str]) -> dict[str, str]:
    """For each layer of the canonical module whose result is a folded batchnorm's (a dense/conv
    with the batchnorms folded or fused after it, or a batchnorm fused with those after it), the
    name of the last such batchnorm in the configured module: nn-canonicalize gives the folded
    layer that batchnorm's result type (and a fused batchnorm all its configuration), so
    calibration pins them there."""
    owners: dict[str, str] = {}
    for op in layer_ops(module):
        if op.layer_name not in survivors:
            continue
        last = op
        while last.results:
            users = list(last.results[0].uses)
            user = users[0].operation if len(users) == 1 else None
            if not isinstance(user, nn.BatchNormOp) or user.layer_name in survivors:
                break
            last = user
        if last is not op:
            owners[op.layer_name] = last.layer_name
    return owners


def _tolerance(reference: np.ndarray, tolerance: float | None) -> float:
    if tolerance is not None:
        return tolerance
    span = float(reference.max() - reference.min()) if reference.size else 0.0
    return 0.01 * span if span > 0 else 1e-3


def _knobs(plans: Sequence[LayerPlan], lowered: ModuleOp) -> list[tuple[LayerPlan, str]]:
    """(plan, "frac" / "weight_frac") in the order the search lowers them: the layers with the
    most BOPs in `lowered` (the plans' current types, lowered) first (their weights first), then
    the results of the others."""
    cost = {op.layer_name: op.bops.value.data for op in hls_kernels(lowered) if op.bops is not None}
    ordered = sorted(plans, key=lambda p: -cost.get(p.op.layer_name, 0))
    knobs: list[tuple[LayerPlan, str]] = []
    for p in ordered:
        if any(v in MULTIPLIED or v == "bias" for v in p.variables):
            knobs.append((p, "weight_frac"))
        if "result" in p.variables:
            knobs.append((p, "frac"))
    return knobs


def _baseline(module: ModuleOp, evaluate: Evaluator) -> int:
    """Total BOPs with every type fixed<16,6> (hls4ml's default)."""
    default = fixed_type(DEFAULT_PRECISION)
    copy = module.clone()
    for op in layer_ops(copy):
        for var in op.PRECISION_VARS:
            op.set_precision(var, default)
    saved = evaluate.module
    evaluate.module = copy
    try:
        lowered = evaluate.lowered({})
    finally:
        evaluate.module = saved
    return _bops(lowered)


def apply_calibration(module: ModuleOp, calibration: Calibration) -> None:
    """Pin the calibrated types on the module's layers."""
    for op in layer_ops(module):
        for var, t in calibration.types.get(op.layer_name, {}).items():
            op.set_precision(var, fixed_type(t))


def format_calibration(c: Calibration) -> str:
    lines = [
        f"calibrated: {c.score:.2%} {c.metric}, {c.bops} BOPs "
        f"({c.bops / max(c.baseline_bops, 1):.1%} of {c.baseline_bops} with every type fixed<16,6>), "
        f"{len(c.history)} candidates measured"
    ]
    lines += [f"{layer}: " + ", ".join(f"{var} {t}" for var, t in types.items()) for layer, types in c.types.items()]
    return "\n".join(lines)


# ----- data ------------------------------------------------------------------------------------------------


def load_data(paths: Sequence[str | Path]) -> list[np.ndarray]:
    """.npy files (never unpickled), one per model input."""
    arrays: list[np.ndarray] = []
    for path in paths:
        file = Path(path)
        if not file.is_file():
            raise CalibrationError(f"nn-calibrate-precision: no such data file: {path}")
        try:
            array = np.load(file, allow_pickle=False)
        except (ValueError, OSError, EOFError) as error:
            raise CalibrationError(f"nn-calibrate-precision: cannot read '{path}' as a numeric .npy array: {' '.join(str(error).split())}") from None
        arrays.append(array)
    return arrays


def check_inputs(module: ModuleOp, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The data as float64 batches of the model's input shapes (one unbatched sample allowed)."""
    args = nn.model_function(module).body.block.args
    if len(inputs) != len(args):
        raise InputDataError(f"the model has {len(args)} inputs, the calibration data {len(inputs)} arrays")
    checked: list[np.ndarray] = []
    for arg, array in zip(args, inputs, strict=True):
        a = np.asarray(array)
        shape = nn.shape_of(arg)
        if a.dtype.kind not in "biuf":
            raise InputDataError(f"calibration data for input '{arg.name_hint}' must hold real numbers, got dtype {a.dtype}")
        if a.shape == shape:
            a = a.reshape(1, *shape)
        if a.shape[1:] != shape or len(a) == 0:
            raise InputDataError(f"calibration data for input '{arg.name_hint}' needs shape (n, {', '.join(map(str, shape))}), got {a.shape}")
        a = a.astype(np.float64)
        if not np.isfinite(a).all():
            raise InputDataError(f"calibration data for input '{arg.name_hint}' holds NaN or infinite values")
        checked.append(a)
    return checked


@dataclass(frozen=True)
class CalibratePrecisionPass(ModulePass):
    """Pin data-calibrated types on the layers (see the module docstring)."""

    name = "nn-calibrate-precision"

    data: str = ""
    """The calibration inputs: a .npy file, or several separated by commas (one per model input)."""
    target: float = 0.99
    margin: int = 0
    """Integer bits added to the observed ranges."""
    tolerance: float = -1.0
    """Non-classifier outputs: the absolute error bound (negative: 1% of the outputs' range)."""
    report: bool = False
    """Print the chosen types and the BOPs to stderr."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if not self.data:
            raise CalibrationError('nn-calibrate-precision needs data="inputs.npy"')
        inputs = check_inputs(op, load_data([p.strip() for p in self.data.split(",")]))
        calibration = calibrate(op, inputs, self.target, self.margin, None if self.tolerance < 0 else self.tolerance)
        apply_calibration(op, calibration)
        if self.report:
            print(format_calibration(calibration), file=sys.stderr)
