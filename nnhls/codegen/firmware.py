"""hls dialect -> firmware model: one `Layer` (config struct + kernel call + constants) per op.

    %fc1 = hls.dense %input_1 {layer = "fc1", ...} : (!hls.array<16x!hls.fixed<16, 6>>) -> !hls.array<64x...>

becomes, in parameters.h,

    struct config_fc1 : nnet::dense_config {
      static const unsigned n_in = 16;
      static const unsigned n_out = 64;
      ...
      typedef ap_fixed<28,12> accum_t;
      typedef fc1_weight_t weight_t;
    };

and, in firmware/<project>.cpp,

    fc1_result_t fc1_out[N_FC1];
    #pragma HLS ARRAY_PARTITION variable=fc1_out complete dim=0
    nnet::dense<input_1_t, fc1_result_t, config_fc1>(input_1, fc1_out, fc1_w, fc1_b);

The text of each file is produced by `nnhls.codegen.files` from the `Firmware` built here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from math import prod

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, ModuleOp
from xdsl.ir import Operation, SSAValue

from nnhls import quoting
from nnhls.codegen.writer import ConfigStruct
from nnhls.dialects import hls
from nnhls.dialects.fixed import FixedPrecision
from nnhls.dialects.kinds import IOType, PipelineStyle, PoolOp, SoftmaxImpl
from nnhls.dialects.types import ArrayType, FixedPointType, StreamType
from nnhls.errors import CodegenError

LAYER_CONSTANTS = ("w", "b", "scale", "bias", "table", "param", "exp_table", "inv_table")
"""Suffixes of a layer's constants (`fc1_w`), each with `_t`, `_raw`, `_rows`, `_cols` forms."""
LAYER_TYPES = ("weight", "bias", "scale", "table", "param", "exp_table", "inv_table", "result", "result_pixel")
"""Suffixes of a layer's typedefs (`fc1_weight_t`)."""


def _layer_names(stem: str, n_outputs: int) -> tuple[list[str], list[str]]:
    """(locals, globals) a layer stem generates: output variables; types, sizes, structs, constants."""
    outs = [f"{stem}_out"] if n_outputs == 1 else [f"{stem}_out{i}" for i in range(n_outputs)]
    globals_ = [f"config_{stem}", *(f"N_{o.upper()}" for o in outs)]
    globals_ += [f"{stem}_{t}_t" for t in LAYER_TYPES]
    for c in LAYER_CONSTANTS:
        globals_ += [f"{stem}_{c}", f"{stem}_{c}_t", f"{stem}_{c}_raw", f"{stem}_{c}_rows", f"{stem}_{c}_cols"]
        globals_.append(f"{stem}_{c}".upper() + "_H_")
    return outs, globals_


def _input_names(stem: str) -> tuple[list[str], list[str]]:
    return [stem], [f"{stem}_t", f"{stem}_pixel_t", f"N_{stem.upper()}"]


def _project_names(project: str) -> tuple[list[str], list[str]]:
    return [], [project, f"{project}_predict", f"{project}_trace", f"{project.upper()}_H_"]


