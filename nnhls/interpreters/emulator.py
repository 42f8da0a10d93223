"""Bit-exact numpy emulator of the `hls` dialect.

Public API (stable; HLSModel.predict(X, emulator="numpy") and the C++ cross-checks call it):

    run_hls(module, inputs) -> list[np.ndarray]
        Run the module's `hls.func` on float batches. `inputs` is one array or a sequence of
        arrays, one per function argument, each (batch, *argument shape). Every input is converted
        to its argument's element type exactly as C++ `arg_t v = (double)x;` does. Returns one
        float64 array per `hls.return` operand, (batch, *result shape), holding the exact
        fixed-point values (exact whenever the type has at most 53 significant bits).

    trace_hls(module, inputs) -> dict[str, np.ndarray]
        The same run, returning every kernel's output as float64, keyed by its `layer` name, in
        program order (hls.clone records its first output).

    run_hls_fixed(module, inputs) -> list[FixedArray]
        The outputs as raw integer mantissas with their FixedPrecision, for bit-for-bit checks
        of types wider than a double's mantissa.

Semantics are exactly those of the op docstrings in nnhls/dialects/hls.py: `cast<T>` is C++
assignment to the ap type (quantization, then overflow), full-precision products and sums are
exact, and accumulations into a type that can saturate happen in the documented order, each step
cast. Values are int64 mantissas while they stay below 2**60 in magnitude and Python ints in object
arrays beyond, so any width is exact.

Speed: every evaluator is vectorised over the batch and the elements. Dense and convolution
layers take one integer (or exact float64) matrix product when the accumulator provably never
overflows (checked from the weights and the input range, then per row when that fails) or wraps
modulo 2**W; rows that may saturate fall back to the sequential, cast-per-step accumulation,
vectorised over the rows and outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import prod
from typing import Any

import numpy as np
import numpy.typing as npt
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, FloatAttr, ModuleOp
from xdsl.ir import Operation, SSAValue

from nnhls.dialects import hls
from nnhls.dialects.fixed import (
    FAST_WIDTH,
    SAFE_BITS,
    FixedPrecision,
    Overflow,
    Quant,
    convert_mantissas,
    from_mantissa,
    max_abs,
    to_mantissa,
)
from nnhls.dialects.kinds import ActivationKind, MergeKind, PoolOp, SoftmaxImpl
from nnhls.errors import InputDataError, ModelError

Mantissas = npt.NDArray[Any]
"""Integer mantissas: int64 (all below 2**SAFE_BITS in magnitude) or an object array of ints."""

_CHUNK = 1 << 21
"""Elements per materialised block of products (bounds the memory of the slow paths)."""


@dataclass(frozen=True)
class FixedArray:
    """A batch of fixed-point values: raw mantissas (leading batch axis) and their type."""

    m: Mantissas
    t: FixedPrecision

    def to_float(self) -> npt.NDArray[np.float64]:
        return from_mantissa(self.m, self.t)

    @property
    def exact(self) -> Exact:
        return Exact(self.m, self.t.fractional)


@dataclass(frozen=True)
class Exact:
    """The exact value m * 2**-frac of a full-precision C++ expression, before any cast."""

    m: Mantissas
    frac: int


# ----- exact integer helpers (int64 while small, Python ints beyond) -------------------------------------


def _bits(m: Mantissas) -> int:
    return max_abs(m).bit_length()


def _norm(m: Mantissas) -> Mantissas:
    """The int64 form of an array when every value is small enough, else the array itself."""
    # Object arithmetic on 0-d arrays (scalar constants such as relu's zero) yields a bare int.
    m = np.asarray(m)
    if m.dtype == object and _bits(m) < SAFE_BITS:
        return m.astype(np.int64)
    return m


def _obj(m: Mantissas) -> Mantissas:
    return m if m.dtype == object else m.astype(object)


def _mul(a: Mantissas, b: Mantissas) -> Mantissas:
    if a.dtype != object and b.dtype != object and _bits(a) + _bits(b) <= SAFE_BITS:
        return a * b
    return _norm(_obj(a) * _obj(b))


def _add(a: Mantissas, b: Mantissas) -> Mantissas:
    if a.dtype != object and b.dtype != object and max(_bits(a), _bits(b)) < SAFE_BITS:
        return a + b
    return _norm(_obj(a) + _obj(b))


def _shl(a: Mantissas, s: int) -> Mantissas:
    """a * 2**s for s >= 0, exactly."""
    if s == 0:
        return a
    if a.dtype != object and _bits(a) + s <= SAFE_BITS:
        return np.left_shift(a, s)
    return _norm(_obj(a) * (1 << s))


def _ints(values: npt.ArrayLike) -> Mantissas:
    a = np.asarray(values)
    return _norm(a) if a.dtype == object else a.astype(np.int64)


def _sum_last(m: Mantissas) -> Mantissas:
    """Exact sum over the last axis."""
    if m.dtype != object and _bits(m) + m.shape[-1].bit_length() <= SAFE_BITS:
        return m.sum(axis=-1)
    return _norm(_obj(m).sum(axis=-1))


def _aligned(e: Exact, frac: int) -> Mantissas:
    return _shl(e.m, frac - e.frac)


def _common(a: Exact, b: Exact) -> tuple[Mantissas, Mantissas, int]:
    """Both values on one binary point, with one dtype (for comparisons and selections)."""
    g = max(a.frac, b.frac)
    ma, mb = _aligned(a, g), _aligned(b, g)
    if ma.dtype == object or mb.dtype == object:
        return _obj(ma), _obj(mb), g
    return ma, mb, g


def _e_add(a: Exact, b: Exact) -> Exact:
    g = max(a.frac, b.frac)
    return Exact(_add(_aligned(a, g), _aligned(b, g)), g)


def _e_neg(a: Exact) -> Exact:
    return Exact(_norm(-_obj(a.m)) if a.m.dtype == object else -a.m, a.frac)


def _e_mul(a: Exact, b: Exact) -> Exact:
    return Exact(_mul(a.m, b.m), a.frac + b.frac)


def _e_where(cond: npt.NDArray[np.bool_], a: Exact, b: Exact) -> Exact:
    ma, mb, g = _common(a, b)
    return Exact(_norm(np.where(cond, ma, mb)), g)


def _e_gt(a: Exact, b: Exact) -> npt.NDArray[np.bool_]:
    ma, mb, _ = _common(a, b)
    return np.asarray(ma > mb, dtype=bool)


def _e_max(a: Exact, b: Exact) -> Exact:
    return _e_where(_e_gt(b, a), b, a)


def _e_min(a: Exact, b: Exact) -> Exact:
    return _e_where(_e_gt(a, b), b, a)


def _const(value: int) -> Exact:
    return Exact(np.asarray(value, dtype=np.int64), 0)


def _cast(e: Exact, t: FixedPrecision) -> FixedArray:
    """cast<t>(e): quantization then overflow, as C++ assignment to the ap type."""
    return FixedArray(_norm(convert_mantissas(e.m, e.frac, t)), t)


def _concat_rows(
    n: int, parts: list[tuple[npt.NDArray[np.intp], Mantissas]], tail: tuple[int, ...]
) -> Mantissas:
    """Rows of an (n, *tail) array assembled from (row indices, values) pieces."""
    wide = any(v.dtype == object for _, v in parts)
    out = np.zeros((n, *tail), dtype=object if wide else np.int64)
    for rows, values in parts:
        out[rows] = values
    return _norm(out)


def _chunks(n: int, per_row: int) -> Iterator[slice]:
    step = max(1, _CHUNK // max(per_row, 1))
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


# ----- accumulation ---------------------------------------------------------------------------------------


def _is_modular(t: FixedPrecision) -> bool:
    """Whether casting a sum to t only keeps its low bits (then the order of a sum is irrelevant)."""
    return t.overflow is Overflow.WRAP and t.sat_bits == 0


def _value_range(t: FixedPrecision) -> tuple[int, int]:
    """Mantissas that a cast to t leaves unchanged."""
    low = t.min_mantissa
    if t.overflow is Overflow.SAT_SYM and t.signed:
        low += 1
    return low, t.max_mantissa


def _cumsum(m: Mantissas) -> Mantissas:
    k = m.shape[-1]
    if m.dtype != object and _bits(m) + max(k, 1).bit_length() <= SAFE_BITS:
        return np.cumsum(m, axis=-1)
    return _norm(np.cumsum(_obj(m), axis=-1))


def accumulate(init: Mantissas, terms: Exact, acc_t: FixedPrecision) -> Mantissas:
    """acc = init; acc = cast<acc_t>(acc + term_k) for k in order over the last axis of terms.

    `init` (mantissas of acc_t) broadcasts to terms' leading shape; returns mantissas of acc_t.
    Rows whose partial sums all stay in range (or any row, for a wrapping accumulator) are summed at
    once; the others run the sequential loop, vectorised over those rows.
    """
    lead, k = terms.m.shape[:-1], terms.m.shape[-1]
    n = prod(lead)
    flat = terms.m.reshape(n, k)
    start = _ints(np.broadcast_to(init, lead)).reshape(n)
    if k == 0:
        return start.reshape(lead)
    frac = acc_t.fractional
    if terms.frac > frac:
        return _sequential(start, Exact(flat, terms.frac), acc_t).reshape(lead)
    shifted = _shl(flat, frac - terms.frac)
    if _is_modular(acc_t):
        total = _add(start, _sum_last(shifted))
        return _cast(Exact(total, frac), acc_t).m.reshape(lead)
    sums = _cumsum(shifted)
    partial = _add(sums, start[:, None])
    low, high = _value_range(acc_t)
    ok = np.asarray(((partial >= low) & (partial <= high)).all(axis=-1), dtype=bool)
    rows = np.flatnonzero(ok)
    parts: list[tuple[npt.NDArray[np.intp], Mantissas]] = [(rows, partial[rows, -1])]
    bad = np.flatnonzero(~ok)
    if bad.size:
        parts.append((bad, _sequential(start[bad], Exact(flat[bad], terms.frac), acc_t)))
    return _concat_rows(n, parts, ()).reshape(lead)


def _sequential(start: Mantissas, terms: Exact, acc_t: FixedPrecision) -> Mantissas:
    """The literal loop: acc = cast<acc_t>(acc + term_k), vectorised over the rows."""
    acc = Exact(start, acc_t.fractional)
    for k in range(terms.m.shape[-1]):
        acc = _cast(_e_add(acc, Exact(terms.m[:, k], terms.frac)), acc_t).exact
    return acc.m


def mac(
    x: FixedArray, w: Mantissas, w_t: FixedPrecision, init: Mantissas, acc_t: FixedPrecision
) -> Mantissas:
    """Multiply-accumulate of rows x (R, K, C) with weights w (K, C, M) into acc_t: (R, C, M).

    For each row, c and m: acc = init[c, m]; for k in order:
    acc = cast<acc_t>(acc + cast<acc_t>(x[k, c] * w[k, c, m])).
    """
    rows = x.m.shape[0]
    k, c, m = w.shape
    frac = x.t.fractional + w_t.fractional
    shift = acc_t.fractional - frac
    if rows == 0:
        return np.zeros((0, c, m), dtype=np.int64)
    if shift >= 0 and _is_modular(acc_t) and acc_t.width <= FAST_WIDTH:
        return _mac_modular(x.m, w, init, shift, acc_t)
    ok = _safe_rows(x.m, w, init, shift, acc_t) if shift >= 0 else np.zeros(rows, dtype=bool)
    if ok.all():
        return _add(_shl(_contract(x.m, w), shift), init[None])
    parts: list[tuple[npt.NDArray[np.intp], Mantissas]] = []
    good = np.flatnonzero(ok)
    if good.size:
        total = _shl(_contract(x.m[good], w), shift)
        parts.append((good, _add(total, init[None])))
    bad = np.flatnonzero(~ok)
    for block in _chunks(bad.size, k * c * m):
        idx = bad[block]
        products = Exact(_mul(x.m[idx][:, :, :, None], w[None]), frac)
        terms = _cast(products, acc_t).m  # (r, K, C, M)
        parts.append(
            (idx, accumulate(init, Exact(np.moveaxis(terms, 1, -1), acc_t.fractional), acc_t))
        )
    return _concat_rows(rows, parts, (c, m))


def _contract(x: Mantissas, w: Mantissas) -> Mantissas:
    """Exact sum over k of x[r, k, c] * w[k, c, m]: (R, C, M)."""
    bound = max_abs(x) * int(np.abs(w.astype(object)).sum(axis=0).max()) if w.size else 0
    if bound < (1 << 53):
        xf, wf = x.astype(np.float64), w.astype(np.float64)
        return _contract_as(xf, wf).astype(np.int64)
    if bound < (1 << SAFE_BITS) and x.dtype != object and w.dtype != object:
        return _contract_as(x, w)
    return _contract_limbs(x, w)


def _limbs(m: Mantissas, bits: int, width: int) -> list[tuple[int, npt.NDArray[np.float64]]]:
    """m = sum of limb * 2**shift: low limbs of `width` unsigned bits, a signed top limb."""
    count = max(1, -(-bits // width))
    mask = (1 << width) - 1
    limbs: list[tuple[int, npt.NDArray[np.float64]]] = []
    for i in range(count):
        part = m >> (i * width)
        if i < count - 1:
            part = part & mask
        limbs.append((i * width, np.asarray(part).astype(np.float64)))
    return limbs


def _contract_limbs(x: Mantissas, w: Mantissas) -> Mantissas:
    """_contract for sums beyond a double: split both operands into limbs whose products sum
    exactly in float64 (BLAS), then recombine the (R, C, M) partial sums as exact integers."""
    budget = 51 - w.shape[0].bit_length()
    x_bits, w_bits = _bits(x), _bits(w)
    w_width = w_bits if w_bits <= budget - 8 else budget // 2
    x_width = budget - w_width
    total: Mantissas | None = None
    for xs, xl in _limbs(x, x_bits, x_width):
        for ws, wl in _limbs(w, w_bits, w_width):
            part = _shl(_contract_as(xl, wl).astype(np.int64), xs + ws)
            total = part if total is None else _add(total, part)
    assert total is not None
    return total


def _contract_as(x: npt.NDArray[Any], w: npt.NDArray[Any]) -> npt.NDArray[Any]:
    if w.shape[1] == 1:  # contiguous operands let float products go through BLAS
        rows, cols = np.ascontiguousarray(x[:, :, 0]), np.ascontiguousarray(w[:, 0, :])
        return np.matmul(rows, cols)[:, None, :]
    if x.dtype == object:
        return np.stack([np.matmul(x[:, :, j], w[:, j, :]) for j in range(w.shape[1])], axis=1)
    return np.einsum("rkc,kcm->rcm", x, w)


def _mac_modular(
    x: Mantissas, w: Mantissas, init: Mantissas, shift: int, acc_t: FixedPrecision
) -> Mantissas:
    """mac for a wrapping accumulator: the low bits of init + sum(x * w) << shift."""
    frac = acc_t.fractional
    exact_bound = max_abs(x) * int(np.abs(w.astype(object)).sum(axis=0).max()) if w.size else 0
    if (exact_bound << shift) < (1 << SAFE_BITS):
        total = _add(_shl(_contract(x, w), shift), init[None])
        return _cast(Exact(total, frac), acc_t).m
    mask = (1 << 64) - 1
    xu = (_obj(x) & mask).astype(np.uint64) if x.dtype == object else x.view(np.uint64)
    wu = (
        (_obj(w) & mask).astype(np.uint64)
        if w.dtype == object
        else w.astype(np.int64).view(np.uint64)
    )
    iu = (
        (_obj(init) & mask).astype(np.uint64)
        if init.dtype == object
        else init.astype(np.int64).view(np.uint64)
    )
    with np.errstate(over="ignore"):
        total = _contract_as(xu, wu)
        total = np.zeros_like(total) if shift >= 64 else np.left_shift(total, np.uint64(shift))
        total = total + iu[None]
    low = (total & np.uint64((1 << acc_t.width) - 1)).astype(np.int64)
    if acc_t.signed:
        low = np.where(low >= (1 << (acc_t.width - 1)), low - (1 << acc_t.width), low)
    return low


_MARGIN = 1e-9


def _fits(
    low_f: npt.NDArray[np.float64], high_f: npt.NDArray[np.float64], t: FixedPrecision
) -> npt.NDArray[np.bool_]:
    """Whether float bounds (relative error far below _MARGIN) surely stay in t's cast-stable range."""
    low, high = _value_range(t)
    slack_hi = np.abs(high_f) * _MARGIN + 1.0
    slack_lo = np.abs(low_f) * _MARGIN + 1.0
    return (high_f + slack_hi <= float(high)) & (low_f - slack_lo >= float(low))


