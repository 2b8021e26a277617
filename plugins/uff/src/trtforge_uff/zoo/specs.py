"""``MODEL_SPECS``: per detection model, what graph surgery and the NMS plugin need.

The keys are those of UFF-era SSD build scripts; ``input_order`` is NMS_TRT's ``inputOrder``
(positions of loc, conf, priors among the NMS node's inputs).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SsdSpec:
    name: str
    input_shape: tuple[int, int, int]  # H, W, C (the graph is NHWC)
    num_classes: int  # including background
    min_size: float
    max_size: float
    input_order: tuple[int, int, int]
    feature_maps: tuple[int, ...]
    aspect_ratios: tuple[float, ...] = (1.0, 2.0, 0.5, 3.0, 0.33)
    variance: tuple[float, ...] = (0.1, 0.1, 0.2, 0.2)
    nms_threshold: float = 0.6
    confidence_threshold: float = 1e-8
    top_k: int = 100
    keep_top_k: int = 100
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def boxes_per_location(self) -> list[int]:
        return [3] + [len(self.aspect_ratios) + 1] * (len(self.feature_maps) - 1)

    @property
    def num_priors(self) -> int:
        return sum(s * s * b for s, b in zip(self.feature_maps, self.boxes_per_location))


MODEL_SPECS: dict[str, SsdSpec] = {
    "ssd_mobilenet_v1_coco": SsdSpec("ssd_mobilenet_v1_coco", (300, 300, 3), 91, 0.2, 0.95, (0, 2, 1),
                                     (19, 10, 5, 3, 2, 1)),
    "ssd_mobilenet_v2_coco": SsdSpec("ssd_mobilenet_v2_coco", (300, 300, 3), 91, 0.2, 0.95, (1, 0, 2),
                                     (19, 10, 5, 3, 2, 1)),
    # The synthetic model of trtforge_uff.zoo.ssd: same layout, two feature maps, 64x64.
    "synthetic_ssd": SsdSpec("synthetic_ssd", (64, 64, 3), 4, 0.2, 0.95, (0, 2, 1), (8, 4),
                             nms_threshold=0.5, confidence_threshold=0.05, top_k=400, keep_top_k=20),
}
