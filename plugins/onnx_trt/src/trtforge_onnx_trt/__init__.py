"""The ``onnx_trt`` route: models -> ONNX -> prepared ONNX -> TensorRT's ONNX parser."""
from __future__ import annotations

__version__ = "0.1.0"
ROUTE = "onnx_trt"