def _safe_rows(
    x: Mantissas, w: Mantissas, init: Mantissas, shift: int, acc_t: FixedPrecision
) -> npt.NDArray[np.bool_]:
    """Rows whose products and partial sums can never leave acc_t's range (so no cast acts)."""
    rows = x.shape[0]
    wf = w.astype(np.float64)
    init_f = init.astype(np.float64)
    x_lo, x_hi = float(x.min()), float(x.max())
    term_hi = np.maximum(np.maximum(x_lo * wf, x_hi * wf), 0.0).sum(axis=0)
    term_lo = np.minimum(np.minimum(x_lo * wf, x_hi * wf), 0.0).sum(axis=0)
    if _bounds_fit(term_lo, term_hi, init_f, shift, acc_t).all():
        return np.ones(rows, dtype=bool)
    xf = x.astype(np.float64)
    xp, xn = np.maximum(xf, 0.0), np.minimum(xf, 0.0)
    wp, wn = np.maximum(wf, 0.0), np.minimum(wf, 0.0)
    pos = _contract_as(xp, wp) + _contract_as(xn, wn)
    neg = _contract_as(xp, wn) + _contract_as(xn, wp)
    fits = _bounds_fit(neg, pos, init_f, shift, acc_t)
    return np.asarray(fits.reshape(rows, -1).all(axis=1), dtype=bool)