class NameTable:
    """The identifiers of one generated project.

    A layer or input claims a stem together with every name derived from it (see `_layer_names`);
    a stem is taken only when none of those names is reserved (`quoting.is_reserved`) or already
    generated, compared case-insensitively because sizes and include guards are upper-cased;
    otherwise `_2`, `_3`... is appended. So a layer named `fc1_w`, `size` (`size_t`), `in` or
    `INFINITY` never clashes with our names, the standard headers or another layer.
    """

    def __init__(self) -> None:
        self._taken: set[str] = {n.casefold() for n in ("DEFINES_H_", "PARAMETERS_H_", "fast_weight_loader")}

    def _free(self, names: tuple[list[str], list[str]]) -> bool:
        locals_, globals_ = names
        if any(n.casefold() in self._taken for n in (*locals_, *globals_)):
            return False
        if any(quoting.is_reserved(n) for n in globals_):
            return False
        return not any(
            n in quoting.CPP_KEYWORDS or n in quoting.OUR_NAMES or n in quoting.LOOP_LOCALS or n in quoting.reserved_names()
            for n in locals_
        )

    def take(self, names: tuple[list[str], list[str]]) -> None:
        """Names that are already chosen (the project's)."""
        self._taken.update(name.casefold() for name in (*names[0], *names[1]))

    def claim(self, wanted: str, derive: Callable[[str], tuple[list[str], list[str]]]) -> str:
        """The stem for `wanted` (any text), unique and safe with all its derived names."""
        base = quoting.cpp_identifier(wanted)
        stem, n = base, 1
        while not self._free(derive(stem)):
            n += 1
            stem = f"{base}_{n}"
        locals_, globals_ = derive(stem)
        self._taken.update(name.casefold() for name in (*locals_, *globals_))
        return stem


def c_identifier(text: str) -> str:
    """A C identifier stem made from a layer name (`dense/1` -> `dense_1`, `1x` -> `l_1x`)."""
    return quoting.cpp_identifier(text)


def is_c_identifier(text: str) -> bool:
    return quoting.is_legal_identifier(text)


# ----- the firmware model -------------------------------------------------------------------------------


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
    """One kernel call with its config struct and constants."""

    name: str
    layer: str
    op: hls.HLSKernelOp
    inputs: list[Value]
    outputs: list[Value]
    kernel: str
    config: ConfigStruct | None
    args: list[str] = field(default_factory=list[str])
    """Constant arguments after the data arguments."""
    constants: list[Constant] = field(default_factory=list[Constant])
    header: str = ""
    typedefs: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])
    """Extra typedefs for defines.h (types named by the config struct without constants)."""

    @property
    def call(self) -> str:
        types = [v.cpp_type for v in self.inputs] + [self.outputs[0].cpp_type]
        if self.config is not None:
            types.append(self.config.name)
        data = [v.var for v in self.inputs] + [v.var for v in self.outputs]
        return f"nnet::{self.kernel}<{', '.join(types)}>({', '.join(data + self.args)});"


@dataclass
class Firmware:
    """Everything the project files are written from."""

    project: str
    io_type: IOType
    pipeline_style: PipelineStyle
    pipeline_interval: int | None
    inputs: list[Value]
    outputs: list[Value]
    layers: list[Layer]
    values: list[Value]
    namespace: str | None = None
    """WriterConfig.Namespace: the C++ namespace of everything generated for this model."""
    tb_output: str = "both"
    """WriterConfig.TBOutputStream: where the testbench writes outputs (both, stdout, file)."""
    backend: str = "Vitis"
    """The HLS tool the pragmas are spelt for (Vitis, Vivado)."""

    @property
    def is_stream(self) -> bool:
        return self.io_type == IOType.IO_STREAM

    @property
    def constants(self) -> list[Constant]:
        return [c for layer in self.layers for c in layer.constants]

    @property
    def headers(self) -> list[str]:
        seen: list[str] = []
        for layer in self.layers:
            if layer.header and layer.header not in seen:
                seen.append(layer.header)
        return seen


# ----- building --------------------------------------------------------------------------------------


def find_func(module: ModuleOp | hls.FuncOp) -> hls.FuncOp:
    if isinstance(module, hls.FuncOp):
        return module
    funcs = [op for op in module.walk() if isinstance(op, hls.FuncOp)]
    if len(funcs) != 1:
        raise CodegenError(f"expected exactly one hls.func in the module, found {len(funcs)}")
    return funcs[0]


