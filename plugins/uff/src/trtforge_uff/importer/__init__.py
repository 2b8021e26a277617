"""UFF graph -> TensorRT network, through the layer API (explicit batch, every TensorRT)."""
from __future__ import annotations