def _bounds_fit(
    neg: npt.NDArray[np.float64],
    pos: npt.NDArray[np.float64],
    init_f: npt.NDArray[np.float64],
    shift: int,
    acc_t: FixedPrecision,
) -> npt.NDArray[np.bool_]:
    hi, lo = np.ldexp(pos, shift), np.ldexp(neg, shift)
    return _fits(lo, hi, acc_t) & _fits(lo + init_f, hi + init_f, acc_t)


# ----- windows ----------------------------------------------------------------------------------------------


def _pad(m: Mantissas, pads: Sequence[int], fill: int = 0) -> Mantissas:
    """Pad the spatial axes of (batch, *spatial, C) mantissas; pads = (begin, end) per axis."""
    rank = m.ndim - 2
    if not any(pads):
        return m
    widths = [(pads[2 * a], pads[2 * a + 1]) for a in range(rank)]
    shape = (m.shape[0], *(m.shape[a + 1] + sum(widths[a]) for a in range(rank)), m.shape[-1])
    out = np.full(shape, fill, dtype=m.dtype)
    inner = tuple(slice(b, b + m.shape[a + 1]) for a, (b, _) in enumerate(widths))
    out[(slice(None), *inner, slice(None))] = m
    return out


def _windows(
    m: Mantissas, kernel: Sequence[int], strides: Sequence[int], dilations: Sequence[int]
) -> Mantissas:
    """Sliding windows of padded (batch, *spatial, C) data: (batch, *out, *kernel, C), a view."""
    rank = len(kernel)
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilations, strict=True)]
    view = np.lib.stride_tricks.sliding_window_view(m, span, axis=tuple(range(1, rank + 1)))
    out_sel = tuple(slice(None, None, s) for s in strides)
    win_sel = tuple(slice(None, None, d) for d in dilations)
    view = view[(slice(None), *out_sel, slice(None), *win_sel)]  # (batch, *out, C, *kernel)
    return np.moveaxis(view, rank + 1, -1)


