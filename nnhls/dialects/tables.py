"""Lookup tables of softmax and how every table is quantized, as integer mantissas of their types
(the activation tables are sampled by the kinds' specs in nnhls/ops/activation.py).

The entries follow the `hls.activation` / `hls.softmax` docstrings exactly (the C++ kernels and the
numpy emulator read these tables, they never recompute them):

- activation tables span [table_min, table_max) in `size` bins; entry i holds
  f(table_min + (i + 0.5) * step), step = (table_max - table_min) / size. The range is [-8, 8)
  (hls4ml's sigmoid range; tanh uses it too so the saturated ends are covered: tanh(8) = 1 - 2e-7)
  and [-8, 0) for elu and selu, whose positive side is computed exactly by the kernel. Softplus,
  swish and gelu pass x through above the range, where they equal x within 3e-4.
- softmax `stable`: entry i of the exp table holds exp(-(i + 0.5) * exp_range / size), entry 0
  holds exactly 1 (the maximum element). exp_range is the smallest power of two covering the
  differences d = max - x that matter: min(span of the input type, (F_exp + 1) * ln 2), beyond
  which exp(-d) is below half an LSB of the exp table type, so the clamped last entry gives the
  value the exact function would round to. `latency`: the exp table covers [-8, 8) (hls4ml's
  range), entry i holds exp(-8 + (i + 0.5) * 16 / size).
- softmax inverse table: entry j holds 1 / ((j + 0.5) * inv_range / size); inv_range is the
  smallest power of two above the largest reachable sum (n times the largest exp entry, at most
  the accumulator's maximum), so every reachable sum has its own bin.

Entries are quantized with the table type's quantization mode and saturate to its range (so a
pinned table type that cannot hold, say, exp(0) = 1 gets its maximum there rather than wrapping).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from xdsl.dialects.builtin import IntegerAttr

from nnhls.dialects.bitgrowth import range_type
from nnhls.dialects.fixed import (
    FixedPrecision,
    PrecisionError,
    constant_mantissas,
    from_mantissa,
)
from nnhls.dialects.kinds import SoftmaxImpl

DEFAULT_TABLE_SIZE = 1024
MAX_TABLE_WIDTH = 63
"""Table entries are stored as int64 mantissas."""
LATENCY_EXP_RANGE = 16.0
"""The latency softmax's exp table spans [-8, 8) (hls4ml's)."""


def table_size(attr: IntegerAttr | None) -> int:
    """A configured table size, or the default 1024."""
    return DEFAULT_TABLE_SIZE if attr is None else attr.value.data


def quantize_table(values: np.ndarray, t: FixedPrecision) -> np.ndarray:
    """Table entries as int64 mantissas of t (t's rounding, saturating, like every constant)."""
    if t.width > MAX_TABLE_WIDTH:
        raise PrecisionError(f"a lookup table of type {t} is wider than the {MAX_TABLE_WIDTH} bits a table entry may have")
    return constant_mantissas(values, t)


# ----- softmax -----------------------------------------------------------------------------------------------


def power_of_two_above(value: float) -> float:
    """The smallest power of two strictly greater than value (> 0)."""
    return 2.0 ** (math.floor(math.log2(value)) + 1)


def power_of_two_at_least(value: float) -> float:
    return 2.0 ** math.ceil(math.log2(value))


def exp_range(impl: SoftmaxImpl, x: FixedPrecision, exp_t: FixedPrecision) -> float:
    """The span of the exp table (see the module docstring)."""
    if impl == SoftmaxImpl.LATENCY:
        return LATENCY_EXP_RANGE
    span = x.max_value - x.min_value
    useful = (exp_t.fractional + 1) * math.log(2.0)
    return power_of_two_at_least(max(min(span, useful), x.step))


def exp_values(impl: SoftmaxImpl, size: int, span: float) -> np.ndarray:
    """Float entries of the exp table."""
    centres = (np.arange(size, dtype=np.float64) + 0.5) * (span / size)
    if impl == SoftmaxImpl.LATENCY:
        return np.exp(centres - span / 2)
    values = np.exp(-centres)
    values[0] = 1.0
    return values


def exp_table_type(
    impl: SoftmaxImpl, x: FixedPrecision, size: int, like: FixedPrecision
) -> FixedPrecision:
    """Auto exp table type: the default's fractional bits over the entries' range ([0, 1] stable)."""
    frac = like.fractional
    if impl != SoftmaxImpl.LATENCY:
        return range_type(0.0, 1.0, frac, like)
    values = exp_values(impl, size, LATENCY_EXP_RANGE)
    return range_type(0.0, float(values.max()), frac, like)


def inv_range(n: int, largest_exp: float, acc: FixedPrecision) -> float:
    """The span of the inverse table: a power of two above the largest reachable sum."""
    largest_sum = min(n * largest_exp, acc.max_value)
    return power_of_two_above(max(largest_sum, acc.step))


def inv_values(size: int, span: float) -> np.ndarray:
    return 1.0 / ((np.arange(size, dtype=np.float64) + 0.5) * (span / size))


@dataclass(frozen=True)
class SoftmaxTables:
    exp_range: float
    exp_table: np.ndarray
    inv_range: float
    inv_table: np.ndarray


def softmax_tables(
    impl: SoftmaxImpl,
    n: int,
    x: FixedPrecision,
    exp_t: FixedPrecision,
    exp_size: int,
    acc: FixedPrecision,
    inv_t: FixedPrecision,
    inv_size: int,
) -> SoftmaxTables:
    """Both softmax tables (mantissas) and their ranges for a softmax of length n."""
    span = exp_range(impl, x, exp_t)
    exp_m = quantize_table(exp_values(impl, exp_size, span), exp_t)
    largest = float(from_mantissa(exp_m, exp_t).max())
    inv_span = inv_range(n, max(largest, exp_t.step), acc)
    inv_m = quantize_table(inv_values(inv_size, inv_span), inv_t)
    return SoftmaxTables(span, exp_m, inv_span, inv_m)


def inv_table_type(
    impl: SoftmaxImpl, n: int, x: FixedPrecision, exp_t: FixedPrecision, exp_size: int,
    acc: FixedPrecision, inv_size: int, like: FixedPrecision,
) -> FixedPrecision:  # fmt: skip
    """Auto inverse table type: the default's fractional bits, integer bits for the largest entry."""
    span = exp_range(impl, x, exp_t)
    exp_m = quantize_table(exp_values(impl, exp_size, span), exp_t)
    largest = float(from_mantissa(exp_m, exp_t).max())
    values = inv_values(inv_size, inv_range(n, max(largest, exp_t.step), acc))
    return range_type(0.0, float(values.max()), like.fractional, like)
