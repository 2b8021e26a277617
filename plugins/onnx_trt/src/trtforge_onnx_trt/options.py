"""The route's options (``convert(..., options={...})`` / ``--option KEY=VALUE``), validated once."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any, Mapping

from trtforge.int8.accuracy_control import min_cosine_option
from trtforge.errors import UsageError

DEFAULT_OPSET = 17
TORCH_EXPORTERS = ("auto", "dynamo", "torchscript")
KEEP_ONNX_ENV = "TRTFORGE_KEEP_ONNX"  # scripts that want every engine's prepared ONNX
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _flag(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise UsageError(f"option {key} must be true or false, got {value!r}",
                     hint=f"e.g. --option {key}=true")


def _names(value: Any, key: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [part for part in value.split(",") if part]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"option {key} must be a list of names, got {value!r}",
                         hint=f'e.g. --option {key}=\'["a", "b"]\'')
    return tuple(value)


@dataclass(frozen=True)
class RouteOptions:
    disable_passes: tuple[str, ...] = ()
    input_names: tuple[str, ...] | None = None
    output_names: tuple[str, ...] | None = None
    opset: int = DEFAULT_OPSET
    inputs_as_nchw: tuple[str, ...] | None = None
    keep_io_types: bool = True
    fp32_ops: tuple[str, ...] = ()
    signature: str = "serving_default"
    torch_exporter: str = "auto"
    int8_min_cosine: float = 0.99  # INT8 accuracy control target; 0 disables it
    # Keep the prepared ONNX bytes on engine.extras["artifacts"]["onnx"] (off: a ResNet50's
    # weights would stay in memory with every engine); default from $TRTFORGE_KEEP_ONNX.
    keep_onnx: bool = False

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> "RouteOptions":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise UsageError(
                f"onnx_trt does not know the option(s) {', '.join(unknown)}",
                hint=f"known options: {', '.join(sorted(known))}",
            )
        try:
            opset = int(options.get("opset", DEFAULT_OPSET))
        except (TypeError, ValueError):
            raise UsageError(f"option opset must be an integer, got {options.get('opset')!r}",
                             hint="e.g. --option opset=17") from None
        if opset < 13:
            raise UsageError(f"opset {opset} is too old for this route",
                             hint="use opset 13 or newer (17 is the default)")
        exporter = str(options.get("torch_exporter", "auto"))
        if exporter not in TORCH_EXPORTERS:
            raise UsageError(f"unknown torch_exporter {exporter!r}", hint=f"use one of {TORCH_EXPORTERS}")
        return cls(
            disable_passes=_names(options.get("disable_passes"), "disable_passes") or (),
            input_names=_names(options.get("input_names"), "input_names"),
            output_names=_names(options.get("output_names"), "output_names"),
            opset=opset,
            inputs_as_nchw=_names(options.get("inputs_as_nchw"), "inputs_as_nchw"),
            keep_io_types=bool(options.get("keep_io_types", True)),
            fp32_ops=_names(options.get("fp32_ops"), "fp32_ops") or (),
            signature=str(options.get("signature", "serving_default")),
            torch_exporter=exporter,
            int8_min_cosine=min_cosine_option(options),  # validated as every route does
            keep_onnx=_flag(options.get("keep_onnx", os.environ.get(KEEP_ONNX_ENV, "")), "keep_onnx"),
        )