# ----- kernels ------------------------------------------------------------------------------------------------


def _result_t(op: Operation, index: int = 0) -> FixedPrecision:
    return hls.value_type(op.results[index]).element_type.precision


def _out_shape(op: Operation, index: int = 0) -> tuple[int, ...]:
    return hls.shape_of(op.results[index])


def _weights(attr: DenseIntOrFPElementsAttr) -> Mantissas:
    return np.array(hls.mantissas(attr), dtype=np.int64)


def _init(
    bias: DenseIntOrFPElementsAttr, bias_t: FixedPrecision, acc_t: FixedPrecision
) -> Mantissas:
    return _cast(Exact(_weights(bias), bias_t.fractional), acc_t).m


def _dense(op: hls.DenseOp, args: list[FixedArray]) -> list[FixedArray]:
    x = args[0]
    w = _weights(op.weight)
    acc_t = op.accum_t.precision
    lead = x.m.shape[:-1]
    rows = FixedArray(x.m.reshape(-1, w.shape[0], 1), x.t)
    init = _init(op.bias, op.bias_t.precision, acc_t).reshape(1, -1)
    acc = mac(rows, w[:, None, :], op.weight_t.precision, init, acc_t)
    return [_cast(Exact(acc.reshape(*lead, w.shape[1]), acc_t.fractional), _result_t(op))]


