"""Ways to *obtain* a torch module for the CLI: ``torchvision:resnet50`` or ``model.py[:attr]``.

Both are :class:`~trtforge.models.sources.ModelFormat` loaders: the loaded ``nn.Module`` is detected
again as a ``torch-module`` source, so every route that takes torch modules takes these too.
torchvision models are built with random weights (``weights=None``): trtforge never downloads.
A Python file is run as a module; ``attr`` names a module object, a class, or a function
returning the module. Without ``attr`` the file must define exactly one ``nn.Module`` instance
or a function ``get_model()``/``model()``.
"""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

from trtforge.errors import ModelSourceError

TORCHVISION_PREFIX = "torchvision:"
_FACTORY_NAMES = ("get_model", "model", "build_model", "create_model")


def is_torchvision_name(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(TORCHVISION_PREFIX) and len(value) > len(TORCHVISION_PREFIX)


def load_torchvision(value: str) -> Any:
    from trtforge.models.compat import torch_after_tensorflow

    torch_after_tensorflow()
    from torchvision import models

    name = value[len(TORCHVISION_PREFIX):]
    available = models.list_models()
    if name not in available:
        close = [m for m in available if name.split("_")[0] in m][:8]
        raise ModelSourceError(
            f"torchvision has no model named {name!r}",
            hint=f"e.g. {', '.join(close or available[:8])} (see torchvision.models.list_models())")
    return models.get_model(name, weights=None).eval()


def _split_file_spec(value: Any) -> tuple[Path, str | None] | None:
    text = str(value)
    match = re.fullmatch(r"(.+\.py)(?::([A-Za-z_][\w.]*))?", text)
    if not match:
        return None
    return Path(match.group(1)).expanduser(), match.group(2)


def is_python_file(value: Any) -> bool:
    parsed = _split_file_spec(value)
    return parsed is not None and parsed[0].is_file()


def load_python_file(value: Any) -> Any:
    path, attr = _split_file_spec(value) or (Path(str(value)), None)
    import torch

    spec = importlib.util.spec_from_file_location(f"trtforge_user_model_{abs(hash(str(path)))}", path)
    if spec is None or spec.loader is None:
        raise ModelSourceError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ModelSourceError(f"running {path} failed: {type(exc).__name__}: {exc}",
                               hint="the file must import cleanly and define the model") from exc
    if attr:
        obj: Any = module
        for part in attr.split("."):
            if not hasattr(obj, part):
                raise ModelSourceError(f"{path} has no attribute {attr!r}",
                                       hint=f"name an attribute {path.name} defines: {path}:NAME")
            obj = getattr(obj, part)
        return _as_module(obj, f"{path}:{attr}", torch)
    instances = [v for v in vars(module).values() if isinstance(v, torch.nn.Module)]
    if len(instances) == 1:
        return instances[0].eval()
    for name in _FACTORY_NAMES:
        factory = getattr(module, name, None)
        if callable(factory) and not isinstance(factory, type):
            return _as_module(factory, f"{path}:{name}", torch)
    raise ModelSourceError(
        f"{path} defines {len(instances)} torch modules and no get_model() function",
        hint=f"name the model: {path}:ATTRIBUTE (a module object, a Module class or a function)")


def _as_module(obj: Any, where: str, torch: Any) -> Any:
    if isinstance(obj, torch.nn.Module):
        return obj.eval()
    if callable(obj):
        made = obj()
        if isinstance(made, torch.nn.Module):
            return made.eval()
    raise ModelSourceError(f"{where} is not a torch.nn.Module (nor makes one when called)",
                           hint="point at a module object, a Module class or a function returning one")
