"""`nn.recurrent` -> `hls.recurrent` (nnet::recurrent): SimpleRNN, LSTM and GRU layers.

    %y = nn.recurrent %x {layer = "lstm", cell = "lstm", weight = dense<...> (F x G*H),
                          recurrent_weight = dense<...> (H x G*H), bias = dense<...> (G*H),
                          recurrent_bias = dense<...> (G*H), activation = #hls<activation tanh>,
                          recurrent_activation = #hls<activation sigmoid>, return_sequences}
         : (tensor<TxFxf32>) -> tensor<TxHxf32>

One op for the three cells (`cell` = simple_rnn, lstm, gru), with Keras' gate order and layout:
G = 1 (simple_rnn), 4 (lstm: i, f, c, o) or 3 (gru: z, r, h) gate blocks of H units. The input is
(T, F) per sample (time first), the result (T, H) with `return_sequences`, else (H,) (the last
state). The state starts at zero; `go_backwards` reads the sequence from its end (outputs in
processing order, as Keras, or with `aligned_outputs` at the index of the step read, as ONNX's
reverse direction). Per time step t (x = x_t, h and c the state):

    pre_x = x @ weight + bias, pre_h = h @ recurrent_weight + recurrent_bias
    simple_rnn  h = act(pre_x + pre_h)
    lstm        i, f, g, o = ract, ract, act, ract of the four blocks of pre_x + pre_h
                c = f * c + i * g;  h = o * act(c)
    gru         z, r = ract of the first two blocks of pre_x + pre_h
                reset_after:  n = act(pre_x[h] + r * pre_h[h])
                otherwise:    n = act(pre_x[h] + (r * h) @ recurrent_weight[h] + recurrent_bias[h])
                h = z * h + (1 - z) * n

Gate functions: the bounded kinds (sigmoid, hard_sigmoid, tanh, softsign, hard_tanh) read a
lookup table of `table_size` entries over [-8, 8) (as hls.activation), relu and linear are exact.

Precision (x = input type, F = the default's fractional bits):

| variable | auto rule |
|---|---|
| weight, recurrent_weight, bias, recurrent_bias | `fitted` |
| table, recurrent_table | F, integer bits for the entries' range (relu / linear: accum) |
| state | F, integer bits for the bound of h set by the activations, not by the sequence length: the range of act (times max abs ract for lstm), joined with 0; the model default when act is unbounded (relu, linear) |
| cell (lstm) | F, integer bits for T * max abs(ract * act): abs(c_t) <= abs(c_t-1) + abs(i * g) |
| accum | grow(union(accumulator(x, weight, bias, F_in), accumulator(state, recurrent_weight, recurrent_bias, H)), 2) |
| result | state (cell with final_cell) |

Configuration beyond Precision / ReuseFactor / TableSize: `RecurrentReuseFactor` (the reuse
factor RRF of the state product, ReuseFactor when unset; at most the recurrent kernel's H * G*H
products) and hls4ml's `Static` (True, the default: one cell instance reused over time; False:
the time loop fully unrolled, a cell per step: property `unrolled`). Both leave the bits alone.

Estimates: multipliers = ceil(non-trivial input products / RF) + ceil(non-trivial recurrent
products / RRF) + the element-wise products (3H for lstm and gru); the per-step latency is
max(RF, RRF) + ceil(log2(F + H)) + 4 (+ 2 for lstm, + RRF + ceil(log2 H) + 2 for gru without
reset_after), latency = T * (per-step latency): it grows with the sequence length. Static: one
cell, II = latency; unrolled: T times the multipliers, II = max(RF, RRF).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from math import ceil
from typing import ClassVar

import numpy as np
from xdsl.dialects.builtin import (
    I64,
    DenseIntOrFPElementsAttr,
    Float64Type,
    FloatAttr,
    IntegerAttr,
    StringAttr,
    TensorType,
    UnitAttr,
)
from xdsl.ir import Attribute, SSAValue
from xdsl.irdl import irdl_op_definition, operand_def, opt_prop_def, prop_def, result_def

from nnhls.dialects import hls, nn, tables
from nnhls.dialects.bitgrowth import accumulator, clog2, fitted, grow, range_type, union
from nnhls.dialects.fixed import FixedPrecision
from nnhls.dialects.kinds import ActivationKind
from nnhls.dialects.types import ActivationKindAttr, FixedPointType
from nnhls.errors import ModelError
from nnhls.ops import exact as ex
from nnhls.ops.activation import Params, spec
from nnhls.ops.base import (
    Estimate,
    KernelRules,
    LayerTypes,
    Lowering,
    OpRules,
    ScheduleInfo,
    operand_precision,
    product_bops,
    quantize,
    register,
)
from nnhls.ops.cpp import Layer
from nnhls.ops.dense import multiplier_free

CELLS: dict[str, int] = {"simple_rnn": 1, "lstm": 4, "gru": 3}
"""Cell kinds and their number of gate blocks."""
CELL_NAMES: dict[str, str] = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}

TABLE_GATES = frozenset({
    ActivationKind.SIGMOID, ActivationKind.HARD_SIGMOID, ActivationKind.TANH,
    ActivationKind.SOFTSIGN, ActivationKind.HARD_TANH,
})  # fmt: skip
"""Gate functions computed through a lookup table (bounded, saturated beyond the table range)."""
EXACT_GATES = frozenset({ActivationKind.RELU, ActivationKind.LINEAR})
GATE_KINDS = TABLE_GATES | EXACT_GATES
TABLE_LOW, TABLE_HIGH = -8.0, 8.0
"""The range of gate tables (hls.activation's)."""


def gate_names() -> list[str]:
    return sorted(k.value for k in GATE_KINDS)


# ----- the gate functions --------------------------------------------------------------------------------


def gate_reference(kind: ActivationKind, x: np.ndarray, alpha: float | None, beta: float | None) -> np.ndarray:
    """The float gate function (the framework's)."""
    return spec(kind).reference(x, Params(alpha, beta, None))


def gate_values(kind: ActivationKind, size: int, alpha: float | None, beta: float | None) -> np.ndarray:
    """Float entries of a gate table: the function at the bin centres of [-8, 8)."""
    step = (TABLE_HIGH - TABLE_LOW) / size
    centres = TABLE_LOW + (np.arange(size, dtype=np.float64) + 0.5) * step
    return gate_reference(kind, centres, alpha, beta)


def gate_bound(kind: ActivationKind, size: int, alpha: float | None, beta: float | None) -> tuple[float, float] | None:
    """(min, max) of a table gate's entries; None for an unbounded (exact) gate."""
    if kind not in TABLE_GATES:
        return None
    values = gate_values(kind, size, alpha, beta)
    return float(values.min()), float(values.max())


def _float(attr: FloatAttr | None) -> float | None:
    return None if attr is None else float(attr.value.data)


# ----- the ops ---------------------------------------------------------------------------------------------


def _recurrent_problem(
    cell: str, in_shape: tuple[int, ...], out_shape: tuple[int, ...], w: tuple[int, ...],
    u: tuple[int, ...], b: tuple[int, ...], rb: tuple[int, ...], return_sequences: bool,
) -> str | None:  # fmt: skip
    """What is wrong with a recurrent layer's shapes (None when they are right)."""
    if cell not in CELLS:
        return f"cell must be one of {', '.join(CELLS)}, got '{cell}'"
    if len(in_shape) != 2:
        return f"input must be (time, features), got shape {in_shape}"
    t, f = in_shape
    if len(u) != 2 or u[1] % CELLS[cell] != 0:
        return f"recurrent weight shape {u} must be (units, {CELLS[cell]} * units)"
    h = u[0]
    gh = CELLS[cell] * h
    if u != (h, gh) or w != (f, gh):
        return f"weight {w} and recurrent weight {u} must be ({f}, {gh}) and ({h}, {gh})"
    if b != (gh,) or rb != (gh,):
        return f"bias {b} and recurrent bias {rb} must be ({gh},)"
    want = (t, h) if return_sequences else (h,)
    if out_shape != want:
        return f"result shape {out_shape} must be {want}"
    return None


@irdl_op_definition
class RecurrentOp(nn.NNLayerOp):
    """A SimpleRNN, LSTM or GRU layer over a (time, features) sequence (see the module docstring)."""

    name = "nn.recurrent"
    input = operand_def(TensorType)
    output = result_def(TensorType)
    cell = prop_def(StringAttr)
    weight = prop_def(DenseIntOrFPElementsAttr)
    recurrent_weight = prop_def(DenseIntOrFPElementsAttr)
    bias = prop_def(DenseIntOrFPElementsAttr)
    recurrent_bias = prop_def(DenseIntOrFPElementsAttr)
    activation = prop_def(ActivationKindAttr)
    recurrent_activation = prop_def(ActivationKindAttr)
    alpha = opt_prop_def(FloatAttr[Float64Type])
    """Parameters of the activation (hard_sigmoid's slope and offset)."""
    beta = opt_prop_def(FloatAttr[Float64Type])
    recurrent_alpha = opt_prop_def(FloatAttr[Float64Type])
    recurrent_beta = opt_prop_def(FloatAttr[Float64Type])
    return_sequences = opt_prop_def(UnitAttr)
    go_backwards = opt_prop_def(UnitAttr)
    aligned_outputs = opt_prop_def(UnitAttr)
    """With go_backwards and return_sequences: output t is the state after reading input t (ONNX's
    reverse direction, Bidirectional's backward layer) rather than after t steps (Keras)."""
    final_cell = opt_prop_def(UnitAttr)
    """LSTM without return_sequences: the result is the cell state c after the last step (Keras'
    return_state, ONNX's Y_c) instead of h."""
    reset_after = opt_prop_def(UnitAttr)
    """GRU: the reset gate multiplies h @ recurrent_weight + recurrent_bias (Keras' default,
    PyTorch's and ONNX's linear_before_reset); otherwise it multiplies h before the product."""
    table_size = opt_prop_def(IntegerAttr[I64])
    recurrent_reuse_factor = opt_prop_def(IntegerAttr[I64])
    """RecurrentReuseFactor: the reuse factor of the state product (h @ recurrent_weight)."""
    unrolled = opt_prop_def(UnitAttr)
    """hls4ml's `Static: False`: the time loop fully unrolled (a cell instance per step)."""

    PRECISION_VARS: ClassVar[tuple[str, ...]] = (
        "weight", "recurrent_weight", "bias", "recurrent_bias", "accum", "table",
        "recurrent_table", "state", "cell", "result",
    )  # fmt: skip

    def __init__(
        self,
        input: SSAValue,
        cell: str,
        weight: np.ndarray,
        recurrent_weight: np.ndarray,
        bias: np.ndarray,
        recurrent_bias: np.ndarray,
        layer: str,
        *,
        activation: ActivationKind = ActivationKind.TANH,
        recurrent_activation: ActivationKind = ActivationKind.SIGMOID,
        return_sequences: bool = False,
        go_backwards: bool = False,
        aligned_outputs: bool = False,
        reset_after: bool = True,
        final_cell: bool = False,
        params: tuple[float | None, float | None, float | None, float | None] = (None, None, None, None),
    ):
        t = nn.shape_of(input)[0]
        h = recurrent_weight.shape[0]
        if cell == "simple_rnn":  # no recurrent activation: keep the unused gate exact
            recurrent_activation = ActivationKind.LINEAR
        out = (t, h) if return_sequences else (h,)
        alpha, beta, r_alpha, r_beta = (None if v is None else FloatAttr(v, Float64Type()) for v in params)
        super().__init__(
            operands=[input],
            result_types=[nn.float_tensor(out)],
            properties={
                "layer": StringAttr(layer),
                "cell": StringAttr(cell),
                "weight": nn.dense_attr(weight),
                "recurrent_weight": nn.dense_attr(recurrent_weight),
                "bias": nn.dense_attr(bias),
                "recurrent_bias": nn.dense_attr(recurrent_bias),
                "activation": ActivationKindAttr(activation),
                "recurrent_activation": ActivationKindAttr(recurrent_activation),
                "alpha": alpha, "beta": beta, "recurrent_alpha": r_alpha, "recurrent_beta": r_beta,
                "return_sequences": UnitAttr() if return_sequences else None,
                "go_backwards": UnitAttr() if go_backwards else None,
                "aligned_outputs": UnitAttr() if aligned_outputs and go_backwards and return_sequences else None,
                "reset_after": UnitAttr() if reset_after and cell == "gru" else None,
                "final_cell": UnitAttr() if final_cell else None,
            },
        )

    @property
    def kind(self) -> str:
        return self.cell.data

    @property
    def units(self) -> int:
        return self.recurrent_weight.get_shape()[0]

    def verify_layer(self) -> None:
        problem = _recurrent_problem(
            self.cell.data, nn.shape_of(self.input), nn.shape_of(self.output),
            self.weight.get_shape(), self.recurrent_weight.get_shape(), self.bias.get_shape(),
            self.recurrent_bias.get_shape(), self.return_sequences is not None,
        )  # fmt: skip
        if problem is not None:
            raise self.fail(problem)
        if self.final_cell is not None and (self.cell.data != "lstm" or self.return_sequences is not None):
            raise self.fail("final_cell (the cell state as the result) needs an lstm cell without return_sequences")
        for label, kind in (("activation", self.activation.data), ("recurrent_activation", self.recurrent_activation.data)):
            if kind not in GATE_KINDS:
                raise self.fail(f"{label} '{kind.value}' is not supported in a recurrent layer; supported: {', '.join(gate_names())}")
        if self.table_size is not None:
            n = self.table_size.value.data
            if n < 2 or n & (n - 1):
                raise self.fail(f"table size must be a power of two, got {n}")


@irdl_op_definition
class RecurrentKernelOp(hls.HLSKernelOp):
    """nnet::recurrent, one time step after the other (x_t read in order, or from the end with
    go_backwards). Per step, with acc = cast<accum_t> (dense's accumulation, one cast per term):

      ax[k] = acc(bias[k] + sum_i x[i] * weight[i, k]),  ah[k] = acc(recurrent_bias[k] + sum_i h[i] * recurrent_weight[i, k])
      act(v) = cast<table_t>(table[index(v)]) for a table gate (index as hls.activation over
               [table_min, table_max)), cast<table_t>(max(v, 0)) for relu, cast<table_t>(v) for linear;
               ract likewise with the recurrent_* table and type
      simple_rnn  h[j] = cast<state_t>(act(cast<accum_t>(ax[j] + ah[j])))
      lstm        i, f, g, o = ract, ract, act, ract (cast<accum_t>(ax[kH + j] + ah[kH + j])), k = 0..3
                  c[j] = cast<cell_t>(f * c[j] + i * g);  h[j] = cast<state_t>(o * act(c[j]))
      gru         z, r = ract(cast<accum_t>(ax[kH + j] + ah[kH + j])), k = 0, 1
                  reset_after: n = act(cast<accum_t>(ax[2H + j] + cast<accum_t>(r * ah[2H + j])))
                  otherwise:   rh[i] = cast<state_t>(r[i] * h[i]);
                               n = act(cast<accum_t>(ax[2H + j] + acc(recurrent_bias[2H + j] + sum_i rh[i] * recurrent_weight[i, 2H + j])))
                  h[j] = cast<state_t>(z * h[j] + n - z * n)
    h and c start at zero; products and sums without a cast are exact. The result is
    cast<result>(h) after every step (return_sequences; in processing order, or at the index of
    the input step read with aligned_outputs) or after the last one (cast<result>(c) with
    final_cell)."""

    name = "hls.recurrent"
    input = operand_def()
    output = result_def()
    cell = prop_def(StringAttr)
    weight = prop_def(DenseIntOrFPElementsAttr)
    weight_t = prop_def(FixedPointType)
    recurrent_weight = prop_def(DenseIntOrFPElementsAttr)
    recurrent_weight_t = prop_def(FixedPointType)
    bias = prop_def(DenseIntOrFPElementsAttr)
    bias_t = prop_def(FixedPointType)
    recurrent_bias = prop_def(DenseIntOrFPElementsAttr)
    recurrent_bias_t = prop_def(FixedPointType)
    accum_t = prop_def(FixedPointType)
    state_t = prop_def(FixedPointType)
    cell_t = prop_def(FixedPointType)
    activation = prop_def(ActivationKindAttr)
    recurrent_activation = prop_def(ActivationKindAttr)
    table = opt_prop_def(DenseIntOrFPElementsAttr)
    table_t = prop_def(FixedPointType)
    recurrent_table = opt_prop_def(DenseIntOrFPElementsAttr)
    recurrent_table_t = prop_def(FixedPointType)
    table_min = prop_def(FloatAttr[Float64Type])
    table_max = prop_def(FloatAttr[Float64Type])
    return_sequences = opt_prop_def(UnitAttr)
    go_backwards = opt_prop_def(UnitAttr)
    aligned_outputs = opt_prop_def(UnitAttr)
    reset_after = opt_prop_def(UnitAttr)
    final_cell = opt_prop_def(UnitAttr)
    recurrent_reuse_factor = opt_prop_def(IntegerAttr[I64])
    unrolled = opt_prop_def(UnitAttr)

    WEIGHTS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("weight", "weight_t"), ("recurrent_weight", "recurrent_weight_t"), ("bias", "bias_t"),
        ("recurrent_bias", "recurrent_bias_t"), ("table", "table_t"), ("recurrent_table", "recurrent_table_t"),
    )  # fmt: skip

    def verify_kernel(self) -> None:
        problem = _recurrent_problem(
            self.cell.data, hls.shape_of(self.input), hls.shape_of(self.output),
            self.weight.get_shape(), self.recurrent_weight.get_shape(), self.bias.get_shape(),
            self.recurrent_bias.get_shape(), self.return_sequences is not None,
        )  # fmt: skip
        if problem is not None:
            raise self.fail(problem)
        for label, kind, table in (
            ("activation", self.activation.data, self.table),
            ("recurrent_activation", self.recurrent_activation.data, self.recurrent_table),
        ):
            if (kind in TABLE_GATES) != (table is not None):
                raise self.fail(f"{label} '{kind.value}' {'needs' if kind in TABLE_GATES else 'takes no'} a table")
            if table is not None:
                n = table.get_shape()[0]
                if n < 2 or n & (n - 1):
                    raise self.fail(f"{label} table size must be a power of two, got {n}")


