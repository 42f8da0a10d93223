"""Exact fixed-point arithmetic on numpy batches: what the emulator's kernel rules are made of.

A `FixedArray` is a batch of values of one fixed-point type as raw integer mantissas (leading
batch axis); an `Exact` is the exact value m * 2**-frac of a full-precision C++ expression before
any cast. `cast` is C++ assignment to an ap type (quantization, then overflow). Mantissas are
int64 while they stay below 2**SAFE_BITS in magnitude and Python ints in object arrays beyond,
so any width is exact.

Speed: everything is vectorised over the batch and the elements. `mac` (dense and convolution
layers) takes one integer (or exact float64) matrix product when the accumulator provably never
overflows (checked from the weights and the input range, then per row when that fails) or wraps
modulo 2**W; rows that may saturate fall back to the sequential, cast-per-step accumulation,
vectorised over the rows and outputs.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from math import prod
from typing import Any

import numpy as np
import numpy.typing as npt
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr
from xdsl.ir import Operation

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


def bits(m: Mantissas) -> int:
    return max_abs(m).bit_length()


def norm(m: Mantissas) -> Mantissas:
    """The int64 form of an array when every value is small enough, else the array itself."""
    # Object arithmetic on 0-d arrays (scalar constants such as relu's zero) yields a bare int.
    m = np.asarray(m)
    if m.dtype == object and bits(m) < SAFE_BITS:
        return m.astype(np.int64)
    return m


def obj(m: Mantissas) -> Mantissas:
    return m if m.dtype == object else m.astype(object)


def mul(a: Mantissas, b: Mantissas) -> Mantissas:
    if a.dtype != object and b.dtype != object and bits(a) + bits(b) <= SAFE_BITS:
        return a * b
    return norm(obj(a) * obj(b))


def add(a: Mantissas, b: Mantissas) -> Mantissas:
    if a.dtype != object and b.dtype != object and max(bits(a), bits(b)) < SAFE_BITS:
        return a + b
    return norm(obj(a) + obj(b))


def shl(a: Mantissas, s: int) -> Mantissas:
    """a * 2**s for s >= 0, exactly."""
    if s == 0:
        return a
    if a.dtype != object and bits(a) + s <= SAFE_BITS:
        return np.left_shift(a, s)
    return norm(obj(a) * (1 << s))


def int_mantissas(values: npt.ArrayLike) -> Mantissas:
    a = np.asarray(values)
    return norm(a) if a.dtype == object else a.astype(np.int64)


def sum_last(m: Mantissas) -> Mantissas:
    """Exact sum over the last axis."""
    if m.dtype != object and bits(m) + m.shape[-1].bit_length() <= SAFE_BITS:
        return m.sum(axis=-1)
    return norm(obj(m).sum(axis=-1))


def aligned(e: Exact, frac: int) -> Mantissas:
    return shl(e.m, frac - e.frac)


def common_point(a: Exact, b: Exact) -> tuple[Mantissas, Mantissas, int]:
    """Both values on one binary point, with one dtype (for comparisons and selections)."""
    g = max(a.frac, b.frac)
    ma, mb = aligned(a, g), aligned(b, g)
    if ma.dtype == object or mb.dtype == object:
        return obj(ma), obj(mb), g
    return ma, mb, g


def e_add(a: Exact, b: Exact) -> Exact:
    g = max(a.frac, b.frac)
    return Exact(add(aligned(a, g), aligned(b, g)), g)


def e_neg(a: Exact) -> Exact:
    return Exact(norm(-obj(a.m)) if a.m.dtype == object else -a.m, a.frac)


def e_mul(a: Exact, b: Exact) -> Exact:
    return Exact(mul(a.m, b.m), a.frac + b.frac)


def e_where(cond: npt.NDArray[np.bool_], a: Exact, b: Exact) -> Exact:
    ma, mb, g = common_point(a, b)
    return Exact(norm(np.where(cond, ma, mb)), g)


def e_gt(a: Exact, b: Exact) -> npt.NDArray[np.bool_]:
    ma, mb, _ = common_point(a, b)
    return np.asarray(ma > mb, dtype=bool)


def e_max(a: Exact, b: Exact) -> Exact:
    ma, mb, g = common_point(a, b)
    if ma.dtype != object:
        return Exact(np.maximum(ma, mb), g)
    return e_where(e_gt(b, a), b, a)


def e_min(a: Exact, b: Exact) -> Exact:
    ma, mb, g = common_point(a, b)
    if ma.dtype != object:
        return Exact(np.minimum(ma, mb), g)
    return e_where(e_gt(a, b), b, a)


def exact_const(value: int) -> Exact:
    return Exact(np.asarray(value, dtype=np.int64), 0)


def cast(e: Exact, t: FixedPrecision) -> FixedArray:
    """cast<t>(e): quantization then overflow, as C++ assignment to the ap type."""
    return FixedArray(norm(convert_mantissas(e.m, e.frac, t)), t)


def recast(x: FixedArray, t: FixedPrecision) -> FixedArray:
    """cast<t>(x) for values known to be of type x.t: a shift, without range checks, when every
    value of x.t is a value of t (an accumulator cast to a result of the same type)."""
    d = t.fractional - x.t.fractional
    low = t.min_mantissa + (t.overflow is Overflow.SAT_SYM and t.signed)
    narrow = x.m.dtype != object and x.t.width + d <= FAST_WIDTH and t.width <= FAST_WIDTH
    if d >= 0 and narrow and (x.t.min_mantissa << d) >= low and (x.t.max_mantissa << d) <= t.max_mantissa:
        return FixedArray(x.m if d == 0 else np.left_shift(x.m, d), t)
    return cast(x.exact, t)


def concat_rows(
    n: int, parts: list[tuple[npt.NDArray[np.intp], Mantissas]], tail: tuple[int, ...]
) -> Mantissas:
    """Rows of an (n, *tail) array assembled from (row indices, values) pieces."""
    wide = any(v.dtype == object for _, v in parts)
    out = np.zeros((n, *tail), dtype=object if wide else np.int64)
    for rows, values in parts:
        out[rows] = values
    return norm(out)


def chunks(n: int, per_row: int) -> Iterator[slice]:
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
    if m.dtype != object and bits(m) + max(k, 1).bit_length() <= SAFE_BITS:
        return np.cumsum(m, axis=-1)
    return norm(np.cumsum(obj(m), axis=-1))


def accumulate(init: Mantissas, terms: Exact, acc_t: FixedPrecision) -> Mantissas:
    """acc = init; acc = cast<acc_t>(acc + term_k) for k in order over the last axis of terms.

    `init` (mantissas of acc_t) broadcasts to terms' leading shape; returns mantissas of acc_t.
    Rows whose partial sums all stay in range (or any row, for a wrapping accumulator) are summed at
    once; the others run the sequential loop, vectorised over those rows.
    """
    lead, k = terms.m.shape[:-1], terms.m.shape[-1]
    n = prod(lead)
    flat = terms.m.reshape(n, k)
    start = int_mantissas(np.broadcast_to(init, lead)).reshape(n)
    if k == 0:
        return start.reshape(lead)
    frac = acc_t.fractional
    if terms.frac > frac:
        return _sequential(start, Exact(flat, terms.frac), acc_t).reshape(lead)
    shifted = shl(flat, frac - terms.frac)
    if _is_modular(acc_t):
        total = add(start, sum_last(shifted))
        return cast(Exact(total, frac), acc_t).m.reshape(lead)
    sums = _cumsum(shifted)
    partial = add(sums, start[:, None])
    low, high = _value_range(acc_t)
    ok = np.asarray(((partial >= low) & (partial <= high)).all(axis=-1), dtype=bool)
    rows = np.flatnonzero(ok)
    parts: list[tuple[npt.NDArray[np.intp], Mantissas]] = [(rows, partial[rows, -1])]
    bad = np.flatnonzero(~ok)
    if bad.size:
        parts.append((bad, _sequential(start[bad], Exact(flat[bad], terms.frac), acc_t)))
    return concat_rows(n, parts, ()).reshape(lead)


def _sequential(start: Mantissas, terms: Exact, acc_t: FixedPrecision) -> Mantissas:
    """The literal loop: acc = cast<acc_t>(acc + term_k), vectorised over the rows."""
    acc = Exact(start, acc_t.fractional)
    for k in range(terms.m.shape[-1]):
        acc = cast(e_add(acc, Exact(terms.m[:, k], terms.frac)), acc_t).exact
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
    if shift < 0 and _lane_dtype(acc_t, -shift) is not None and x.m.dtype != object and w.dtype != object:
        return _mac_lanes(x.m, w, init, -shift, acc_t)
    ok = _safe_rows(x.m, w, init, shift, acc_t) if shift >= 0 else np.zeros(rows, dtype=bool)
    if ok.all():
        return add(shl(_contract(x.m, w), shift), init[None])
    parts: list[tuple[npt.NDArray[np.intp], Mantissas]] = []
    good = np.flatnonzero(ok)
    if good.size:
        total = shl(_contract(x.m[good], w), shift)
        parts.append((good, add(total, init[None])))
    bad = np.flatnonzero(~ok)
    for block in chunks(bad.size, k * c * m):
        idx = bad[block]
        products = Exact(mul(x.m[idx][:, :, :, None], w[None]), frac)
        terms = cast(products, acc_t).m  # (r, K, C, M)
        parts.append(
            (idx, accumulate(init, Exact(np.moveaxis(terms, 1, -1), acc_t.fractional), acc_t))
        )
    return concat_rows(rows, parts, (c, m))


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
    x_bits, w_bits = bits(x), bits(w)
    w_width = w_bits if w_bits <= budget - 8 else budget // 2
    x_width = budget - w_width
    total: Mantissas | None = None
    for xs, xl in _limbs(x, x_bits, x_width):
        for ws, wl in _limbs(w, w_bits, w_width):
            part = shl(_contract_as(xl, wl).astype(np.int64), xs + ws)
            total = part if total is None else add(total, part)
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
        total = add(shl(_contract(x, w), shift), init[None])
        return cast(Exact(total, frac), acc_t).m
    mask = (1 << 64) - 1
    xu = (obj(x) & mask).astype(np.uint64) if x.dtype == object else x.view(np.uint64)
    wu = (
        (obj(w) & mask).astype(np.uint64)
        if w.dtype == object
        else w.astype(np.int64).view(np.uint64)
    )
    iu = (
        (obj(init) & mask).astype(np.uint64)
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


def _lane_dtype(acc_t: FixedPrecision, s: int) -> type[np.signedinteger[Any]] | None:
    """The integer lanes in which `_mac_lanes` computes a wrapping, truncating accumulation whose
    products drop s bits (None when it cannot): int32 when W_acc + s <= 32, else int64."""
    if not _is_modular(acc_t) or acc_t.rounding is not Quant.TRN or acc_t.is_int:  # ap_int: towards zero
        return None
    if acc_t.width + s <= 32:
        return np.int32
    if acc_t.width + s <= 64:
        return np.int64
    return None


_LANE_BLOCK = 1 << 18
"""Lane values per block of `_mac_lanes` (a few hundred kB: the block stays in cache)."""


def _mac_lanes(x: Mantissas, w: Mantissas, init: Mantissas, s: int, acc_t: FixedPrecision) -> Mantissas:
    """mac for a wrapping accumulator whose products are truncated by s bits (AP_TRN, AP_WRAP):
    acc = init + sum_k floor(x_k * w_k / 2**s), kept to its low W_acc bits.

    Every step keeps the low W_acc bits, so the order of the sum is irrelevant, and the low W_acc
    bits of floor(p / 2**s) depend only on the low W_acc + s bits of p, hence only on the low
    bits of x and w: products, arithmetic shifts and sums all run modulo 2**32 (or 2**64) in
    numpy's wrapping integer lanes, as the emulation library's C++ does. The rows are blocked
    (transposed so that the batch is the contiguous axis) and the blocks spread over threads
    (numpy releases the GIL in its loops)."""
    lane = _lane_dtype(acc_t, s)
    assert lane is not None
    rows, k, c = x.shape
    m = w.shape[-1]
    xt = np.ascontiguousarray(np.moveaxis(x, 0, -1)).astype(lane)  # (K, C, R)
    wl = w.astype(lane)[:, :, :, None]  # (K, C, M, 1)
    start = np.broadcast_to(init, (c, m)).astype(lane)[:, :, None]
    out = np.empty((c, m, rows), dtype=lane)
    step = max(64, _LANE_BLOCK // max(c * m, 1))
    shift = lane(s)

    def block(begin: int) -> None:
        end = min(rows, begin + step)
        acc = np.repeat(start, end - begin, axis=2)
        term = np.empty_like(acc)
        for j in range(k):
            np.multiply(wl[j], xt[j, :, None, begin:end], out=term)
            np.right_shift(term, shift, out=term)
            np.add(acc, term, out=acc)
        out[:, :, begin:end] = acc

    starts = range(0, rows, step)
    if len(starts) > 1 and threads() > 1:
        with ThreadPoolExecutor(threads()) as pool:
            list(pool.map(block, starts))
    else:
        for begin in starts:
            block(begin)
    return _low_bits(out, acc_t).transpose(2, 0, 1).astype(np.int64)


def _low_bits(v: npt.NDArray[Any], t: FixedPrecision) -> npt.NDArray[Any]:
    """The low W bits of integer lanes v (W < the lanes' width) as mantissas of t: sign-extended
    for a signed type (in place), masked for an unsigned one."""
    if not t.signed:
        return v & v.dtype.type((1 << t.width) - 1)
    k = v.dtype.type(v.dtype.itemsize * 8 - t.width)
    np.left_shift(v, k, out=v)
    return np.right_shift(v, k, out=v)


_WORKER = threading.local()
"""`serial` is set in the emulator's own worker threads (one chunk of the batch each): their
kernels run single-threaded instead of starting thread pools of their own."""


def serial_worker() -> None:
    """Mark the calling thread as one of the emulator's workers (see threads())."""
    _WORKER.serial = True


def threads() -> int:
    """Threads of the numpy emulator: $NNHLS_THREADS, else the usable cores; 1 inside one of its
    worker threads."""
    if getattr(_WORKER, "serial", False):
        return 1
    env = os.environ.get("NNHLS_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


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


# ----- windows (shared with the float reference interpreter) ------------------------------------------------------------------------------------------


def pad_spatial(m: npt.NDArray[Any], pads: Sequence[int], fill: float = 0) -> npt.NDArray[Any]:
    """Pad the spatial axes of (batch, *spatial, C) data with `fill`; pads = (begin, end) per axis
    (mantissas here, floats in the reference interpreter)."""
    rank = m.ndim - 2
    if not any(pads):
        return m
    widths = [(pads[2 * a], pads[2 * a + 1]) for a in range(rank)]
    shape = (m.shape[0], *(m.shape[a + 1] + sum(widths[a]) for a in range(rank)), m.shape[-1])
    out = np.full(shape, fill, dtype=m.dtype)
    inner = tuple(slice(b, b + m.shape[a + 1]) for a, (b, _) in enumerate(widths))
    out[(slice(None), *inner, slice(None))] = m
    return out


def windows(
    m: Mantissas, kernel: Sequence[int], strides: Sequence[int], dilations: Sequence[int]
) -> Mantissas:
    """Sliding windows of padded (batch, *spatial, C) data: (batch, *out, C, *kernel), a view
    (any dtype: the float reference interpreter uses it too)."""
    rank = len(kernel)
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilations, strict=True)]
    view = np.lib.stride_tricks.sliding_window_view(m, span, axis=tuple(range(1, rank + 1)))
    out_sel = tuple(slice(None, None, s) for s in strides)
    win_sel = tuple(slice(None, None, d) for d in dilations)
    return view[(slice(None), *out_sel, slice(None), *win_sel)]


