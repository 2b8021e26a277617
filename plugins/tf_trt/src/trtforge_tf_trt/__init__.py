"""trtforge route ``tf_trt``: a frozen TensorFlow graph converted op by op into TensorRT layers.

The replacement for TF-TRT, whose TensorFlow builds are gone since TensorFlow 2.18. Nothing
heavy is imported here: TensorFlow and TensorRT load when a conversion starts.
"""
from __future__ import annotations

ROUTE = "tf_trt"

__all__ = ["ROUTE"]