# ----- the rules -------------------------------------------------------------------------------------------


def recurrent_reuse_factor(op: RecurrentOp | RecurrentKernelOp) -> int:
    """RecurrentReuseFactor, ReuseFactor when unset (as hls4ml, which forces them equal)."""
    attr = op.recurrent_reuse_factor if op.recurrent_reuse_factor is not None else op.reuse_factor
    return 1 if attr is None else attr.value.data


def _time_steps(op: RecurrentOp) -> int:
    return nn.shape_of(op.input)[0]


def _gate_bounds(op: RecurrentOp) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
    size = tables.table_size(op.table_size)
    act = gate_bound(op.activation.data, size, _float(op.alpha), _float(op.beta))
    ract = gate_bound(op.recurrent_activation.data, size, _float(op.recurrent_alpha), _float(op.recurrent_beta))
    return act, ract


def _state_type(op: RecurrentOp, default: FixedPrecision) -> FixedPrecision:
    act, ract = _gate_bounds(op)
    if act is None:
        return default
    lo, hi = min(act[0], 0.0), max(act[1], 0.0)
    if op.kind == "lstm":  # h = o * act(c)
        if ract is None:
            return default
        ends = [a * r for a in act for r in ract]
        lo, hi = min(*ends, 0.0), max(*ends, 0.0)
    if op.kind == "gru" and (ract is None or ract[0] < 0 or ract[1] > 1):
        return default  # h = z * h + (1 - z) * n stays in hull(0, range of act) only for 0 <= z <= 1
    return range_type(lo, hi, default.fractional, default)


