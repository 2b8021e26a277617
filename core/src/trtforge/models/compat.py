"""Keep PyTorch, TensorFlow and onnxruntime usable in one process.

Importing ``triton`` (pulled in by torchvision and ``torch.export``) after TensorFlow is loaded
crashes the interpreter with a segmentation fault (measured with tensorflow-cpu 2.21 and
torch 2.14: both carry LLVM). Conversions that mix frameworks (a test session, ``compare``
over several routes) call :func:`torch_after_tensorflow` before importing torch-side modules.
"""
from __future__ import annotations

import logging
import sys
from typing import Any

log = logging.getLogger(__name__)


def torch_after_tensorflow() -> bool:
    """If TensorFlow is loaded and triton is not, make ``import triton`` fail cleanly.

    torch then runs without triton, which it treats as optional and which only GPU kernels
    (inductor) use. Returns True when triton was blocked by this call or before.
    """
    if sys.modules.get("triton", False) is None:
        return True
    if "tensorflow" in sys.modules and "triton" not in sys.modules:
        sys.modules["triton"] = None  # type: ignore[assignment]
        log.info("triton disabled in this process: importing it after TensorFlow crashes Python")
        return True
    return False


def ort_session(model: Any, options: Any = None) -> Any:
    """An onnxruntime CPU session; a model whose IR version is newer than this onnxruntime
    reads (the installed onnx writes IR 14 by default) is retried at the newest it reads."""
    import re

    import onnxruntime as ort

    try:
        return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        found = re.search(r"Unsupported model IR version: (\d+), max supported IR version: (\d+)", str(exc))
        if not found:
            raise
        import onnx

        older = onnx.ModelProto()
        older.CopyFrom(model)
        older.ir_version = int(found.group(2))
        log.info("onnxruntime reads IR <= %s; running the model (IR %s) at that IR version",
                 found.group(2), found.group(1))
        return ort.InferenceSession(older.SerializeToString(), options, providers=["CPUExecutionProvider"])
