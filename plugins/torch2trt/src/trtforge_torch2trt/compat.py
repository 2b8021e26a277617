"""torch2trt's own API on this route: ``torch2trt(model, [x], fp16_mode=True)`` -> ``TRTModule``.

For scripts written against NVIDIA-AI-IOT/torch2trt: change the import, keep the calls. What
differs (also in the README): converters are ATen-level and registered through trtforge's
``register_converters`` hook, not ``@tensorrt_converter`` on torch functions; ops without a
converter run in PyTorch (a hybrid program) unless ``fallback="never"``; ``max_batch_size``
becomes a dynamic-batch optimization profile (1 .. max_batch_size, opt = the example's batch).
"""
from __future__ import annotations

import json
from typing import Any, Sequence

from trtforge.arrays import to_numpy
from trtforge.errors import UsageError


def torch2trt(module: Any, inputs: Sequence[Any], *, fp16_mode: bool = False, int8_mode: bool = False,
              int8_calib_dataset: Any = None, max_batch_size: int = 1, max_workspace_size: int | None = None,
              input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None,
              log_level: Any = None, strict_type_constraints: bool = False, keep_network: bool = True,
              default_device_type: Any = None, dla_core: Any = None, use_onnx: bool = False,
              target: str | None = None, fallback: str = "auto", cache: Any = False,
              **unknown: Any) -> Any:
    """Convert ``module`` for example ``inputs`` (torch2trt's signature; unused flags accepted)."""
    import torch

    from trtforge.conversion.api import convert
    from trtforge.conversion.specs import InputSpec

    if unknown:
        raise UsageError(f"torch2trt() got unknown argument(s) {', '.join(sorted(unknown))}",
                         hint="see trtforge_torch2trt.compat.torch2trt for the accepted arguments")
    if use_onnx or dla_core is not None:
        raise UsageError("use_onnx and DLA are not supported by this torch2trt",
                         hint="for the ONNX path use trtforge.convert(model, backend='onnx_trt')")
    examples = [inputs] if isinstance(inputs, torch.Tensor) else list(inputs)
    names = list(input_names or [])
    specs = []
    for index, example in enumerate(examples):
        shape = tuple(int(d) for d in example.shape)
        name = names[index] if index < len(names) else None
        dtype = str(example.dtype).replace("torch.", "")
        if max_batch_size > shape[0] >= 1:
            specs.append(InputSpec(name, dtype, min=(1, *shape[1:]), opt=shape,
                                   max=(max_batch_size, *shape[1:])))
        else:
            specs.append(InputSpec(name, dtype, shape=shape))
    precision = "int8" if int8_mode else "fp16" if fp16_mode else "fp32"
    calibration = None
    if int8_mode:
        source = int8_calib_dataset if int8_calib_dataset is not None else [tuple(examples)]
        calibration = [tuple(to_numpy(t) for t in (item if isinstance(item, (list, tuple)) else [item]))
                       for item in source]
    compiled = convert(module, backend="torch2trt", precision=precision, inputs=specs,
                       calibration=calibration, target=target, cache=cache,
                       workspace_bytes=max_workspace_size, fallback=fallback)
    return trt_module_class()(compiled, output_names=output_names)


_CLASS: list[type] = []


def trt_module_class() -> type:
    """``TRTModule``, made on first use (it subclasses ``torch.nn.Module``: torch is imported
    only when a module is wanted)."""
    if _CLASS:
        return _CLASS[0]
    import torch

    class TRTModuleImpl(torch.nn.Module):
        """An engine (or hybrid program) as a module: forward on CUDA tensors, and a state_dict
        that carries the plan and its metadata (torch2trt's save/reload idiom)."""

        def __init__(self, engine: Any = None, input_names: Sequence[str] | None = None,
                     output_names: Sequence[str] | None = None) -> None:
            super().__init__()
            self.engine = engine
            self._output_names = list(output_names) if output_names else None

        @property
        def input_names(self) -> list[str]:
            return [i["name"] for i in self.engine.inputs] if self.engine is not None else []

        @property
        def output_names(self) -> list[str]:
            if self._output_names:
                return self._output_names
            return [o["name"] for o in self.engine.outputs] if self.engine is not None else []

        def forward(self, *inputs: Any) -> Any:
            if self.engine is None:
                raise UsageError("this TRTModule holds no engine",
                                 hint="load one with module.load_state_dict(torch.load(PATH))")
            result = self.engine.run(dict(zip(self.input_names, inputs)))
            values = list(result.values())
            return values[0] if len(values) == 1 else tuple(values)

        def _save_to_state_dict(self, destination: Any, prefix: str, keep_vars: bool) -> None:
            from trtforge.program import Program

            if isinstance(self.engine, Program):
                raise UsageError("a TRTModule holding a hybrid program has no single plan for a "
                                 "state_dict", hint="save the program with module.engine.save(DIR) "
                                 "and load it with trtforge.Program.load(DIR)")
            if self.engine is None:
                return
            destination[prefix + "engine"] = torch.frombuffer(bytearray(self.engine.plan), dtype=torch.uint8)
            from pathlib import Path

            _, metadata = self.engine.files(Path("engine.plan"))  # the sidecar, with the plan's hash
            meta = json.dumps(metadata, sort_keys=True).encode("utf-8")
            destination[prefix + "metadata"] = torch.frombuffer(bytearray(meta), dtype=torch.uint8)
            destination[prefix + "output_names"] = self.output_names

        def _load_from_state_dict(self, state_dict: Any, prefix: str, local_metadata: Any, strict: bool,
                                  missing_keys: list[str], unexpected_keys: list[str],
                                  error_msgs: list[str]) -> None:
            from trtforge.conversion.engine import Engine
            from trtforge.errors import TrtforgeError

            if prefix + "engine" not in state_dict:
                missing_keys.append(prefix + "engine")
                return
            plan = bytes(state_dict[prefix + "engine"].cpu().numpy().tobytes())
            try:
                metadata = json.loads(bytes(state_dict[prefix + "metadata"].cpu().numpy().tobytes()))
                # the same checks as Engine.load: sidecar schema, size, hash, TensorRT version
                engine = Engine.from_bytes(plan, metadata, where=f"state_dict[{prefix}engine]")
            except (KeyError, ValueError, TrtforgeError) as exc:
                error_msgs.append(f"the engine in this state_dict cannot be used: "
                                  f"{getattr(exc, 'message', None) or exc}; convert again")
                return
            self.engine = engine
            self._output_names = list(state_dict.get(prefix + "output_names") or []) or None

    TRTModuleImpl.__name__ = TRTModuleImpl.__qualname__ = "TRTModule"
    _CLASS.append(TRTModuleImpl)
    return TRTModuleImpl


def __getattr__(name: str) -> Any:
    if name == "TRTModule":
        return trt_module_class()
    raise AttributeError(name)