def _cell_type(op: RecurrentOp, default: FixedPrecision) -> FixedPrecision:
    act, ract = _gate_bounds(op)
    if op.kind != "lstm" or act is None or ract is None:
        return default
    step = max(abs(act[0]), abs(act[1])) * max(abs(ract[0]), abs(ract[1]))
    bound = _time_steps(op) * step
    return range_type(-bound, bound, default.fractional, default)


def _step_bops(op: RecurrentOp, s: ScheduleInfo, needed_w: int, needed_u: int) -> int:
    """BOPs of one time step: the input and state products, and the gate products (lstm: f * c,
    i * g, o * act(c); gru: r * (h @ u), z * h, z * n)."""
    def t(var: str) -> FixedPrecision:
        return nn.resolved_precision(op, var, s.default)

    h = op.units
    bops = product_bops(needed_w, operand_precision(op, 0, s), t("weight"))
    bops += product_bops(needed_u, t("state"), t("recurrent_weight"))
    ract = t("recurrent_table")
    if op.kind == "lstm":
        bops += product_bops(h, ract, t("cell")) + 2 * product_bops(h, ract, t("table"))
    elif op.kind == "gru":
        bops += product_bops(h, ract, t("accum")) + product_bops(h, ract, t("state")) + product_bops(h, ract, t("table"))
    return bops


