"""Precision policy of the route (strongly typed networks: precision lives in the graph).

- ``fp32``: every floating tensor and weight is FP32.
- ``fp16`` / ``bf16``: network inputs and outputs stay FP32 (the user's dtype) and are cast to
  the reduced type right after the input and back right before the output. Weights are stored
  in the reduced type and activations flow in it. FP32 is kept where the reduced type
  overflows or loses too much: reductions (sum/mean/var), softmax/log-softmax, the statistics
  of layer/group/instance normalisation, and large-range elementwise functions (exp, log, pow,
  cumulative sums). Those converters cast their input up to FP32, compute, and cast back
  (layers named ``<tensor>/to_float32`` and ``<node>/to_float16``). Batch normalisation in
  inference is folded into a per-channel scale and shift, which is safe in the reduced type.
- ``int8``: FP32 network plus explicit Quantize/Dequantize pairs (symmetric, scale =
  amax/127) in front of every convolution, linear and matmul input (per-tensor activation
  ranges calibrated in PyTorch, per-output-channel weight ranges), batch norms folded into
  the convolution before them, and Q/DQ on the residual input of Adds that join a
  convolution branch (so TensorRT fuses the Add into that INT8 convolution); pooling and
  softmax stay in float.
  Accuracy control leaves the ops whose rounding hurts the output most in float. See
  ``calibrate.py``, ``accuracy.py`` and core's ``trtforge.int8.calibration_methods``.
"""
from __future__ import annotations

from trtforge.plugin.network_builder import PrecisionPolicy

__all__ = ["PrecisionPolicy"]
