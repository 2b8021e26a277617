"""SSD post-processing on the host (numpy): what NMS_TRT does, for TensorRTs without it.

TensorRT-RTX has no NMS_TRT plugin and its NMS layer does not build on CPU, so an SSD engine
ends at the NMS node's inputs and this stage runs after it: decode the box encodings against
the priors, sigmoid scores, per-class greedy NMS, keep the best ``keep_top_k``. Encodings
are the TF object detection API's (ty, tx, th, tw); priors are GridAnchor_TRT's output
([1, 2, P*4, 1]: (xmin, ymin, xmax, ymax), then variances).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Detections:
    boxes: np.ndarray  # [k, 4] (ymin, xmin, ymax, xmax), normalised
    scores: np.ndarray  # [k]
    classes: np.ndarray  # [k], 1-based (0 is the background)

    def as_set(self, decimals: int = 4) -> set[tuple[Any, ...]]:
        """Order-free view for comparisons: (class, rounded box...)."""
        return {(int(c), *np.round(b, decimals).tolist()) for b, c in zip(self.boxes, self.classes)}


def decode(loc: np.ndarray, priors: np.ndarray) -> np.ndarray:
    """Box encodings [P*4] against GridAnchor priors -> boxes [P, (ymin, xmin, ymax, xmax)]."""
    prior = priors.reshape(2, -1, 4)
    xyxy, variance = prior[0], prior[1]
    codes = loc.reshape(-1, 4)  # ty, tx, th, tw
    ya, xa = (xyxy[:, 1] + xyxy[:, 3]) / 2, (xyxy[:, 0] + xyxy[:, 2]) / 2
    ha, wa = xyxy[:, 3] - xyxy[:, 1], xyxy[:, 2] - xyxy[:, 0]
    # variance (x, y, w, h) = 1 / scale factors
    yc = codes[:, 0] * variance[:, 1] * ha + ya
    xc = codes[:, 1] * variance[:, 0] * wa + xa
    h = np.exp(codes[:, 2] * variance[:, 3]) * ha
    w = np.exp(codes[:, 3] * variance[:, 2]) * wa
    return np.stack([yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2], axis=1).astype(np.float32)


def _iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    def norm(b: np.ndarray) -> np.ndarray:
        return np.stack([np.minimum(b[..., 0], b[..., 2]), np.minimum(b[..., 1], b[..., 3]),
                         np.maximum(b[..., 0], b[..., 2]), np.maximum(b[..., 1], b[..., 3])], axis=-1)

    a, o = norm(box), norm(others)
    inter = (np.clip(np.minimum(a[2], o[:, 2]) - np.maximum(a[0], o[:, 0]), 0, None)
             * np.clip(np.minimum(a[3], o[:, 3]) - np.maximum(a[1], o[:, 1]), 0, None))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (o[:, 2] - o[:, 0]) * (o[:, 3] - o[:, 1]) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, *, iou_threshold: float, score_threshold: float,
        top_k: int, keep_top_k: int, background: int = 0) -> Detections:
    """Per-class greedy NMS (scores [P, classes]), then the best ``keep_top_k`` overall."""
    picked: list[tuple[float, int, int]] = []
    for cls in range(scores.shape[1]):
        if cls == background:
            continue
        column = scores[:, cls]
        order = [i for i in np.argsort(-column, kind="stable") if column[i] > score_threshold][:top_k]
        kept: list[int] = []
        for index in order:
            if kept and (_iou(boxes[index], boxes[kept]) > iou_threshold).any():
                continue
            kept.append(index)
        picked.extend((float(column[i]), cls, i) for i in kept)
    picked.sort(key=lambda p: -p[0])
    picked = picked[:keep_top_k]
    return Detections(np.asarray([boxes[i] for _, _, i in picked], dtype=np.float32).reshape(-1, 4),
                      np.asarray([s for s, _, _ in picked], dtype=np.float32),
                      np.asarray([c for _, c, _ in picked], dtype=np.int64))


def ssd_detections(loc: np.ndarray, conf: np.ndarray, priors: np.ndarray, spec: Any) -> Detections:
    """The NMS_TRT stage of an SSD (``spec``: a :class:`~trtforge_uff.zoo.specs.SsdSpec`)."""
    boxes = decode(np.asarray(loc), np.asarray(priors))
    scores = 1.0 / (1.0 + np.exp(-np.asarray(conf, dtype=np.float32).reshape(boxes.shape[0], -1)))
    return nms(boxes, scores, iou_threshold=spec.nms_threshold, score_threshold=spec.confidence_threshold,
               top_k=spec.top_k, keep_top_k=spec.keep_top_k)