@register
class RecurrentRules(OpRules):
    op = RecurrentOp
    type_names = ("SimpleRNN", "LSTM", "GRU", "RNN")
    config_keys = ("TableSize", "RecurrentReuseFactor", "Static")
    calibrated_vars = ("weight", "bias", "result")
    """Calibration pins the input kernel and its bias, and the result (the state as the next layer
    reads it); the recurrent kernel, the state, the cell and the accumulator keep their
    configuration (`auto`: their rules below, which hold every value the recurrence can reach)."""

    def layer_type_names(self, op: nn.NNLayerOp) -> tuple[str, ...]:
        assert isinstance(op, RecurrentOp)
        return (CELL_NAMES[op.kind], "RNN") if op.kind != "simple_rnn" else ("SimpleRNN", "RNN")

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        assert isinstance(op, RecurrentOp)
        d = lt.default
        w = lt.get("weight", lambda: fitted(nn.to_numpy(op.weight), d))
        u = lt.get("recurrent_weight", lambda: fitted(nn.to_numpy(op.recurrent_weight), d))
        b = lt.get("bias", lambda: fitted(nn.to_numpy(op.bias), d))
        rb = lt.get("recurrent_bias", lambda: fitted(nn.to_numpy(op.recurrent_bias), d))
        state = lt.get("state", lambda: _state_type(op, d))
        n_in = nn.shape_of(op.input)[-1]
        acc = lt.get("accum", lambda: grow(union(accumulator(lt.x, w, b, n_in), accumulator(state, u, rb, op.units)), 2))
        act, ract = _gate_bounds(op)
        lt.get("table", lambda: acc if act is None else range_type(act[0], act[1], d.fractional, d))
        lt.get("recurrent_table", lambda: acc if ract is None else range_type(ract[0], ract[1], d.fractional, d))
        cell = lt.get("cell", lambda: _cell_type(op, d))
        lt.get("result", lambda: cell if op.final_cell is not None else state)

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        assert isinstance(op, RecurrentOp)
        rf, rrf = s.reuse_factor, recurrent_reuse_factor(op)
        w_t = nn.resolved_precision(op, "weight", s.default)
        u_t = nn.resolved_precision(op, "recurrent_weight", s.default)
        needed_w = int(np.count_nonzero(~multiplier_free(nn.to_numpy(op.weight), w_t)))
        needed_u = int(np.count_nonzero(~multiplier_free(nn.to_numpy(op.recurrent_weight), u_t)))
        h, n_in = op.units, nn.shape_of(op.input)[-1]
        elementwise = 3 * h if op.kind in ("lstm", "gru") else 0
        step = max(rf, rrf) + clog2(n_in + h) + 4
        if op.kind == "lstm":
            step += 2
        if op.kind == "gru" and op.reset_after is None:
            step += rrf + clog2(h) + 2
        steps = _time_steps(op)
        multipliers = ceil(needed_w / rf) + ceil(needed_u / rrf) + elementwise
        bops = steps * _step_bops(op, s, needed_w, needed_u)
        if op.unrolled is not None:  # a cell per step: T times the multipliers, a new sample every step's II
            return Estimate(steps * multipliers, steps * step, max(rf, rrf), bops)
        return Estimate(multipliers, steps * step, steps * step, bops)

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, RecurrentOp)
        where = f"{op.name} '{op.layer_name}'"
        size = tables.table_size(op.table_size)
        props: dict[str, Attribute | None] = lw.common(op) | {
            "cell": op.cell,
            "activation": op.activation,
            "recurrent_activation": op.recurrent_activation,
            "table_min": FloatAttr(TABLE_LOW, Float64Type()),
            "table_max": FloatAttr(TABLE_HIGH, Float64Type()),
            "return_sequences": op.return_sequences,
            "go_backwards": op.go_backwards,
            "aligned_outputs": op.aligned_outputs,
            "reset_after": op.reset_after,
            "final_cell": op.final_cell,
            "recurrent_reuse_factor": IntegerAttr(recurrent_reuse_factor(op), 64),
            "unrolled": op.unrolled,
        }
        for var in ("weight", "recurrent_weight", "bias", "recurrent_bias"):
            t = lw.precision(op, var)
            props[var] = quantize(nn.to_numpy(getattr(op, var)), t, f"{where} {var}")
            props[f"{var}_t"] = lw.type_attr(op, var)
        for var in ("accum", "state", "cell", "table", "recurrent_table"):
            props[f"{var}_t"] = lw.type_attr(op, var)
        gates = (
            ("table", op.activation.data, op.alpha, op.beta),
            ("recurrent_table", op.recurrent_activation.data, op.recurrent_alpha, op.recurrent_beta),
        )
        for var, kind, alpha, beta in gates:
            if kind in TABLE_GATES:
                values = gate_values(kind, size, _float(alpha), _float(beta))
                props[var] = hls.mantissa_attr(tables.quantize_table(values, lw.precision(op, var)))
        return [lw.emit(RecurrentKernelOp, [lw.operand(op.input)], lw.out_type(op), props)]

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        assert isinstance(op, RecurrentOp)
        w, u = (nn.to_numpy(a).astype(np.float64) for a in (op.weight, op.recurrent_weight))
        b, rb = (nn.to_numpy(a).astype(np.float64) for a in (op.bias, op.recurrent_bias))

        def act(v: np.ndarray) -> np.ndarray:
            return gate_reference(op.activation.data, v, _float(op.alpha), _float(op.beta))

        def ract(v: np.ndarray) -> np.ndarray:
            return gate_reference(op.recurrent_activation.data, v, _float(op.recurrent_alpha), _float(op.recurrent_beta))

        x = args[0]
        n, hu = x.shape[0], op.units
        h, c = np.zeros((n, hu)), np.zeros((n, hu))
        steps = range(x.shape[1] - 1, -1, -1) if op.go_backwards is not None else range(x.shape[1])
        outputs = []
        for t in steps:
            px, ph = x[:, t] @ w + b, h @ u + rb
            if op.kind == "simple_rnn":
                h = act(px + ph)
            elif op.kind == "lstm":
                pre = px + ph
                i, f, g, o = (pre[:, k * hu : (k + 1) * hu] for k in range(4))
                c = ract(f) * c + ract(i) * act(g)
                h = ract(o) * act(c)
            else:
                z = ract(px[:, :hu] + ph[:, :hu])
                r = ract(px[:, hu : 2 * hu] + ph[:, hu : 2 * hu])
                if op.reset_after is not None:
                    cand = act(px[:, 2 * hu :] + r * ph[:, 2 * hu :])
                else:
                    cand = act(px[:, 2 * hu :] + (r * h) @ u[:, 2 * hu :] + rb[2 * hu :])
                h = z * h + (1 - z) * cand
            outputs.append(h)
        if op.aligned_outputs is not None:
            outputs.reverse()
        if op.final_cell is not None:
            return [c]
        return [np.stack(outputs, axis=1) if op.return_sequences is not None else h]


