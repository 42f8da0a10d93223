"""`nn.embedding` -> `hls.embedding` (nnet::embedding): rows of a constant table looked up by
integer indices (Keras Embedding, PyTorch nn.Embedding, ONNX Gather on a constant table).

    %y = nn.embedding %ids {layer = "embed", embeddings = dense<...> : tensor<100x8xf32>}
         : (tensor<12xf32>) -> tensor<12x8xf32>

Each input value is an index: its integer part (floor) clamped to [0, V - 1] picks a row of the
(V, D) table; the result appends the D axis to the input shape. The table is a ROM: no multiplier.

Precision: `embeddings` `fitted` to the table; `result` = embeddings. The input type should hold
the indices (an integer type such as `ufixed<8,8>`): a type too narrow for V - 1 gets a warning
naming the layer. Estimates: no multiplier, one cycle per index.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import ClassVar

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, StringAttr, TensorType
from xdsl.ir import SSAValue
from xdsl.irdl import irdl_op_definition, operand_def, prop_def, result_def

from nnhls.dialects import hls, nn
from nnhls.dialects.bitgrowth import fitted
from nnhls.dialects.types import FixedPointType
from nnhls.errors import PrecisionWarning, warn
from nnhls.ops import exact as ex
from nnhls.ops.base import (
    Estimate,
    KernelRules,
    LayerTypes,
    Lowering,
    OpRules,
    ScheduleInfo,
    elementwise_estimate,
    quantize,
    register,
)
from nnhls.ops.cpp import Layer


@irdl_op_definition
class EmbeddingOp(nn.NNLayerOp):
    """Table rows looked up by the input's values (see the module docstring)."""

    name = "nn.embedding"
    input = operand_def(TensorType)
    output = result_def(TensorType)
    embeddings = prop_def(DenseIntOrFPElementsAttr)

    PRECISION_VARS: ClassVar[tuple[str, ...]] = ("embeddings", "result")

    def __init__(self, input: SSAValue, embeddings: np.ndarray, layer: str):
        shape = (*nn.shape_of(input), embeddings.shape[1])
        super().__init__(
            operands=[input],
            result_types=[nn.float_tensor(shape)],
            properties={"layer": StringAttr(layer), "embeddings": nn.dense_attr(embeddings)},
        )

    def verify_layer(self) -> None:
        table = self.embeddings.get_shape()
        if len(table) != 2 or table[0] < 1:
            raise self.fail(f"embeddings must be a (rows, width) table, got shape {table}")
        want = (*nn.shape_of(self.input), table[1])
        if nn.shape_of(self.output) != want:
            raise self.fail(f"result shape {nn.shape_of(self.output)} must be {want}")


@irdl_op_definition
class EmbeddingKernelOp(hls.HLSKernelOp):
    """nnet::embedding: for each input value x, i = floor(x) clamped to [0, V - 1] (an assignment
    to an integer type: AP_TRN floors), y[..., :] = cast<result>(embeddings[i, :])."""

    name = "hls.embedding"
    input = operand_def()
    output = result_def()
    embeddings = prop_def(DenseIntOrFPElementsAttr)
    embeddings_t = prop_def(FixedPointType)

    WEIGHTS: ClassVar[tuple[tuple[str, str], ...]] = (("embeddings", "embeddings_t"),)

    def verify_kernel(self) -> None:
        table = self.embeddings.get_shape()
        want = (*hls.shape_of(self.input), table[1])
        if hls.shape_of(self.output) != want:
            raise self.fail(f"result shape {hls.shape_of(self.output)} must be {want}")


@register
class EmbeddingRules(OpRules):
    op = EmbeddingOp
    type_names = ("Embedding", "Gather")

    def infer_precision(self, op: nn.NNLayerOp, lt: LayerTypes) -> None:
        assert isinstance(op, EmbeddingOp)
        table = lt.get("embeddings", lambda: fitted(nn.to_numpy(op.embeddings), lt.default))
        lt.get("result", lambda: table)

    def estimate(self, op: nn.NNLayerOp, s: ScheduleInfo) -> Estimate:
        return elementwise_estimate(op, s, 0, 1)

    def lower(self, op: nn.NNLayerOp, lw: Lowering) -> Sequence[SSAValue]:
        assert isinstance(op, EmbeddingOp)
        where = f"{op.name} '{op.layer_name}'"
        rows = op.embeddings.get_shape()[0]
        x = lw.operand(op.input)
        index_t = lw.element(x)
        if index_t.max_value < rows - 1 or index_t.min_value > 0:
            warn(
                f"{where}: its input type {index_t} holds indices {max(index_t.min_value, 0):g} to {index_t.max_value:g} only, "
                f"the table has {rows} rows (give the input an integer type such as ufixed<{max(rows - 1, 1).bit_length()},{max(rows - 1, 1).bit_length()}>)",
                PrecisionWarning,
            )
        props = lw.common(op) | {
            "embeddings": quantize(nn.to_numpy(op.embeddings), lw.precision(op, "embeddings"), f"{where} embeddings"),
            "embeddings_t": lw.type_attr(op, "embeddings"),
        }
        return [lw.emit(EmbeddingKernelOp, [x], lw.out_type(op), props)]

    def reference(self, op: nn.NNLayerOp, args: Sequence[np.ndarray], batch: int) -> Sequence[np.ndarray]:
        assert isinstance(op, EmbeddingOp)
        table = nn.to_numpy(op.embeddings).astype(np.float64)
        index = np.clip(np.floor(args[0]), 0, table.shape[0] - 1).astype(np.int64)
        return [table[index]]


@register
class EmbeddingKernel(KernelRules):
    op = EmbeddingKernelOp

    def emulate(self, op: hls.HLSKernelOp, args: Sequence[ex.FixedArray]) -> Sequence[ex.FixedArray]:
        assert isinstance(op, EmbeddingKernelOp)
        x = args[0]
        table = ex.mantissas_of(op.embeddings)
        frac = x.t.fractional
        floor = ex.obj(x.m) >> frac if frac >= 0 else ex.obj(x.m) << -frac
        index = np.clip(floor, 0, table.shape[0] - 1).astype(np.int64)
        return [ex.cast(ex.Exact(table[index], op.embeddings_t.precision.fractional), ex.result_t(op))]

    def emit(self, op: hls.HLSKernelOp, layer: Layer) -> None:
        assert isinstance(op, EmbeddingKernelOp)
        rows, width = op.embeddings.get_shape()
        value = layer.inputs[0]
        layer.constant("embeddings", op.embeddings, op.embeddings_t, f"embeddings ({rows} x {width})")
        config = layer.struct("embedding_config")
        config.const("n_in", prod(value.shape)).const("n_rows", rows).const("n_out", width)
        layer.io(config)
        config.const("reuse_factor", layer.reuse_factor)
        config.typedef("embeddings_t", f"{layer.name}_embeddings_t")
        layer.kernel, layer.header = "embedding", "nnet_embedding.h"
        layer.args = [f"{layer.name}_embeddings"]
