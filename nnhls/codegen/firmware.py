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
    NNHLS_PRAGMA(HLS ARRAY_PARTITION variable=fc1_out complete dim=0)
    nnet::dense<input_1_t, fc1_result_t, config_fc1>(input_1, fc1_out, fc1_w, fc1_b);

Each kernel's rules (`KernelRules.emit`, nnhls/ops/) fill in its `Layer` (nnhls/ops/cpp.py);
the text of each file is produced by `nnhls.codegen.files` from the `Firmware` built here.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import SSAValue

from nnhls import ops
from nnhls.dialects import hls
from nnhls.dialects.kinds import IOType, PipelineStyle
from nnhls.dialects.names import c_identifier, is_c_identifier
from nnhls.dialects.types import ArrayType, FixedPointType, StreamType
from nnhls.errors import CodegenError
from nnhls.ops.cpp import Constant, Layer, Value

__all__ = ["Constant", "Firmware", "Layer", "Value", "build_firmware", "c_identifier", "find_func", "is_c_identifier"]


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
        self.used: set[str] = set()
        self.all_values: list[Value] = []

    def unique(self, base: str) -> str:
        name, n = base, 1
        while name in self.used:
            n += 1
            name = f"{base}_{n}"
        self.used.add(name)
        return name

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
            name = self.unique(c_identifier(arg.name_hint or f"input_{i + 1}"))
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
        name = self.unique(c_identifier(op.layer_name))
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
    if not is_c_identifier(func.sym_name.data):
        raise CodegenError(f"project name '{func.sym_name.data}' is not a valid C identifier")
    return _Builder(func).build()