# ----- the kernel --------------------------------------------------------------------------------------------


def _gate(
    v: ex.Exact, kind: ActivationKind, table: DenseIntOrFPElementsAttr | None, t: FixedPrecision, op: RecurrentKernelOp
) -> ex.FixedArray:
    """act(v) as the kernel computes it (a value of t)."""
    if kind == ActivationKind.LINEAR:
        return ex.cast(v, t)
    if kind == ActivationKind.RELU:
        return ex.cast(ex.e_max(v, ex.exact_const(0)), t)
    if table is None:
        raise ModelError(f"{op.name} '{op.layer_name}': gate '{kind.value}' has no table")
    entries = ex.mantissas_of(table)
    size = entries.shape[0]
    low, high = Fraction(op.table_min.value.data), Fraction(op.table_max.value.data)
    index = ex.clamp_index(ex.table_index(v, low, size, high - low), size)
    return ex.cast(ex.Exact(entries[index], t.fractional), t)


def _matvec(x: ex.FixedArray, w: ex.Mantissas, w_t: FixedPrecision, init: ex.Mantissas, acc_t: FixedPrecision) -> ex.Exact:
    """acc(init + sum_i x[:, i] * w[i, :]) with one cast per term: (batch, M) values of acc_t."""
    rows = ex.FixedArray(x.m.reshape(x.m.shape[0], -1, 1), x.t)
    acc = ex.mac(rows, w[:, None, :], w_t, init.reshape(1, -1), acc_t)
    return ex.Exact(acc.reshape(x.m.shape[0], w.shape[1]), acc_t.fractional)


