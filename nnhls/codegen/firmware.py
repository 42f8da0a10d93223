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

Each kernel's rules (`KernelRules.emit`, nnhls/ops/) fill in its `Layer` (nnhls/ops/cpp.py);
the text of each file is produced by `nnhls.codegen.files` from the `Firmware` built here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue

from nnhls import ops, quoting
from nnhls.dialects import hls
from nnhls.dialects.kinds import IOType, PipelineStyle
from nnhls.dialects.types import ArrayType, FixedPointType, StreamType
from nnhls.errors import CodegenError
from nnhls.ops.cpp import Constant, Layer, Value

LAYER_CONSTANTS = ("w", "b", "scale", "bias", "table", "param", "exp_table", "inv_table")
"""Suffixes of a layer's constants (`fc1_w`), each with `_t`, `_raw`, `_rows`, `_cols` forms."""
LAYER_TYPES = ("weight", "bias", "scale", "table", "param", "exp_table", "inv_table", "result", "result_pixel")
"""Suffixes of a layer's typedefs (`fc1_weight_t`)."""


def _layer_names(stem: str, n_outputs: int) -> tuple[list[str], list[str]]:
    """(locals, globals) a layer stem generates: output variables; types, sizes, structs, constants."""
    outs = [f"{stem}_out"] if n_outputs == 1 else [f"{stem}_out{i}" for i in range(n_outputs)]
    globals_ = [f"config_{stem}", *(f"N_{o.upper()}" for o in outs)]
    globals_ += [f"{stem}_{t}_t" for t in LAYER_TYPES]
    if n_outputs > 1:  # results of several types (hls.split): a typedef each
        globals_ += [f"{stem}_result{i}{t}_t" for i in range(n_outputs) for t in ("", "_pixel")]
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


__all__ = ["Constant", "Firmware", "Layer", "NameTable", "Value", "build_firmware", "c_identifier", "find_func", "is_c_identifier"]


def c_identifier(text: str) -> str:
    """A C identifier stem made from a layer name (`dense/1` -> `dense_1`, `1x` -> `l_1x`)."""
    return quoting.cpp_identifier(text)


def is_c_identifier(text: str) -> bool:
    return quoting.is_legal_identifier(text)


# ----- the firmware model -------------------------------------------------------------------------------


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
        for index, value in enumerate(outputs):
            if value in inputs or value.var in (v.var for v in outputs[:index]):
                why = "is a model input" if value in inputs else "is returned twice"
                raise CodegenError(
                    f"hls.return operand {index} ('{value.var}') {why}: every model output must be a distinct "
                    "layer result (return a copy, e.g. a linear hls.activation, as lower-nn-to-hls does)"
                )
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
        elif len({r.type for r in results}) == 1:  # e.g. hls.clone: one typedef for all
            outputs = [self.new_value(r, f"{name}_out{i}", f"{name}_result") for i, r in enumerate(results)]
        else:  # results of several types (hls.split): a typedef each
            outputs = [self.new_value(r, f"{name}_out{i}", f"{name}_result{i}") for i, r in enumerate(results)]
        layer = Layer(name, op.layer_name, op, inputs, outputs, "", None)
        ops.kernel_rules(op).emit(op, layer)
        return layer


def build_firmware(module: ModuleOp | hls.FuncOp) -> Firmware:
    """The firmware model of the (single) hls.func of a module."""
    func = find_func(module)
    quoting.check_cpp_identifier(func.sym_name.data, "ProjectName")
    return _Builder(func).build()
