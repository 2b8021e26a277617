"""A program stage that PyTorch runs: a slice of a captured FX graph, re-exported.

The slice is rebuilt as its own ``GraphModule`` (boundary tensors as placeholders, weights as
buffers) and exported again with ``torch.export``, so it is saved in torch's portable format
(``torch.export.save``, a ``.pt2``), loads without the original model's code and runs on
whatever device the engines run on.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from trtforge.errors import ConversionError, EngineFileError
from trtforge.program.stages import StageRunError, stage_entry, unique_name

log = logging.getLogger(__name__)

KIND = "torch.export"
MIN_DYNAMIC_EXAMPLE = 2  # torch.export specialises a dim whose example size is 0 or 1


@dataclass
class TorchStage:
    name: str
    program: Any  # torch.export.ExportedProgram
    inputs: list[str]
    outputs: list[str]
    ops: list[str] = field(default_factory=list)
    kind: str = KIND
    _modules: dict[str, Any] = field(default_factory=dict, repr=False)

    def input_dtypes(self) -> list[Any]:
        if "dtypes" not in self._modules:
            values = {n.name: n.meta.get("val") for n in self.program.graph.nodes if n.op == "placeholder"}
            self._modules["dtypes"] = [getattr(values.get(n), "dtype", None)
                                       for n in self.program.graph_signature.user_inputs]
        return self._modules["dtypes"]

    @property
    def file_name(self) -> str:
        return f"{self.name}.pt2"

    def module(self, device: str) -> Any:
        if device not in self._modules:
            module = self.program.module()
            self._modules[device] = module.to("cuda") if device == "gpu" else module
        return self._modules[device]

    def run(self, feeds: Mapping[str, Any], *, device: str) -> dict[str, Any]:
        import numpy as np
        import torch

        target = "cuda" if device == "gpu" else "cpu"
        args = [torch.as_tensor(feeds[n]).to(target) if isinstance(feeds[n], np.ndarray)
                else feeds[n].to(target) for n in self.inputs]
        # An engine hands int32 where the graph was traced with int64 (TensorRT < 10).
        args = [a.to(want) if want is not None and a.dtype != want else a
                for a, want in zip(args, self.input_dtypes())]
        try:
            with torch.no_grad():
                result = self.module(device)(*args)
        except Exception as exc:
            raise StageRunError.of(self, "PyTorch", exc, args) from exc
        flat = list(result) if isinstance(result, (tuple, list)) else [result]
        if device == "gpu":
            return dict(zip(self.outputs, flat))
        return {n: t.detach().cpu().numpy() for n, t in zip(self.outputs, flat)}

    def files(self, folder: Path) -> dict[Path, bytes]:
        import torch

        buffer = io.BytesIO()
        torch.export.save(self.program, buffer)
        return {folder / self.file_name: buffer.getvalue()}

    def describe(self) -> dict[str, Any]:
        import torch

        return stage_entry(self, torch=str(torch.__version__))


def load(folder: Path, entry: Mapping[str, Any]) -> TorchStage:
    from trtforge.models.compat import torch_after_tensorflow

    torch_after_tensorflow()
    import torch

    path = folder / str(entry["file"])
    try:
        program = torch.export.load(str(path))
    except Exception as exc:
        raise EngineFileError(f"program stage {entry.get('name')!r}: torch cannot load {path}: "
                              f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                              hint=f"it was saved by torch {entry.get('torch', '?')}; this is torch "
                              f"{torch.__version__}") from None
    return TorchStage(str(entry["name"]), program, list(entry["inputs"]), list(entry["outputs"]),
                      list(entry.get("ops", [])))


# --- building a stage from FX nodes ----------------------------------------------------------
def _example(value: Any, torch: Any, seed: int) -> tuple[Any, dict[int, Any] | None]:
    """A real tensor shaped like a traced value, and its dynamic dims for torch.export."""
    shape, dynamic = [], {}
    for index, dim in enumerate(value.shape):
        if isinstance(dim, int):
            shape.append(dim)
            continue
        hint = getattr(dim.node, "hint", None)
        size = int(hint) if hint is not None else MIN_DYNAMIC_EXAMPLE
        shape.append(max(size, MIN_DYNAMIC_EXAMPLE))
        dynamic[index] = torch.export.Dim.AUTO
    generator = torch.Generator().manual_seed(seed)
    if value.dtype.is_floating_point:
        tensor = torch.randn(shape, generator=generator).to(value.dtype)
    elif value.dtype == torch.bool:
        tensor = torch.zeros(shape, dtype=torch.bool)
    else:
        tensor = torch.zeros(shape, dtype=value.dtype)
    return tensor, (dynamic or None)


def stage_from_nodes(name: str, nodes: Sequence[Any], inputs: Sequence[Any], outputs: Sequence[Any],
                     constant: Callable[[Any], Any], *, route: str,
                     input_names: Sequence[str] | None = None,
                     output_names: Sequence[str] | None = None,
                     substitutes: Mapping[Any, tuple[Any, int]] | None = None) -> TorchStage:
    """Re-export the FX ``nodes`` (in order) reading ``inputs`` and returning ``outputs``.

    ``constant(node)`` gives the value of any other node the slice reads (a weight, a buffer, or
    a value computed from weights alone); it becomes a buffer of the stage's module.
    ``input_names``/``output_names``: the program's tensor names for them (default node names).
    ``substitutes``: ``sym_size`` node -> (node, axis) of a tensor in the slice with that size.
    """
    import torch

    graph = torch.fx.Graph()
    root = torch.nn.Module()
    env: dict[Any, Any] = {}
    taken: set[str] = set()
    for node in inputs:
        env[node] = graph.placeholder(unique_name(node.name, taken))
        env[node].meta = dict(node.meta)

    def lookup(arg: Any) -> Any:
        if arg not in env:
            value = constant(arg)
            if not isinstance(value, torch.Tensor):
                return value
            attr = unique_name(arg.name, taken)
            root.register_buffer(attr, value.detach().clone())
            env[arg] = graph.get_attr(attr)
        return env[arg]

    for node in nodes:
        if substitutes and node in substitutes:
            holder, axis = substitutes[node]
            env[node] = graph.call_function(torch.ops.aten.sym_size.int, (lookup(holder), axis))
            env[node].meta = dict(node.meta)
            continue
        for producer in node.all_input_nodes:
            lookup(producer)
        env[node] = graph.node_copy(node, lambda a: env[a])
    graph.output(tuple(env[n] for n in outputs))
    module = torch.fx.GraphModule(root, graph)
    examples, dynamic = [], []
    for index, node in enumerate(inputs):
        value = node.meta.get("val")
        if value is None:
            raise ConversionError(f"program stage {name}: input {node.name} has no traced value",
                                  route=route, hint="this is a bug in the route's partitioning")
        example, dims = _example(value, torch, seed=index)
        examples.append(example)
        dynamic.append(dims)
    ops = [str(n.target) for n in nodes]
    try:
        with torch.no_grad():
            program = torch.export.export(module, tuple(examples), dynamic_shapes=tuple(dynamic)
                                          if any(d is not None for d in dynamic) else None, strict=False)
    except Exception as exc:
        raise ConversionError(
            f"program stage {name}: torch.export cannot re-export the PyTorch segment "
            f"({', '.join(ops[:6])}{' ...' if len(ops) > 6 else ''}): {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}",
            route=route, hint="force these ops into TensorRT or another segment boundary "
            "(framework_ops / min_block_size)") from exc
    log.info("program stage %s: %d PyTorch op(s) re-exported", name, len(nodes))
    return TorchStage(name, program, list(input_names or [n.name for n in inputs]),
                      list(output_names or [n.name for n in outputs]), ops)
