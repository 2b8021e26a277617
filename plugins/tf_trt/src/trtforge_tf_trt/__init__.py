"""trtforge route ``tf_trt``: a frozen TensorFlow graph converted op by op into TensorRT layers.

The replacement for TF-TRT, whose TensorFlow builds are gone since TensorFlow 2.18. Nothing
heavy is imported here: TensorFlow and TensorRT load when a conversion starts.
"""
from __future__ import annotations

ROUTE = "tf_trt"

__all__ = ["ROUTE", "load"]


def load(path: "str | object", *, device: str = "auto") -> object:
    """A program folder written by ``compat.TrtGraphConverterV2.save`` as a callable with
    ``signatures["serving_default"]`` (see :mod:`trtforge_tf_trt.compat`)."""
    from trtforge_tf_trt.compat import load as load_program

    return load_program(path, device=device)  # type: ignore[arg-type]
