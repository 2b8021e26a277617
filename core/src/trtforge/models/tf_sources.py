"""What every TensorFlow runner must agree on about a SavedModel signature.

check, debug and benchmark each call ``serving_default``; they must map positional inputs
(the network's order) onto the signature's keyword inputs the same way, or one of them feeds
``a`` where the other feeds ``b``.
"""
from __future__ import annotations

from typing import Any


def savedmodel_input_names(signature: Any) -> list[str]:
    """The signature's keyword inputs in the order the exported graph takes them.

    ``tf.nest`` flattens a signature's keyword arguments by sorted name, and tf2onnx exports
    the flattened inputs in that order, so sorted is the network's order -- whatever order
    the mapping itself happens to come in.
    """
    return sorted(signature.structured_input_signature[1])