class _Builder:
    def __init__(self, func: hls.FuncOp) -> None:
        self.func = func
        self.stream = func.io_type.data == IOType.IO_STREAM
        self.values: dict[SSAValue, Value] = {}
        self.names = NameTable()
        self.names.take(_project_names(func.sym_name.data))
        self.all_values: list[Value] = []

    def new_value(self, ssa: SSAValue, var: str, type_base: str) -> Value:
        ty = ssa.type
        if not isinstance(ty, ArrayType | StreamType):
            raise CodegenError(f"value {var} is not an !hls.array or !hls.stream")
        element = ty.element_type
        assert isinstance(element, FixedPointType)
        value = Value(
            var=var,
            type_name=f"{type_base}_t",
            precision=element.precision,
            shape=ty.get_shape(),
            stream=isinstance(ty, StreamType),
            depth=ty.depth.data if isinstance(ty, StreamType) else 0,
            size_name=f"N_{var.upper()}",
        )
        self.values[ssa] = value
        self.all_values.append(value)
        return value

    def build(self) -> Firmware:
        inputs: list[Value] = []
        for i, arg in enumerate(self.func.body.block.args):
            name = self.names.claim(arg.name_hint or f"input_{i + 1}", _input_names)
            inputs.append(self.new_value(arg, name, name))
        layers: list[Layer] = []
        outputs: list[Value] = []
        for op in self.func.body.block.ops:
            if isinstance(op, hls.ReturnOp):
                outputs = [self.value(v, "hls.return") for v in op.values]
                continue
            if not isinstance(op, hls.HLSKernelOp):
                raise CodegenError(f"unsupported operation {op.name} in hls.func")
            layers.append(self.layer(op))
        if not outputs:
            raise CodegenError(f"hls.func '{self.func.sym_name.data}' returns nothing")
        if any(v in inputs for v in outputs) or len({v.var for v in outputs}) != len(outputs):
            raise CodegenError("every model output must be a distinct layer result")
        return Firmware(
            project=self.func.sym_name.data,
            io_type=self.func.io_type.data,
            pipeline_style=self.func.pipeline_style.data,
            pipeline_interval=None if self.func.pipeline_interval is None else self.func.pipeline_interval.value.data,
            inputs=inputs,
            outputs=outputs,
            layers=layers,
            values=self.all_values,
        )

    def value(self, ssa: SSAValue, user: str) -> Value:
        if ssa not in self.values:
            raise CodegenError(f"{user}: operand is not defined by an hls kernel or argument")
        return self.values[ssa]

    def layer(self, op: hls.HLSKernelOp) -> Layer:
        name = self.names.claim(op.layer_name, lambda stem: _layer_names(stem, len(op.results)))
        inputs = [self.value(v, f"{op.name} '{op.layer_name}'") for v in op.operands]
        results = list(op.results)
        if len(results) == 1:
            outputs = [self.new_value(results[0], f"{name}_out", f"{name}_result")]
        else:
            outputs = [self.new_value(r, f"{name}_out{i}", f"{name}_result") for i, r in enumerate(results)]
            for out in outputs[1:]:
                out.type_name = outputs[0].type_name
        emit = _EMITTERS.get(type(op))
        if emit is None:
            raise CodegenError(f"{op.name} '{op.layer_name}': no C++ kernel for this operation")
        layer = Layer(name, op.layer_name, op, inputs, outputs, "", None)
        emit(layer)
        return layer


def build_firmware(module: ModuleOp | hls.FuncOp) -> Firmware:
    """The firmware model of the (single) hls.func of a module."""
    func = find_func(module)
    quoting.check_cpp_identifier(func.sym_name.data, "ProjectName")
    return _Builder(func).build()


# ----- per-op config structs ----------------------------------------------------------------------------


def _ints(attr: hls.IntList | None) -> tuple[int, ...]:
    return hls.ints(attr)


def _rf(op: hls.HLSKernelOp) -> int:
    return 1 if op.reuse_factor is None else op.reuse_factor.value.data


def _constant(layer: Layer, suffix: str, attr: object, ty: FixedPointType, what: str) -> Constant:
    assert isinstance(attr, DenseIntOrFPElementsAttr)
    values = np.ascontiguousarray(hls.mantissas(attr)).reshape(-1)
    const = Constant(f"{layer.name}_{suffix}", f"{layer.name}_{suffix}_t", ty.precision, values, f"{quoting.cpp_comment_text(layer.layer)}: {what}")
    layer.constants.append(const)
    return const


