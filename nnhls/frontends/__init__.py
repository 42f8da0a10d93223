"""Front ends: a trained model in its framework's terms -> `nn` IR (one op per layer).

    keras.py    Keras 3 / Keras 2 files (.keras, JSON + H5, full .h5) and in-memory models
    onnx.py     ONNX ModelProto or file (shape inference and constant folding built in)
    pytorch.py  PyTorch modules and TorchScript / torch.export archives, through ONNX
    common.py   ModelBuilder (the model function, its inputs, name hints) and the front-end errors
"""
