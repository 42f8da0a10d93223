"""lower-nn-to-hls{io-type=io_parallel|io_stream}: one `hls.func` per model, one kernel per layer.

Each `func.func` of nn ops becomes an `hls.func` of the same name. `nn.input` ops disappear into
the function arguments (typed by the input layer's result precision); the model outputs go to
`hls.return`. Every value's element type is its layer's result precision (run nn-infer-precision
first; types still "auto" or absent fall back to the model default). Weights, biases, scales,
parameters and tables become integer mantissas of their fixed-point types, quantized with the
type's quantization mode and saturating, never wrapping (`nnhls.dialects.fixed.constant_mantissas`). Schedule properties (strategy,
reuse factor, parallelization factor) and nn-schedule's estimates (`multipliers`, `latency`, `bops`,
`ii`) are carried onto the kernels.

- io_parallel: values are `!hls.array<shape x T>` (fully partitioned arrays); the top function
  is pipelined (or dataflow if nn-schedule chose it) with nn-schedule's pipeline interval.
- io_stream: values are `!hls.stream<shape x T, depth N>` of packed pixels with N = the number of
  pixels; convolutions and average pooling counting padded positions get an explicit `hls.pad`
  (max pooling, and average pooling that excludes padding, keep their pads: zeros would change
  their result); a value read by several consumers goes through `hls.clone`; the top is dataflow.

Ops without a one-to-one kernel: merges of k > 2 inputs become chains of binary `hls.merge` (or
`hls.concat`) with exact intermediate types; an average of k > 2 inputs is an add chain followed
by an `hls.batchnorm` scaling by 1/k (rounded down, so it never overflows); a merge with an
`nn.constant` that is uniform over the spatial axes becomes an `hls.batchnorm`; dropout and
identity are forwarded, or become `hls.cast` when their result type differs.

Before:

    func.func @m(%arg: tensor<4xf32>) -> tensor<2xf32> {
      %x = nn.input %arg {layer = "input_1", precision = {result = !hls.fixed<16, 6>}} ...
      %d = nn.dense %x {layer = "fc1", weight = dense<...> : tensor<4x2xf32>, ...} ...
      func.return %d : tensor<2xf32>
    }

After (io_parallel):

    hls.func @m io_parallel pipeline {
    ^bb0(%input_1: !hls.array<4x!hls.fixed<16, 6>>):
      %fc1 = hls.dense %input_1 {layer = "fc1", weight = dense<...> : tensor<4x2xi64>,
               weight_t = !hls.fixed<16, 6>, ..., strategy = #hls<strategy latency>, reuse_factor = 1 : i64}
               : (!hls.array<4x!hls.fixed<16, 6>>) -> !hls.array<2x!hls.fixed<36, 16>>
      hls.return %fc1 : !hls.array<2x!hls.fixed<36, 16>>
    }
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import prod

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ArrayAttr, IntegerAttr, ModuleOp, StringAttr, UnitAttr
from xdsl.ir import Attribute, Block, BlockArgument, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from nnhls import ops
from nnhls.dialects import hls, nn
from nnhls.dialects.kinds import ActivationKind, IOType
from nnhls.dialects.names import ssa_name
from nnhls.dialects.schedule import pipeline_settings
from nnhls.dialects.types import ActivationKindAttr, IOTypeAttr, PipelineStyleAttr, StreamType
from nnhls.errors import ConfigWarning, PrecisionError, warn
from nnhls.ops.base import Lowering, LoweringError, int_attr

IO_TYPES = ("io_parallel", "io_stream")


def lower_function(function: func.FuncOp, io_type: str) -> hls.FuncOp:
    """The hls.func of one model function: arguments for the inputs, each op's kernels (its
    rules' `lower`), clones for io_stream fan-out, BRAM marks."""
    block = function.body.block
    model = nn.ModelTypes.of(function)
    inputs = [next((u.operation for u in arg.uses if isinstance(u.operation, nn.InputOp)), None) for arg in block.args]
    lw = Lowering(function, io_type, Block())
    arg_types: list[Attribute] = []
    names: list[str | None] = []
    for arg, op in zip(block.args, inputs, strict=True):
        p = lw.precision(op, "result") if op is not None else model.default
        arg_types.append(lw.hls_type(nn.shape_of(arg), p))
        names.append(ssa_name(op.layer_name) if op is not None else arg.name_hint)
    lw.block = Block(arg_types=arg_types)
    for arg, new_arg, name in zip(block.args, lw.block.args, names, strict=True):
        new_arg.name_hint = name
        lw.values[arg] = new_arg
    for op in block.ops:
        lower_op(op, lw)
    if lw.stream:
        insert_clones(lw.block)
    mark_bram_weights(lw.block, function.attributes.get(nn.BRAM_FACTOR_ATTR))
    quantized = [k for k, op in enumerate(inputs) if op is not None and op.is_quantizer_typed("result")]
    return make_func(function, io_type, lw.block, quantized)


