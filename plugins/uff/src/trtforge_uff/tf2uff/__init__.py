"""TensorFlow GraphDef (a frozen TF1 graph, or a TF2 function frozen by core) -> UFF."""
from __future__ import annotations
