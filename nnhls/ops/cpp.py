"""The C++ side of a kernel op: the data a kernel rule's `emit` fills in for code generation.

    %fc1 = hls.dense %input_1 {layer = "fc1", ...} : (!hls.array<16x...>) -> !hls.array<64x...>

becomes one `Layer`: a config struct in parameters.h

    struct config_fc1 : nnet::dense_config {
      static const unsigned n_in = 16;
      ...
      typedef ap_fixed<28,12> accum_t;
    };

constants in weights/ (`fc1_w`, `fc1_b`) and one line in the top function

    nnet::dense<input_1_t, fc1_result_t, config_fc1>(input_1, fc1_out, fc1_w, fc1_b);

`nnhls.codegen` builds the `Layer` (its name, input and output tensors) and writes the files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from math import prod
from typing import Protocol

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr

from nnhls import quoting
from nnhls.dialects import hls
from nnhls.dialects.fixed import FixedPrecision
from nnhls.dialects.types import FixedPointType
from nnhls.errors import CodegenError


class BlockWriter(Protocol):
    """What ConfigStruct.write needs of a C++ writer (nnhls.codegen.writer.CppWriter)."""

    def block(self, head: str, tail: str = "") -> object: ...

    def lines(self, texts: list[str]) -> None: ...


@dataclass
class ConfigStruct:
    """One layer's config struct of parameters.h (hls4ml field names)."""

    name: str
    base: str
    fields: list[str] = field(default_factory=list[str])

    def const(self, name: str, value: int | bool | str, ctype: str = "unsigned") -> ConfigStruct:
        if isinstance(value, bool):
            self.fields.append(f"static const bool {name} = {'true' if value else 'false'};")
        else:
            self.fields.append(f"static const {ctype} {name} = {value};")
        return self

    def ceil_div(self, name: str, numerator: str, denominator: str) -> ConfigStruct:
        """`name` = max(1, ceil(numerator / denominator)) written as an expression of the struct's
        other fields (hls4ml's way: a value edited in parameters.h, such as reuse_factor, keeps
        the fields derived from it consistent)."""
        n, d = numerator, denominator
        return self.const(name, f"({n}) == 0 ? 1 : (({n}) + ({d}) - 1) / ({d})")

    def real(self, name: str, value: float) -> ConfigStruct:
        self.fields.append(f"static constexpr double {name} = {float(value)!r};")
        return self

    def array(self, name: str, values: list[int]) -> ConfigStruct:
        """A constant table read as name(i) (a function: no out-of-class definition needed)."""
        body = ", ".join(str(v) for v in values)
        self.fields.append(
            f"static unsigned {name}(unsigned i) {{ static const unsigned v[{len(values)}] = {{{body}}}; return v[i]; }}"
        )
        return self

    def typedef(self, name: str, cpp: str) -> ConfigStruct:
        self.fields.append(f"typedef {cpp} {name};")
        return self

    def write(self, w: BlockWriter) -> None:
        with w.block(f"struct {self.name} : {self.base}", ";"):  # pyright: ignore[reportGeneralTypeIssues]
            w.lines(self.fields)


@dataclass
class Value:
    """One tensor of the network: a C array (io_parallel) or an hls::stream of pixels (io_stream)."""

    var: str
    type_name: str
    """Scalar typedef in defines.h (the element type)."""
    precision: FixedPrecision
    shape: tuple[int, ...]
    stream: bool
    depth: int = 0
    size_name: str = ""
    """Constant holding the element count, e.g. N_FC1."""

    @property
    def size(self) -> int:
        return prod(self.shape)

    @property
    def pack(self) -> int:
        return self.shape[-1]

    @property
    def n_pixels(self) -> int:
        return self.size // self.pack

    @property
    def pixel_type(self) -> str:
        """Stream element typedef: all channels of one pixel."""
        return self.type_name.removesuffix("_t") + "_pixel_t"

    @property
    def cpp_type(self) -> str:
        return self.pixel_type if self.stream else self.type_name


@dataclass(frozen=True)
class ShiftCode:
    """Weights that are all 0 or +-2^k (KMIN <= k <= KMAX), stored as codes instead of fixed-point
    values: `nnet::po2_weight<KMIN, KMAX, ZERO>` (nnet_common.h), whose product with x is a shift
    and a negation, no multiplier. A code holds the exponent k - KMIN in its low `exp_bits` bits,
    then a sign bit (1: negative), then (only when a weight is zero) a zero bit. One exponent and
    no zero is a binary weight (1 bit: +-2^K), one exponent with zeros a ternary one (2 bits)."""

    kmin: int
    kmax: int
    zero: bool

    @property
    def exp_bits(self) -> int:
        return (self.kmax - self.kmin).bit_length()

    @property
    def bits(self) -> int:
        """Bits per stored weight."""
        return self.exp_bits + 1 + int(self.zero)

    @property
    def kind(self) -> str:
        if self.kmin != self.kmax:
            return "po2"
        return "ternary" if self.zero else "binary"

    def cpp(self) -> str:
        if self.kind == "binary":
            return f"nnet::binary_weight<{self.kmin}>"
        if self.kind == "ternary":
            return f"nnet::ternary_weight<{self.kmin}>"
        return f"nnet::po2_weight<{self.kmin}, {self.kmax}, {'true' if self.zero else 'false'}>"

    def codes(self, mantissas: np.ndarray, t: FixedPrecision) -> np.ndarray:
        """The code of each weight (mantissas of type t, all 0 or +-2^j)."""
        m = mantissas.astype(np.int64)
        magnitude = np.abs(m)
        k = np.zeros(m.shape, np.int64)
        nz = magnitude != 0
        k[nz] = np.log2(magnitude[nz]).round().astype(np.int64) - t.fractional
        exponent = np.where(nz, k - self.kmin, 0)
        sign = (m < 0).astype(np.int64) << self.exp_bits
        zero = (~nz).astype(np.int64) << (self.exp_bits + 1)
        return exponent | sign | zero