def model_outputs(op: func.ReturnOp, lw: Lowering) -> list[SSAValue]:
    """The returned values; a model input, or a value returned twice, is returned through a copy
    of its own (an identity model, or two outputs of one layer, still get one C++ output array
    each)."""
    outputs: list[SSAValue] = []
    for index, value in enumerate(op.arguments):
        mapped = lw.operand(value)
        if isinstance(mapped, BlockArgument) or mapped in outputs:
            owner = value.owner
            source = owner.layer_name if isinstance(owner, nn.NNLayerOp) else f"input{index}"
            props: dict[str, Attribute | None] = {
                "layer": StringAttr(f"{source}_output{index}"),
                "kind": ActivationKindAttr(ActivationKind.LINEAR),
            }
            mapped = lw.emit(hls.ActivationOp, [mapped], mapped.type, props)
        outputs.append(mapped)
    return outputs


def lower_op(op: Operation, lw: Lowering) -> None:
    """Lower one op of the model function through its rules."""
    if isinstance(op, func.ReturnOp):
        lw.block.add_op(hls.ReturnOp(*model_outputs(op, lw)))
        return
    if not isinstance(op, nn.NNLayerOp):
        raise LoweringError(f"cannot lower {op.name}: only nn ops and func.return are supported")
    rules = ops.rules(op)
    if not rules.accepts_constants:
        check_no_constants(op, lw)
    try:
        results = rules.lower(op, lw)
    except PrecisionError as error:  # a constant or table its type cannot hold, say
        raise LoweringError(f"{op.name} '{op.layer_name}': {error}") from None
    if not results:
        return  # consumed by its readers (a constant)
    if len(results) != len(op.results):
        raise LoweringError(
            f"{op.name} '{op.layer_name}': lowering gave {len(results)} values for {len(op.results)} results"
        )
    for result, value in zip(op.results, results, strict=True):
        lw.values[result] = value


def check_no_constants(op: nn.NNLayerOp, lw: Lowering) -> None:
    """Constants only feed ops whose lowering folds them (add, sub and mul)."""
    for value in op.operands:
        producer = value.owner
        if value in lw.values or not isinstance(producer, nn.ConstantOp):
            continue
        raise LoweringError(
            f"{op.name} '{op.layer_name}': reads the constant '{producer.layer_name}'; "
            "constants are only supported as per-channel operands of add, sub and mul"
        )


def make_func(function: func.FuncOp, io_type: str, block: Block, quantized_inputs: Sequence[int] = ()) -> hls.FuncOp:
    style, interval = pipeline_settings(function, io_type)
    estimates = {
        key: value
        for key, attr in (("latency", nn.LATENCY_ATTR), ("ii", nn.II_ATTR))
        if isinstance(value := function.attributes.get(attr), IntegerAttr)
    }
    return hls.FuncOp.build(
        attributes=estimates,
        properties={
            "sym_name": StringAttr(function.sym_name.data),
            "io_type": IOTypeAttr(IOType(io_type)),
            "pipeline_style": PipelineStyleAttr(style),
            **({"pipeline_interval": int_attr(interval)} if interval is not None else {}),
            **({"quantized_inputs": ArrayAttr([int_attr(k) for k in quantized_inputs])} if quantized_inputs else {}),
        },
        regions=[Region(block)],
    )


