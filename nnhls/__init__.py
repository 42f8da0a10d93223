"""nnhls: trained neural networks (Keras, ONNX, PyTorch) to synthesizable HLS C++ for FPGAs.

A compiler in the MLIR tradition, built on xDSL: front ends produce the `nn` dialect, passes
configure, type and schedule it and lower it to the `hls` dialect, and codegen writes a C++ project
that builds with Vitis HLS, or with g++ against our own bit-accurate ap_types for emulation.
"""

__version__ = "0.1.0"