def _columns(e: ex.Exact, start: int, stop: int) -> ex.Exact:
    return ex.Exact(np.ascontiguousarray(e.m[:, start:stop]), e.frac)


@register
class RecurrentKernel(KernelRules):
    op = RecurrentKernelOp

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, RecurrentKernelOp)
        x = args[0]
        cell = op.cell.data
        acc_t, state_t, cell_t = op.accum_t.precision, op.state_t.precision, op.cell_t.precision
        table_t, rtable_t = op.table_t.precision, op.recurrent_table_t.precision
        w, u = ex.mantissas_of(op.weight), ex.mantissas_of(op.recurrent_weight)
        w_t, u_t = op.weight_t.precision, op.recurrent_weight_t.precision
        b = ex.bias_init(op.bias, op.bias_t.precision, acc_t)
        rb = ex.bias_init(op.recurrent_bias, op.recurrent_bias_t.precision, acc_t)
        batch, steps = x.m.shape[0], x.m.shape[1]
        hu = u.shape[0]
        kind, rkind = op.activation.data, op.recurrent_activation.data

        def act(v: ex.Exact) -> ex.Exact:
            return _gate(v, kind, op.table, table_t, op).exact

        def ract(v: ex.Exact) -> ex.Exact:
            return _gate(v, rkind, op.recurrent_table, rtable_t, op).exact

        def pre(ax: ex.Exact, ah: ex.Exact, k: int) -> ex.Exact:
            return ex.cast(ex.e_add(_columns(ax, k * hu, (k + 1) * hu), _columns(ah, k * hu, (k + 1) * hu)), acc_t).exact

        h = ex.FixedArray(np.zeros((batch, hu), dtype=np.int64), state_t)
        c = ex.FixedArray(np.zeros((batch, hu), dtype=np.int64), cell_t)
        order = range(steps - 1, -1, -1) if op.go_backwards is not None else range(steps)
        outputs: list[ex.Mantissas] = []
        result = ex.result_t(op)
        for t in order:
            xt = ex.FixedArray(np.ascontiguousarray(x.m[:, t, :]), x.t)
            ax = _matvec(xt, w, w_t, b, acc_t)
            if cell == "gru" and op.reset_after is None:
                ah = _matvec(h, u[:, : 2 * hu], u_t, rb[: 2 * hu], acc_t)
            else:
                ah = _matvec(h, u, u_t, rb, acc_t)
            if cell == "simple_rnn":
                h = ex.cast(act(pre(ax, ah, 0)), state_t)
            elif cell == "lstm":
                i, f, g, o = ract(pre(ax, ah, 0)), ract(pre(ax, ah, 1)), act(pre(ax, ah, 2)), ract(pre(ax, ah, 3))
                c = ex.cast(ex.e_add(ex.e_mul(f, c.exact), ex.e_mul(i, g)), cell_t)
                h = ex.cast(ex.e_mul(o, act(c.exact)), state_t)
            else:
                z, r = ract(pre(ax, ah, 0)), ract(pre(ax, ah, 1))
                if op.reset_after is not None:
                    gated = ex.cast(ex.e_mul(r, _columns(ah, 2 * hu, 3 * hu)), acc_t).exact
                    n = act(ex.cast(ex.e_add(_columns(ax, 2 * hu, 3 * hu), gated), acc_t).exact)
                else:
                    rh = ex.cast(ex.e_mul(r, h.exact), state_t)
                    an = _matvec(rh, u[:, 2 * hu :], u_t, rb[2 * hu :], acc_t)
                    n = act(ex.cast(ex.e_add(_columns(ax, 2 * hu, 3 * hu), an), acc_t).exact)
                zh = ex.e_mul(z, h.exact)
                h = ex.cast(ex.e_add(ex.e_add(zh, n), ex.e_neg(ex.e_mul(z, n))), state_t)
            if op.return_sequences is not None:
                outputs.append(ex.cast(h.exact, result).m)
        if op.return_sequences is None:
            return [ex.cast((c if op.final_cell is not None else h).exact, result)]
        if op.aligned_outputs is not None:
            outputs.reverse()
        stacked = np.stack([ex.obj(m) for m in outputs], axis=1) if any(m.dtype == object for m in outputs) else np.stack(outputs, axis=1)
        return [ex.FixedArray(ex.norm(stacked), result)]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, RecurrentKernelOp)
        steps, n_in = layer.inputs[0].shape
        hu = op.recurrent_weight.get_shape()[0]
        cell = op.cell.data
        layer.constant("w", op.weight, op.weight_t, f"input weights ({n_in} x {CELLS[cell]} * {hu})", "weight")
        layer.constant("u", op.recurrent_weight, op.recurrent_weight_t, f"recurrent weights ({hu} x {CELLS[cell]} * {hu})", "recurrent_weight")
        layer.constant("b", op.bias, op.bias_t, "input biases", "bias")
        layer.constant("rb", op.recurrent_bias, op.recurrent_bias_t, "recurrent biases", "recurrent_bias")
        config = layer.struct("recurrent_config")
        config.const("n_time", steps).const("n_in", n_in).const("n_state", hu)
        config.const("cell", f"nnet::cell_{cell}")
        layer.io(config)
        config.const("reuse_factor", layer.reuse_factor)
        config.const("recurrent_reuse_factor", recurrent_reuse_factor(op))
        config.const("use_static", op.unrolled is None)
        config.const("return_sequences", op.return_sequences is not None)
        config.const("go_backwards", op.go_backwards is not None)
        config.const("aligned_outputs", op.aligned_outputs is not None)
        config.const("reset_after", op.reset_after is not None)
        config.const("final_cell", op.final_cell is not None)
        lo, hi = op.table_min.value.data, op.table_max.value.data
        args = [f"{layer.name}_w", f"{layer.name}_u", f"{layer.name}_b", f"{layer.name}_rb"]
        for prefix, kind, table, ty, suffix in (
            ("", op.activation.data, op.table, op.table_t, "table"),
            ("recurrent_", op.recurrent_activation.data, op.recurrent_table, op.recurrent_table_t, "recurrent_table"),
        ):
            config.const(f"{prefix}activation", f"nnet::gate_{'table' if table is not None else kind.value}")
            if table is None:
                config.typedef(f"{prefix}table_t", ty.cpp())
                config.const(f"{prefix}table_size", 1).const(f"{prefix}table_scale_log2", 0, "int").const(f"{prefix}table_offset", 0, "long long")
                args.append("nullptr")
                continue
            size = table.get_shape()[0]
            k = layer.log2_exact(size / (hi - lo), f"{prefix}table_size / (table_max - table_min)")
            layer.constant(suffix, table, ty, f"{kind.value} gate table over [{lo}, {hi})")
            config.const(f"{prefix}table_size", size).const(f"{prefix}table_scale_log2", k, "int")
            config.const(f"{prefix}table_offset", int(lo * 2.0**k), "long long")
            config.typedef(f"{prefix}table_t", f"{layer.name}_{suffix}_t")
            args.append(f"{layer.name}_{suffix}")
        config.typedef("weight_t", f"{layer.name}_weight_t").typedef("recurrent_weight_t", f"{layer.name}_recurrent_weight_t")
        config.typedef("bias_t", f"{layer.name}_bias_t").typedef("recurrent_bias_t", f"{layer.name}_recurrent_bias_t")
        config.typedef("accum_t", op.accum_t.cpp()).typedef("state_t", op.state_t.cpp()).typedef("cell_t", op.cell_t.cpp())
        layer.kernel, layer.header = "recurrent", "nnet_recurrent.h"
        layer.args = args


def keras_gate_params(kind: ActivationKind, legacy: bool) -> tuple[float | None, float | None]:
    """(alpha, beta) of a gate named by Keras (hard_sigmoid's slope: 0.2 in Keras 2, 1/6 in 3)."""
    if kind == ActivationKind.HARD_SIGMOID:
        return (0.2 if legacy else 1.0 / 6.0), 0.5
    return None, None

