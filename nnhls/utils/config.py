"""`nnhls.utils.config`: where hls4ml scripts import the configuration builders from
(`from hls4ml.utils.config import config_from_keras_model`). The builders live in `nnhls.utils`."""

from nnhls.utils import config_from_keras_model, config_from_onnx_model, config_from_pytorch_model

__all__ = ["config_from_keras_model", "config_from_onnx_model", "config_from_pytorch_model"]