def _conv(op: hls.ConvBaseOp, args: list[FixedArray]) -> list[FixedArray]:
    x = args[0]
    rank = op.RANK
    w = _weights(op.weight)
    kernel, channels = w.shape[:rank], w.shape[rank]
    acc_t = op.accum_t.precision
    init = _init(op.bias, op.bias_t.precision, acc_t)
    if op.DEPTHWISE:
        wk = w.reshape(prod(kernel), channels, w.shape[-1])
    else:
        wk = w.reshape(prod(kernel) * channels, 1, w.shape[-1])
    init = init.reshape(wk.shape[1], wk.shape[2])
    padded = _pad(x.m, hls.ints(op.pads))
    out_shape = _out_shape(op)
    batch = x.m.shape[0]
    per_sample = (
        prod(out_shape[:-1]) * prod(kernel) * channels * max(1, wk.shape[2] if op.DEPTHWISE else 1)
    )
    pieces: list[Mantissas] = []
    for block in _chunks(batch, per_sample):
        win = _windows(padded[block], kernel, hls.ints(op.strides), hls.ints(op.dilations))
        n = win.shape[0] * prod(out_shape[:-1])
        rows = np.ascontiguousarray(win).reshape(n, wk.shape[0], wk.shape[1])
        acc = mac(FixedArray(rows, x.t), wk, op.weight_t.precision, init, acc_t)
        pieces.append(acc.reshape(win.shape[0], *out_shape))
    acc_all = _join(pieces, (0, *out_shape))
    return [_cast(Exact(acc_all, acc_t.fractional), _result_t(op))]


def _join(pieces: list[Mantissas], empty_shape: tuple[int, ...]) -> Mantissas:
    if not pieces:
        return np.zeros(empty_shape, dtype=np.int64)
    if any(p.dtype == object for p in pieces):
        pieces = [_obj(p) for p in pieces]
    return _norm(np.concatenate(pieces, axis=0))


_AVG_T = FixedPrecision(32, 1, False, Quant.RND)
"""ap_ufixed<32, 1, AP_RND>: the reciprocal of the averaging count."""


def _average(
    acc: Mantissas, acc_t: FixedPrecision, count: npt.NDArray[np.int64], result: FixedPrecision
) -> FixedArray:
    """cast<result>(acc * cast<ap_ufixed<32,1,AP_RND>>(1.0 / n))."""
    safe = np.maximum(count, 1)
    r = to_mantissa(1.0 / safe.astype(np.float64), _AVG_T)
    return _cast(
        Exact(_mul(acc, np.asarray(r, dtype=np.int64)), acc_t.fractional + _AVG_T.fractional),
        result,
    )


def _max_windows(win: Mantissas, mask: Mantissas) -> Mantissas:
    """Max over the last axis of in-bounds positions (mask 1); 0 for a window of padding only."""
    if mask.all():
        return win.max(axis=-1)
    low = -(1 << 62) if win.dtype != object else -(1 << 2048)
    masked = np.where(mask.astype(bool), win, low)
    best = masked.max(axis=-1)
    return _norm(np.where(mask.any(axis=-1), best, 0).astype(win.dtype))


def _pool(op: hls.PoolOp, args: list[FixedArray]) -> list[FixedArray]:
    x = args[0]
    size, strides, pads = hls.ints(op.pool_size), hls.ints(op.strides), hls.ints(op.pads)
    ones = (1,) * len(size)
    win = np.moveaxis(_windows(_pad(x.m, pads), size, strides, ones), -1, -1 - len(size))
    mask_in = np.ones((1, *x.m.shape[1:-1], 1), dtype=np.int64)
    mask = np.moveaxis(_windows(_pad(mask_in, pads), size, strides, ones), -1, -1 - len(size))
    k = prod(size)
    win = win.reshape(*win.shape[: -len(size)], k)  # (batch, *out, C, K)
    mask = mask.reshape(*mask.shape[: -len(size)], k)
    if op.op.data == PoolOp.MAX:
        return [_cast(Exact(_max_windows(win, mask), x.t.fractional), _result_t(op))]
    acc_t = op.accum_t.precision
    acc = accumulate(np.zeros((), dtype=np.int64), Exact(win, x.t.fractional), acc_t)
    count = np.full(mask.shape[:-1], k) if op.count_pad is not None else mask.sum(axis=-1)
    return [_average(acc, acc_t, np.broadcast_to(count, acc.shape).astype(np.int64), _result_t(op))]


