# nnhls-opt reads an ONNX file directly: the imported nn IR keeps node names, turns the
# channels-first Conv graph channels-last once at the input, and leaves no transposes inside.
# RUN: %python %s %t.onnx && nnhls-opt %t.onnx --name tiny_cnn | filecheck %s

# CHECK-LABEL: func.func @tiny_cnn
# CHECK-SAME: (%x: tensor<3x8x8xf32>) -> tensor<5xf32>
# CHECK: nn.input %x {layer = "x"}
# CHECK-NEXT: nn.transpose %{{.*}} perm = array<i64: 1, 2, 0>
# CHECK-SAME: -> tensor<8x8x3xf32>
# CHECK-NOT: nn.transpose
# CHECK: nn.conv2d %{{.*}} {layer = "conv1"
# CHECK-SAME: (tensor<8x8x3xf32>) -> tensor<6x6x4xf32>
# CHECK: nn.activation %conv1 {layer = "relu1", kind = #hls<activation relu>, layer_type = "Relu"}
# CHECK: nn.flatten
# CHECK: nn.dense %{{.*}} {layer = "fc"
# CHECK-SAME: -> tensor<5xf32>
# CHECK: nn.softmax %{{.*}} {layer = "prob"
# CHECK: func.return

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(0)
conv_w = numpy_helper.from_array(rng.normal(size=(4, 3, 3, 3)).astype(np.float32), "conv_w")
conv_b = numpy_helper.from_array(rng.normal(size=(4,)).astype(np.float32), "conv_b")
fc_w = numpy_helper.from_array(rng.normal(size=(4 * 6 * 6, 5)).astype(np.float32), "fc_w")
fc_b = numpy_helper.from_array(rng.normal(size=(5,)).astype(np.float32), "fc_b")
nodes = [
    helper.make_node("Conv", ["x", "conv_w", "conv_b"], ["c"], name="conv1"),
    helper.make_node("Relu", ["c"], ["r"], name="relu1"),
    helper.make_node("Flatten", ["r"], ["f"], name="flat"),
    helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["g"], name="fc"),
    helper.make_node("Softmax", ["g"], ["y"], name="prob"),
]
graph = helper.make_graph(
    nodes,
    "tiny_cnn",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])],
    [conv_w, conv_b, fc_w, fc_b],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
onnx.checker.check_model(model)
onnx.save(model, sys.argv[1])
