"""Run a snapshot on CPU with torch, layer by layer, in the network's own order."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from trtforge.arrays import to_numpy as _to_numpy
from trtforge.errors import CheckError
from trtforge.reference.base import LAYER_EXECUTORS, LayerView
from trtforge.reference.dtypes import to_declared, torch_dtype, widen

log = logging.getLogger(__name__)


def supported_layer_types() -> list[str]:
    return sorted(LAYER_EXECUTORS)


def unsupported_layers(snapshot: Any) -> list[str]:
    """Every layer the executor cannot run, as ``"name (TYPE)"`` (empty when all can run)."""
    return [f"{layer['name']} ({layer['type']})" for layer in snapshot.graph["layers"]
            if layer["type"] not in LAYER_EXECUTORS]


@dataclass
class ExecutionResult:
    outputs: dict[str, Any]
    tensors: dict[str, Any] = field(default_factory=dict)

    def numpy(self) -> dict[str, Any]:
        return {k: _to_numpy(v) for k, v in self.outputs.items()}




def _as_tensor(value: Any, dtype_name: str, name: str) -> Any:
    import numpy as np
    import torch

    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu()
    else:
        tensor = torch.from_numpy(np.ascontiguousarray(np.asarray(value)))
    target = torch_dtype(dtype_name)
    if target is None:
        raise CheckError(f"input {name!r} has dtype {dtype_name}, which the reference executor "
                         f"does not model")
    return tensor.to(target)


class Executor:
    """Executes a :class:`~trtforge.verify.snapshot.Snapshot`.

    ``run(inputs)`` returns the network outputs; with ``keep="all"`` (or a set of names)
    every intermediate tensor is kept too, for layerwise debugging. ``on_layer`` is called
    after each layer with ``(layer_view, outputs)``.
    """

    def __init__(self, snapshot: Any) -> None:
        self.snapshot = snapshot
        missing = unsupported_layers(snapshot)
        if missing:
            raise CheckError(
                f"the reference executor cannot run {len(missing)} layer(s): {', '.join(missing)}",
                hint=f"it runs {', '.join(sorted(LAYER_EXECUTORS))}")
        from trtforge.verify.snapshot import topological_order

        layers = snapshot.graph["layers"]
        self.views = [LayerView(i, layers[i], snapshot) for i in topological_order(snapshot.graph)]

    def run(
        self,
        inputs: Mapping[str, Any] | Any,
        keep: str | set[str] | None = None,
        on_layer: Callable[[LayerView, list[Any]], None] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> ExecutionResult:
        """Run the network; ``overrides`` (tensor name -> value) replace computed tensors
        for the layers that read them, so each layer can be checked on a reference's own
        inputs (no error carried over from earlier layers)."""
        import torch

        declared = self.snapshot.graph["inputs"]
        if not isinstance(inputs, Mapping):
            items = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
            if len(items) != len(declared):
                raise CheckError(f"the network has {len(declared)} input(s), got {len(items)}")
            inputs = {spec["name"]: item for spec, item in zip(declared, items)}
        tensors: dict[str, Any] = {}
        for spec in declared:
            if spec["name"] not in inputs:
                raise CheckError(f"no value for network input {spec['name']!r}",
                                 hint=f"give all of {[s['name'] for s in declared]}")
            tensors[spec["name"]] = _as_tensor(inputs[spec["name"]], spec["dtype"], spec["name"])
        consumers = self._last_use()
        outputs_wanted = {o["name"] for o in self.snapshot.graph["outputs"]}
        kept: dict[str, Any] = {}
        with torch.no_grad():
            for view in self.views:
                args = []
                for name in view.record["inputs"]:
                    if name is None:
                        args.append(None)
                        continue
                    if name not in tensors:
                        raise CheckError(f"layer {view.name!r} ({view.type}) reads tensor {name!r} "
                                         f"that no earlier layer produced")
                    args.append(widen(tensors[name]))
                try:
                    results = LAYER_EXECUTORS[view.type](view, args)
                except CheckError:
                    raise
                except Exception as exc:
                    raise CheckError(
                        f"layer {view.name!r} ({view.type}) failed in the reference executor: "
                        f"{type(exc).__name__}: {exc}",
                        hint="inputs shapes: " + ", ".join(
                            str(tuple(a.shape)) if a is not None else "-" for a in args)) from exc
                outs = []
                for spec, value in zip(view.record["outputs"], results):
                    value = to_declared(value, spec["dtype"])
                    outs.append(value)
                    if keep == "all" or (isinstance(keep, set) and spec["name"] in keep):
                        kept[spec["name"]] = value
                    if overrides is not None and spec["name"] in overrides:
                        value = _as_tensor(overrides[spec["name"]], spec["dtype"], spec["name"])
                    tensors[spec["name"]] = value
                if on_layer is not None:
                    on_layer(view, outs)
                for name in consumers.get(view.index, ()):
                    if name not in outputs_wanted:
                        tensors.pop(name, None)
        missing = [o for o in outputs_wanted if o not in tensors]
        if missing:
            raise CheckError(f"network outputs {missing} were never produced")
        outputs = {o["name"]: tensors[o["name"]] for o in self.snapshot.graph["outputs"]}
        return ExecutionResult(outputs=outputs, tensors=kept)

    def _last_use(self) -> dict[int, list[str]]:
        """Tensors that can be dropped after each layer index (keeps memory flat on big nets)."""
        last: dict[str, int] = {}
        for view in self.views:
            for name in view.record["inputs"]:
                if name is not None:
                    last[name] = view.index
        dropped: dict[int, list[str]] = {}
        for name, index in last.items():
            dropped.setdefault(index, []).append(name)
        return dropped


def execute(snapshot: Any, inputs: Mapping[str, Any] | Any, keep: str | set[str] | None = None
            ) -> dict[str, Any]:
    """Run ``snapshot`` on ``inputs`` and return its outputs as numpy arrays."""
    return Executor(snapshot).run(inputs, keep=keep).numpy()