def _global_pool(op: hls.GlobalPoolOp, args: list[FixedArray]) -> list[FixedArray]:
    x = args[0]
    batch, channels = x.m.shape[0], x.m.shape[-1]
    positions = prod(x.m.shape[1:-1])
    terms = np.moveaxis(x.m.reshape(batch, positions, channels), 1, -1)  # (batch, C, positions)
    if op.op.data == PoolOp.MAX:
        return [_cast(Exact(terms.max(axis=-1), x.t.fractional), _result_t(op))]
    acc_t = op.accum_t.precision
    acc = accumulate(np.zeros((), dtype=np.int64), Exact(terms, x.t.fractional), acc_t)
    count = np.full(acc.shape, terms.shape[-1], dtype=np.int64)
    return [_average(acc, acc_t, count, _result_t(op))]


def _batchnorm(op: hls.BatchNormOp, args: list[FixedArray]) -> list[FixedArray]:
    scale = Exact(_weights(op.scale), op.scale_t.precision.fractional)
    bias = Exact(_weights(op.bias), op.bias_t.precision.fractional)
    return [_cast(_e_add(_e_mul(args[0].exact, scale), bias), _result_t(op))]


# ----- activations --------------------------------------------------------------------------------------------


def _param(op: hls.ActivationOp, attr: FloatAttr | None, what: str) -> Exact:
    if attr is None or op.param_t is None:
        raise ValueError(
            f"hls.activation '{op.layer_name}' ({op.kind.data.value}) needs {what} and param_t"
        )
    p = op.param_t.precision
    return Exact(np.asarray(int(to_mantissa(attr.value.data, p)), dtype=np.int64), p.fractional)


def _table_index(x: Exact, offset: Fraction, size: int, span: Fraction) -> Mantissas:
    """floor((x - offset) * size / span), exactly (not clamped)."""
    value = Fraction(1, 1 << x.frac) if x.frac >= 0 else Fraction(1 << -x.frac)
    # (m * value - offset) * size / span = (m * a - b) / c with integers a, b, c.
    scale = value * size / span
    base = offset * size / span
    den = scale.denominator * base.denominator
    a = scale.numerator * base.denominator
    b = base.numerator * scale.denominator
    num = _add(_mul(x.m, np.asarray(a, dtype=object)), np.asarray(-b, dtype=object))
    if num.dtype != object and den < (1 << 62):
        return np.floor_divide(num, den)
    return _norm(np.floor_divide(_obj(num), den))


def _clamp_index(index: Mantissas, size: int) -> npt.NDArray[np.int64]:
    """A table index clamped to [0, size - 1]."""
    return np.where(index < 0, 0, np.where(index > size - 1, size - 1, index)).astype(np.int64)


def _exact_activation(op: hls.ActivationOp, x: Exact) -> Exact:
    kind = op.kind.data
    zero = _const(0)
    match kind:
        case ActivationKind.LINEAR:
            return x
        case ActivationKind.RELU:
            return _e_max(x, zero)
        case ActivationKind.RELU6:
            return _e_min(_e_max(x, zero), _const(6))
        case ActivationKind.LEAKY_RELU:
            return _e_where(_e_gt(x, zero), x, _e_mul(x, _param(op, op.alpha, "alpha")))
        case ActivationKind.THRESHOLDED_RELU:
            return _e_where(_e_gt(x, _param(op, op.alpha, "alpha")), x, zero)
        case ActivationKind.PRELU:
            assert op.param is not None and op.param_t is not None
            slope = Exact(_weights(op.param), op.param_t.precision.fractional)
            return _e_where(_e_gt(x, zero), x, _e_mul(x, slope))
        case ActivationKind.CLIP:
            low, high = _param(op, op.alpha, "alpha"), _param(op, op.beta, "beta")
            return _e_min(_e_max(x, low), high)
        case ActivationKind.HARD_TANH:
            return _e_min(_e_max(x, _const(-1)), _const(1))
        case ActivationKind.HARD_SIGMOID:
            v = _e_add(_e_mul(x, _param(op, op.alpha, "alpha")), _param(op, op.beta, "beta"))
            return _e_min(_e_max(v, zero), _const(1))
        case _:
            raise NotImplementedError(f"activation kind {kind.value}")


def _activation(op: hls.ActivationOp, args: list[FixedArray]) -> list[FixedArray]:
    x, result = args[0], _result_t(op)
    kind = op.kind.data
    if kind not in (
        ActivationKind.SIGMOID,
        ActivationKind.TANH,
        ActivationKind.SOFTPLUS,
        ActivationKind.SOFTSIGN,
        ActivationKind.ELU,
        ActivationKind.SELU,
        ActivationKind.SWISH,
        ActivationKind.GELU,
    ):
        return [_cast(_exact_activation(op, x.exact), result)]
    assert op.table is not None and op.table_size is not None and op.table_t is not None
    assert op.table_min is not None and op.table_max is not None
    size = op.table_size.value.data
    low, high = Fraction(op.table_min.value.data), Fraction(op.table_max.value.data)
    raw = _table_index(x.exact, low, size, high - low)
    table = _weights(op.table)
    y = _cast(Exact(table[_clamp_index(raw, size)], op.table_t.precision.fractional), result)
    direct = _direct_branch(op, x, raw, size)
    if direct is None:
        return [y]
    where, value = direct
    passed = _cast(value, result)
    return [
        FixedArray(
            _norm(np.where(where, _obj(passed.m) if y.m.dtype == object else passed.m, y.m)), result
        )
    ]