def _typed_constant(layer: Layer, suffix: str, type_suffix: str, attr: object, ty: FixedPointType, what: str) -> Constant:
    const = _constant(layer, suffix, attr, ty, what)
    const.type_name = f"{layer.name}_{type_suffix}_t"
    return const


def _struct(layer: Layer, base: str) -> ConfigStruct:
    config = ConfigStruct(f"config_{layer.name}", f"nnet::{base}")
    layer.config = config
    return config


def _multiplier_limit(config: ConfigStruct, products: int, expression: str) -> None:
    """multiplier_limit = ceil(products / reuse_factor), written as that expression so that an
    edited reuse_factor in parameters.h keeps it consistent (1 for a layer without products)."""
    if products == 0:
        config.const("multiplier_limit", 1)
    else:
        config.expr("multiplier_limit", f"nnet::ceil_div({expression}, reuse_factor)")


def _io(config: ConfigStruct, layer: Layer) -> None:
    config.const("io_type", "nnet::io_stream" if layer.op.is_stream else "nnet::io_parallel")


def _log2_exact(value: float, what: str, layer: Layer) -> int:
    k = round(math.log2(value)) if value > 0 else 0
    if value <= 0 or 2.0**k != value:
        raise CodegenError(f"{layer.op.name} '{layer.layer}': {what} must be a power of two, got {value}")
    return k


def _emit_dense(layer: Layer) -> None:
    op = layer.op
    assert isinstance(op, hls.DenseOp)
    n_in, n_out = op.weight.get_shape()
    in_shape = layer.inputs[0].shape
    rf = _rf(op)
    weights = _typed_constant(layer, "w", "weight", op.weight, op.weight_t, f"weights ({n_in} x {n_out})")
    _typed_constant(layer, "b", "bias", op.bias, op.bias_t, f"biases ({n_out})")
    nonzeros = int(np.count_nonzero(weights.values))
    index_bits = max(1, math.ceil(math.log2(max(n_in, n_out, 2))))
    config = _struct(layer, "dense_config")
    config.const("n_rows", prod(in_shape[:-1])).const("n_in", n_in).const("n_out", n_out)
    _io(config, layer)
    config.const("strategy", f"nnet::{op.strategy.data.value}")
    config.const("reuse_factor", rf)
    config.const("n_zeros", n_in * n_out - nonzeros).expr("n_nonzeros", "n_in * n_out - n_zeros")
    _multiplier_limit(config, nonzeros, "n_nonzeros")
    weights.bram = op.store_weights_in_bram is not None
    config.const("store_weights_in_bram", weights.bram)
    config.typedef("accum_t", op.accum_t.cpp())
    config.typedef("bias_t", f"{layer.name}_bias_t").typedef("weight_t", f"{layer.name}_weight_t")
    config.typedef("index_t", f"ap_uint<{index_bits}>")
    if op.compression is not None:
        grid = weights.values.reshape(n_in, n_out)
        rows, cols = np.nonzero(grid)
        weights.values = grid[rows, cols].astype(np.int64)
        weights.sparse = (rows.astype(np.int64), cols.astype(np.int64), f"ap_uint<{index_bits}>")
        weights.comment += f", compressed: {nonzeros} non-zero (row, col, weight) triplets"
    layer.kernel, layer.header = "dense", "nnet_dense.h"
    layer.args = [f"{layer.name}_w", f"{layer.name}_b"]


