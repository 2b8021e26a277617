"""NMS_TRT as a host stage of a hybrid program (numpy), for TensorRTs without the plugin.

The stage reads the NMS node's inputs (box encodings, class scores, GridAnchor priors, in the
node's ``inputOrder``) and writes what NMS_TRT writes: ``<node>`` detections [N, 1, keepTopK, 7]
rows (image, label, score, xmin, ymin, xmax, ymax; unused rows label -1) and ``<node>_1`` the
kept count [N, 1, 1, 1] (int32). Saved in a program as a small JSON of the node's fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from trtforge.errors import ConversionError, EngineFileError

from trtforge_uff import ROUTE

KIND = "uff.nms"


@dataclass(frozen=True)
class NmsSettings:
    num_classes: int
    top_k: int
    keep_top_k: int
    nms_threshold: float
    confidence_threshold: float
    input_order: tuple[int, int, int] = (0, 1, 2)
    background: int = 0
    sigmoid: bool = True

    @classmethod
    def of_node(cls, node: Any) -> "NmsSettings":
        from trtforge_uff.importer.converters.plugins import plugin_field

        def get(name: str, default: Any = None) -> Any:
            return plugin_field(node, name, default)

        if int(get("shareLocation", 1)) != 1 or int(get("varianceEncodedInTarget", 0)) != 0:
            raise ConversionError(
                f"NMS node {node.id!r}: the host stage supports shareLocation=1 and "
                "varianceEncodedInTarget=0 only",
                route=ROUTE,
            )
        if get("numClasses") is None:
            raise ConversionError(f"NMS node {node.id!r} has no numClasses field", route=ROUTE)
        return cls(
            num_classes=int(get("numClasses")),
            top_k=int(get("topK", 100)),
            keep_top_k=int(get("keepTopK", 100)),
            nms_threshold=float(get("nmsThreshold", 0.5)),
            confidence_threshold=float(get("confidenceThreshold", 0.0)),
            input_order=tuple(int(i) for i in get("inputOrder", [0, 1, 2])),
            background=int(get("backgroundLabelId", 0)),
            sigmoid=bool(int(get("confSigmoid", 0))),
        )


def nms_rows(
    loc: np.ndarray, conf: np.ndarray, priors: np.ndarray, settings: NmsSettings
) -> tuple[np.ndarray, np.ndarray]:
    """(detections [N, 1, keepTopK, 7], count [N, 1, 1, 1]) as NMS_TRT lays them out."""
    from trtforge_uff.postprocess import decode, nms

    batch = loc.shape[0]
    rows = np.zeros((batch, 1, settings.keep_top_k, 7), dtype=np.float32)
    rows[..., 1] = -1
    counts = np.zeros((batch, 1, 1, 1), dtype=np.int32)
    prior = priors.reshape(priors.shape[0], -1)[0] if priors.ndim == 4 else priors.reshape(-1)
    for item in range(batch):
        boxes = decode(loc[item].reshape(-1), prior)
        scores = conf[item].reshape(boxes.shape[0], settings.num_classes).astype(np.float32)
        if settings.sigmoid:
            scores = 1.0 / (1.0 + np.exp(-scores))
        kept = nms(
            boxes,
            scores,
            iou_threshold=settings.nms_threshold,
            score_threshold=settings.confidence_threshold,
            top_k=settings.top_k,
            keep_top_k=settings.keep_top_k,
            background=settings.background,
        )
        count = len(kept.scores)
        counts[item, 0, 0, 0] = count
        rows[item, 0, :count, 0] = item
        rows[item, 0, :count, 1] = kept.classes
        rows[item, 0, :count, 2] = kept.scores
        rows[item, 0, :count, 3:7] = kept.boxes[:, [1, 0, 3, 2]]  # -> xmin, ymin, xmax, ymax
    return rows, counts


@dataclass
class NmsStage:
    """A program stage: NMS_TRT computed on the host."""

    name: str
    settings: NmsSettings
    inputs: list[str]  # the NMS node's inputs, in its order
    outputs: list[str]  # detections, count
    ops: list[str] = field(default_factory=lambda: ["_NMS_TRT"])
    kind: str = KIND

    def run(self, feeds: Mapping[str, Any], *, device: str) -> dict[str, Any]:
        values = [feeds[n] for n in self.inputs]
        torch_device = next((v.device for v in values if hasattr(v, "device") and hasattr(v, "cpu")), None)
        arrays = [v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v) for v in values]
        order = self.settings.input_order
        rows, counts = nms_rows(arrays[order[0]], arrays[order[1]], arrays[order[2]], self.settings)
        out = {self.outputs[0]: rows, self.outputs[1]: counts}
        if torch_device is not None:
            import torch

            out = {k: torch.from_numpy(v).to(torch_device) for k, v in out.items()}
        return out

    @property
    def file_name(self) -> str:
        return f"{self.name}.json"

    def files(self, folder: Path) -> dict[Path, bytes]:
        return {folder / self.file_name: json.dumps(self.settings.__dict__, sort_keys=True).encode()}

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "ops": list(self.ops),
            "file": self.file_name,
        }


def load(folder: Path, entry: Mapping[str, Any]) -> NmsStage:
    path = folder / str(entry["file"])
    try:
        data = json.loads(path.read_text())
        settings = NmsSettings(**{**data, "input_order": tuple(data["input_order"])})
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise EngineFileError(
            f"program stage {entry.get('name')!r}: cannot read its NMS settings {path}: {exc}",
            hint="convert the model again",
        ) from None
    return NmsStage(
        str(entry["name"]),
        settings,
        list(entry["inputs"]),
        list(entry["outputs"]),
        list(entry.get("ops", ["_NMS_TRT"])),
    )
