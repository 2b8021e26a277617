"""Triton's own model-config schema, for tests: ``ModelConfig`` from the tritonclient package.

tritonclient ships ``model_config_pb2`` inside ``tritonclient.grpc``, whose ``__init__`` needs
grpcio (the ``[grpc]`` extra, which also caps protobuf below what this environment pins); the
generated module itself needs only protobuf, so it is loaded from its file.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

_MODULE: Any = None


def model_config_pb2() -> Any:
    global _MODULE
    if _MODULE is None:
        spec = importlib.util.find_spec("tritonclient")
        assert spec is not None and spec.origin, "tritonclient is not installed (requirements-dev.txt)"
        path = Path(spec.origin).parent / "grpc" / "model_config_pb2.py"
        loader_spec = importlib.util.spec_from_file_location("triton_model_config_pb2", path)
        assert loader_spec is not None and loader_spec.loader is not None
        module = importlib.util.module_from_spec(loader_spec)
        loader_spec.loader.exec_module(module)
        _MODULE = module
    return _MODULE


def parse_config(text: str) -> Any:
    """``config.pbtxt`` text -> ``inference.ModelConfig`` (raises on anything Triton's parser would)."""
    from google.protobuf import text_format

    return text_format.Parse(text, model_config_pb2().ModelConfig())


def data_type_name(value: int) -> str:
    return model_config_pb2().DataType.Name(value)