def _emit_conv(layer: Layer) -> None:
    op = layer.op
    assert isinstance(op, hls.ConvBaseOp)
    rank = op.RANK
    w_shape = op.weight.get_shape()
    in_shape, out_shape = layer.inputs[0].shape, layer.outputs[0].shape
    strides, dilations, pads = _ints(op.strides), _ints(op.dilations), _ints(op.pads)
    if rank == 1:
        in_shape, out_shape, w_shape = (1, *in_shape), (1, *out_shape), (1, *w_shape)
        strides, dilations, pads = (1, *strides), (1, *dilations), (0, 0, *pads)
    rf = _rf(op)
    pf = 1 if op.parallelization_factor is None else op.parallelization_factor.value.data
    weights = _typed_constant(layer, "w", "weight", op.weight, op.weight_t, f"weights {tuple(op.weight.get_shape())}")
    _typed_constant(layer, "b", "bias", op.bias, op.bias_t, f"biases ({out_shape[-1]})")
    nonzeros = int(np.count_nonzero(weights.values))
    config = _struct(layer, "conv_config")
    config.const("in_height", in_shape[0]).const("in_width", in_shape[1]).const("n_chan", in_shape[2])
    config.const("filt_height", w_shape[0]).const("filt_width", w_shape[1])
    config.const("n_filt", out_shape[2])
    config.const("depth_multiplier", w_shape[3] if op.DEPTHWISE else 1)
    config.const("depthwise", op.DEPTHWISE)
    config.const("stride_height", strides[0]).const("stride_width", strides[1])
    config.const("dilation_height", dilations[0]).const("dilation_width", dilations[1])
    config.const("pad_top", pads[0]).const("pad_bottom", pads[1]).const("pad_left", pads[2]).const("pad_right", pads[3])
    config.const("out_height", out_shape[0]).const("out_width", out_shape[1])
    _io(config, layer)
    config.const("strategy", f"nnet::{op.strategy.data.value}")
    config.const("reuse_factor", rf).const("parallelization_factor", pf)
    per_output = "depth_multiplier" if op.DEPTHWISE else "n_filt"
    config.const("n_zeros", weights.count - nonzeros)
    config.expr("n_nonzeros", f"filt_height * filt_width * n_chan * {per_output} - n_zeros")
    _multiplier_limit(config, nonzeros, "n_nonzeros * parallelization_factor")
    weights.bram = op.store_weights_in_bram is not None
    config.const("store_weights_in_bram", weights.bram)
    config.typedef("accum_t", op.accum_t.cpp())
    config.typedef("bias_t", f"{layer.name}_bias_t").typedef("weight_t", f"{layer.name}_weight_t")
    prefix = "depthwise_" if op.DEPTHWISE else ""
    layer.kernel, layer.header = f"{prefix}conv_{rank}d", "nnet_conv.h"
    layer.args = [f"{layer.name}_w", f"{layer.name}_b"]


def _pool_struct(layer: Layer, in_shape: tuple[int, ...], size: tuple[int, ...], strides: tuple[int, ...],
                 pads: tuple[int, ...], out_shape: tuple[int, ...], pool_op: PoolOp, accum: str, count_pad: bool) -> None:
    config = _struct(layer, "pooling_config")
    config.const("in_height", in_shape[0]).const("in_width", in_shape[1]).const("n_chan", in_shape[2])
    config.const("pool_height", size[0]).const("pool_width", size[1])
    config.const("stride_height", strides[0]).const("stride_width", strides[1])
    config.const("pad_top", pads[0]).const("pad_bottom", pads[1]).const("pad_left", pads[2]).const("pad_right", pads[3])
    config.const("out_height", out_shape[0]).const("out_width", out_shape[1])
    _io(config, layer)
    config.const("reuse_factor", _rf(layer.op))
    config.const("pool_op", f"nnet::pool_{pool_op.value}")
    config.const("count_pad", count_pad)
    config.typedef("accum_t", accum)
    layer.header = "nnet_pooling.h"