def _direct_branch(
    op: hls.ActivationOp, x: FixedArray, raw: Mantissas, size: int
) -> tuple[npt.NDArray[np.bool_], Exact] | None:
    """Where a table activation bypasses its table, and the exact value it takes there."""
    kind = op.kind.data
    if kind in (ActivationKind.SOFTPLUS, ActivationKind.SWISH, ActivationKind.GELU):
        return np.asarray(raw >= size, dtype=bool), x.exact
    if kind == ActivationKind.ELU:
        return np.asarray(x.m >= 0, dtype=bool), x.exact
    if kind == ActivationKind.SELU:
        return np.asarray(x.m >= 0, dtype=bool), _e_mul(
            x.exact, _param(op, op.beta, "beta (selu scale)")
        )
    return None


# ----- softmax ------------------------------------------------------------------------------------------------


def _softmax(op: hls.SoftmaxOp, args: list[FixedArray]) -> list[FixedArray]:
    x, result = args[0], _result_t(op)
    impl = op.implementation.data
    if impl == SoftmaxImpl.ARGMAX:
        first = np.argmax(x.m, axis=-1)
        hot = np.zeros(x.m.shape, dtype=np.int64)
        np.put_along_axis(hot, first[..., None], 1, axis=-1)
        return [_cast(Exact(hot, 0), result)]
    assert op.exp_table is not None and op.inv_table is not None
    assert op.exp_range is not None and op.inv_range is not None
    n_exp, n_inv = op.exp_table_size.value.data, op.inv_table_size.value.data
    exp_range = Fraction(op.exp_range.value.data)
    if impl == SoftmaxImpl.STABLE:
        top = x.m.max(axis=-1, keepdims=True)
        diff = Exact(_add(top, -_obj(x.m) if x.m.dtype == object else -x.m), x.t.fractional)
        raw = _table_index(diff, Fraction(0), n_exp, exp_range)
    else:
        raw = _table_index(x.exact, -exp_range / 2, n_exp, exp_range)
    exp_t = op.exp_table_t.precision
    e = _weights(op.exp_table)[_clamp_index(raw, n_exp)]
    acc_t = op.accum_t.precision
    s = accumulate(np.zeros((), dtype=np.int64), Exact(e, exp_t.fractional), acc_t)
    j = _table_index(
        Exact(s, acc_t.fractional), Fraction(0), n_inv, Fraction(op.inv_range.value.data)
    )
    inv = _weights(op.inv_table)[_clamp_index(j, n_inv)]
    inv_frac = op.inv_table_t.precision.fractional
    return [_cast(Exact(_mul(e, inv[..., None]), exp_t.fractional + inv_frac), result)]


# ----- merges and shapes --------------------------------------------------------------------------------------


def _merge(op: hls.MergeOp, args: list[FixedArray]) -> list[FixedArray]:
    a, b = args[0].exact, args[1].exact
    kind = op.kind.data
    match kind:
        case MergeKind.ADD:
            v = _e_add(a, b)
        case MergeKind.SUB:
            v = _e_add(a, _e_neg(b))
        case MergeKind.MUL:
            v = _e_mul(a, b)
        case MergeKind.AVERAGE:
            s = _e_add(a, b)
            v = Exact(s.m, s.frac + 1)
        case MergeKind.MAXIMUM:
            v = _e_max(a, b)
        case MergeKind.MINIMUM:
            v = _e_min(a, b)
    return [_cast(v, _result_t(op))]


def _concat(op: hls.ConcatOp, args: list[FixedArray]) -> list[FixedArray]:
    t = _result_t(op)
    parts = [_cast(a.exact, t).m for a in args]
    if any(p.dtype == object for p in parts):
        parts = [_obj(p) for p in parts]
    return [FixedArray(_norm(np.concatenate(parts, axis=op.axis.value.data + 1)), t)]


def _dot(op: hls.DotOp, args: list[FixedArray]) -> list[FixedArray]:
    acc_t = op.accum_t.precision
    terms = _cast(_e_mul(args[0].exact, args[1].exact), acc_t)
    acc = accumulate(np.zeros((), dtype=np.int64), terms.exact, acc_t)
    return [_cast(Exact(acc[:, None], acc_t.fractional), _result_t(op))]


def _cast_to(op: Operation, x: FixedArray) -> FixedArray:
    return _cast(x.exact, _result_t(op))


def _reshape(op: hls.ReshapeOp, args: list[FixedArray]) -> list[FixedArray]:
    y = _cast_to(op, args[0])
    return [FixedArray(y.m.reshape(y.m.shape[0], *_out_shape(op)), y.t)]


def _transpose(op: hls.TransposeOp, args: list[FixedArray]) -> list[FixedArray]:
    y = _cast_to(op, args[0])
    perm = hls.ints(op.perm)
    return [FixedArray(np.ascontiguousarray(y.m.transpose(0, *(p + 1 for p in perm))), y.t)]


def _zero_pad(op: hls.PadOp, args: list[FixedArray]) -> list[FixedArray]:
    y = _cast_to(op, args[0])
    return [FixedArray(_pad(y.m, hls.ints(op.pads)), y.t)]


def _crop(op: hls.CropOp, args: list[FixedArray]) -> list[FixedArray]:
    y = _cast_to(op, args[0])
    crops = hls.ints(op.crops)
    sel = [slice(crops[2 * a], y.m.shape[a + 1] - crops[2 * a + 1]) for a in range(y.m.ndim - 2)]
    return [FixedArray(np.ascontiguousarray(y.m[(slice(None), *sel, slice(None))]), y.t)]


