"""TF op -> UFF node writers, one module per op family."""
from __future__ import annotations