def _emit_pool(layer: Layer) -> None:
    op = layer.op
    assert isinstance(op, hls.PoolOp)
    size, strides, pads = _ints(op.pool_size), _ints(op.strides), _ints(op.pads)
    in_shape, out_shape = layer.inputs[0].shape, layer.outputs[0].shape
    if len(size) == 1:
        in_shape, out_shape = (1, *in_shape), (1, *out_shape)
        size, strides, pads = (1, *size), (1, *strides), (0, 0, *pads)
    _pool_struct(layer, in_shape, size, strides, pads, out_shape, op.op.data, op.accum_t.cpp(), op.count_pad is not None)
    layer.kernel = f"pooling{len(_ints(op.pool_size))}d"


def _emit_global_pool(layer: Layer) -> None:
    op = layer.op
    assert isinstance(op, hls.GlobalPoolOp)
    in_shape = layer.inputs[0].shape
    if len(in_shape) == 2:
        in_shape = (1, *in_shape)
    _pool_struct(layer, in_shape, in_shape[:2], (1, 1), (0, 0, 0, 0), (1, 1), op.op.data, op.accum_t.cpp(), False)
    layer.kernel = "global_pooling"


def _emit_batchnorm(layer: Layer) -> None:
    op = layer.op
    assert isinstance(op, hls.BatchNormOp)
    _typed_constant(layer, "scale", "scale", op.scale, op.scale_t, "per-channel scale")
    _typed_constant(layer, "bias", "bias", op.bias, op.bias_t, "per-channel bias")
    value = layer.inputs[0]
    config = _struct(layer, "batchnorm_config")
    config.const("n_in", value.size).const("n_filt", value.pack)
    _io(config, layer)
    config.const("reuse_factor", _rf(op))
    _multiplier_limit(config, value.size, "n_in")
    config.const("store_weights_in_bram", False)
    config.typedef("scale_t", f"{layer.name}_scale_t").typedef("bias_t", f"{layer.name}_bias_t")
    layer.kernel, layer.header = "normalize", "nnet_batchnorm.h"
    layer.args = [f"{layer.name}_scale", f"{layer.name}_bias"]


def _emit_activation(layer: Layer) -> None:
    op = layer.op
    assert isinstance(op, hls.ActivationOp)
    value = layer.inputs[0]
    config = _struct(layer, "activ_config")
    config.const("n_in", value.size).const("n_chan", value.pack)
    _io(config, layer)
    config.const("reuse_factor", _rf(op))
    config.const("kind", f"nnet::act_{op.kind.data.value}")
    table_arg, param_arg = "nullptr", "nullptr"
    if op.table is not None:
        assert op.table_size is not None and op.table_t is not None
        assert op.table_min is not None and op.table_max is not None
        size = op.table_size.value.data
        lo, hi = op.table_min.value.data, op.table_max.value.data
        k = _log2_exact(size / (hi - lo), "table_size / (table_max - table_min)", layer)
        offset = lo * 2.0**k
        if offset != int(offset):
            raise CodegenError(f"{op.name} '{layer.layer}': table_min {lo} must be a multiple of the table step")
        _constant(layer, "table", op.table, op.table_t, f"{op.kind.data.value} table over [{lo}, {hi})")
        config.const("table_size", size).const("table_scale_log2", k, "int").const("table_offset", int(offset), "long long")
        config.typedef("table_t", f"{layer.name}_table_t")
        table_arg = f"{layer.name}_table"
    if op.param is not None:
        assert op.param_t is not None
        _constant(layer, "param", op.param, op.param_t, "per-channel parameter")
        param_arg = f"{layer.name}_param"
    if op.alpha is not None:
        config.real("alpha", op.alpha.value.data)
    if op.beta is not None:
        config.real("beta", op.beta.value.data)
    if op.param_t is not None:
        config.typedef("param_t", f"{layer.name}_param_t" if op.param is not None else op.param_t.cpp())
    layer.kernel, layer.header = "activation", "nnet_activation.h"
    if param_arg != "nullptr":
        layer.args = [table_arg, param_arg]
    elif table_arg != "nullptr":
        layer.args = [table_arg]


