"""Make the bundled quantization-aware examples: the jet tagger trained with QKeras, and the same
kind of network written as a QONNX graph.

    KERAS_BACKEND=torch python examples/make_quantized_examples.py [--qonnx-only]

Needs the test dependencies (qkeras-v3 for training, qonnx to compute the QONNX reference outputs);
nnhls itself reads the files without either. Writes, next to this script:

  qkeras_jet_tagger/model.keras        16 -> 32 -> 32 -> 5, trained with quantizers in the loop:
                                       a 10-bit input quantizer, 6-bit weights (fc1, output),
                                       power-of-two weights (fc2: products are shifts), 6-bit relus
  qkeras_jet_tagger/inputs.npy         200 test samples (float32)
  qkeras_jet_tagger/qkeras_logits.npy  QKeras's outputs before the softmax (the bit-exact target)
  qonnx_jet_tagger/model.onnx          QONNX: Quant on the input, the weights and after every Relu
                                       (the QKeras model's quantized weights, 4-bit activations)
  qonnx_jet_tagger/inputs.npy          the same samples
  qonnx_jet_tagger/qonnx_outputs.npy   qonnx's execute_onnx outputs (the bit-exact target)

The data is the synthetic jet data of make_jet_tagger.py; everything is seeded.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_jet_tagger import N_CLASSES, N_FEATURES, SEED, synthetic_jets  # noqa: E402

QKERAS_DIR = HERE / "qkeras_jet_tagger"
QONNX_DIR = HERE / "qonnx_jet_tagger"


def train_qkeras(x_train: np.ndarray, y_train: np.ndarray):
    import keras
    from qkeras import QActivation, QDense, quantized_bits, quantized_po2, quantized_relu

    keras.utils.set_random_seed(SEED)
    inputs = keras.Input(shape=(N_FEATURES,), name="input_1")
    h = QActivation(quantized_bits(10, 3, alpha=1), name="input_quant")(inputs)
    h = QDense(32, kernel_quantizer=quantized_bits(6, 0, alpha=1),
               bias_quantizer=quantized_bits(6, 0, alpha=1), name="fc1")(h)  # fmt: skip
    h = QActivation(quantized_relu(6, 2), name="relu1")(h)
    h = QDense(32, kernel_quantizer=quantized_po2(4, 1),
               bias_quantizer=quantized_bits(8, 2, alpha=1), name="fc2")(h)  # fmt: skip
    h = QActivation(quantized_relu(6, 2), name="relu2")(h)
    h = QDense(N_CLASSES, kernel_quantizer=quantized_bits(6, 0, alpha=1),
               bias_quantizer=quantized_bits(6, 0, alpha=1), name="output")(h)  # fmt: skip
    outputs = keras.layers.Activation("softmax", name="softmax")(h)
    model = keras.Model(inputs, outputs, name="qkeras_jet_tagger")
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=10, batch_size=256, validation_split=0.1, verbose=2)
    return model


def quant_node(name: str, x: str, scale: float, bits: int, signed: bool, narrow: bool = False):
    """A QONNX Quant node (scale and zero point 0 given as initializers) and its initializers."""
    from onnx import helper, numpy_helper

    inits = [
        numpy_helper.from_array(np.array(scale, np.float32), f"{name}_scale"),
        numpy_helper.from_array(np.array(0.0, np.float32), f"{name}_zeropt"),
        numpy_helper.from_array(np.array(float(bits), np.float32), f"{name}_bits"),
    ]
    node = helper.make_node(
        "Quant", [x, f"{name}_scale", f"{name}_zeropt", f"{name}_bits"], [f"{name}_out"], name=name,
        domain="qonnx.custom_op.general", signed=int(signed), narrow=int(narrow),
        rounding_mode="ROUND",
    )  # fmt: skip
    return node, inits


def qonnx_model(weights: list[tuple[np.ndarray, np.ndarray]]):
    """Input Quant(10 bits, step 2^-6) -> [MatMul(Quant(W)) + Add(Quant(b)) -> Relu -> Quant(4
    bits, unsigned, step 2^-2)] x 2 -> MatMul(Quant(W)) + Add(Quant(b)) -> logits (every value on a
    grid, so qonnx's float32 arithmetic is exact)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    node, more = quant_node("input_quant", "x", 2.0**-6, 10, True)
    nodes.append(node)
    inits += more
    value = node.output[0]
    for k, (w, b) in enumerate(weights):
        name = f"fc{k + 1}" if k + 1 < len(weights) else "output"
        inits.append(numpy_helper.from_array(w.astype(np.float32), f"{name}_w"))
        inits.append(numpy_helper.from_array(b.astype(np.float32), f"{name}_b"))
        step = 2.0 ** np.ceil(np.log2(np.abs(w).max() / 31))  # 6-bit narrow grid covering w
        wq, more = quant_node(f"{name}_wquant", f"{name}_w", float(step), 6, True, narrow=True)
        nodes.append(wq)
        inits += more
        b_step = 2.0 ** np.ceil(np.log2(max(np.abs(b).max(), 2.0**-8) / 127))  # 8-bit grid covering b
        bq, more = quant_node(f"{name}_bquant", f"{name}_b", float(b_step), 8, True)
        nodes.append(bq)
        inits += more
        nodes.append(helper.make_node("MatMul", [value, wq.output[0]], [f"{name}_mm"], name=f"{name}_matmul"))
        nodes.append(helper.make_node("Add", [f"{name}_mm", bq.output[0]], [f"{name}_out"], name=name))
        value = f"{name}_out"
        if name != "output":
            nodes.append(helper.make_node("Relu", [value], [f"{name}_relu"], name=f"{name}_relu"))
            node, more = quant_node(f"{name}_act_quant", f"{name}_relu", 2.0**-2, 4, False)
            nodes.append(node)
            inits += more
            value = node.output[0]
    graph = helper.make_graph(
        nodes, "qonnx_jet_tagger",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, N_FEATURES])],
        [helper.make_tensor_value_info(value, TensorProto.FLOAT, [1, N_CLASSES])],
        inits,
    )  # fmt: skip
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("qonnx.custom_op.general", 1)]
    return helper.make_model(graph, opset_imports=opsets, producer_name="nnhls examples")


