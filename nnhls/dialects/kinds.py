"""The enumerations both dialects use: configuration choices and layer kinds.

Plain Python (`StrEnum`), no IR: the `nn` and `hls` dialects wrap them in enum attributes
(`nnhls.dialects.types`), and the config model, the passes and the code generator compare
against them.
"""

from __future__ import annotations

from xdsl.utils.str_enum import StrEnum


class Strategy(StrEnum):
    """How a dense/conv layer trades multipliers for latency (hls4ml's Strategy key)."""

    LATENCY = "latency"
    RESOURCE = "resource"
    UNROLLED = "unrolled"


class IOType(StrEnum):
    IO_PARALLEL = "io_parallel"
    IO_STREAM = "io_stream"


class PipelineStyle(StrEnum):
    AUTO = "auto"
    PIPELINE = "pipeline"
    DATAFLOW = "dataflow"


class SoftmaxImpl(StrEnum):
    STABLE = "stable"
    LATENCY = "latency"
    ARGMAX = "argmax"


class PoolOp(StrEnum):
    MAX = "max"
    AVERAGE = "average"


class ActivationKind(StrEnum):
    """Element-wise activations; parameters (alpha, theta, min/max) travel as op properties."""

    LINEAR = "linear"
    RELU = "relu"
    RELU6 = "relu6"
    LEAKY_RELU = "leaky_relu"
    THRESHOLDED_RELU = "thresholded_relu"
    ELU = "elu"
    SELU = "selu"
    PRELU = "prelu"
    SIGMOID = "sigmoid"
    HARD_SIGMOID = "hard_sigmoid"
    TANH = "tanh"
    HARD_TANH = "hard_tanh"
    SOFTPLUS = "softplus"
    SOFTSIGN = "softsign"
    SWISH = "swish"
    GELU = "gelu"
    CLIP = "clip"


TABLE_ACTIVATIONS = frozenset(
    {
        ActivationKind.ELU,
        ActivationKind.SELU,
        ActivationKind.SIGMOID,
        ActivationKind.TANH,
        ActivationKind.SOFTPLUS,
        ActivationKind.SOFTSIGN,
        ActivationKind.SWISH,
        ActivationKind.GELU,
    }
)
"""Activations computed through a lookup table in hardware (TableSize / table precision apply)."""




class MergeKind(StrEnum):
    """The element-wise binary kernels of `hls.merge`."""

    ADD = "add"
    SUB = "sub"
    MUL = "mul"
    AVERAGE = "average"
    MAXIMUM = "maximum"
    MINIMUM = "minimum"