# ----- weights in BRAM ------------------------------------------------------------------------------------


def mark_bram_weights(block: Block, bram_factor: Attribute | None) -> None:
    """Flag dense/conv kernels with more weights than BramFactor (hls4ml's rule) for BRAM storage."""
    if not isinstance(bram_factor, IntegerAttr):
        return
    limit = bram_factor.value.data
    for op in block.ops:
        if isinstance(op, hls.DenseOp | hls.ConvBaseOp) and prod(op.weight.get_shape()) > limit:
            op.properties["store_weights_in_bram"] = UnitAttr()


# ----- io_stream fan-out -----------------------------------------------------------------------------------


def insert_clones(block: Block) -> None:
    """Give every stream read by several consumers hls.clone ops with one output per read; past
    CloneOp.MAX_OUTPUTS readers, the last output of each clone feeds the next clone of a chain."""
    values: list[SSAValue] = list(block.args)
    for op in block.ops:
        values += op.results
    for value in values:
        uses = sorted(value.uses, key=lambda u: (_position(block, u.operation), u.index))
        if len(uses) < 2 or not isinstance(value.type, StreamType):
            continue
        owner = value.owner
        base = value.name_hint or "stream"
        layer = owner.layer.data if isinstance(owner, hls.HLSKernelOp) else base
        outputs = _clone_chain(block, value, len(uses), layer)
        for i, (use, out) in enumerate(zip(uses, outputs, strict=True)):
            out.name_hint = f"{base}_cpy{i + 1}"
            use.operation.operands[use.index] = out  # pyright: ignore[reportIndexIssue]


def _clone_chain(block: Block, value: SSAValue, readers: int, layer: str) -> list[SSAValue]:
    """Clones after `value`'s producer giving `readers` copies of it, in reader order."""
    copies: list[SSAValue] = []
    source, anchor, link = value, value.owner, 0
    while readers > 0:
        last = readers <= hls.CloneOp.MAX_OUTPUTS
        width = readers if last else hls.CloneOp.MAX_OUTPUTS
        name = f"{layer}_clone" if link == 0 else f"{layer}_clone{link + 1}"
        clone = hls.CloneOp.build(
            operands=[source],
            result_types=[[value.type] * width],
            properties={"layer": StringAttr(name)},
        )
        if isinstance(anchor, Operation):
            block.insert_op_after(clone, anchor)
        else:
            first = block.first_op
            assert first is not None
            block.insert_op_before(clone, first)
        outs = list(clone.outputs)
        copies += outs if last else outs[:-1]
        readers -= len(outs) if last else len(outs) - 1
        if not last:
            outs[-1].name_hint = f"{name}_next"
        source, anchor, link = outs[-1], clone, link + 1
    return copies


def _position(block: Block, op: Operation) -> int:
    return block.get_operation_index(op)


# ----- the pass ----------------------------------------------------------------------------------------------


def lower_module(module: ModuleOp, io_type: str) -> None:
    """Replace every model function of the module by its hls.func."""
    if io_type not in IO_TYPES:
        raise LoweringError(
            f"lower-nn-to-hls: io-type must be io_parallel or io_stream, got '{io_type}'"
        )
    for function in list(module.ops):
        if not isinstance(function, func.FuncOp):
            continue
        configured = function.attributes.get(nn.IO_TYPE_ATTR)
        if isinstance(configured, IOTypeAttr) and configured.data.value != io_type:
            warn(
                f"model '{function.sym_name.data}': lowering to {io_type} but the configuration "
                f"says {configured.data.value} (nn-schedule's estimates assume the latter)",
                ConfigWarning,
            )
        new = lower_function(function, io_type)
        module.body.block.insert_op_before(new, function)
        function.detach()
        function.erase(safe_erase=False)


@dataclass(frozen=True)
class LowerNNToHLSPass(ModulePass):
    """Lower nn model functions to hls functions (see the module docstring)."""

    name = "lower-nn-to-hls"

    io_type: str = "io_parallel"
    """io_parallel (arrays, pipelined top) or io_stream (FIFOs of pixels, dataflow top)."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        lower_module(op, self.io_type)