def _emit_softmax(layer: Layer) -> None:
    op = layer.op
    assert isinstance(op, hls.SoftmaxOp)
    value = layer.inputs[0]
    impl = op.implementation.data
    config = _struct(layer, "softmax_config")
    config.const("n_rows", value.size // value.pack).const("n_in", value.pack)
    _io(config, layer)
    config.const("reuse_factor", _rf(op))
    config.const("implementation", f"nnet::softmax_{impl.value}")
    config.const("exp_table_size", op.exp_table_size.value.data)
    config.const("inv_table_size", op.inv_table_size.value.data)
    layer.kernel, layer.header = "softmax", "nnet_activation.h"
    config.typedef("exp_table_t", f"{layer.name}_exp_table_t").typedef("inv_table_t", f"{layer.name}_inv_table_t")
    config.typedef("accum_t", op.accum_t.cpp())
    if impl == SoftmaxImpl.ARGMAX or op.exp_table is None or op.inv_table is None:
        layer.args = ["nullptr", "nullptr"]
        layer.typedefs = [
            (f"{layer.name}_exp_table_t", op.exp_table_t.cpp()),
            (f"{layer.name}_inv_table_t", op.inv_table_t.cpp()),
        ]
        return
    assert op.exp_range is not None and op.inv_range is not None
    k_exp = _log2_exact(op.exp_table_size.value.data / op.exp_range.value.data, "exp_table_size / exp_range", layer)
    k_inv = _log2_exact(op.inv_table_size.value.data / op.inv_range.value.data, "inv_table_size / inv_range", layer)
    config.const("exp_scale_log2", k_exp, "int").const("inv_scale_log2", k_inv, "int")
    _constant(layer, "exp_table", op.exp_table, op.exp_table_t, f"exp table over {op.exp_range.value.data}")
    _constant(layer, "inv_table", op.inv_table, op.inv_table_t, f"1/x table over [0, {op.inv_range.value.data})")
    layer.args = [f"{layer.name}_exp_table", f"{layer.name}_inv_table"]


_MERGE_KERNELS = {"add": "add", "sub": "subtract", "mul": "multiply", "average": "average", "maximum": "maximum", "minimum": "minimum"}


def _emit_merge(layer: Layer) -> None:
    op = layer.op
    assert isinstance(op, hls.MergeOp)
    config = _struct(layer, "merge_config")
    config.const("n_elem", layer.outputs[0].size).const("n_chan", layer.outputs[0].pack)
    _io(config, layer)
    config.const("reuse_factor", _rf(op))
    layer.kernel, layer.header = _MERGE_KERNELS[op.kind.data.value], "nnet_merge.h"


def _emit_concat(layer: Layer) -> None:
    op = layer.op
    assert isinstance(op, hls.ConcatOp)
    axis = op.axis.value.data
    a, b = layer.inputs[0].shape, layer.inputs[1].shape
    config = _struct(layer, "concat_config")
    pixels = op.is_stream and axis != len(a) - 1  # io_stream along a spatial axis: whole pixels
    inner = slice(axis, -1) if pixels else slice(axis, None)
    config.const("n_outer", prod(a[:axis])).const("n_lhs_inner", prod(a[inner])).const("n_rhs_inner", prod(b[inner]))
    if pixels:
        config.const("n_chan", a[-1])
    _io(config, layer)
    config.const("reuse_factor", _rf(op))
    layer.kernel = "concatenate_pixels" if pixels else "concatenate"
    layer.header = "nnet_merge.h"


def _emit_dot(layer: Layer) -> None:
    op = layer.op
    assert isinstance(op, hls.DotOp)
    n = layer.inputs[0].size
    config = _struct(layer, "dot_config")
    config.const("n_in", n).const("n_out", 1)
    _io(config, layer)
    config.const("reuse_factor", _rf(op))
    _multiplier_limit(config, n, "n_in")
    config.typedef("accum_t", op.accum_t.cpp())
    layer.kernel, layer.header = "dot1d", "nnet_merge.h"


def _emit_copy(layer: Layer) -> None:
    config = _struct(layer, "copy_config")
    config.const("n_elem", layer.outputs[0].size)
    config.const("in_pack", layer.inputs[0].pack).const("out_pack", layer.outputs[0].pack)
    _io(config, layer)
    layer.kernel, layer.header = "copy", "nnet_shape.h"


def _emit_transpose(layer: Layer) -> None:
    op = layer.op
    assert isinstance(op, hls.TransposeOp)
    shape = layer.inputs[0].shape
    config = _struct(layer, "transpose_config")
    config.const("dims", len(shape)).const("n_elem", prod(shape))
    _io(config, layer)
    config.array("shape", list(shape)).array("perm", list(_ints(op.perm)))
    layer.kernel, layer.header = "transpose", "nnet_shape.h"


def _spatial(layer: Layer, begin: tuple[int, int], factors: tuple[int, int] = (1, 1)) -> ConfigStruct:
    in_shape, out_shape = layer.inputs[0].shape, layer.outputs[0].shape
    if len(in_shape) == 2:
        in_shape, out_shape = (1, *in_shape), (1, *out_shape)
    config = _struct(layer, "spatial_config")
    config.const("in_height", in_shape[0]).const("in_width", in_shape[1]).const("n_chan", in_shape[2])
    config.const("out_height", out_shape[0]).const("out_width", out_shape[1])
    config.const("top", begin[0]).const("left", begin[1])
    config.const("factor_height", factors[0]).const("factor_width", factors[1])
    _io(config, layer)
    layer.header = "nnet_shape.h"
    return config


def _begins(amounts: tuple[int, ...]) -> tuple[int, int]:
    return (0, amounts[0]) if len(amounts) == 2 else (amounts[0], amounts[2])


def _emit_pad(layer: Layer) -> None:
    op = layer.op
    assert isinstance(op, hls.PadOp)
    _spatial(layer, _begins(_ints(op.pads)))
    layer.kernel = "zeropad2d"


def _emit_crop(layer: Layer) -> None:
    op = layer.op
    assert isinstance(op, hls.CropOp)
    _spatial(layer, _begins(_ints(op.crops)))
    layer.kernel = "cropping2d"


def _emit_upsample(layer: Layer) -> None:
    op = layer.op
    assert isinstance(op, hls.UpsampleOp)
    f = _ints(op.factors)
    _spatial(layer, (0, 0), (1, f[0]) if len(f) == 1 else (f[0], f[1]))
    layer.kernel = "resize_nearest"


def _emit_clone(layer: Layer) -> None:
    config = _struct(layer, "clone_config")
    config.const("n_pixels", layer.inputs[0].n_pixels).const("n_outputs", len(layer.outputs))
    layer.kernel, layer.header = "clone_stream", "nnet_stream.h"


_EMITTERS: dict[type[Operation], Callable[[Layer], None]] = {
    hls.DenseOp: _emit_dense,
    hls.Conv1DOp: _emit_conv,
    hls.Conv2DOp: _emit_conv,
    hls.DepthwiseConv1DOp: _emit_conv,
    hls.DepthwiseConv2DOp: _emit_conv,
    hls.PoolOp: _emit_pool,
    hls.GlobalPoolOp: _emit_global_pool,
    hls.BatchNormOp: _emit_batchnorm,
    hls.ActivationOp: _emit_activation,
    hls.SoftmaxOp: _emit_softmax,
    hls.MergeOp: _emit_merge,
    hls.ConcatOp: _emit_concat,
    hls.DotOp: _emit_dot,
    hls.ReshapeOp: _emit_copy,
    hls.CastOp: _emit_copy,
    hls.TransposeOp: _emit_transpose,
    hls.PadOp: _emit_pad,
    hls.CropOp: _emit_crop,
    hls.UpsampleOp: _emit_upsample,
    hls.CloneOp: _emit_clone,
}