# ----- kernel helpers ------------------------------------------------------------------------------------


def result_t(op: Operation, index: int = 0) -> FixedPrecision:
    return hls.value_type(op.results[index]).element_type.precision


def out_shape(op: Operation, index: int = 0) -> tuple[int, ...]:
    return hls.shape_of(op.results[index])


def mantissas_of(attr: DenseIntOrFPElementsAttr) -> Mantissas:
    return np.array(hls.mantissas(attr), dtype=np.int64)


def bias_init(
    bias: DenseIntOrFPElementsAttr, bias_t: FixedPrecision, acc_t: FixedPrecision
) -> Mantissas:
    return cast(Exact(mantissas_of(bias), bias_t.fractional), acc_t).m


def join(pieces: list[Mantissas], empty_shape: tuple[int, ...]) -> Mantissas:
    if not pieces:
        return np.zeros(empty_shape, dtype=np.int64)
    if any(p.dtype == object for p in pieces):
        pieces = [obj(p) for p in pieces]
    return norm(np.concatenate(pieces, axis=0))


AVG_T = FixedPrecision(32, 1, False, Quant.RND)
"""ap_ufixed<32, 1, AP_RND>: the reciprocal of the averaging count."""


def average(
    acc: Mantissas, acc_t: FixedPrecision, count: npt.NDArray[np.int64], result: FixedPrecision
) -> FixedArray:
    """cast<result>(acc * cast<ap_ufixed<32,1,AP_RND>>(1.0 / n))."""
    safe = np.maximum(count, 1)
    r = to_mantissa(1.0 / safe.astype(np.float64), AVG_T)
    return cast(
        Exact(mul(acc, np.asarray(r, dtype=np.int64)), acc_t.fractional + AVG_T.fractional),
        result,
    )


