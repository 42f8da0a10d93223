# nnhls-opt reads a Keras 3 .keras archive (and a Keras 2 JSON + H5 pair): layer names are kept and
# a fused activation becomes its own op named <layer>_<activation>, as hls4ml configs expect.
# RUN: %python %s %t.keras %t.json %t.weights.h5
# RUN: nnhls-opt %t.keras --name tagger | filecheck %s
# RUN: nnhls-opt %t.json --weights %t.weights.h5 --name tagger | filecheck %s

# CHECK-LABEL: func.func @tagger(%{{.*}}: tensor<16xf32>) -> tensor<5xf32>
# CHECK: nn.input %{{.*}} {layer = "inputs"}
# CHECK: nn.dense %{{.*}} {layer = "fc1"
# CHECK-SAME: (tensor<16xf32>) -> tensor<8xf32>
# CHECK: nn.activation %fc1 {layer = "fc1_relu", kind = #hls<activation relu>, layer_type = "Dense"}
# CHECK: nn.batchnorm %{{.*}} {layer = "bn"
# CHECK-NOT: dropout
# CHECK: nn.dense %{{.*}} {layer = "output"
# CHECK: nn.softmax %output {layer = "output_softmax", layer_type = "Dense"}
# CHECK: func.return

import sys

import keras

model = keras.Sequential(
    [
        keras.Input((16,), name="inputs"),
        keras.layers.Dense(8, activation="relu", name="fc1"),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.Dropout(0.2, name="drop"),
        keras.layers.Dense(5, activation="softmax", name="output"),
    ],
    name="tagger",
)
model.save(sys.argv[1])
with open(sys.argv[2], "w") as f:
    f.write(model.to_json())
model.save_weights(sys.argv[3])
