"""hls4ml's `hls4ml.model` shapes: `ModelGraph`, `HLSConfig`, layers and types.

    from nnhls.model import ModelGraph
    from nnhls.model.types import FixedPrecisionType

See nnhls.model.graph (the model object), nnhls.model.layers and nnhls.model.types.
"""

from nnhls.model.graph import HLSConfig, ModelGraph, TraceResult

__all__ = ["HLSConfig", "ModelGraph", "TraceResult"]