def qonnx_outputs(model, x: np.ndarray) -> np.ndarray:
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model

    wrapper = cleanup_model(ModelWrapper(model))  # shapes inferred (execute_onnx needs them)
    name_in, name_out = wrapper.graph.input[0].name, wrapper.graph.output[0].name
    rows = [execute_onnx(wrapper, {name_in: x[i : i + 1]})[name_out] for i in range(len(x))]
    return np.concatenate(rows).astype(np.float32)


def write_qonnx(model, x_test: np.ndarray) -> None:
    """The QONNX graph carries the QKeras model's float weights; its own Quant nodes quantize them."""
    import onnx

    weights = [tuple(np.asarray(v) for v in model.get_layer(n).get_weights()) for n in ("fc1", "fc2", "output")]
    proto = qonnx_model(weights)  # pyright: ignore[reportArgumentType]
    QONNX_DIR.mkdir(exist_ok=True)
    onnx.save(proto, QONNX_DIR / "model.onnx")
    np.save(QONNX_DIR / "inputs.npy", x_test)
    np.save(QONNX_DIR / "qonnx_outputs.npy", qonnx_outputs(proto, x_test))


def main() -> None:
    import keras

    rng = np.random.default_rng(SEED)
    x_train, y_train = synthetic_jets(20000, rng)
    x_test, _ = synthetic_jets(200, rng)

    if "--qonnx-only" in sys.argv:  # rebuild the QONNX example from the saved QKeras model
        from qkeras.utils import _add_supported_quantized_objects

        objects: dict = {}
        _add_supported_quantized_objects(objects)
        model = keras.models.load_model(QKERAS_DIR / "model.keras", custom_objects=objects)
    else:
        model = train_qkeras(x_train, y_train)
        QKERAS_DIR.mkdir(exist_ok=True)
        model.save(QKERAS_DIR / "model.keras")
        logits = keras.Model(model.inputs, model.get_layer("output").output)
        np.save(QKERAS_DIR / "inputs.npy", x_test)
        np.save(QKERAS_DIR / "qkeras_logits.npy", np.asarray(logits.predict(x_test, verbose=0), np.float32))
    write_qonnx(model, x_test)
    print(f"wrote {QKERAS_DIR} and {QONNX_DIR}")


if __name__ == "__main__":
    main()
