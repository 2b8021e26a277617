"""Keep PyTorch and TensorFlow usable in one process.

Importing ``triton`` (pulled in by torchvision and ``torch.export``) after TensorFlow is loaded
crashes the interpreter with a segmentation fault (measured with tensorflow-cpu 2.21 and
torch 2.14: both carry LLVM). Conversions that mix frameworks (a test session, ``compare``
over several routes) call :func:`torch_after_tensorflow` before importing torch-side modules.
"""
from __future__ import annotations

import logging
import sys

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
