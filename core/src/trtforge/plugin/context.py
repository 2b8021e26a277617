"""What a route receives besides the network: TensorRT, stages, a work folder, notes."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from trtforge.progress import Stages
from trtforge.tensorrt.trt import TensorRT

log = logging.getLogger("trtforge")


@dataclass
class ConversionContext:
    """Per-conversion services for a route.

    ``artifacts`` is where a route leaves things later steps can use (for example the
    prepared ONNX model, so ``check`` can compare against it); ``notes`` are short
    human-readable remarks stored in the engine metadata. ``keepalive`` holds what must
    outlive ``populate`` only until the build (arrays that TensorRT ``Weights`` point into);
    unlike artifacts it is not kept on the engine. ``handed_weights`` maps a layer name to
    ``{attribute: array}``, the weights the route gave TensorRT for it (a mapping that may
    read them lazily): the snapshot checks TensorRT's read-back against them
    (:func:`trtforge.verify.snapshot.reconcile_weights`).
    """

    tensorrt: TensorRT
    route: str
    workdir: Path
    stages: Stages = field(default_factory=Stages)
    notes: list[str] = field(default_factory=list)
    artifacts: dict[str, Any] = field(default_factory=dict)
    keepalive: list[Any] = field(default_factory=list)
    handed_weights: Mapping[str, Mapping[str, Any]] | None = None

    def note(self, message: str) -> None:
        log.info("%s: %s", self.route, message)
        self.notes.append(message)

    def stage(self, name: str, detail: str = "") -> Iterator[None]:
        return self.stages.stage(name, detail)  # type: ignore[return-value]
