"""Precision policy of the route (strongly typed networks: precision lives in the graph).

- ``fp32``: every floating tensor and weight is FP32.
- ``fp16`` / ``bf16``: network inputs and outputs keep the model's dtype; floating inputs are
  cast to the reduced type right after the input and back right before each output; weights
  are stored in the reduced type and activations flow in it. FP32 is kept where the reduced
  type overflows or loses too much: reductions (Mean/Sum/Prod), Softmax, Exp/Log/Pow and the
  statistics of batch normalisation (folded into a per-channel scale and shift in FP32, then
  stored in the reduced type). On TensorRT 8.x, which has weak typing only, core's adapter
  turns the same network into builder flags.
- ``int8``: an FP32 network plus explicit Quantize/Dequantize pairs (see ``quant.py``).
"""
from __future__ import annotations

from trtforge.plugin.network_builder import PrecisionPolicy

__all__ = ["PrecisionPolicy"]
