"""Fit an ONNX model to the opsets the installed TensorRT ONNX parser reads.

Parsers older than a model's opset do not always refuse it: TensorRT 8.6 reads ReduceMean-18
(axes as an input) as "reduce every axis" and builds a wrong network. So a model newer than
``TrtFacts.max_onnx_opset`` is down-converted with onnx's version converter, checked, and
refused with the reason when that is not possible.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from trtforge.errors import ConversionError

from trtforge_onnx_trt import ROUTE

if TYPE_CHECKING:
    from trtforge.plugin.context import ConversionContext

log = logging.getLogger(__name__)


def default_opset(model: Any) -> int:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    return 1


def export_opset(requested: int, parser_max: int) -> int:
    """The opset to export at: what the user asked for, capped at what the parser reads."""
    return min(int(requested), int(parser_max))


def fit_opset(model: Any, parser_max: int, name: str, label: str,
              ctx: "ConversionContext | None" = None) -> Any:
    """``model`` itself when the parser reads its opset, else a down-converted copy."""
    version = default_opset(model)
    if version <= parser_max:
        return model
    import onnx
    from onnx import version_converter

    try:
        converted = version_converter.convert_version(model, parser_max)
        onnx.checker.check_model(converted)
    except Exception as exc:  # the converter raises RuntimeError/ValidationError/...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConversionError(
            f"{name} uses ONNX opset {version}, but the ONNX parser of {label} reads opsets up "
            f"to {parser_max}, and onnx's version converter could not convert it down: {first}",
            route=ROUTE,
            hint=f"export the model again at opset {parser_max} (torch: "
            f"torch.onnx.export(..., dynamo=False, opset_version={parser_max}); tf2onnx: "
            f"--opset {parser_max}), or use a newer TensorRT") from None
    message = f"opset {version} -> {parser_max} (the ONNX parser of {label} reads up to {parser_max})"
    log.info("%s: %s", name, message)
    if ctx is not None:
        ctx.note(message)
    return converted
