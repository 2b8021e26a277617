"""Core's own plugin: the model kinds every route shares, registered through the public hook."""
from __future__ import annotations

import hashlib
import inspect
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from trtforge.models import torch_sources
from trtforge.plugin.hookspecs import hookimpl
from trtforge.models.formats import ModelFormat, hash_path

if TYPE_CHECKING:
    from trtforge.plugin.plugins import Registrar


def _suffix(*suffixes: str) -> Callable[[Any], bool]:
    def detect(obj: Any) -> bool:
        return isinstance(obj, Path) and obj.is_file() and obj.suffix.lower() in suffixes

    return detect


def _is_savedmodel(obj: Any) -> bool:
    return isinstance(obj, Path) and obj.is_dir() and (obj / "saved_model.pb").is_file()


def _is_instance_of(module: str, qualname: str) -> Callable[[Any], bool]:
    """Check isinstance only if the framework is already imported (never import it here)."""

    def detect(obj: Any) -> bool:
        mod = sys.modules.get(module)
        if mod is None:
            return False
        cls: Any = mod
        for part in qualname.split("."):
            cls = getattr(cls, part, None)
            if cls is None:
                return False
        return isinstance(obj, cls)

    return detect


def _hash_onnx_file(path: Path) -> str:
    """The .onnx file plus every external-data file its tensors point to (weights live there)."""
    digest = hashlib.sha256(hash_path(path).encode())
    try:
        import onnx
        from onnx.external_data_helper import ExternalDataInfo, _get_all_tensors
    except ImportError:  # without onnx no route can read the file either
        return digest.hexdigest()
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # a corrupt file: the route reports it; the bytes hash is enough here
        return digest.hexdigest()
    locations = sorted({
        ExternalDataInfo(t).location for t in _get_all_tensors(model)
        if t.data_location == onnx.TensorProto.EXTERNAL
    })
    for location in locations:
        digest.update(location.encode())
        data = path.parent / location
        digest.update(hash_path(data).encode() if data.is_file() else b"<missing>")
    return digest.hexdigest()


def _hash_onnx_proto(model: Any) -> str:
    return hashlib.sha256(model.SerializeToString(deterministic=True)).hexdigest()


def _hash_torch_module(module: Any) -> str:
    import torch

    digest = hashlib.sha256()
    cls = type(module)
    digest.update(f"{cls.__module__}.{cls.__qualname__}\n{module!r}".encode())
    for sub in module.modules():
        try:
            digest.update(inspect.getsource(type(sub).forward).encode())
        except (OSError, TypeError):
            digest.update(type(sub).__qualname__.encode())
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        data = tensor.detach().to("cpu").contiguous()
        digest.update(str(data.dtype).encode() + str(tuple(data.shape)).encode())
        digest.update(data.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _hash_keras_model(model: Any) -> str:
    digest = hashlib.sha256()
    try:
        digest.update(model.to_json().encode())
    except Exception:  # subclassed models cannot always be serialised to JSON
        digest.update(type(model).__qualname__.encode())
    for weight in model.weights:
        digest.update(weight.name.encode())
        digest.update(weight.numpy().tobytes())
    return digest.hexdigest()


def _hash_graphdef(graph_def: Any) -> str:
    return hashlib.sha256(graph_def.SerializeToString(deterministic=True)).hexdigest()


FORMATS = [
    ModelFormat("onnx-file", "an ONNX file (.onnx)", _suffix(".onnx"), _hash_onnx_file, priority=50),
    ModelFormat("onnx-model", "an in-memory onnx.ModelProto",
                _is_instance_of("onnx", "ModelProto"), _hash_onnx_proto, priority=50),
    ModelFormat("torch-module", "an in-memory torch.nn.Module",
                _is_instance_of("torch", "nn.Module"), _hash_torch_module, priority=50),
    ModelFormat("keras-model", "an in-memory Keras model",
                _is_instance_of("keras", "Model"), _hash_keras_model, priority=60),
    ModelFormat("keras-file", "a Keras file (.keras, .h5, .hdf5)",
                _suffix(".keras", ".h5", ".hdf5"), hash_path, priority=50),
    ModelFormat("tf-savedmodel", "a TensorFlow SavedModel directory",
                _is_savedmodel, hash_path, priority=50),
    ModelFormat("tf-frozen-graph", "a TensorFlow frozen GraphDef (.pb)",
                _suffix(".pb"), hash_path, priority=55),
    ModelFormat("tf-graphdef", "an in-memory tf.compat.v1.GraphDef",
                _is_instance_of("tensorflow", "compat.v1.GraphDef"), _hash_graphdef, priority=60),
    ModelFormat("uff-file", "a UFF file (.uff)", _suffix(".uff"), hash_path, priority=50),
    # Loaders: they yield an nn.Module, detected again as a torch-module source.
    ModelFormat("torchvision-name", "a torchvision model name (torchvision:resnet50, random weights)",
                torch_sources.is_torchvision_name, text=True, load=torch_sources.load_torchvision),
    ModelFormat("torch-python-file", "a Python file defining a torch module (model.py[:attr])",
                torch_sources.is_python_file, text=True, load=torch_sources.load_python_file),
    ModelFormat("torch-python-path", "a Python file defining a torch module (.py)",
                _suffix(".py"), load=torch_sources.load_python_file, priority=90),
]


@hookimpl
def register_model_formats(register: "Registrar") -> None:
    for fmt in FORMATS:
        register.model_format(fmt)
