# An unsupported ONNX op is one clean line naming the node, its op type and what is supported.
# RUN: %python %s %t.onnx
# RUN: not nnhls-opt %t.onnx 2>&1 | filecheck %s
# RUN: not nnhls-opt %t.missing.onnx 2>&1 | filecheck %s --check-prefix=MISSING

# CHECK: layer 'fancy' of type 'Einsum' is not supported
# CHECK-SAME: Gemm
# CHECK-NOT: Traceback
# MISSING: {{.*}}missing.onnx
# MISSING-NOT: Traceback

import sys

import onnx
from onnx import TensorProto, helper

node = helper.make_node("Einsum", ["a", "b"], ["y"], name="fancy", equation="i,i->i")
graph = helper.make_graph(
    [node],
    "bad",
    [
        helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 4]),
        helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 4]),
    ],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
)
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), sys.argv[1])
