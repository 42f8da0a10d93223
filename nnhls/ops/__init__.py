"""One module per op: everything the compiler knows about each `nn` op and `hls` kernel.

    base.py       the interfaces (OpRules, KernelRules), the registry (register, rules,
                  kernel_rules) and what rules work with (LayerTypes, ScheduleInfo, Lowering)
    exact.py      exact fixed-point arithmetic on numpy batches (the emulator's building blocks)
    cpp.py        the C++ side of a kernel call (Layer, ConfigStruct, Constant, Value)
    io.py, constant.py, noop.py, dense.py, conv.py, pool.py, batchnorm.py, activation.py,
    softmax.py, merge.py, concat.py, dot.py, shape.py, clone.py, split.py, quantize.py, recurrent.py,
    layernorm.py, embedding.py   the ops

Importing this package registers every built-in op. Adding an op: see "Adding an op" in
README.md.
"""

from nnhls.ops import (  # noqa: F401 - imported to register their rules
    activation,
    batchnorm,
    clone,
    concat,
    constant,
    conv,
    dense,
    dot,
    embedding,
    io,
    layernorm,
    merge,
    noop,
    pool,
    quantize,
    recurrent,
    shape,
    softmax,
    split,
)
from nnhls.ops.base import (
    KernelRules,
    OpRules,
    hls_dialect,
    kernel_op_classes,
    kernel_rules,
    nn_dialect,
    nn_op_classes,
    register,
    register_attribute,
    rules,
    rules_by_name,
)

__all__ = [
    "KernelRules",
    "OpRules",
    "hls_dialect",
    "kernel_op_classes",
    "kernel_rules",
    "nn_dialect",
    "nn_op_classes",
    "register",
    "register_attribute",
    "rules",
    "rules_by_name",
]