def _upsample(op: hls.UpsampleOp, args: list[FixedArray]) -> list[FixedArray]:
    y = _cast_to(op, args[0])
    m = y.m
    for axis, factor in enumerate(hls.ints(op.factors), start=1):
        m = np.repeat(m, factor, axis=axis)
    return [FixedArray(m, y.t)]


def _clone(op: hls.CloneOp, args: list[FixedArray]) -> list[FixedArray]:
    return [_cast(args[0].exact, _result_t(op, i)) for i in range(len(op.outputs))]


def _cast_op(op: hls.CastOp, args: list[FixedArray]) -> list[FixedArray]:
    return [_cast_to(op, args[0])]


Inputs = np.ndarray | Sequence[np.ndarray]
"""One batch per hls.func argument (a bare array for a single input)."""

Evaluator = Callable[[Any, list[FixedArray]], list[FixedArray]]

EVALUATORS: dict[type[Operation], Evaluator] = {
    hls.DenseOp: _dense,
    hls.Conv1DOp: _conv,
    hls.Conv2DOp: _conv,
    hls.DepthwiseConv1DOp: _conv,
    hls.DepthwiseConv2DOp: _conv,
    hls.PoolOp: _pool,
    hls.GlobalPoolOp: _global_pool,
    hls.BatchNormOp: _batchnorm,
    hls.ActivationOp: _activation,
    hls.SoftmaxOp: _softmax,
    hls.MergeOp: _merge,
    hls.ConcatOp: _concat,
    hls.DotOp: _dot,
    hls.ReshapeOp: _reshape,
    hls.TransposeOp: _transpose,
    hls.PadOp: _zero_pad,
    hls.CropOp: _crop,
    hls.UpsampleOp: _upsample,
    hls.CloneOp: _clone,
    hls.CastOp: _cast_op,
}
"""Evaluator of each hls kernel op: (op, operand values with batch axis) -> result values."""


# ----- driver -------------------------------------------------------------------------------------------------


def hls_function(module: ModuleOp) -> hls.FuncOp:
    """The module's `hls.func` (the top-level HLS function)."""
    funcs = [op for op in module.ops if isinstance(op, hls.FuncOp)]
    if len(funcs) != 1:
        raise ModelError(f"expected one hls.func in the module, found {len(funcs)}")
    return funcs[0]


def _inputs(function: hls.FuncOp, inputs: Inputs) -> list[FixedArray]:
    args = function.body.block.args
    arrays = [inputs] if isinstance(inputs, np.ndarray) else [np.asarray(a) for a in inputs]
    if len(arrays) != len(args):
        raise InputDataError(
            f"'{function.sym_name.data}' has {len(args)} inputs, got {len(arrays)} arrays"
        )
    values: list[FixedArray] = []
    for arg, array in zip(args, arrays, strict=True):
        shape = hls.shape_of(arg)
        if array.shape[1:] != shape or (values and array.shape[0] != values[0].m.shape[0]):
            raise InputDataError(
                f"input '{arg.name_hint}' must have shape (batch, {', '.join(map(str, shape))}),"
                f" got {array.shape}"
            )
        t = hls.value_type(arg).element_type.precision
        values.append(FixedArray(_norm(to_mantissa(array.astype(np.float64), t)), t))
    return values


def _run(
    module: ModuleOp,
    inputs: Inputs,
    on_layer: Callable[[str, FixedArray], None] | None = None,
) -> list[FixedArray]:
    function = hls_function(module)
    block = function.body.block
    values: dict[SSAValue, FixedArray] = dict(
        zip(block.args, _inputs(function, inputs), strict=True)
    )
    for op in block.ops:
        if isinstance(op, hls.ReturnOp):
            return [values[v] for v in op.values]
        evaluator = EVALUATORS.get(type(op))
        if evaluator is None:
            raise ModelError(f"no emulator for {op.name}")
        results = evaluator(op, [values[v] for v in op.operands])
        for value, result in zip(op.results, results, strict=True):
            values[value] = result
        if on_layer is not None and isinstance(op, hls.HLSKernelOp):
            on_layer(op.layer_name, results[0])
    raise ModelError(f"hls.func '{function.sym_name.data}' has no hls.return")


def run_hls_fixed(module: ModuleOp, inputs: Inputs) -> list[FixedArray]:
    """The outputs of the module's hls.func as exact mantissas with their types."""
    return _run(module, inputs)


def run_hls(module: ModuleOp, inputs: Inputs) -> list[np.ndarray]:
    """The outputs of the module's hls.func on float batches, as float64 (see the module doc)."""
    return [v.to_float() for v in _run(module, inputs)]


def trace_hls(module: ModuleOp, inputs: Inputs) -> dict[str, np.ndarray]:
    """Every kernel's output, keyed by layer name in program order, as float64."""
    outputs: dict[str, np.ndarray] = {}

    def record(name: str, value: FixedArray) -> None:
        outputs[name] = value.to_float()

    _run(module, inputs, record)
    return outputs


__all__ = [
    "EVALUATORS",
    "FixedArray",
    "accumulate",
    "hls_function",
    "mac",
    "run_hls",
    "run_hls_fixed",
    "trace_hls",
]
