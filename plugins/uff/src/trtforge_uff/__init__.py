"""trtforge route ``uff``: UFF files (NVIDIA's Universal Framework Format) into TensorRT.

UFF is read and written with our own protobuf schema (:mod:`trtforge_uff.format`), imported
into a TensorRT network through the layer API (:mod:`trtforge_uff.importer`), so it works on
TensorRT versions that dropped NVIDIA's UFF parser.
"""
from __future__ import annotations

ROUTE = "uff"
__version__ = "0.1.0"
