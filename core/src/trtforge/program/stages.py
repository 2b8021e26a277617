"""The stages of a hybrid program: TensorRT engines and framework functions, one protocol.

Every stage reads named tensors and writes named tensors (``run(feeds) -> dict``). Framework
stage kinds (a torch exported program, later TensorFlow functions) register a loader by kind,
so a saved program finds the code that reads each stage's files.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence

from trtforge.errors import EngineFileError, TrtforgeError

log = logging.getLogger(__name__)

ENGINE_KIND = "tensorrt"


class StageRunError(TrtforgeError):
    """A stage failed at run time; the message names the stage and the source ops in it."""

    @classmethod
    def of(cls, stage: Any, framework: str, exc: BaseException, args: Sequence[Any]) -> "StageRunError":
        """The error of framework stage ``stage`` failing on ``args`` (one per stage input)."""
        ops = ", ".join(stage.ops[:8]) + (" ..." if len(stage.ops) > 8 else "")
        return cls(f"program stage {stage.name} ({framework}: {ops}) failed: {type(exc).__name__}: "
                   f"{str(exc).splitlines()[0] if str(exc) else ''}",
                   hint="the inputs reaching this stage: "
                   + ", ".join(f"{n} {tuple(a.shape)} {a.dtype}" for n, a in zip(stage.inputs, args)))


def stage_entry(stage: Any, **extra: Any) -> dict[str, Any]:
    """A stage's manifest entry: what every kind records, plus its own ``extra`` fields."""
    return {"name": stage.name, "kind": stage.kind, "inputs": list(stage.inputs),
            "outputs": list(stage.outputs), "ops": list(stage.ops), "file": stage.file_name, **extra}


def unique_name(name: str, taken: set[str], unsafe: str = r"\W", strip: str = "") -> str:
    """``name`` with characters matching ``unsafe`` replaced (leading ``strip`` characters
    dropped), made unique among ``taken``: names for nodes a stage adds to its graph."""
    base = re.sub(unsafe, "_", name).lstrip(strip) or "value"
    candidate, k = base, 1
    while candidate in taken:
        candidate, k = f"{base}_{k}", k + 1
    taken.add(candidate)
    return candidate


class Stage(Protocol):
    name: str
    kind: str
    inputs: list[str]
    outputs: list[str]
    ops: list[str]

    def run(self, feeds: Mapping[str, Any], *, device: str) -> dict[str, Any]: ...

    def files(self, folder: Path) -> dict[Path, bytes]: ...

    def describe(self) -> dict[str, Any]: ...


@dataclass
class EngineStage:
    """A TensorRT engine; its network inputs and outputs carry the program's tensor names."""

    name: str
    engine: Any
    inputs: list[str]
    outputs: list[str]
    ops: list[str] = field(default_factory=list)
    kind: str = ENGINE_KIND
    _executor: Any = field(default=None, repr=False)

    @property
    def plan_name(self) -> str:
        return f"{self.name}.plan"

    def run(self, feeds: Mapping[str, Any], *, device: str,
            keep: dict[str, Any] | None = None) -> dict[str, Any]:
        """``device``: "gpu" (the engine itself) or "reference" (its snapshot on the CPU);
        ``keep``: a dict that receives every network tensor (reference only, for debugging)."""
        if device == "gpu":
            return dict(self.engine.run({n: feeds[n] for n in self.inputs}))
        result = self.executor().run({n: feeds[n] for n in self.inputs},
                                     keep="all" if keep is not None else None)
        if keep is not None:
            keep.update(result.tensors)
        return result.numpy()

    def snapshot(self) -> Any:
        from trtforge.verify.snapshot import engine_snapshot

        found = engine_snapshot(self.engine)
        if found is None:
            raise EngineFileError(f"program stage {self.name} has no network snapshot",
                                  hint="convert again: program folders keep one per engine stage")
        return found

    def executor(self) -> Any:
        if self._executor is None:
            from trtforge.reference import Executor

            self._executor = Executor(self.snapshot())
        return self._executor

    def files(self, folder: Path) -> dict[Path, bytes]:
        from trtforge.verify.snapshot import engine_snapshot

        has_snapshot = engine_snapshot(self.engine) is not None
        files, _ = self.engine.files(folder / self.plan_name, snapshot=has_snapshot)
        return files

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "inputs": list(self.inputs),
                "outputs": list(self.outputs), "ops": list(self.ops), "file": self.plan_name,
                "precision": self.engine.precision, "layers": self.engine.metadata.get("network", {}).get("layers")}


StageLoader = Callable[[Path, Mapping[str, Any]], Any]
_LOADERS: dict[str, StageLoader] = {}


def register_stage_kind(kind: str, loader: StageLoader) -> None:
    """Make ``kind`` loadable: ``loader(folder, manifest entry) -> stage``."""
    if kind in _LOADERS and _LOADERS[kind] is not loader:
        raise TrtforgeError(f"program stage kind {kind!r} is registered twice")
    _LOADERS[kind] = loader


def load_stage(folder: Path, entry: Mapping[str, Any], *, check_compatibility: bool) -> Any:
    kind = entry.get("kind")
    if kind == ENGINE_KIND:
        from trtforge.conversion.engine import Engine

        engine = Engine.load(folder / str(entry["file"]), check_compatibility=check_compatibility)
        return EngineStage(str(entry["name"]), engine, list(entry["inputs"]), list(entry["outputs"]),
                           list(entry.get("ops", [])))
    _builtin_kinds()
    loader = _LOADERS.get(str(kind))
    if loader is None:
        plugin_kinds = _plugin_kinds()
        loader = plugin_kinds.get(str(kind))
        if loader is None:
            known = sorted({ENGINE_KIND, *_LOADERS, *plugin_kinds})
            raise EngineFileError(f"program stage {entry.get('name')!r} has the unknown kind {kind!r}",
                                  hint=f"known kinds: {', '.join(known)}; install the plugin that "
                                  "wrote it (it registers the kind through register_stage_kinds)")
    return loader(folder, entry)


def _plugin_kinds() -> dict[str, StageLoader]:
    """Stage kinds plugins register through the ``register_stage_kinds`` hook."""
    from trtforge.plugin import plugins

    found: dict[str, StageLoader] = {}
    for registered in plugins.collect_stage_kinds():
        item = registered.item
        if not isinstance(item, plugins.StageKind):
            raise TrtforgeError(f"plugin {registered.plugin!r} registered {item!r} as a program "
                                "stage kind", hint="use register.stage_kind(kind, load)")
        found.setdefault(item.kind, item.load)
    return found


# Framework stage kinds core ships, by the module that loads them (imported on first use so a
# program of engine stages never imports torch or TensorFlow).
_BUILTIN_KIND_MODULES = ("trtforge.program.torch_stage", "trtforge.program.tf_stage")


def _builtin_kinds() -> None:
    import importlib

    for module_name in _BUILTIN_KIND_MODULES:
        module = importlib.import_module(module_name)
        if module.KIND not in _LOADERS:
            register_stage_kind(module.KIND, module.load)