def max_windows(win: Mantissas, mask: Mantissas) -> Mantissas:
    """Max over the last axis of in-bounds positions (mask 1); 0 for a window of padding only."""
    if mask.all():
        return win.max(axis=-1)
    low = -(1 << 62) if win.dtype != object else -(1 << 2048)
    masked = np.where(mask.astype(bool), win, low)
    best = masked.max(axis=-1)
    return norm(np.where(mask.any(axis=-1), best, 0).astype(win.dtype))


def table_index(x: Exact, offset: Fraction, size: int, span: Fraction) -> Mantissas:
    """floor((x - offset) * size / span), exactly (not clamped)."""
    value = Fraction(1, 1 << x.frac) if x.frac >= 0 else Fraction(1 << -x.frac)
    # (m * value - offset) * size / span = (m * a - b) / c with integers a, b, c.
    scale = value * size / span
    base = offset * size / span
    den = scale.denominator * base.denominator
    a = scale.numerator * base.denominator
    b = base.numerator * scale.denominator
    if x.m.dtype != object and bits(x.m) + a.bit_length() < SAFE_BITS and b.bit_length() < SAFE_BITS and den < (1 << 62):
        num = x.m * np.int64(a) - np.int64(b)  # |num| < 2**61: exact in int64
        return num >> (den.bit_length() - 1) if den & (den - 1) == 0 else np.floor_divide(num, den)
    num = add(mul(x.m, np.asarray(a, dtype=object)), np.asarray(-b, dtype=object))
    if num.dtype != object and den < (1 << 62):
        return np.floor_divide(num, den)
    return norm(np.floor_divide(obj(num), den))


def clamp_index(index: Mantissas, size: int) -> npt.NDArray[np.int64]:
    """A table index clamped to [0, size - 1]."""
    return np.where(index < 0, 0, np.where(index > size - 1, size - 1, index)).astype(np.int64)


def cast_to(op: Operation, x: FixedArray) -> FixedArray:
    return cast(x.exact, result_t(op))