def shift_code(mantissas: np.ndarray, t: FixedPrecision) -> ShiftCode | None:
    """The code of constants (mantissas of type t) that are all 0 or +-2^k with one non-zero at
    least; None when one is not."""
    m = np.abs(mantissas.astype(np.int64)).reshape(-1)
    nonzero = m[m != 0]
    if nonzero.size == 0 or np.any(nonzero & (nonzero - 1)):
        return None
    exponents = np.log2(nonzero).round().astype(np.int64) - t.fractional
    return ShiftCode(int(exponents.min()), int(exponents.max()), bool(nonzero.size < m.size))


def stored_shift_code(mantissas: np.ndarray, t: FixedPrecision, compressed: bool) -> ShiftCode | None:
    """The shift code of the weights a kernel stores: a compressed dense stores its non-zero
    (row, col, weight) triplets only, whose code needs no zero bit."""
    return shift_code(mantissas[mantissas != 0] if compressed else mantissas, t)


@dataclass
class Constant:
    """Quantized constants of one layer (weights, biases, tables), stored as raw mantissas."""

    name: str
    type_name: str
    precision: FixedPrecision
    values: np.ndarray
    """Flat int64 mantissas (value = m * 2**-F)."""
    comment: str
    sparse: tuple[np.ndarray, np.ndarray, str] | None = None
    """(row indices, column indices, index type) for compressed dense weights."""
    bram: bool = False
    """Stored as a ROM in BRAM (store_weights_in_bram)."""
    code: ShiftCode | None = None
    """Stored as shift codes (0 / +-2^k weights of a multiplier-free kernel), not fixed-point values."""

    @property
    def cpp_type(self) -> str:
        """The element type's C++ spelling (its typedef in defines.h)."""
        return self.precision.cpp() if self.code is None else self.code.cpp()

    def stored(self) -> np.ndarray:
        """What the arrays hold: the mantissas, or the shift codes."""
        return self.values if self.code is None else self.code.codes(self.values, self.precision)

    @property
    def count(self) -> int:
        return int(self.values.size)

    @property
    def element_cpp(self) -> str:
        if self.sparse is None:
            return self.type_name
        return f"nnet::compressed_weight<{self.type_name}, {self.sparse[2]}>"


@dataclass
class Layer:
    """One kernel call with its config struct and constants (filled in by the kernel's rules)."""

    name: str
    """The C identifier of the layer (unique in the project)."""
    layer: str
    """The layer name from the model."""
    op: hls.HLSKernelOp
    inputs: list[Value]
    outputs: list[Value]
    kernel: str
    """The nnet function called, e.g. `dense`."""
    config: ConfigStruct | None
    args: list[str] = field(default_factory=list[str])
    """Constant arguments after the data arguments."""
    constants: list[Constant] = field(default_factory=list[Constant])
    header: str = ""
    """The nnet_utils header that defines the kernel."""
    typedefs: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])
    """Extra typedefs for defines.h (types named by the config struct without constants)."""
    template_outputs: int | None = None
    """How many output types the kernel template takes (default: all of them; hls.clone, whose
    outputs share one type, takes one)."""

    @property
    def call(self) -> str:
        outputs = self.outputs if self.template_outputs is None else self.outputs[: self.template_outputs]
        types = [v.cpp_type for v in self.inputs] + [v.cpp_type for v in outputs]
        if self.config is not None:
            types.append(self.config.name)
        data = [v.var for v in self.inputs] + [v.var for v in self.outputs]
        return f"nnet::{self.kernel}<{', '.join(types)}>({', '.join(data + self.args)});"

    # ----- helpers for kernel rules ---------------------------------------------------------------------

    @property
    def reuse_factor(self) -> int:
        rf = self.op.reuse_factor
        return 1 if rf is None else rf.value.data

    def struct(self, base: str) -> ConfigStruct:
        """The layer's config struct `config_<name> : nnet::<base>`."""
        config = ConfigStruct(f"config_{self.name}", f"nnet::{base}")
        self.config = config
        return config

    def io(self, config: ConfigStruct) -> None:
        """The struct's io_type field."""
        config.const("io_type", "nnet::io_stream" if self.op.is_stream else "nnet::io_parallel")

    def constant(
        self, suffix: str, attr: object, ty: FixedPointType, what: str, type_suffix: str | None = None
    ) -> Constant:
        """A constant array `<name>_<suffix>` of type `<name>_<type_suffix or suffix>_t`."""
        assert isinstance(attr, DenseIntOrFPElementsAttr)
        values = np.ascontiguousarray(hls.mantissas(attr)).reshape(-1)
        type_name = f"{self.name}_{type_suffix or suffix}_t"
        const = Constant(f"{self.name}_{suffix}", type_name, ty.precision, values, f"{quoting.cpp_comment_text(self.layer)}: {what}")
        self.constants.append(const)
        return const

    def log2_exact(self, value: float, what: str) -> int:
        """log2 of a power of two (an error naming the layer otherwise)."""
        k = round(math.log2(value)) if value > 0 else 0
        if value <= 0 or 2.0**k != value:
            raise CodegenError(f"{self.op.name} '{self.layer}': {what} must be a power of two, got {value}")
        return k
