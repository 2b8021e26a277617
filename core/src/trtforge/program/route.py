"""From a route's partial graph to a built :class:`Program`: the route-neutral half.

A route that can fall back describes its model as a :class:`PartialGraph` (every node with
its capability, and two builders: one fills a TensorRT network with a segment, one makes a
framework stage of a segment). Core partitions it, writes the fallback report before any
build, builds one engine per TensorRT segment through the same path as a whole-model engine
(snapshot, sidecar, timing cache) and wires the stages by tensor name.
"""
from __future__ import annotations

import datetime as _dt
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from trtforge.errors import UsageError
from trtforge.program.partition import (DEFAULT_MIN_BLOCK_SIZE, FRAMEWORK, TRT, FallbackReport,
                                        GraphNode, Segment, check_policy, partition, require_full)

if TYPE_CHECKING:
    from trtforge.plugin.backends import Backend
    from trtforge.plugin.context import ConversionContext
    from trtforge.program.program import Program
    from trtforge.models.sources import ModelSource
    from trtforge.conversion.specs import BuildSpec, InputSpec
    from trtforge.tensorrt.trt import TensorRT

log = logging.getLogger(__name__)


class PartialGraph(Protocol):
    """What a route hands core to make a hybrid program."""

    nodes: list[GraphNode]
    outputs: list[str]  # tensor names the model returns, in order
    inputs: list["InputSpec"]  # the model's inputs, named (tensor names)
    framework: str  # "torch", "tensorflow": what runs the framework stages

    def populate_segment(self, network: Any, segment: Segment, spec: "BuildSpec",
                         ctx: "ConversionContext") -> list["InputSpec"]:
        """Fill ``network`` with ``segment``: one network input per ``segment.inputs`` and one
        output per ``segment.outputs``, named as the tensors; returns the inputs' specs
        (shapes and profiles derived from the model's)."""

    def framework_stage(self, name: str, segment: Segment) -> Any:
        """A :class:`~trtforge.program.stages.Stage` that runs ``segment`` in the framework."""

    def output_dtypes(self) -> dict[str, str]:
        """Program output tensor -> dtype name."""


@dataclass(frozen=True)
class FallbackSettings:
    """``convert(fallback=..., min_block_size=..., framework_ops=...)``, validated."""

    fallback: str = "auto"
    min_block_size: int = DEFAULT_MIN_BLOCK_SIZE
    framework_ops: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        check_policy(self.fallback, self.min_block_size, list(self.framework_ops))
        if self.fallback == "never" and self.framework_ops:
            raise UsageError("framework_ops needs fallback 'auto' or 'always', not 'never'",
                             hint="framework_ops forces ops out of TensorRT, which 'never' forbids")

    @property
    def wants_program(self) -> bool:
        """A program even where every op converts."""
        return self.fallback == "always" or bool(self.framework_ops)

    def key_dict(self) -> dict[str, Any]:
        return {"fallback": self.fallback, "min_block_size": self.min_block_size,
                "framework_ops": sorted(self.framework_ops)}


def plan_program(route: "Backend", source: "ModelSource", spec: "BuildSpec", tensorrt: "TensorRT",
                 settings: FallbackSettings, workdir: Path) -> tuple[PartialGraph, FallbackReport]:
    """The route's graph and the fallback report, before anything is built (the route may keep
    files in ``workdir`` while the program is built; the caller removes it)."""
    from trtforge.plugin.context import ConversionContext

    if not route.can_fall_back:
        raise UsageError(f"route {route.name} converts whole models only; it cannot leave ops to "
                         "the framework", hint="use fallback='never' with this route, or a route "
                         "that can fall back (torch2trt)")
    ctx = ConversionContext(tensorrt=tensorrt, route=route.name, workdir=workdir)
    graph = route.partial_graph(source, spec, ctx)
    if graph is None:
        raise UsageError(f"route {route.name} cannot partition {source.name}",
                         hint="use fallback='never'")
    report = partition(graph.nodes, graph.outputs, route=route.name,
                       min_block_size=settings.min_block_size, framework_ops=settings.framework_ops)
    for line in report.lines():
        log.info("%s", line)
    if settings.fallback == "never":
        require_full(report)
    return graph, report


def build_program(route: "Backend", source: "ModelSource", spec: "BuildSpec", tensorrt: "TensorRT",
                  settings: FallbackSettings) -> "Program":
    """Partition, then build every TensorRT segment and make every framework stage."""
    if spec.precision.value == "int8":
        raise UsageError("INT8 hybrid programs are not supported yet: calibration runs per engine "
                         "and would need the framework stages' outputs",
                         hint="convert with precision fp32/fp16 when ops fall back, or add the "
                         "missing converters")
    from trtforge.guard import work_dir

    workdir = work_dir(route.name)
    try:
        return _build_program(route, source, spec, tensorrt, settings, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _build_program(route: "Backend", source: "ModelSource", spec: "BuildSpec", tensorrt: "TensorRT",
                   settings: FallbackSettings, workdir: Path) -> "Program":
    from trtforge import __version__
    from trtforge.conversion.building import build_engine
    from trtforge.program.program import Program
    from trtforge.program.stages import EngineStage
    from trtforge.progress import Stages

    graph, report = plan_program(route, source, spec, tensorrt, settings, workdir)
    stages: list[Any] = []
    progress = Stages(prefix=f"{route.name}: ")
    engine_count = sum(1 for s in report.segments if s.kind == TRT)
    built = 0
    for index, segment in enumerate(report.segments):
        if segment.kind == FRAMEWORK:
            name = f"stage{index}_{graph.framework}"
            with progress.stage(f"{name}", f"{len(segment.nodes)} op(s) kept in {graph.framework}"):
                stages.append(graph.framework_stage(name, segment))
            continue
        built += 1
        name = f"stage{index}_tensorrt"
        holder: dict[str, Any] = {}

        def populate(network: Any, ctx: Any, segment: Segment = segment) -> None:
            holder["inputs"] = graph.populate_segment(network, segment, spec, ctx)

        # Each engine's profiles are its boundary inputs', derived by the route.
        engine = build_engine(route.name, source, spec, tensorrt, populate,
                              what=f"engine {built}/{engine_count}: {len(segment.nodes)} node(s)",
                              stages=progress, input_specs=lambda holder=holder: holder["inputs"])
        stages.append(EngineStage(name, engine, list(segment.inputs), list(segment.outputs),
                                  sorted({n.op for n in segment.nodes})))
    dtypes = graph.output_dtypes()
    metadata = {
        "route": route.name,
        "precision": spec.precision.value,
        "inputs": [{"name": s.name, "dtype": s.dtype, "shape": list(s.network_shape())} for s in graph.inputs],
        "outputs": [{"name": n, "dtype": dtypes.get(n, "float32")} for n in graph.outputs],
        "profiles": [s.to_dict() for s in graph.inputs],
        "source": source.describe(),
        "fallback": report.to_dict(),
        "fallback_settings": settings.key_dict(),
        "tensorrt": {"flavor": tensorrt.flavor, "version": tensorrt.version},
        "framework": graph.framework,
        "trtforge_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    program = Program(stages=stages, metadata=metadata)
    program.extras["report"] = report
    log.info("%s: program of %d stage(s) (%d engine(s)), %d op(s) in %s", route.name, len(stages),
             engine_count, sum(len(s.nodes) for s in report.framework_segments), graph.framework)
    return program
